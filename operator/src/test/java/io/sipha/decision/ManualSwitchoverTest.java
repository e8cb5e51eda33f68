package io.sipha.decision;

import static io.sipha.decision.OnePair.*;
import static io.sipha.decision.PlanReaders.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.HistoryEntry;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.TransitionKind;
import io.sipha.api.VipStatus;
import io.sipha.decision.Plan.RoleAssignment;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Seed workflow 1: a manual switchover (spec.primary changed). Each step runs {@link
 * PairDecider#decide} in {@link OnePair}, whose safety check runs after every step.
 */
@DisplayName("PairDecider: manual switchover (workflow 1)")
class ManualSwitchoverTest {
  /**
   * Changing spec.primary demotes the old primary, waits for its node to release, then grants and
   * promotes: one step of the decision per test, node-a's vip-disable slow at first (it still
   * reports Bound at epoch 1 when the switchover starts).
   */
  @Nested
  @DisplayName("step by step")
  class StepByStep {
    final OnePair w = OnePair.active();
    Instant startedAt;

    Plan start() {
      w.hold("node-a");
      w.editSpec(s -> s.setPrimary("sip-1"));
      Plan p = w.step();
      startedAt = w.now;
      return p;
    }

    Plan waiting() {
      start();
      return w.step();
    }

    Plan grant() {
      waiting();
      w.follow("node-a"); // the script finishes: node-a reports Unbound at epoch 2
      return w.step();
    }

    Plan done() {
      grant();
      return w.step();
    }

    @Test
    @DisplayName(
        "the start demotes sip-0 at epoch 2 and releases the VIP on node-a, with nobody primary")
    void theStartDemotesAndReleases() {
      SipServerPairStatus st = start().status();
      assertThat(st.epoch).isEqualTo(2);
      assertThat(st.primary).as("no primary while the VIP is released").isNull();
      assertThat(st.backup).isEqualTo("sip-0");
      assertThat(st.vip.node).isEqualTo("node-a");
      assertThat(st.vip.state).isEqualTo(VipStatus.State.Releasing);
      assertThat(st.phase).isEqualTo(Phase.SwitchingOver);
      assertThat(st.transition.kind).isEqualTo(TransitionKind.Switchover);
    }

    @Test
    @DisplayName("the start writes the demotion first and no promotion, and says SwitchoverStarted")
    void theStartWritesTheDemotionOnly() {
      Plan start = start();
      assertThat(start.roles()).first().isEqualTo(new RoleAssignment("sip-0", BACKUP, 2));
      assertThat(promotes(start)).as("no promotion before the release is confirmed").isFalse();
      assertThat(event(start, "SwitchoverStarted").warning()).isFalse();
    }

    @Test
    @DisplayName(
        "until node-a confirms, the VIP stays Releasing there, nobody is promoted, and a recheck is set")
    void itWaitsForTheRelease() {
      Plan waiting = waiting();
      assertThat(waiting.status().vip.node).as("still waiting for node-a").isEqualTo("node-a");
      assertThat(waiting.status().vip.state).isEqualTo(VipStatus.State.Releasing);
      assertThat(waiting.status().primary).isNull();
      assertThat(promotes(waiting)).isFalse();
      assertThat(waiting.recheckAfter()).isNotNull();
    }

    @Test
    @DisplayName(
        "node-a's confirmed release grants the VIP to node-b and promotes sip-1 at epoch 2")
    void theConfirmedReleaseGrantsAndPromotes() {
      Plan grant = grant();
      assertThat(grant.status().vip.node).isEqualTo("node-b");
      assertThat(grant.status().vip.state).isEqualTo(VipStatus.State.Binding);
      assertThat(grant.status().primary).isEqualTo("sip-1");
      assertThat(grant.roles()).containsExactly(new RoleAssignment("sip-1", PRIMARY, 2));
      assertThat(eventReasons(grant)).contains("VipReleased");
    }

    @Test
    @DisplayName("node-b's bind completes it: Active, VIP Bound, sip-1 primary and sip-0 backup")
    void theBindCompletesIt() {
      Plan done = done();
      assertThat(done.status().phase).isEqualTo(Phase.Active);
      assertThat(done.status().vip.state).isEqualTo(VipStatus.State.Bound);
      assertThat(done.status().transition).isNull();
      assertThat(w.pod("sip-0").role).isEqualTo(BACKUP);
      assertThat(w.pod("sip-1").role).isEqualTo(PRIMARY);
    }

    @Test
    @DisplayName(
        "the history and SwitchoverCompleted say what it was and how long it took (300 ms: three steps)")
    void itIsRecordedWithItsDuration() {
      Plan done = done();
      HistoryEntry h = lastHistory(done);
      assertThat(h.kind).isEqualTo(TransitionKind.Switchover);
      assertThat(h.from).isEqualTo("sip-0");
      assertThat(h.to).isEqualTo("sip-1");
      assertThat(h.epoch).isEqualTo(2);
      assertThat(h.reason).isEqualTo("SwitchoverRequested");
      assertThat(h.startedAt).isEqualTo(startedAt.toString());
      assertThat(h.durationMillis)
          .isEqualTo(Duration.between(startedAt, w.now).toMillis())
          .isEqualTo(300);
      assertThat(event(done, "SwitchoverCompleted").message())
          .contains("sip-1")
          .contains("node-b")
          .contains("300 ms");
    }
  }

  @Test
  @DisplayName(
      "a switchover whose old node is lost while releasing grants the VIP once that node is declared lost")
  void oldNodeLostWhileReleasing() {
    OnePair w = OnePair.active();
    w.hold("node-a");
    w.editSpec(s -> s.setPrimary("sip-1"));
    w.step();
    w.disconnect("node-a");
    Instant lastSeen = w.agent("node-a").renewedAt;

    Plan before = w.stepAt(lastSeen.plusMillis(2900));
    assertThat(before.status().vip.node).isEqualTo("node-a");
    assertThat(before.status().vip.state).isEqualTo(VipStatus.State.Releasing);

    Plan lost = w.stepAt(lastSeen.plusSeconds(3));
    assertThat(lost.status().vip.node).isEqualTo("node-b");
    assertThat(lost.status().vip.state).isEqualTo(VipStatus.State.Binding);
    assertThat(lost.status().fenced).extracting(f -> f.node).containsExactly("node-a");
    assertThat(w.settle().status().primary).isEqualTo("sip-1");
  }

  @Test
  @DisplayName("setting spec.primary to the current primary changes nothing")
  void samePrimaryIsNoop() {
    OnePair w = OnePair.active();
    w.editSpec(s -> s.setPrimary("sip-0"));
    Plan p = w.step();
    assertThat(p.status().epoch).isEqualTo(1);
    assertThat(p.roles()).isEmpty();
    assertThat(p.status().transition).isNull();
  }

  @Test
  @DisplayName(
      "a release is confirmed only by an Unbound report about the address being released, not about another one")
  void aReleaseIsConfirmedOnlyByAReportAboutTheAddressBeingReleased() {
    OnePair w = OnePair.active();
    w.hold("node-a");
    w.editSpec(s -> s.setPrimary("sip-1"));
    Plan start = w.step();
    assertThat(start.status().transition.step).isEqualTo(io.sipha.api.Transition.Step.Release);
    // node-a reports Unbound at the new epoch, but about 192.0.2.40 (what it last made sure of):
    // 192.0.2.10 may still be on its host
    w.agent("node-a").report =
        new VipReport(
            VipReport.State.Unbound,
            2,
            "192.0.2.40/24",
            "vip-disable",
            0,
            "ok",
            T0.toString(),
            null,
            "eth0");
    Plan still = w.step();
    assertThat(still.status().transition.step).isEqualTo(io.sipha.api.Transition.Step.Release);
    assertThat(still.status().vip.state).isEqualTo(VipStatus.State.Releasing);
    assertThat(still.status().vip.node).isEqualTo("node-a");
    w.agent("node-a").report =
        new VipReport(
            VipReport.State.Unbound,
            2,
            VIP_CIDR,
            "vip-disable",
            0,
            "ok",
            T0.toString(),
            null,
            "eth0");
    Plan bind = w.step();
    assertThat(bind.status().transition.step).isEqualTo(io.sipha.api.Transition.Step.Bind);
    assertThat(bind.status().vip.node).isEqualTo("node-b");
  }
}
