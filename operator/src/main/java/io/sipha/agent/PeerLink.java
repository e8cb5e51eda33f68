package io.sipha.agent;

import io.sipha.decision.PeerHearing;
import io.sipha.kube.AgentReports;
import io.sipha.peer.PeerChannel;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's end of the peer channel: it heartbeats the agents of the peer nodes of the pairs it
 * serves ({@link PairPeers}) and says which of them it hears and which have been silent for the
 * silence budget. A change is told at once (the heartbeat Lease is renewed then, not on its next
 * turn), so that the operator hears of a silent peer within one write; the rest of the time the
 * renewals carry it, and the API sees no more writes than before.
 */
final class PeerLink implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PeerLink.class);

  private final String node;
  private final java.util.function.Supplier<io.sipha.peer.PeerCodec> key;
  private final java.util.function.Function<io.sipha.peer.PeerCodec, PeerChannel> open;
  private volatile PeerChannel channel;
  private volatile boolean closed;
  private boolean saidWaiting;
  private final PairPeers peers;
  private final Duration interval;
  private final Duration silentAfter;
  private final Clock clock;
  private final AgentMetrics metrics;
  private final Runnable changed;
  private final String probeEndpoint;
  private final Map<String, Instant> peerSince = new ConcurrentHashMap<>();
  private final ScheduledExecutorService ticker;
  private volatile PeerHearing hearing = PeerHearing.NONE;

  /**
   * @param key the shared key, null while it is not there yet
   * @param open opens the channel with the key, once there is one
   * @param probeEndpoint where the operator probes this agent (host:port of /healthz), or null
   * @param changed told when what this agent hears changes (renew the heartbeat now)
   */
  PeerLink(
      String node,
      java.util.function.Supplier<io.sipha.peer.PeerCodec> key,
      java.util.function.Function<io.sipha.peer.PeerCodec, PeerChannel> open,
      PairPeers peers,
      Duration interval,
      Duration silentAfter,
      String probeEndpoint,
      Clock clock,
      AgentMetrics metrics,
      Runnable changed) {
    this.node = node;
    this.key = key;
    this.open = open;
    this.peers = peers;
    this.interval = interval;
    this.silentAfter = silentAfter;
    this.probeEndpoint = probeEndpoint;
    this.clock = clock;
    this.metrics = metrics;
    this.changed = changed;
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(r -> NodeAgent.thread(r, "agent-peer-" + node));
  }

  PeerLink start() {
    ticker.scheduleAtFixedRate(this::tick, 0, lookEvery().toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /**
   * How often what it hears is looked at: a tenth of the silence budget (30 ms by default), and
   * never less often than a heartbeat is sent, so that a silence is told within a few ms of its
   * budget, not up to one heartbeat interval late. Looking sends nothing: the channel heartbeats
   * its peers on its own, every interval.
   */
  Duration lookEvery() {
    long ms = Math.max(10, Math.min(interval.toMillis(), silentAfter.toMillis() / 10));
    return Duration.ofMillis(ms);
  }

  /** Opens the channel once the key is there; false while it is not (or is unusable). */
  private boolean opened() {
    if (channel != null) {
      return true;
    }
    io.sipha.peer.PeerCodec codec;
    try {
      codec = key.get();
    } catch (RuntimeException e) {
      if (!saidWaiting) {
        LOG.error("peer channel of {} off: {}", node, e.getMessage());
        saidWaiting = true;
      }
      return false;
    }
    if (codec == null) {
      if (!saidWaiting) {
        LOG.warn(
            "peer channel of {}: waiting for its key (the Secret the operator makes); the Lease"
                + " alone tells the operator of this node meanwhile",
            node);
        saidWaiting = true;
      }
      return false;
    }
    PeerChannel c = open.apply(codec);
    if (closed) {
      c.close();
      return false;
    }
    channel = c.start(interval);
    metrics.peerChannel(c);
    LOG.info(
        "peer channel of {} on {}: heartbeat every {} ms, a peer silent after {} ms",
        node,
        endpoint(),
        interval.toMillis(),
        silentAfter.toMillis());
    changed.run(); // publish where it listens at once
    return true;
  }

  /** Where the channel listens, as published for the peers; null while it is not open. */
  String endpoint() {
    PeerChannel c = channel;
    if (c == null) {
      return null;
    }
    InetSocketAddress a = c.local();
    return PairPeers.endpoint(a.getAddress(), a.getPort());
  }

  /** What it hears of its peers now. */
  PeerHearing hearing() {
    return hearing;
  }

  /** The heartbeat Lease's annotations this link writes (an empty value: removed). */
  Map<String, String> annotations() {
    PeerHearing h = hearing;
    Map<String, String> out = new TreeMap<>();
    String at = endpoint();
    out.put(AgentReports.PEER_ENDPOINT_ANNOTATION, at == null ? "" : at);
    out.put(
        AgentReports.PROBE_ENDPOINT_ANNOTATION,
        probeEndpoint == null || at == null ? "" : probeEndpoint);
    out.put(AgentReports.PEERS_HEARD_ANNOTATION, String.join(",", new TreeSet<>(h.heard())));
    out.put(AgentReports.PEERS_SILENT_ANNOTATION, String.join(",", new TreeSet<>(h.silent())));
    return out;
  }

  void tick() {
    try {
      if (!opened()) {
        return;
      }
      PeerChannel channel = this.channel;
      Map<String, InetSocketAddress> now = peers.channels();
      channel.peers(now);
      Instant t = clock.instant();
      peerSince.keySet().retainAll(now.keySet());
      now.keySet().forEach(n -> peerSince.putIfAbsent(n, t));
      Map<String, Instant> last = new java.util.HashMap<>();
      for (String peer : now.keySet()) {
        channel.lastHeard(peer).ifPresent(h -> last.put(peer, h.at()));
      }
      PeerHearing after = PeerHearing.of(last, peerSince, t, silentAfter);
      PeerHearing before = hearing;
      if (!after.equals(before)) {
        hearing = after;
        for (String p : after.silent()) {
          if (!before.silentOn(p)) {
            LOG.warn(
                "peer {}: nothing heard for {} ms over the peer channel",
                p,
                silentAfter.toMillis());
            metrics.peerSilence(p, true);
          }
        }
        for (String p : after.heard()) {
          if (!before.hears(p)) {
            LOG.info("peer {}: heard over the peer channel", p);
            metrics.peerSilence(p, false);
          }
        }
        changed.run();
      }
    } catch (RuntimeException e) {
      LOG.warn("peer channel of {}: {}", node, e.toString());
    }
  }

  @Override
  public void close() {
    closed = true;
    ticker.shutdownNow();
    PeerChannel c = channel;
    if (c != null) {
      c.close();
    }
  }
}
