package io.sipha.decision;

import java.time.Duration;
import java.time.Instant;

/**
 * A node agent as the operator sees it through its Lease.
 *
 * @param node the node
 * @param renewedAt the Lease's last renewTime, null when there is no Lease
 * @param report its report for the pair being decided, or null
 * @param restartingUntil set by an agent that stops on purpose (a rolling update): until then its
 *     node is not lost although the Lease is not renewed (bounded by {@link #MAX_RESTART_GRACE})
 * @param notWorking why the agent, although it renews its Lease, does not work (its work loop is
 *     stuck), or null: such an agent is not alive
 * @param reportsBehind its heartbeat says it wrote reports the reader has not seen yet: {@code
 *     report} may be from before the node's present state (after a gap in contact, the heartbeat
 *     can arrive before the reports it follows)
 * @param hearing what it hears of its peer agents over the peer channel ({@link PeerHearing#NONE}
 *     when it says nothing of them)
 * @param probe what the operator's own probe of this agent says ({@link AgentProbe#UNKNOWN} when
 *     there is none)
 * @param word what its peers' word makes of it ({@link NodeLoss#judge}), or null when nothing
 */
public record AgentFact(
    String node,
    Instant renewedAt,
    VipReport report,
    Instant restartingUntil,
    String notWorking,
    boolean reportsBehind,
    PeerHearing hearing,
    AgentProbe probe,
    PeerWord word) {

  /**
   * The peers' word on a node, beside its Lease.
   *
   * @param kind lost on the word of both observers, or vouched for while its Lease is out
   * @param peer the peer node whose agent says so
   * @param probeSilentMillis for LOST: how long the operator's probe has had no answer
   */
  public record PeerWord(Kind kind, String peer, long probeSilentMillis) {
    public enum Kind {
      /** A live peer hears nothing of it, none hears it, and the operator's probe has no answer. */
      LOST,
      /** Its Lease ran out, but a live peer hears it: alive from that peer's renewal. */
      VOUCHED
    }
  }

  public AgentFact {
    hearing = hearing == null ? PeerHearing.NONE : hearing;
    probe = probe == null ? AgentProbe.UNKNOWN : probe;
  }

  public AgentFact(
      String node,
      Instant renewedAt,
      VipReport report,
      Instant restartingUntil,
      String notWorking,
      boolean reportsBehind) {
    this(node, renewedAt, report, restartingUntil, notWorking, reportsBehind, null, null, null);
  }

  public AgentFact(
      String node,
      Instant renewedAt,
      VipReport report,
      Instant restartingUntil,
      String notWorking) {
    this(node, renewedAt, report, restartingUntil, notWorking, false);
  }

  public AgentFact(String node, Instant renewedAt, VipReport report, Instant restartingUntil) {
    this(node, renewedAt, report, restartingUntil, null);
  }

  /** The same agent with an announced restart as another clock counts it. */
  public AgentFact restartingUntil(Instant until) {
    return new AgentFact(
        node, renewedAt, report, until, notWorking, reportsBehind, hearing, probe, word);
  }

  /** The same agent with its renewal as another clock saw it. */
  public AgentFact renewedAt(Instant seen) {
    return new AgentFact(
        node, seen, report, restartingUntil, notWorking, reportsBehind, hearing, probe, word);
  }

  /**
   * The same agent, its heartbeat saying it has written reports that the reader has not seen yet
   * (they come by another watch): its report may be older than the node's state.
   */
  public AgentFact reportsBehind(boolean behind) {
    return new AgentFact(
        node, renewedAt, report, restartingUntil, notWorking, behind, hearing, probe, word);
  }

  /** The same agent, with what it says it hears of its peers. */
  public AgentFact hearing(PeerHearing h) {
    return new AgentFact(
        node, renewedAt, report, restartingUntil, notWorking, reportsBehind, h, probe, word);
  }

  /** The same agent, with its peers' word on it; renewed as of {@code renewed}. */
  public AgentFact word(PeerWord w, Instant renewed) {
    return new AgentFact(
        node, renewed, report, restartingUntil, notWorking, reportsBehind, hearing, probe, w);
  }

  /** The same agent, with what the operator's probe of it says. */
  public AgentFact probe(AgentProbe p) {
    return new AgentFact(
        node, renewedAt, report, restartingUntil, notWorking, reportsBehind, hearing, p, word);
  }

  /** The longest an announced agent restart keeps its node from being declared lost. */
  public static final Duration MAX_RESTART_GRACE = Duration.ofSeconds(30);

  public AgentFact(String node, Instant renewedAt, VipReport report) {
    this(node, renewedAt, report, null);
  }

  /**
   * An agent silent this long has missed a renewal (they renew every second). The operator's shell
   * wakes the pairs of a late node; only then does a pair need a timer for the node-loss deadline.
   */
  public static final Duration LATE = Duration.ofMillis(1500);

  public boolean late(Instant now) {
    return renewedAt == null || !now.isBefore(renewedAt.plus(LATE));
  }

  /** The agent renewed its Lease less than {@code nodeLoss} ago, and it works. */
  public boolean alive(Instant now, Duration nodeLoss) {
    return notWorking == null
        && renewedAt != null
        && !lostByPeers()
        && now.isBefore(lostAt(nodeLoss));
  }

  /** Declared lost on the word of its peer and of the operator's probe. */
  public boolean lostByPeers() {
    return word != null && word.kind() == PeerWord.Kind.LOST;
  }

  /** Why the agent is not alive, for a person (null when it is). */
  public String whyNotAlive(Instant now, Duration nodeLoss) {
    if (notWorking != null) {
      return "its agent does not work: " + notWorking;
    }
    if (renewedAt == null) {
      return "no Lease of its agent is known";
    }
    if (lostByPeers()) {
      return word.peer()
          + " hears nothing from its agent over the peer channel, and the agent has not answered"
          + " the operator's probe for "
          + word.probeSilentMillis()
          + " ms";
    }
    return alive(now, nodeLoss)
        ? null
        : "its agent has not renewed its Lease for "
            + Duration.between(renewedAt, now).toMillis()
            + " ms";
  }

  /** When the node is declared lost if the Lease is not renewed again. */
  public Instant lostAt(Duration nodeLoss) {
    if (renewedAt == null) {
      return Instant.EPOCH;
    }
    Instant lost = renewedAt.plus(nodeLoss);
    if (restartingUntil != null && restartingUntil.isAfter(lost)) {
      Instant cap = renewedAt.plus(MAX_RESTART_GRACE);
      lost = restartingUntil.isBefore(cap) ? restartingUntil : cap;
    }
    return lost;
  }
}
