package io.sipha.decision;

import static io.sipha.decision.OnePair.*;
import static io.sipha.decision.PlanReaders.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.Condition;
import io.sipha.api.HistoryEntry;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.TransitionKind;
import io.sipha.api.VipStatus;
import io.sipha.decision.Plan.RoleAssignment;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The first election of a new pair. Each step runs {@link PairDecider#decide} in {@link OnePair},
 * whose safety check runs after every step.
 */
@DisplayName("PairDecider: first election")
class FirstElectionTest {
  @Test
  @DisplayName(
      "spec.primary Ready: it is elected at epoch 1, demotion written before promotion, VIP granted to its node")
  void desiredPrimaryIsElected() {
    OnePair w = new OnePair();
    Plan p = w.step();

    assertThat(p.status().epoch).isEqualTo(1);
    assertThat(p.status().primary).isEqualTo("sip-0");
    assertThat(p.status().backup).isEqualTo("sip-1");
    assertThat(p.status().vip.address).isEqualTo(VIP_CIDR);
    assertThat(p.status().vip.interfaceName).isEqualTo("eth0");
    assertThat(p.status().vip.node).isEqualTo("node-a");
    assertThat(p.status().vip.state).isEqualTo(VipStatus.State.Binding);
    assertThat(p.status().phase).isEqualTo(Phase.Pending);
    assertThat(p.roles())
        .containsExactly(
            new RoleAssignment("sip-1", BACKUP, 1), new RoleAssignment("sip-0", PRIMARY, 1));
    assertThat(eventReasons(p)).contains("ElectionStarted");
  }

  @Test
  @DisplayName(
      "once the elected node reports the VIP Bound at epoch 1 the pair is Active and the Election is in history")
  void electionCompletes() {
    OnePair w = new OnePair();
    w.step();
    Plan p = w.step();

    assertThat(p.status().phase).isEqualTo(Phase.Active);
    assertThat(p.status().vip.state).isEqualTo(VipStatus.State.Bound);
    assertThat(p.status().transition).isNull();
    assertThat(p.status().observedGeneration).isEqualTo(w.generation);
    assertThat(requireCondition(p, Conditions.READY).status).isEqualTo("True");
    assertThat(requireCondition(p, Conditions.VIP_BOUND).status).isEqualTo("True");
    HistoryEntry h = lastHistory(p);
    assertThat(h.kind).isEqualTo(TransitionKind.Election);
    assertThat(h.to).isEqualTo("sip-0");
    assertThat(h.epoch).isEqualTo(1);
    assertThat(eventReasons(p)).contains("ElectionCompleted");
    assertThat(w.agent("node-a").report.is(VipReport.State.Bound)).isTrue();
    assertThat(w.agent("node-b").report.is(VipReport.State.Unbound)).isTrue();
  }

  @Test
  @DisplayName("spec.primary not Ready: the other Ready server is elected")
  void otherReadyServerIsElected() {
    OnePair w = new OnePair();
    w.pod("sip-0").ready = false;
    Plan p = w.step();

    assertThat(p.status().primary).isEqualTo("sip-1");
    assertThat(p.status().epoch).isEqualTo(1);
    assertThat(p.status().vip.node).isEqualTo("node-b");
    assertThat(p.roles()).contains(new RoleAssignment("sip-1", PRIMARY, 1));

    Plan done = w.settle();
    assertThat(done.status().primary).isEqualTo("sip-1");
    assertThat(done.status().vip.state).isEqualTo(VipStatus.State.Bound);
    assertThat(done.status().phase).as("the backup is not Ready").isEqualTo(Phase.Degraded);
  }

  @Test
  @DisplayName(
      "no server Ready: phase Pending, no roles, and the Ready condition names the pods it waits for")
  void noneReadyIsPending() {
    OnePair w = new OnePair();
    w.pod("sip-0").ready = false;
    w.pod("sip-1").ready = false;
    Plan p = w.step();

    assertThat(p.status().phase).isEqualTo(Phase.Pending);
    assertThat(p.status().epoch).isZero();
    assertThat(p.status().primary).isNull();
    assertThat(p.roles()).isEmpty();
    Condition ready = requireCondition(p, Conditions.READY);
    assertThat(ready.status).isEqualTo("False");
    assertThat(ready.message).contains("sip-0").contains("sip-1").contains("not Ready");
    assertThat(eventReasons(p)).contains("Pending");
  }

  @Test
  @DisplayName("a missing pod is not Invalid: the other Ready server is elected")
  void missingPodIsNotInvalid() {
    OnePair w = new OnePair();
    w.pod("sip-0").exists = false;
    Plan p = w.step();

    assertThat(p.status().phase).isNotEqualTo(Phase.Invalid);
    assertThat(requireCondition(p, Conditions.READY).reason).isNotEqualTo("InvalidSpec");
    assertThat(p.status().primary).isEqualTo("sip-1");
    assertThat(p.roles()).containsExactly(new RoleAssignment("sip-1", PRIMARY, 1));
  }

  @Test
  @DisplayName(
      "both pods missing is Pending (not Invalid) and the message says which pods do not exist")
  void bothMissingIsPending() {
    OnePair w = new OnePair();
    w.pod("sip-0").exists = false;
    w.pod("sip-1").exists = false;
    Plan p = w.step();

    assertThat(p.status().phase).isEqualTo(Phase.Pending);
    Condition ready = requireCondition(p, Conditions.READY);
    assertThat(ready.reason).isNotEqualTo("InvalidSpec");
    assertThat(ready.message)
        .contains("pod sip-0 does not exist")
        .contains("pod sip-1 does not exist");
    assertThat(p.roles()).isEmpty();
  }

  @Test
  @DisplayName("a pod without the pair label is labelled and an Event says so")
  void unlabelledPodIsLabelled() {
    OnePair w = new OnePair();
    w.pod("sip-1").labelled = false;
    Plan p = w.step();

    assertThat(p.podsToLabel()).containsExactly("sip-1");
    assertThat(event(p, "PodLabelled").message())
        .contains("sip-1")
        .contains(SipServerPair.PAIR_LABEL);
    assertThat(w.step().podsToLabel()).isEmpty();
  }
}
