package io.sipha.agent;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sipha.api.SipServerPair;
import io.sipha.kube.AgentReports;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The peer of each pair this node serves: the pair's server on another node, read by name from the
 * API while it answers (the shipped agent caches only its own node's pods) and remembered for when
 * it does not; with the peer channel on, also where that node's agent listens for heartbeats (its
 * heartbeat Lease says). Self-fencing asks the peer's agent over the host network; the peer channel
 * heartbeats it.
 */
final class PairPeers implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PairPeers.class);

  /**
   * The peer server's node, its address (the pod's hostIP), where its agent's peer channel listens
   * (null: not known, or the channel is off), as last read from the API.
   */
  record Peer(String node, String address, InetSocketAddress channel, Instant readAt) {}

  private final KubernetesClient client;
  private final String node;
  private final String leaseNamespace;
  private final Duration rereadEvery;
  private final Clock clock;
  private final boolean channels;
  private final Map<String, Peer> known = new ConcurrentHashMap<>();
  private final Set<String> learning = ConcurrentHashMap.newKeySet();
  private final ExecutorService reader;

  /**
   * @param rereadEvery how often a pair's peer is read again while the API answers
   * @param channels read where the peers' channels listen (the peer channel is on)
   */
  PairPeers(
      KubernetesClient client,
      String node,
      String leaseNamespace,
      Duration rereadEvery,
      Clock clock,
      boolean channels) {
    this.client = client;
    this.node = node;
    this.leaseNamespace = leaseNamespace;
    this.rereadEvery = rereadEvery;
    this.clock = clock;
    this.channels = channels;
    this.reader =
        Executors.newSingleThreadExecutor(r -> NodeAgent.thread(r, "agent-peers-" + node));
  }

  /** The pair's peer as last read, or null. */
  Peer of(SipServerPair pair) {
    return known.get(pair.key());
  }

  /** Where the peer channels of all known peers listen, by node. */
  Map<String, InetSocketAddress> channels() {
    Map<String, InetSocketAddress> out = new TreeMap<>();
    known
        .values()
        .forEach(
            p -> {
              if (p.channel() != null) {
                out.put(p.node(), p.channel());
              }
            });
    return out;
  }

  /** The pair is no longer served here: its peer is forgotten. */
  void forget(String pairKey) {
    known.remove(pairKey);
  }

  /**
   * Reads the pair's peer, while the API answers: at most once per {@code rereadEvery} per pair, on
   * a thread of its own (a read that hangs on a cut link must not hold up the pair's scripts, least
   * of all its self-fencing).
   */
  void learn(SipServerPair pair) {
    if (pair.getSpec() == null || pair.getSpec().getServers() == null) {
      return;
    }
    Peer p = known.get(pair.key());
    if (p != null && clock.instant().isBefore(p.readAt().plus(rereadEvery))) {
      return;
    }
    if (learning.add(pair.key())) {
      try {
        reader.execute(
            () -> {
              try {
                read(pair);
              } finally {
                learning.remove(pair.key());
              }
            });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        learning.remove(pair.key());
      }
    }
  }

  private void read(SipServerPair pair) {
    try {
      for (String server : pair.getSpec().getServers()) {
        Pod p = client.pods().inNamespace(pair.getMetadata().getNamespace()).withName(server).get();
        if (p != null
            && p.getSpec() != null
            && p.getSpec().getNodeName() != null
            && !node.equals(p.getSpec().getNodeName())) {
          String peerNode = p.getSpec().getNodeName();
          known.put(
              pair.key(),
              new Peer(
                  peerNode,
                  p.getStatus() == null ? null : p.getStatus().getHostIP(),
                  channels ? channelOf(peerNode) : null,
                  clock.instant()));
          return;
        }
      }
    } catch (RuntimeException e) {
      LOG.debug("pair {}: could not read its peer: {}", pair.key(), e.toString());
    }
  }

  /** Where the node's agent's peer channel listens, as its heartbeat Lease says; null if not. */
  private InetSocketAddress channelOf(String peerNode) {
    Lease l =
        client
            .leases()
            .inNamespace(leaseNamespace)
            .withName(AgentReports.leaseName(peerNode))
            .get();
    var ann = l == null ? null : l.getMetadata().getAnnotations();
    return parseEndpoint(ann == null ? null : ann.get(AgentReports.PEER_ENDPOINT_ANNOTATION));
  }

  /** host:port or [v6]:port as an address; null when it is none. */
  static InetSocketAddress parseEndpoint(String endpoint) {
    if (endpoint == null || endpoint.isBlank()) {
      return null;
    }
    String e = endpoint.strip();
    int colon = e.lastIndexOf(':');
    if (colon <= 0) {
      return null;
    }
    String host = e.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    // a literal address only: never a name to resolve
    if (!host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")
        && !host.matches("[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
      return null;
    }
    try {
      int port = Integer.parseInt(e.substring(colon + 1));
      return new InetSocketAddress(java.net.InetAddress.getByName(host), port);
    } catch (RuntimeException | java.net.UnknownHostException ex) {
      return null;
    }
  }

  /** An address and port as host:port, [v6]:port for IPv6. */
  static String endpoint(java.net.InetAddress address, int port) {
    String host = address.getHostAddress();
    return (address instanceof java.net.Inet6Address ? "[" + host + "]" : host) + ":" + port;
  }

  @Override
  public void close() {
    reader.shutdownNow();
  }
}
