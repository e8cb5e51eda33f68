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
}
