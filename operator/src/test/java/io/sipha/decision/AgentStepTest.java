package io.sipha.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.kube.AgentReports;
import io.sipha.vip.VipAddress;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("AgentStep: the node agent's decision for one pair")
class AgentStepTest {
  static final VipAddress V10 = VipAddress.parseCidr("192.0.2.10/24", "eth0").value().orElseThrow();
  static final VipAddress V11 = VipAddress.parseCidr("192.0.2.11/24", "eth0").value().orElseThrow();
  static final VipAddress V12 = VipAddress.parseCidr("192.0.2.12/24", "eth0").value().orElseThrow();
  static final String NOW = "2030-01-01T00:00:00Z";

  static AgentStep.Situation s(
      VipAddress want,
      long wantEpoch,
      AgentStep.Held held,
      VipReport report,
      long epoch,
      boolean fenceDue,
      boolean fresh) {
    return new AgentStep.Situation(
        want == null ? Optional.empty() : Optional.of(new VipBindingRule.Binding(want, wantEpoch)),
        held,
        report,
        epoch,
        want != null,
        want == null ? V10 : want,
        fenceDue,
        fresh,
        0,
        null,
        NOW);
  }

  static VipReport report(VipReport.State state, long epoch, VipAddress vip) {
    return new VipReport(
        state, epoch, vip.cidr(), "vip-enable", 2, "failed", NOW, null, vip.interfaceName());
  }

  @Test
  void aChangedVipIsAddedFirstAndTheOldOneRemovedAfterSoAFailingAddLeavesTheOldOneServing() {
    var a =
        AgentStep.next(
            s(
                V11,
                3,
                new AgentStep.Held(V10, 3),
                report(VipReport.State.Bound, 3, V10),
                3,
                false,
                true));
    assertThat(a).isEqualTo(new AgentStep.Enable(V11, 3, V10, "the VIP changed from " + V10));
  }

  @Test
  void aFailedReportIsMadeSureOfAtTheAddressItIsAboutNotTheOneTheStatusNamesNow() {
    var a =
        AgentStep.next(
            s(null, 0, null, report(VipReport.State.Failed, 4, V10), 5, false, true)
                .withStatusVip(V11));
    assertThat(a).isInstanceOf(AgentStep.Disable.class);
    assertThat(((AgentStep.Disable) a).vip()).isEqualTo(V10);
  }

  @Test
  void nothingIsBoundOnWhatMayBeFromBeforeAGapInContact() {
    assertThat(AgentStep.next(s(V10, 2, null, null, 2, false, false)))
        .isInstanceOf(AgentStep.Nothing.class);
  }

  @Test
  void aDueFenceRemovesTheHeldVipEvenWhenTheStatusStillGrantsIt() {
    var a =
        AgentStep.next(
            s(
                V10,
                2,
                new AgentStep.Held(V10, 2),
                report(VipReport.State.Bound, 2, V10),
                2,
                true,
                true));
    assertThat(a).isInstanceOf(AgentStep.Disable.class);
    assertThat(((AgentStep.Disable) a).fence()).isTrue();
  }

  @Test
  void aStaleVipHeldAtAnOlderEpochIsRemovedAndSaidSo() {
    var situation =
        new AgentStep.Situation(
            Optional.empty(),
            new AgentStep.Held(V10, 1),
            report(VipReport.State.Bound, 1, V10),
            2,
            false,
            V10,
            false,
            true,
            0,
            null,
            NOW);
    var a = AgentStep.next(situation);
    assertThat(a)
        .isEqualTo(
            new AgentStep.Disable(
                V10, 2, 1L, false, "held at epoch 1 but the current epoch is 2 elsewhere"));
  }

  /**
   * A VIP change whose vip-enable added the new address and then failed leaves that address on the
   * host, its state unknown (the Failed report is about it). Released, the pair's old address is
   * not all this host may hold: the failed one is made sure of first, or it would stay on the host
   * while the VIP is granted to another node.
   */
  @Test
  void anAddressAFailedVipChangeMayHaveLeftIsMadeSureOfBeforeTheHeldOneIsReleased() {
    var a =
        AgentStep.next(
            s(
                    null,
                    0,
                    new AgentStep.Held(V10, 1),
                    report(VipReport.State.Failed, 1, V11),
                    2,
                    false,
                    true)
                .withStatusVip(V11));
    assertThat(a).isInstanceOf(AgentStep.Disable.class);
    assertThat(((AgentStep.Disable) a).vip()).isEqualTo(V11);
  }

  @Test
  void anAddressAFailedVipChangeMayHaveLeftIsMadeSureOfBeforeAThirdOneIsBound() {
    var a =
        AgentStep.next(
            s(
                V12,
                1,
                new AgentStep.Held(V10, 1),
                report(VipReport.State.Failed, 1, V11),
                1,
                false,
                true));
    assertThat(a).isInstanceOf(AgentStep.Disable.class);
    assertThat(((AgentStep.Disable) a).vip()).isEqualTo(V11);
  }

  @Test
  void aFailedAddOfTheWantedAddressIsTriedAgain() {
    var a =
        AgentStep.next(
            s(
                V11,
                1,
                new AgentStep.Held(V10, 1),
                report(VipReport.State.Failed, 1, V11),
                1,
                false,
                true));
    assertThat(a).isEqualTo(new AgentStep.Enable(V11, 1, V10, "the VIP changed from " + V10));
  }

  @Test
  void anAddressAFailedAddMayHaveLeftIsMadeSureOfBeforeTheNewlyWantedOneIsBound() {
    var a = AgentStep.next(s(V12, 1, null, report(VipReport.State.Failed, 1, V11), 1, false, true));
    assertThat(a).isInstanceOf(AgentStep.Disable.class);
    assertThat(((AgentStep.Disable) a).vip()).isEqualTo(V11);
  }

  /**
   * The status asks this node to release an address its last report is not about (the agent
   * restarted and made sure of the address the status named then; the pair's VIP changed since): it
   * makes sure of the address being released, so that its report confirms that one.
   */
  @Test
  void anAddressTheStatusReleasesHereIsMadeSureOfWhenTheReportIsAboutAnotherOne() {
    var situation =
        new AgentStep.Situation(
            Optional.empty(),
            null,
            report(VipReport.State.Unbound, 1, V11),
            2,
            true,
            V10,
            false,
            true,
            0,
            null,
            NOW);
    var a = AgentStep.next(situation);
    assertThat(a).isInstanceOf(AgentStep.Disable.class);
    assertThat(((AgentStep.Disable) a).vip()).isEqualTo(V10);
  }

  @Test
  void anUnboundReportAboutTheAddressTheStatusNamesIsCarriedToTheNewEpoch() {
    var situation =
        new AgentStep.Situation(
            Optional.empty(),
            null,
            report(VipReport.State.Unbound, 1, V10),
            2,
            true,
            V10,
            false,
            true,
            0,
            null,
            NOW);
    var a = AgentStep.next(situation);
    assertThat(a).isInstanceOf(AgentStep.Report.class);
    assertThat(((AgentStep.Report) a).report().epoch()).isEqualTo(2);
  }

  @Test
  void
      atStartAnAddressTheLastReportNamedIsMadeSureOfEvenIfItSaidUnboundUnlessTheStatusOrAnotherPairHasIt() {
    VipReport unbound = report(VipReport.State.Unbound, 2, V10);
    assertThat(AgentStep.leftoversAtStart(unbound, V11, java.util.Set.of())).containsExactly(V10);
    assertThat(AgentStep.leftoversAtStart(unbound, V10, java.util.Set.of()))
        .as("the start-up check covers it")
        .isEmpty();
    assertThat(AgentStep.leftoversAtStart(unbound, V11, java.util.Set.of(V10.host())))
        .as("another pair's, here")
        .isEmpty();
    assertThat(AgentStep.leftoversAtStart(unbound, null, java.util.Set.of()))
        .as("the pair is gone")
        .containsExactly(V10);
    assertThat(AgentStep.leftoversAtStart(null, V11, java.util.Set.of())).isEmpty();
  }

  @Test
  void atStartTheOtherAddressesAReportSaidMayBeOnTheHostAreMadeSureOfToo() {
    VipReport failedAdd =
        report(VipReport.State.Failed, 1, V11).withAlsoOnHost(java.util.List.of(V10, V11));
    assertThat(failedAdd.alsoOnHost())
        .as("the address the report is about is not repeated")
        .hasSize(1);
    assertThat(AgentStep.leftoversAtStart(failedAdd, V11, java.util.Set.of())).containsExactly(V10);
    assertThat(AgentStep.leftoversAtStart(failedAdd, V12, java.util.Set.of()))
        .containsExactlyInAnyOrder(V10, V11);
    VipReport read =
        AgentReports.parse(AgentReports.render(java.util.Map.of("voice/pair-1", failedAdd)))
            .get("voice/pair-1");
    assertThat(read).as("written and read back from a Lease").isEqualTo(failedAdd);
    assertThat(read.alsoHolds("192.0.2.10")).isTrue();
  }
}
