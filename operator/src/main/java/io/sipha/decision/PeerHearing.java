package io.sipha.decision;

import java.util.Set;

/**
 * What a node's agent hears of the agents of its peer nodes over the peer channel (authenticated
 * heartbeats on the signalling network), as it last said in its heartbeat Lease. A node in neither
 * set is one the agent has no word on (the channel is off, or the node is no peer of it).
 *
 * @param heard the peer nodes it hears now
 * @param silent the peer nodes it has heard nothing from for its silence budget
 */
public record PeerHearing(Set<String> heard, Set<String> silent) {
  /** No word on any peer: the channel is off, or an agent of before. */
  public static final PeerHearing NONE = new PeerHearing(Set.of(), Set.of());

  public PeerHearing {
    heard = Set.copyOf(heard);
    silent = Set.copyOf(silent);
  }

  public boolean hears(String node) {
    return heard.contains(node);
  }

  public boolean silentOn(String node) {
    return silent.contains(node);
  }

  /**
   * What an agent hears at {@code now}: a peer it has heard within {@code silentAfter} is heard; a
   * peer it has heard nothing from for {@code silentAfter}, counted from its last message or, never
   * heard, from when it became a peer, is silent; a new peer not heard yet is neither.
   *
   * @param lastHeard when each peer's last message was taken (absent: never)
   * @param peerSince when each of the agent's peers became its peer (the peers are its keys)
   */
  public static PeerHearing of(
      java.util.Map<String, java.time.Instant> lastHeard,
      java.util.Map<String, java.time.Instant> peerSince,
      java.time.Instant now,
      java.time.Duration silentAfter) {
    Set<String> heard = new java.util.TreeSet<>();
    Set<String> silent = new java.util.TreeSet<>();
    peerSince.forEach(
        (peer, since) -> {
          java.time.Instant last = lastHeard.get(peer);
          java.time.Instant from = last != null ? last : since;
          if (java.time.Duration.between(from, now).compareTo(silentAfter) >= 0) {
            silent.add(peer);
          } else if (last != null) {
            heard.add(peer);
          }
        });
    return new PeerHearing(heard, silent);
  }
}
