package io.sipha.agent;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sipha.vip.ScriptResult;
import java.time.Duration;

/** The agent's meters: every script run by script, node and outcome, with its duration. */
public final class AgentMetrics {
  private final MeterRegistry registry;
  private final String node;

  public AgentMetrics(MeterRegistry registry, String node) {
    this.registry = registry;
    this.node = node;
  }

  public static AgentMetrics none(String node) {
    return new AgentMetrics(new SimpleMeterRegistry(), node);
  }

  void scriptRun(ScriptResult r) {
    String outcome = r.succeeded() ? "ok" : r.timedOut() ? "timeout" : "failed";
    Timer.builder("sipha_agent_script_duration")
        .tag("script", r.script().fileName())
        .tag("node", node)
        .tag("outcome", outcome)
        .register(registry)
        .record(Duration.ofMillis(r.durationMillis()));
    if (!r.succeeded()) {
      registry
          .counter(
              "sipha_agent_script_failures_total", "script", r.script().fileName(), "node", node)
          .increment();
    }
  }

  void selfFenced() {
    registry.counter("sipha_agent_self_fencing_total", "node", node).increment();
  }

  void heartbeat(boolean ok) {
    registry
        .counter("sipha_agent_heartbeats_total", "node", node, "outcome", ok ? "ok" : "failed")
        .increment();
  }

  /**
   * The peer channel's datagrams: taken, and dropped by reason (malformed, unauthenticated,
   * replayed, unknown sender), read from the channel's own counts at each scrape.
   */
  void peerChannel(io.sipha.peer.PeerChannel channel) {
    io.micrometer.core.instrument.FunctionCounter.builder(
            "sipha_agent_peer_datagrams", channel, c -> c.accepted())
        .description("Peer heartbeats taken (result=accepted) or dropped, by reason")
        .tag("node", node)
        .tag("result", "accepted")
        .register(registry);
    for (io.sipha.peer.PeerCodec.Drop d : io.sipha.peer.PeerCodec.Drop.values()) {
      io.micrometer.core.instrument.FunctionCounter.builder(
              "sipha_agent_peer_datagrams", channel, c -> c.dropped().get(d))
          .tag("node", node)
          .tag("result", d.name().toLowerCase(java.util.Locale.ROOT))
          .register(registry);
    }
    io.micrometer.core.instrument.FunctionCounter.builder(
            "sipha_agent_peer_sent", channel, c -> c.sent())
        .description("Peer heartbeats sent")
        .tag("node", node)
        .register(registry);
  }

  /** A peer node turned silent, or was heard again. */
  void peerSilence(String peer, boolean silent) {
    registry
        .counter(
            "sipha_agent_peer_changes_total",
            "node",
            node,
            "peer",
            peer,
            "to",
            silent ? "silent" : "heard")
        .increment();
  }
}
