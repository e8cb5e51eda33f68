package io.sipha.decision;

import java.time.Duration;
import java.time.Instant;

/**
 * The rule that says when a primary's node drops its VIP by itself (opt-in:
 * spec.failover.fenceAfterSeconds). Its agent has lost the API: it cannot know whether the operator
 * has declared its node lost and granted the VIP to the peer. So it asks the peer's agent, over the
 * host network, what it sees:
 *
 * <ul>
 *   <li>the peer cannot be reached, or is not known: nobody can vouch that it will not take over:
 *       fence;
 *   <li>the peer answers and it reaches the API (an asymmetric cut: only this node is cut off): it
 *       is about to be granted the VIP: fence;
 *   <li>the peer answers and it has lost the API too (an API server restart, an outage of the
 *       control plane): nobody can move the VIP, so nothing is dropped.
 * </ul>
 *
 * Ages are measured by each agent on its own clock; only ages cross the wire, never timestamps. The
 * peer "reaches the API" when its last contact is {@link #MARGIN} more recent than this agent's:
 * when the API is down for both, their ages differ by less than one renewal period (their phases),
 * so an outage for everyone never reads as an asymmetric cut.
 */
public final class SelfFencing {
  /**
   * How much more recent the peer's API contact must be than this agent's (1.5 renewal periods).
   */
  public static final Duration MARGIN = AgentFact.LATE;

  private SelfFencing() {}

  /**
   * What a peer agent says of itself.
   *
   * @param reachable it answered over the host network
   * @param apiContactAge how long ago it last reached the API, on its own clock (null: never)
   */
  public record PeerView(boolean reachable, Duration apiContactAge) {
    public static PeerView unreachable() {
      return new PeerView(false, null);
    }
  }

  /**
   * @param fenceAfterSeconds the pair's spec.failover.fenceAfterSeconds (null: off)
   * @param apiContactAge how long ago this agent last reached the API (its Lease renewed), on its
   *     own clock; null before the first contact (nothing to fence then). It must be at least
   *     fenceAfterSeconds and at least {@link #MARGIN} (a renewal was missed)
   * @param peer what the peer said, or null when no peer is known
   */
  public static boolean due(Integer fenceAfterSeconds, Duration apiContactAge, PeerView peer) {
    if (fenceAfterSeconds == null
        || apiContactAge == null
        || apiContactAge.compareTo(Duration.ofSeconds(fenceAfterSeconds)) < 0
        // a renewal must have been missed: with renewals every second, a healthy agent's contact is
        // up to a second old just before each one (fenceAfterSeconds: 1 would flap)
        || apiContactAge.compareTo(MARGIN) < 0) {
      return false;
    }
    if (peer == null || !peer.reachable()) {
      return true;
    }
    return peer.apiContactAge() != null
        && peer.apiContactAge().plus(MARGIN).compareTo(apiContactAge) < 0;
  }

  /** The line a peer agent answers with: "api-contact-age-ms 1234" (or "never"). */
  public static String answer(Instant lastContact, Instant now) {
    return "api-contact-age-ms "
        + (lastContact == null
            ? "never"
            : Math.max(0, Duration.between(lastContact, now).toMillis()));
  }

  /** Reads {@link #answer}; anything else is no answer at all. */
  public static PeerView parse(String body) {
    if (body == null) {
      return PeerView.unreachable();
    }
    for (String line : body.split("\n")) {
      String[] w = line.strip().split(" ");
      if (w.length == 2 && w[0].equals("api-contact-age-ms")) {
        if (w[1].equals("never")) {
          return new PeerView(true, null);
        }
        try {
          return new PeerView(true, Duration.ofMillis(Long.parseLong(w[1])));
        } catch (NumberFormatException e) {
          return PeerView.unreachable();
        }
      }
    }
    return PeerView.unreachable();
  }
}
