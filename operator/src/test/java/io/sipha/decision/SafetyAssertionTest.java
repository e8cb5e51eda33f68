package io.sipha.decision;

import static io.sipha.decision.OnePair.*;
import static io.sipha.decision.PlanReaders.*;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The safety check of OnePair is not vacuous: it fails on unsafe plans. Each step runs {@link
 * PairDecider#decide} in {@link OnePair}, whose safety check runs after every step.
 */
@DisplayName("PairDecider: the shared safety assertion")
class SafetyAssertionTest {
  @Test
  @DisplayName("fails when two pods are annotated primary at the current epoch")
  void catchesTwoPrimaries() {
    OnePair w = OnePair.active();
    w.pod("sip-1").role = PRIMARY;
    w.pod("sip-1").epoch = 1L;
    Plan p = w.plans.get(w.plans.size() - 1);
    assertThatThrownBy(() -> w.assertSafe(w.status, w.facts(), p))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("at most one pod annotated primary");
  }

  @Test
  @DisplayName("fails when the epoch goes down")
  void catchesEpochGoingDown() {
    OnePair w = OnePair.active();
    SipServerPairStatus higher = PairDecider.copy(w.status);
    higher.epoch = 5;
    Plan p = w.plans.get(w.plans.size() - 1);
    assertThatThrownBy(() -> w.assertSafe(higher, w.facts(), p))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("epoch never decreases");
  }

  @Test
  @DisplayName(
      "fails when the VIP is granted while a live node not declared lost still reports it Bound at an older epoch")
  void catchesEarlyGrant() {
    OnePair w = OnePair.active();
    SipServerPairStatus granted = PairDecider.copy(w.status);
    granted.epoch = 2;
    granted.primary = "sip-1";
    granted.vip.node = "node-b";
    granted.vip.state = VipStatus.State.Binding;
    Plan forged = new Plan(List.of(), List.of(), granted, List.of(), null);
    assertThatThrownBy(() -> w.assertSafe(w.status, w.facts(), forged))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("reports it Bound at older epoch");
  }
}
