package io.sipha.decision;

import static io.sipha.decision.OnePair.*;
import static io.sipha.decision.PlanReaders.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import io.sipha.decision.Plan.RoleAssignment;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The binding rule (VipBindingRule) and forged annotations. Each step runs {@link
 * PairDecider#decide} in {@link OnePair}, whose safety check runs after every step.
 */
@DisplayName("PairDecider: VipBindingRule")
class BindingRuleTest {
  SipServerPairStatus grantedTo(String node, String primary, long epoch, VipStatus.State state) {
    SipServerPairStatus st = new SipServerPairStatus();
    st.primary = primary;
    st.epoch = epoch;
    st.vip = new VipStatus(VIP_CIDR, "eth0", node, state, 0);
    return st;
  }

  Map<String, String> annotated(String role, long epoch) {
    return Map.of(
        SipServerPair.ROLE_ANNOTATION, role, SipServerPair.EPOCH_ANNOTATION, String.valueOf(epoch));
  }

  @Test
  @DisplayName(
      "grants the VIP to the node of status.primary when that pod is primary at the status epoch")
  void grantsTheTruePrimary() {
    SipServerPairStatus st = grantedTo("node-a", "sip-0", 4, VipStatus.State.Binding);
    Optional<VipBindingRule.Binding> b =
        VipBindingRule.binding(st, "node-a", "node-a", annotated(PRIMARY, 4));
    assertThat(b).isPresent();
    assertThat(b.get().epoch()).isEqualTo(4);
    assertThat(b.get().vip().cidr()).isEqualTo(VIP_CIDR);
    assertThat(b.get().vip().interfaceName()).isEqualTo("eth0");
    assertThat(
            VipBindingRule.binding(
                grantedTo("node-a", "sip-0", 4, VipStatus.State.Bound),
                "node-a",
                "node-a",
                annotated(PRIMARY, 4)))
        .isPresent();
  }

  @Test
  @DisplayName(
      "forged annotation: a backup pod annotated role=primary at the current epoch gets no binding")
  void forgedAnnotationBindsNothing() {
    // status names sip-0 on node-a; sip-1 on node-b was edited by a tenant to role=primary, epoch=4
    SipServerPairStatus st = grantedTo("node-a", "sip-0", 4, VipStatus.State.Bound);
    assertThat(VipBindingRule.binding(st, "node-b", "node-b", annotated(PRIMARY, 4)))
        .as("even if node-b's agent looked at the forged pod")
        .isEmpty();
    assertThat(VipBindingRule.binding(st, "node-b", "node-a", annotated(PRIMARY, 4)))
        .as("node-b's agent looking at status.primary")
        .isEmpty();
  }

  @Test
  @DisplayName(
      "no binding for a stale epoch annotation, a Releasing/Unbound grant, another node or a missing primary")
  void noBindingOtherwise() {
    SipServerPairStatus st = grantedTo("node-a", "sip-0", 4, VipStatus.State.Bound);
    assertThat(VipBindingRule.binding(st, "node-a", "node-a", annotated(PRIMARY, 3))).isEmpty();
    assertThat(VipBindingRule.binding(st, "node-a", "node-a", annotated(BACKUP, 4))).isEmpty();
    assertThat(VipBindingRule.binding(st, "node-a", "node-a", null)).isEmpty();
    assertThat(VipBindingRule.binding(st, "node-a", null, annotated(PRIMARY, 4))).isEmpty();
    assertThat(VipBindingRule.binding(st, "node-a", "node-b", annotated(PRIMARY, 4))).isEmpty();
    assertThat(
            VipBindingRule.binding(
                grantedTo("node-a", "sip-0", 4, VipStatus.State.Releasing),
                "node-a",
                "node-a",
                annotated(PRIMARY, 4)))
        .isEmpty();
    assertThat(
            VipBindingRule.binding(
                grantedTo("node-a", "sip-0", 4, VipStatus.State.Unbound),
                "node-a",
                "node-a",
                annotated(PRIMARY, 4)))
        .isEmpty();
    assertThat(
            VipBindingRule.binding(
                grantedTo("node-a", null, 4, VipStatus.State.Bound),
                "node-a",
                "node-a",
                annotated(PRIMARY, 4)))
        .isEmpty();
    assertThat(VipBindingRule.binding(null, "node-a", "node-a", annotated(PRIMARY, 4))).isEmpty();
  }

  @Test
  @DisplayName("no binding when the status holds an address that does not validate")
  void invalidStatusAddressBindsNothing() {
    SipServerPairStatus st = grantedTo("node-a", "sip-0", 4, VipStatus.State.Bound);
    st.vip.interfaceName = "eth0; reboot";
    assertThat(VipBindingRule.binding(st, "node-a", "node-a", annotated(PRIMARY, 4))).isEmpty();
    st.vip.interfaceName = "eth0";
    st.vip.address = "example.invalid/24";
    assertThat(VipBindingRule.binding(st, "node-a", "node-a", annotated(PRIMARY, 4))).isEmpty();
  }

  @Test
  @DisplayName(
      "in the world, a forged primary annotation on the backup binds nothing and the decider re-asserts backup")
  void forgedAnnotationInTheWorld() {
    OnePair w = OnePair.active();
    w.pod("sip-1").role = PRIMARY;
    w.pod("sip-1").epoch = 1L;
    w.agentsAnswer();
    assertThat(w.agent("node-b").report.is(VipReport.State.Unbound)).isTrue();

    Plan p = w.step();
    assertThat(p.roles()).containsExactly(new RoleAssignment("sip-1", BACKUP, 1));
    assertThat(p.status().primary).isEqualTo("sip-0");
    assertThat(p.status().epoch).isEqualTo(1);
    assertThat(w.agent("node-b").report.is(VipReport.State.Unbound)).isTrue();
    assertThat(w.agent("node-a").report.is(VipReport.State.Bound)).isTrue();
  }

  @Test
  @DisplayName(
      "a forged epoch of 2^63-1 on a pod is ignored: the epoch does not overflow and the switchover completes")
  void forgedMaximalEpochDoesNotOverflow() {
    OnePair w = OnePair.active();
    w.pod("sip-1").epoch = Long.MAX_VALUE;
    w.editSpec(s -> s.setPrimary("sip-1"));
    Plan done = w.settle();
    assertThat(done.status().epoch).isEqualTo(2);
    assertThat(done.status().primary).isEqualTo("sip-1");
    assertThat(w.pod("sip-1").epoch).isEqualTo(2);
    assertThat(done.status().phase).isEqualTo(Phase.Active);
  }
}
