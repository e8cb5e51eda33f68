package io.sipha.decision;

import static io.sipha.decision.OnePair.*;
import static io.sipha.decision.PlanReaders.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.Phase;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Lost writes and restarts in the middle of a switchover. Each step runs {@link PairDecider#decide}
 * in {@link OnePair}, whose safety check runs after every step.
 */
@DisplayName("PairDecider: lost writes and restarts")
class LostWritesAndRestartsTest {
  @ParameterizedTest(
      name = "a switchover whose status write is lost at step {0} still completes with one primary")
  @ValueSource(ints = {0, 1, 2})
  void lostStatusWrite(int atStep) {
    OnePair w = OnePair.active();
    w.editSpec(s -> s.setPrimary("sip-1"));
    for (int i = 0; i < atStep; i++) {
      w.step();
    }
    w.loseNextStatusWrite = true;
    w.step();
    Plan done = w.settle();
    assertThat(done.status().primary).isEqualTo("sip-1");
    assertThat(done.status().vip.node).isEqualTo("node-b");
    assertThat(done.status().vip.state).isEqualTo(VipStatus.State.Bound);
    // a lost write may cost an epoch number (the pods already carry the new one): never less
    assertThat(done.status().epoch).isBetween(2L, 3L);
    assertThat(done.status().phase).isEqualTo(Phase.Active);
  }

  @ParameterizedTest(
      name = "a switchover whose role writes are lost at step {0} still completes with one primary")
  @ValueSource(ints = {0, 1, 2})
  void lostRoleWrites(int atStep) {
    OnePair w = OnePair.active();
    w.editSpec(s -> s.setPrimary("sip-1"));
    for (int i = 0; i < atStep; i++) {
      w.step();
    }
    w.loseNextRoleWrites = true;
    w.step();
    Plan done = w.settle();
    assertThat(done.status().primary).isEqualTo("sip-1");
    assertThat(done.status().vip.state).isEqualTo(VipStatus.State.Bound);
    assertThat(w.pod("sip-1").role).isEqualTo(PRIMARY);
    assertThat(w.pod("sip-0").role).isEqualTo(BACKUP);
    assertThat(done.status().phase).isEqualTo(Phase.Active);
  }

  @Test
  @DisplayName("a restarted operator deciding again on the same facts makes the same decision")
  void idempotent() {
    OnePair w = OnePair.active();
    w.hold("node-a");
    w.editSpec(s -> s.setPrimary("sip-1"));
    Plan first = w.step();
    SipServerPairStatus before = PairDecider.copy(first.status());
    PairFacts same = w.facts();
    Plan again = PairDecider.decide(same);
    assertThat(again.status().epoch).isEqualTo(before.epoch);
    assertThat(again.status().transition.to).isEqualTo("sip-1");
    assertThat(again.status().vip.node).isEqualTo(before.vip.node);
    assertThat(again.status().vip.state).isEqualTo(before.vip.state);
    assertThat(again.roles()).isEmpty();
  }
}
