package io.sipha.decision;

import static io.sipha.decision.OnePair.*;
import static io.sipha.decision.PlanReaders.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.Condition;
import io.sipha.api.Phase;
import io.sipha.api.TransitionKind;
import io.sipha.api.VipStatus;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * spec.paused: nothing started, a transition under way finished. Each step runs {@link
 * PairDecider#decide} in {@link OnePair}, whose safety check runs after every step.
 */
@DisplayName("PairDecider: paused")
class PausedTest {
  @Test
  @DisplayName(
      "phase Paused, no role assignments, and status.primary / epoch unchanged even when the primary fails")
  void pausedChangesNothing() {
    OnePair w = OnePair.active();
    w.editSpec(s -> s.setPaused(true));
    Plan p = w.step();
    assertThat(p.status().phase).isEqualTo(Phase.Paused);
    assertThat(p.roles()).isEmpty();
    Condition ready = requireCondition(p, Conditions.READY);
    assertThat(ready.status).isEqualTo("False");
    assertThat(ready.reason).isEqualTo("Paused");
    assertThat(eventReasons(p)).contains("Paused");

    w.pod("sip-0").exists = false;
    w.disconnect("node-a");
    Plan failed = w.stepAt(w.now.plusSeconds(10));
    assertThat(failed.status().phase).isEqualTo(Phase.Paused);
    assertThat(failed.roles()).isEmpty();
    assertThat(failed.status().primary).isEqualTo("sip-0");
    assertThat(failed.status().epoch).isEqualTo(1);
    assertThat(failed.status().transition).isNull();
    assertThat(failed.status().vip.node).isEqualTo("node-a");
    assertThat(failed.status().vip.state).isEqualTo(VipStatus.State.Bound);
    assertThat(failed.status().fenced).isEmpty();
  }

  @Test
  @DisplayName("a pause during a release finishes the transition under way, then changes nothing")
  void pauseDuringAReleaseFinishesTheTransition() {
    OnePair w = OnePair.active();
    w.hold("node-a");
    w.editSpec(s -> s.setPrimary("sip-1"));
    w.step(); // Switchover: node-a is asked to release, nobody is primary
    w.editSpec(s -> s.setPaused(true));
    Plan paused = w.step();
    assertThat(requireCondition(paused, Conditions.READY).message)
        .contains("finishing the Switchover");
    w.follow("node-a");
    Plan done = w.settle();
    assertThat(done.status().primary)
        .as("the VIP is not left without a holder for the pause")
        .isEqualTo("sip-1");
    assertThat(done.status().vip.node).isEqualTo("node-b");
    assertThat(done.status().vip.state).isEqualTo(VipStatus.State.Bound);
    assertThat(done.status().phase).isEqualTo(Phase.Paused);
    assertThat(lastHistory(done).kind).isEqualTo(TransitionKind.Switchover);

    w.pod("sip-1").exists = false; // and now it changes nothing
    Plan after = w.stepAt(w.now.plusSeconds(10));
    assertThat(after.status().primary).isEqualTo("sip-1");
    assertThat(after.status().transition).isNull();
    assertThat(after.roles()).isEmpty();
  }

  @Test
  @DisplayName("a pair paused before its first election elects nobody")
  void pausedBeforeElection() {
    OnePair w = new OnePair();
    w.spec.setPaused(true);
    Plan p = w.step();
    assertThat(p.status().phase).isEqualTo(Phase.Paused);
    assertThat(p.status().epoch).isZero();
    assertThat(p.status().primary).isNull();
    assertThat(p.roles()).isEmpty();
  }

  @Test
  @DisplayName("unpausing resumes: a primary that failed while paused is failed over")
  void unpauseResumes() {
    OnePair w = OnePair.active();
    w.editSpec(s -> s.setPaused(true));
    w.step();
    w.pod("sip-0").exists = false;
    w.step();
    w.editSpec(s -> s.setPaused(false));
    Plan p = w.step();
    assertThat(p.status().transition.kind).isEqualTo(TransitionKind.Failover);
    assertThat(w.settle().status().primary).isEqualTo("sip-1");
  }
}
