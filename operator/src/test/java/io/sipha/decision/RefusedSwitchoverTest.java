package io.sipha.decision;

import static io.sipha.decision.OnePair.*;
import static io.sipha.decision.PlanReaders.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.Condition;
import io.sipha.api.Phase;
import io.sipha.api.TransitionKind;
import io.sipha.api.VipStatus;
import io.sipha.decision.Plan.Note;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Seed workflow 1: a switchover refused, with the reason in a condition. Each step runs {@link
 * PairDecider#decide} in {@link OnePair}, whose safety check runs after every step.
 */
@DisplayName("PairDecider: refused switchover")
class RefusedSwitchoverTest {
  @Test
  @DisplayName(
      "a NotReady target is refused with a condition and an Event naming it; epoch, primary and roles stay")
  void notReadyTargetIsRefused() {
    OnePair w = OnePair.active();
    w.pod("sip-1").ready = false;
    w.pod("sip-1").readySince = w.now;
    w.editSpec(s -> s.setPrimary("sip-1"));

    Plan p = w.step();
    Condition refused = requireCondition(p, Conditions.SWITCHOVER_REFUSED);
    assertThat(refused.status).isEqualTo("True");
    assertThat(refused.message).contains("sip-1").contains("not Ready");
    Note e = event(p, "SwitchoverRefused");
    assertThat(e.warning()).isTrue();
    assertThat(e.message()).contains("sip-1").contains("not Ready");
    assertThat(p.status().epoch).isEqualTo(1);
    assertThat(p.status().primary).isEqualTo("sip-0");
    assertThat(p.status().transition).isNull();
    assertThat(p.status().vip.node).isEqualTo("node-a");
    assertThat(p.status().vip.state).isEqualTo(VipStatus.State.Bound);
    assertThat(p.roles()).isEmpty();
    assertThat(w.pod("sip-0").role).isEqualTo(PRIMARY);
    assertThat(w.pod("sip-0").epoch).isEqualTo(1L);

    Plan again = w.step();
    assertThat(eventReasons(again))
        .as("the refusal Event is not repeated")
        .doesNotContain("SwitchoverRefused");
    assertThat(again.status().epoch).isEqualTo(1);
  }

  @Test
  @DisplayName("a target whose node agent is not running is refused, naming the node")
  void targetOnDeadNodeIsRefused() {
    OnePair w = OnePair.active();
    w.disconnect("node-b");
    w.stepAt(w.now.plusSeconds(4));
    w.editSpec(s -> s.setPrimary("sip-1"));
    Plan p = w.step();
    assertThat(requireCondition(p, Conditions.SWITCHOVER_REFUSED).message)
        .contains("sip-1")
        .contains("node-b");
    assertThat(p.status().epoch).isEqualTo(1);
    assertThat(p.status().primary).isEqualTo("sip-0");
  }

  @Test
  @DisplayName(
      "once the refused target becomes Ready the switchover proceeds and the refusal is cleared")
  void proceedsOnceReady() {
    OnePair w = OnePair.active();
    w.pod("sip-1").ready = false;
    w.editSpec(s -> s.setPrimary("sip-1"));
    w.step();
    w.step();

    w.pod("sip-1").ready = true;
    w.pod("sip-1").readySince = w.now;
    Plan p = w.step();
    assertThat(p.status().epoch).isEqualTo(2);
    assertThat(p.status().transition.kind).isEqualTo(TransitionKind.Switchover);
    assertThat(p.status().transition.to).isEqualTo("sip-1");
    assertThat(condition(p, Conditions.SWITCHOVER_REFUSED)).isEmpty();

    Plan done = w.settle();
    assertThat(done.status().primary).isEqualTo("sip-1");
    assertThat(done.status().phase).isEqualTo(Phase.Active);
    assertThat(lastHistory(done).kind).isEqualTo(TransitionKind.Switchover);
  }

  @Test
  @DisplayName("a refused switchover does not claim that a failback is pending")
  void refusalDoesNotInventAFailback() {
    OnePair w = OnePair.active();
    w.pod("sip-1").ready = false;
    w.editSpec(s -> s.setPrimary("sip-1"));
    Plan p = w.step();
    assertThat(condition(p, Conditions.SWITCHOVER_REFUSED)).isPresent();
    assertThat(condition(p, Conditions.FAILBACK_PENDING)).isEmpty();
  }
}
