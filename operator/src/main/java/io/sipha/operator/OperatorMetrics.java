package io.sipha.operator;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sipha.api.Phase;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** The operator's Prometheus meters: transitions by kind and duration, phases, split brains. */
public final class OperatorMetrics {
  private final MeterRegistry registry;
  private final Map<String, Phase> phases = new ConcurrentHashMap<>();
  private final Map<Phase, AtomicInteger> byPhase = new ConcurrentHashMap<>();
  private final Map<String, java.time.Instant> heartbeats = new ConcurrentHashMap<>();

  public OperatorMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (Phase p : Phase.values()) {
      AtomicInteger n = new AtomicInteger();
      byPhase.put(p, n);
      registry.gauge("sipha_pairs", io.micrometer.core.instrument.Tags.of("phase", p.name()), n);
    }
  }

  public static OperatorMetrics none() {
    return new OperatorMetrics(new SimpleMeterRegistry());
  }

  public MeterRegistry registry() {
    return registry;
  }

  void event(io.sipha.decision.Plan.Note note) {
    switch (note.what()) {
      case Completed ->
          registry.counter("sipha_transitions_total", "kind", note.kind().name()).increment();
      case SplitBrainDetected -> registry.counter("sipha_split_brains_total").increment();
      case VipScriptFailed -> registry.counter("sipha_vip_script_failures_total").increment();
      default -> {}
    }
  }

  void transitionDuration(io.sipha.api.TransitionKind kind, long millis) {
    Timer.builder("sipha_transition_duration")
        .tag("kind", kind.name())
        .publishPercentileHistogram()
        .register(registry)
        .record(Duration.ofMillis(millis));
  }

  /** The last renewal seen of a node agent's Lease; exported as its age in seconds. */
  void agentSeen(String node, java.time.Instant renewedAt) {
    if (renewedAt == null) {
      return;
    }
    if (heartbeats.put(node, renewedAt) == null) {
      io.micrometer.core.instrument.Gauge.builder(
              "sipha_agent_heartbeat_age_seconds",
              heartbeats,
              m ->
                  m.containsKey(node)
                      ? (System.currentTimeMillis() - m.get(node).toEpochMilli()) / 1000.0
                      : Double.NaN)
          .tag("node", node)
          .register(registry);
    }
  }

  void phase(String pairKey, Phase phase) {
    Phase old = phase == null ? phases.remove(pairKey) : phases.put(pairKey, phase);
    if (old != null) {
      byPhase.get(old).decrementAndGet();
    }
    if (phase != null) {
      byPhase.get(phase).incrementAndGet();
    }
  }
}
