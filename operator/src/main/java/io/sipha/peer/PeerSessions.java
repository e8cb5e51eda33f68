package io.sipha.peer;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Which authentic messages a receiver takes: each sender's messages once, in order, and never one
 * of an older run of that sender than one it has heard. A run (boot) is known by its start, by the
 * sender's own clock, and a nonce; a message of a run that started later replaces the run heard so
 * far. So a captured datagram sent again is dropped, however long after, as long as this receiver
 * runs.
 *
 * <p>A sender whose clock went back across its restart starts a run that looks older: it is not
 * heard again until this receiver restarts (and the operator's own evidence, its Lease, still
 * counts). Not thread-safe: one receiving thread.
 */
final class PeerSessions {
  private record Run(long start, long nonce, long highest) {}

  private final Map<String, Run> runs = new HashMap<>();
  private volatile Set<String> peers;

  PeerSessions(Set<String> peers) {
    this.peers = Set.copyOf(peers);
  }

  void peers(Set<String> now) {
    this.peers = Set.copyOf(now);
  }

  /** Null when {@code m} is taken (and recorded), else why not. */
  PeerCodec.Drop admit(PeerMessage m) {
    if (!peers.contains(m.node())) {
      return PeerCodec.Drop.UNKNOWN_SENDER;
    }
    Run r = runs.get(m.node());
    boolean sameRun = r != null && r.start() == m.bootStartMillis() && r.nonce() == m.bootNonce();
    if (r == null || (!sameRun && m.bootStartMillis() > r.start())) {
      runs.put(m.node(), new Run(m.bootStartMillis(), m.bootNonce(), m.sequence()));
      return null;
    }
    if (sameRun && m.sequence() > r.highest()) {
      runs.put(m.node(), new Run(r.start(), r.nonce(), m.sequence()));
      return null;
    }
    return PeerCodec.Drop.REPLAYED;
  }
}
