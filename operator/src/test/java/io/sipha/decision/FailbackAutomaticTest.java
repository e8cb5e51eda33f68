package io.sipha.decision;

import static io.sipha.decision.OnePair.*;
import static io.sipha.decision.PlanReaders.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.Condition;
import io.sipha.api.FailbackMode;
import io.sipha.api.Phase;
import io.sipha.api.TransitionKind;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Failback Automatic: back to spec.primary once it has been Ready for the delay. Each step runs
 * {@link PairDecider#decide} in {@link OnePair}, whose safety check runs after every step.
 */
@DisplayName("PairDecider: failback Automatic")
class FailbackAutomaticTest {
  @Test
  @DisplayName("switches back only after the server has been Ready for failbackDelaySeconds")
  void switchesBackAfterDelay() {
    OnePair w =
        OnePair.activeWith(
            s -> {
              s.setFailback(FailbackMode.Automatic);
              s.getFailover().setFailbackDelaySeconds(10);
            });
    Instant back = failoverThenRecreate(w);

    Plan scheduled = w.stepAt(back.plusMillis(100));
    assertThat(scheduled.status().transition).isNull();
    assertThat(scheduled.status().primary).isEqualTo("sip-1");
    Condition c = requireCondition(scheduled, Conditions.FAILBACK_PENDING);
    assertThat(c.status).isEqualTo("True");
    assertThat(c.reason).isEqualTo("FailbackScheduled");
    assertThat(scheduled.recheckAfter())
        .isNotNull()
        .isLessThanOrEqualTo(Duration.between(w.now, back.plusSeconds(10)));

    Plan almost = w.stepAt(back.plusMillis(9900));
    assertThat(almost.status().transition).isNull();
    assertThat(almost.status().epoch).isEqualTo(2);
    assertThat(almost.recheckAfter()).isEqualTo(Duration.ofMillis(100));

    Plan start = w.stepAt(back.plusSeconds(10));
    assertThat(start.status().transition.kind).isEqualTo(TransitionKind.Failback);
    assertThat(start.status().transition.reason).isEqualTo("FailbackAutomatic");
    assertThat(start.status().transition.to).isEqualTo("sip-0");
    assertThat(start.status().epoch).isEqualTo(3);

    Plan done = w.settle();
    assertThat(done.status().primary).isEqualTo("sip-0");
    assertThat(done.status().vip.node).isEqualTo("node-a");
    assertThat(lastHistory(done).kind).isEqualTo(TransitionKind.Failback);
    assertThat(condition(done, Conditions.FAILBACK_PENDING)).isEmpty();
    assertThat(done.status().phase).isEqualTo(Phase.Active);
  }

  @Test
  @DisplayName("a server that goes NotReady again before the delay restarts the wait")
  void flappingRestartsTheWait() {
    OnePair w =
        OnePair.activeWith(
            s -> {
              s.setFailback(FailbackMode.Automatic);
              s.getFailover().setFailbackDelaySeconds(10);
            });
    Instant back = failoverThenRecreate(w);
    w.stepAt(back.plusSeconds(5));
    w.pod("sip-0").ready = false;
    w.pod("sip-0").readySince = back.plusSeconds(6);
    Plan waiting = w.stepAt(back.plusSeconds(7));
    assertThat(requireCondition(waiting, Conditions.FAILBACK_PENDING).reason)
        .isEqualTo("WaitingForServer");
    w.pod("sip-0").ready = true;
    w.pod("sip-0").readySince = back.plusSeconds(8);
    Plan notYet = w.stepAt(back.plusSeconds(12));
    assertThat(notYet.status().transition).isNull();
    assertThat(notYet.status().primary).isEqualTo("sip-1");
    Plan due = w.stepAt(back.plusSeconds(18));
    assertThat(due.status().transition.kind).isEqualTo(TransitionKind.Failback);
  }

  @Test
  @DisplayName(
      "after a node loss, automatic failback waits for the split brain to be resolved and the delay to pass")
  void noFailbackDuringSplitBrain() {
    OnePair w =
        OnePair.activeWith(
            s -> {
              s.setFailback(FailbackMode.Automatic);
              s.getFailover().setFailbackDelaySeconds(10);
            });
    w.disconnect("node-a");
    Instant lastSeen = w.agent("node-a").renewedAt;
    w.stepAt(lastSeen.plusSeconds(3));
    w.settle();
    w.hold("node-a"); // returns still holding the VIP at epoch 1

    Plan seen = w.step();
    assertThat(seen.status().phase).isEqualTo(Phase.SplitBrain);
    assertThat(seen.status().transition)
        .as("no failback while a split brain is unresolved")
        .isNull();
    assertThat(seen.status().epoch).isEqualTo(2);

    w.follow("node-a");
    Plan resolved = w.step();
    assertThat(eventReasons(resolved)).contains("SplitBrainResolved");
    assertThat(resolved.status().fenced).isEmpty();
    assertThat(resolved.status().transition)
        .as("not before failbackDelaySeconds after the node returned")
        .isNull();
  }
}
