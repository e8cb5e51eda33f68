package io.sipha.agent;

import io.sipha.api.SipServerPair;
import io.sipha.decision.SelfFencing;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The node agent's side of self-fencing: when it is due ({@link SelfFencing#due}), which needs the
 * peer of each fencing-enabled pair this node holds ({@link PairPeers}); the peer's agent is asked
 * over the host network what it sees.
 */
final class Fencing {
  private record Asked(SelfFencing.PeerView view, Instant at) {}

  private final PairPeers pairPeers;
  private final Clock clock;
  private final PeerProbe peers;
  private final Supplier<Instant> lastApiContact;
  private final Map<String, Asked> asked = new ConcurrentHashMap<>();

  /**
   * @param lastApiContact when this agent last reached the API (its Lease renewed), on its clock
   */
  Fencing(PairPeers pairPeers, Clock clock, PeerProbe peers, Supplier<Instant> lastApiContact) {
    this.pairPeers = pairPeers;
    this.clock = clock;
    this.peers = peers;
    this.lastApiContact = lastApiContact;
  }

  /**
   * Due as {@link SelfFencing#due} says: the pair asks for it, this agent has not reached the API
   * for fenceAfterSeconds, and the peer's agent is unreachable, unknown, or reaches the API itself
   * (it is about to take over).
   */
  boolean due(SipServerPair pair) {
    Integer after =
        pair.getSpec() == null || pair.getSpec().getFailover() == null
            ? null
            : pair.getSpec().getFailover().getFenceAfterSeconds();
    Instant renewed = lastApiContact.get();
    Instant now = clock.instant();
    Duration age = renewed == null ? null : Duration.between(renewed, now);
    if (after == null || age == null || age.compareTo(Duration.ofSeconds(after)) < 0) {
      return false;
    }
    PairPeers.Peer peer = pairPeers.of(pair);
    return SelfFencing.due(after, age, peer == null ? null : ask(peer, now));
  }

  /** One question per peer node and half second, however many pairs share it. */
  private SelfFencing.PeerView ask(PairPeers.Peer peer, Instant now) {
    Asked a = asked.get(peer.node());
    if (a == null || !now.isBefore(a.at().plusMillis(500))) {
      a = new Asked(peers.ask(peer.node(), peer.address()), now);
      asked.put(peer.node(), a);
    }
    return a.view();
  }

  /** Learns the peer of a fencing-enabled pair this node holds, while the API answers. */
  void learnPeer(SipServerPair pair) {
    if (pair.getSpec() != null
        && pair.getSpec().getFailover() != null
        && pair.getSpec().getFailover().getFenceAfterSeconds() != null) {
      pairPeers.learn(pair);
    }
  }

  /** What this agent tells a peer that asks (GET /peer): how long ago it last reached the API. */
  String answer() {
    return SelfFencing.answer(lastApiContact.get(), clock.instant()) + "\n";
  }
}
