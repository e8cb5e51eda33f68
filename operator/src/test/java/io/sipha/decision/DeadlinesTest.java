package io.sipha.decision;

import static io.sipha.decision.OnePair.*;
import static io.sipha.decision.PlanReaders.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.Condition;
import io.sipha.api.Phase;
import io.sipha.api.TransitionKind;
import io.sipha.api.VipStatus;
import io.sipha.decision.Plan.RoleAssignment;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Every wait has a deadline. Each step runs {@link PairDecider#decide} in {@link OnePair}, whose
 * safety check runs after every step.
 */
@DisplayName("PairDecider: every wait has a deadline")
class DeadlinesTest {
  VipReport failing(String script, long epoch, String message) {
    return new VipReport(
        VipReport.State.Failed, epoch, VIP_CIDR, script, 2, message, T0.toString(), null, "eth0");
  }

  @Test
  @DisplayName(
      "a switchover whose old node keeps failing to release reverts to the old primary after 15 s, refused with the script's error")
  void switchoverRevertsWhenTheOldNodeCannotRelease() {
    OnePair w = OnePair.active();
    w.hold("node-a");
    w.editSpec(s -> s.setPrimary("sip-1"));
    Plan start = w.step();
    assertThat(start.status().epoch).isEqualTo(2);
    w.agent("node-a").report =
        failing("vip-disable", 2, "RTNETLINK answers: Operation not permitted");
    Instant began = w.now;

    Plan waiting = w.stepAt(began.plusSeconds(14));
    assertThat(waiting.status().transition).isNotNull();
    assertThat(waiting.recheckAfter()).isLessThanOrEqualTo(Duration.ofSeconds(1));

    Plan reverted = w.stepAt(began.plusSeconds(15));
    assertThat(reverted.status().transition).isNull();
    assertThat(reverted.status().primary).isEqualTo("sip-0");
    assertThat(reverted.status().epoch).isEqualTo(3);
    assertThat(reverted.status().vip.node).isEqualTo("node-a");
    assertThat(reverted.roles()).contains(new RoleAssignment("sip-0", PRIMARY, 3));
    Condition refused = requireCondition(reverted, Conditions.SWITCHOVER_REFUSED);
    assertThat(refused.reason).isEqualTo("VipReleaseFailed");
    assertThat(refused.message)
        .contains("vip-disable")
        .contains("Operation not permitted")
        .contains("node-a");
    assertThat(event(reverted, "SwitchoverAborted").warning()).isTrue();
    assertThat(lastHistory(reverted).kind).isEqualTo(TransitionKind.Revert);

    w.follow("node-a");
    Plan back = w.settle();
    assertThat(back.status().phase).isEqualTo(Phase.Active);
    assertThat(back.status().primary).isEqualTo("sip-0");
    Plan later = w.stepAt(w.now.plusSeconds(30));
    assertThat(later.status().transition)
        .as("the refused request is not retried by itself")
        .isNull();
    assertThat(later.status().primary).isEqualTo("sip-0");
  }

  @Test
  @DisplayName(
      "a deadline counts from when this leader saw the step, not from a time a leader with a clock 60 s ahead wrote")
  void deadlinesCountOnTheDecidersOwnClock() {
    OnePair w = OnePair.active();
    w.hold("node-a");
    w.editSpec(s -> s.setPrimary("sip-1"));
    w.step();
    w.agent("node-a").report =
        failing("vip-disable", 2, "RTNETLINK answers: Operation not permitted");
    // the step was started by a previous leader whose clock was 60 s ahead; this one sees it now
    w.status.transition.stepStartedAt = w.now.plusSeconds(60).toString();
    w.status.transition.startedAt = w.status.transition.stepStartedAt;
    w.stepObservedAt = w.now;
    Instant seen = w.now;

    assertThat(w.stepAt(seen.plusSeconds(14)).status().transition).isNotNull();
    Plan reverted = w.stepAt(seen.plusSeconds(15));
    assertThat(reverted.status().transition)
        .as("15 s after this leader saw the step, not 75")
        .isNull();
    assertThat(reverted.status().primary).isEqualTo("sip-0");
  }

  @Test
  @DisplayName(
      "a failover whose old holder is reachable but cannot release never grants the VIP elsewhere: it says TransitionStalled with the way out")
  void failoverWhoseOldHolderCannotReleaseStallsVisibly() {
    OnePair w = OnePair.active();
    w.hold("node-a");
    w.pod("sip-0").failure = "container sip-server terminated (Error, exit code 1)";
    Plan start = w.step();
    assertThat(start.status().transition.kind).isEqualTo(TransitionKind.Failover);
    w.agent("node-a").report =
        failing("vip-disable", start.status().epoch, "Cannot find device \"eth0\"");
    Instant began = w.now;

    Plan stalled = w.stepAt(began.plusSeconds(15));
    assertThat(stalled.status().vip.node).isEqualTo("node-a");
    assertThat(stalled.status().vip.state).isEqualTo(VipStatus.State.Releasing);
    assertThat(promotes(stalled)).isFalse();
    Condition c = requireCondition(stalled, Conditions.TRANSITION_STALLED);
    assertThat(c.status).isEqualTo("True");
    assertThat(c.reason).isEqualTo("ReleaseStalled");
    assertThat(c.message).contains("node-a").contains("vip-disable").contains("nodeLossSeconds");
    assertThat(event(stalled, "ReleaseStalled").warning()).isTrue();
    assertThat(requireCondition(stalled, Conditions.READY).message).contains("stalled");

    w.disconnect("node-a"); // the way out: the node is stopped
    Plan lost = w.stepAt(w.now.plusSeconds(3));
    assertThat(lost.status().vip.node).isEqualTo("node-b");
    Plan done = w.settle();
    assertThat(done.status().primary).isEqualTo("sip-1");
    assertThat(condition(done, Conditions.TRANSITION_STALLED)).isEmpty();
  }

  @Test
  @DisplayName(
      "a new primary's node that renews its Lease but never reports gives the role back after 15 s, through a confirmed release")
  void bindWithASilentWorkerGivesUp() {
    OnePair w = OnePair.active();
    w.hold("node-b"); // renews its Lease, acts on nothing
    w.editSpec(s -> s.setPrimary("sip-1"));
    Plan grant = w.settle(5);
    assertThat(grant.status().transition.step).isEqualTo(io.sipha.api.Transition.Step.Bind);
    Instant bindStarted = w.now;

    Plan gaveUp = w.stepAt(bindStarted.plusSeconds(16));
    assertThat(eventReasons(gaveUp)).contains("SwitchoverAborted");
    assertThat(event(gaveUp, "SwitchoverAborted").message()).contains("node node-b has not bound");
    assertThat(gaveUp.status().vip.node)
        .as("node-b must confirm it holds nothing first")
        .isEqualTo("node-b");
    assertThat(gaveUp.status().vip.state).isEqualTo(VipStatus.State.Releasing);

    w.follow("node-b");
    Plan back = w.settle();
    assertThat(back.status().primary).isEqualTo("sip-0");
    assertThat(back.status().vip.node).isEqualTo("node-a");
    assertThat(requireCondition(back, Conditions.SWITCHOVER_REFUSED).message).contains("node-b");
  }
}
