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
}
