package io.sipha.agent;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sipha.api.SipServerPair;
import io.sipha.decision.SelfFencing;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent's side of self-fencing: when it is due ({@link SelfFencing#due}), which needs the
 * peer of each fencing-enabled pair this node holds. The peer is the pair's server on another node,
 * read by name from the API while it answers (the shipped agent caches only its own node's pods)
 * and remembered for when it does not; it is asked over the host network what it sees.
 */
final class Fencing implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Fencing.class);

  /** The peer server's node and address, as last read from the API. */
  private record Peer(String node, String address, Instant readAt) {}

  private record Asked(SelfFencing.PeerView view, Instant at) {}

  private final KubernetesClient client;
  private final String node;
  private final Duration rereadEvery;
  private final Clock clock;
  private final PeerProbe peers;
  private final Supplier<Instant> lastApiContact;
  private final Map<String, Peer> knownPeers = new ConcurrentHashMap<>();
  private final Map<String, Asked> asked = new ConcurrentHashMap<>();
  private final Set<String> learning = ConcurrentHashMap.newKeySet();
  private final ExecutorService reader;

  /**
   * @param rereadEvery how often a pair's peer is read again while the API answers
   * @param lastApiContact when this agent last reached the API (its Lease renewed), on its clock
   */
  Fencing(
      KubernetesClient client,
      String node,
      Duration rereadEvery,
      Clock clock,
      PeerProbe peers,
      Supplier<Instant> lastApiContact) {
    this.client = client;
    this.node = node;
    this.rereadEvery = rereadEvery;
    this.clock = clock;
    this.peers = peers;
    this.lastApiContact = lastApiContact;
    this.reader =
        Executors.newSingleThreadExecutor(r -> NodeAgent.thread(r, "agent-peers-" + node));
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
    Peer peer = knownPeers.get(pair.key());
    return SelfFencing.due(after, age, peer == null ? null : ask(peer, now));
  }

  /** One question per peer node and half second, however many pairs share it. */
  private SelfFencing.PeerView ask(Peer peer, Instant now) {
    Asked a = asked.get(peer.node());
    if (a == null || !now.isBefore(a.at().plusMillis(500))) {
      a = new Asked(peers.ask(peer.node(), peer.address()), now);
      asked.put(peer.node(), a);
    }
    return a.view();
  }

  /**
   * Reads the peer of a fencing-enabled pair this node holds, while the API answers. At most once
   * per {@code rereadEvery} per pair, on a thread of its own (a read that hangs on a cut link must
   * not hold up the pair's scripts, least of all its self-fencing).
   */
  void learnPeer(SipServerPair pair) {
    if (pair.getSpec() == null
        || pair.getSpec().getFailover() == null
        || pair.getSpec().getFailover().getFenceAfterSeconds() == null
        || pair.getSpec().getServers() == null) {
      return;
    }
    Peer known = knownPeers.get(pair.key());
    if (known != null && clock.instant().isBefore(known.readAt().plus(rereadEvery))) {
      return;
    }
    if (learning.add(pair.key())) {
      try {
        reader.execute(
            () -> {
              try {
                readPeer(pair);
              } finally {
                learning.remove(pair.key());
              }
            });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        learning.remove(pair.key());
      }
    }
  }

  private void readPeer(SipServerPair pair) {
    try {
      for (String server : pair.getSpec().getServers()) {
        Pod p = client.pods().inNamespace(pair.getMetadata().getNamespace()).withName(server).get();
        if (p != null
            && p.getSpec() != null
            && p.getSpec().getNodeName() != null
            && !node.equals(p.getSpec().getNodeName())) {
          knownPeers.put(
              pair.key(),
              new Peer(
                  p.getSpec().getNodeName(),
                  p.getStatus() == null ? null : p.getStatus().getHostIP(),
                  clock.instant()));
          return;
        }
      }
    } catch (RuntimeException e) {
      LOG.debug("pair {}: could not read its peer: {}", pair.key(), e.toString());
    }
  }

  /** What this agent tells a peer that asks (GET /peer): how long ago it last reached the API. */
  String answer() {
    return SelfFencing.answer(lastApiContact.get(), clock.instant()) + "\n";
  }

  @Override
  public void close() {
    reader.shutdownNow();
  }
}
