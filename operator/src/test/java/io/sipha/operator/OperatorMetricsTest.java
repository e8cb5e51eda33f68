package io.sipha.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sipha.api.TransitionKind;
import io.sipha.decision.EventReason;
import io.sipha.decision.Plan.Note;
import org.junit.jupiter.api.Test;

/** The counters read what a decision says happened (its kind and reason), not the Events' text. */
class OperatorMetricsTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final OperatorMetrics metrics = new OperatorMetrics(registry);

  @Test
  void aCompletedTransitionCountsUnderItsKindAndNothingElseDoes() {
    metrics.event(new Note(true, EventReason.Started, TransitionKind.Failover, "started"));
    metrics.event(new Note(true, EventReason.Aborted, TransitionKind.Switchover, "aborted"));
    metrics.event(new Note(false, EventReason.Completed, TransitionKind.Failover, "done"));
    metrics.event(new Note(false, EventReason.Completed, TransitionKind.Failover, "done again"));
    metrics.event(new Note(false, EventReason.Completed, TransitionKind.Deletion, "deleted"));

    assertThat(registry.get("sipha_transitions_total").tag("kind", "Failover").counter().count())
        .isEqualTo(2);
    assertThat(registry.get("sipha_transitions_total").tag("kind", "Deletion").counter().count())
        .isEqualTo(1);
    assertThat(registry.find("sipha_transitions_total").tag("kind", "Switchover").counter())
        .isNull();
  }

  @Test
  void splitBrainsAndScriptFailuresHaveTheirOwnCounters() {
    metrics.event(new Note(true, EventReason.SplitBrainDetected, "two VIP holders"));
    metrics.event(new Note(true, EventReason.VipScriptFailed, "vip-enable failed"));
    metrics.event(new Note(true, EventReason.VipScriptFailed, "vip-enable failed again"));
    metrics.event(new Note(false, EventReason.SplitBrainResolved, "resolved"));

    assertThat(registry.get("sipha_split_brains_total").counter().count()).isEqualTo(1);
    assertThat(registry.get("sipha_vip_script_failures_total").counter().count()).isEqualTo(2);
  }

  @Test
  void anEventsReasonIsItsKindAndWhatHappenedToIt() {
    assertThat(new Note(false, EventReason.Started, TransitionKind.Failback, "").reason())
        .isEqualTo("FailbackStarted");
    assertThat(new Note(false, EventReason.VipReleased, "").reason()).isEqualTo("VipReleased");
  }
}
