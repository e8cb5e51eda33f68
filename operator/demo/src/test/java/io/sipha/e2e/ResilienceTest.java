package io.sipha.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.sipha.api.Condition;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.Transition;
import io.sipha.api.TransitionKind;
import io.sipha.api.VipStatus;
import io.sipha.decision.Conditions;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Refusals, restarts, forged annotations, failing and hanging scripts, drift. */
class ResilienceTest extends SiteTest {

  @Test
  void switchoverToNotReadyTargetIsRefusedAndChangesNothing() {
    activePair();
    site.cluster().setReady(NS, "sip-1", false);
    awaitStatus("backup seen NotReady", s -> s.phase == Phase.Degraded);
    switchOverTo("sip-1");

    SipServerPairStatus s =
        awaitStatus("refused", x -> conditionIs(x, Conditions.SWITCHOVER_REFUSED, "True"));
    Condition refused = condition(s, Conditions.SWITCHOVER_REFUSED);
    assertThat(refused.message)
        .contains("sip-1")
        .contains("not Ready")
        .contains("nothing was changed");
    assertThat(s.epoch).isEqualTo(1);
    assertThat(s.primary).isEqualTo("sip-0");
    assertThat(role("sip-0")).isEqualTo("primary@1");
    assertThat(site.timeline()).containsExactly("node-a enable " + VIP + " eth0");
    awaitEvent(
        "a Warning SwitchoverRefused Event",
        e -> e.startsWith("Warning SwitchoverRefused") && e.contains("sip-1"));

    // the request is kept: once the target is Ready the switchover happens
    site.cluster().setReady(NS, "sip-1", true);
    s = awaitStatus("switched", x -> x.phase == Phase.Active && "sip-1".equals(x.primary));
    assertThat(s.epoch).isEqualTo(2);
    assertThat(condition(s, Conditions.SWITCHOVER_REFUSED)).isNull();
  }

  @Test
  void agentRestartInTheMiddleOfASwitchoverCompletesIt() {
    activePair();
    site.stopAgent("node-a");
    switchOverTo("sip-1");
    awaitStatus(
        "waiting for node-a to release",
        s -> s.transition != null && s.transition.step == Transition.Step.Release);
    site.startAgent("node-a");

    SipServerPairStatus s =
        awaitStatus("switched", x -> x.phase == Phase.Active && "sip-1".equals(x.primary));
    assertThat(s.epoch).isEqualTo(2);
    assertThat(site.host("node-a").vips()).isEmpty();
    assertThat(site.host("node-b").vips()).containsExactly(VIP);
    assertThat(role("sip-0")).isEqualTo("backup@2");
    assertThat(role("sip-1")).isEqualTo("primary@2");
  }

  @Test
  void operatorRestartInTheMiddleOfASwitchoverCompletesIt() {
    activePair();
    site.host("node-a").hangScript("disable", true);
    switchOverTo("sip-1");
    awaitStatus(
        "waiting for node-a to release",
        s -> s.transition != null && s.transition.step == Transition.Step.Release);
    site.stopOperator();
    site.host("node-a").hangScript("disable", false);
    // while no operator runs, node-a's agent retries and releases; nobody may bind yet
    await().atMost(Duration.ofSeconds(10)).until(() -> site.host("node-a").vips().isEmpty());
    assertThat(site.host("node-b").vips()).isEmpty();
    site.startOperator();

    SipServerPairStatus s =
        awaitStatus("switched", x -> x.phase == Phase.Active && "sip-1".equals(x.primary));
    assertThat(s.epoch).isEqualTo(2);
    assertThat(s.history)
        .extracting(h -> h.kind)
        .containsExactly(TransitionKind.Election, TransitionKind.Switchover);
    assertThat(site.host("node-b").vips()).containsExactly(VIP);
  }

  @Test
  void aForgedPrimaryAnnotationOnTheBackupBindsNothing() {
    activePair();
    site.client()
        .pods()
        .inNamespace(NS)
        .withName("sip-1")
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"metadata\":{\"annotations\":{\"sipha.io/role\":\"primary\",\"sipha.io/epoch\":\"1\"}}}");

    // the operator re-asserts the backup role; node-b never binds the VIP meanwhile
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(20))
        .untilAsserted(
            () -> {
              assertThat(site.host("node-b").vips()).isEmpty();
              assertThat(role("sip-1")).isEqualTo("backup@1");
            });
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(4))
        .until(
            () -> site.host("node-b").vips().isEmpty() && site.host("node-a").vips().contains(VIP));
    assertThat(site.host("node-b").calls()).isEmpty();
    assertThat(status().primary).isEqualTo("sip-0");
  }

  @Test
  void aForgedFutureEpochOnTheBackupBindsNothingAndIsOutgrown() {
    activePair();
    site.client()
        .pods()
        .inNamespace(NS)
        .withName("sip-1")
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"metadata\":{\"annotations\":{\"sipha.io/role\":\"primary\",\"sipha.io/epoch\":\"999\"}}}");

    // the status never named sip-1: node-b binds nothing; the roles are re-asserted above the
    // forgery
    SipServerPairStatus s =
        awaitStatus("roles re-asserted above 999", x -> x.epoch > 999 && x.phase == Phase.Active);
    assertThat(s.primary).isEqualTo("sip-0");
    assertThat(role("sip-1")).isEqualTo("backup@" + s.epoch);
    assertThat(role("sip-0")).isEqualTo("primary@" + s.epoch);
    assertThat(site.host("node-b").calls()).isEmpty();
    assertThat(site.host("node-a").vips()).containsExactly(VIP);
    awaitEvent("a Warning EpochRaised Event", e -> e.startsWith("Warning EpochRaised"));
  }

  @Test
  void aFailingScriptIsReportedWithNodeScriptAndExitCodeAndRetried() {
    activePair();
    site.host("node-b").failScript("enable", 3);
    switchOverTo("sip-1");

    SipServerPairStatus s =
        awaitStatus(
            "script failure seen",
            x ->
                condition(x, Conditions.VIP_BOUND) != null
                    && "VipScriptFailed".equals(condition(x, Conditions.VIP_BOUND).reason));
    String msg = condition(s, Conditions.VIP_BOUND).message;
    assertThat(msg)
        .contains("node-b")
        .contains("vip-enable")
        .contains("exit code 3")
        .contains("simulated enable failure");
    assertThat(s.phase).as("nothing half-done is reported as done").isEqualTo(Phase.SwitchingOver);
    assertThat(s.vip.state).isEqualTo(VipStatus.State.Binding);
    awaitEvent(
        "a Warning VipScriptFailed Event",
        e -> e.startsWith("Warning VipScriptFailed") && e.contains("node-b"));

    site.host("node-b").failScript("enable", 0);
    s =
        awaitStatus(
            "switched once the script works",
            x -> x.phase == Phase.Active && "sip-1".equals(x.primary));
    assertThat(site.host("node-b").vips()).containsExactly(VIP);
    assertThat(site.host("node-a").vips()).isEmpty();
  }

  @Test
  void aNewPrimaryWhoseNodeCannotBindGivesTheRoleBackAndTheRequestIsRefused() {
    activePair();
    site.host("node-b").failScript("enable", 2);
    switchOverTo("sip-1");

    // vip-enable keeps failing on node-b: after the patience, sip-0 takes the role back on node-a
    SipServerPairStatus s =
        await("reverted")
            .atMost(Duration.ofSeconds(40))
            .pollInterval(Duration.ofMillis(100))
            .until(
                this::status,
                x -> x.phase == Phase.Active && "sip-0".equals(x.primary) && x.epoch >= 3);
    assertThat(site.host("node-a").vips()).containsExactly(VIP);
    assertThat(site.host("node-b").vips()).isEmpty();
    Condition refused = condition(s, Conditions.SWITCHOVER_REFUSED);
    assertThat(refused.reason).isEqualTo("VipBindFailed");
    assertThat(refused.message)
        .contains("vip-enable keeps failing on node node-b")
        .contains("exit code 2");
    awaitEvent(
        "a Warning SwitchoverAborted Event",
        e -> e.startsWith("Warning SwitchoverAborted") && e.contains("sip-0 takes the role back"));
    // not retried by itself, even once the script works again: spec.primary must change
    site.host("node-b").failScript("enable", 0);
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(4))
        .until(() -> "sip-0".equals(status().primary));
    switchOverTo("sip-0");
    // the operator must see the acknowledgment before the new request (two quick patches may merge)
    awaitStatus("acknowledged", x -> "sip-0".equals(x.acceptedPrimary));
    switchOverTo("sip-1");
    s =
        awaitStatus(
            "switched on request", x -> x.phase == Phase.Active && "sip-1".equals(x.primary));
    assertThat(condition(s, Conditions.SWITCHOVER_REFUSED)).isNull();
    assertThat(site.host("node-b").vips()).containsExactly(VIP);
  }

  @Test
  void aHangingScriptIsKilledAtItsTimeoutAndReported() {
    activePair();
    site.host("node-a").hangScript("disable", true);
    switchOverTo("sip-1");

    SipServerPairStatus s =
        awaitStatus(
            "timeout seen",
            x ->
                condition(x, Conditions.VIP_BOUND) != null
                    && "VipScriptFailed".equals(condition(x, Conditions.VIP_BOUND).reason));
    assertThat(condition(s, Conditions.VIP_BOUND).message)
        .contains("node-a")
        .contains("vip-disable timed out");
    assertThat(s.vip.state).isEqualTo(VipStatus.State.Releasing);
    assertThat(site.host("node-b").vips())
        .as("nothing bound while the old holder has not released")
        .isEmpty();

    site.host("node-a").hangScript("disable", false);
    awaitStatus("switched", x -> x.phase == Phase.Active && "sip-1".equals(x.primary));
    assertThat(site.host("node-a").vips()).isEmpty();
    assertThat(site.host("node-b").vips()).containsExactly(VIP);
  }

  @Test
  void resyncRepairsDriftOnBothHosts() {
    activePair();
    site.host("node-a").setVipByHand(VIP, false);
    site.host("node-b").setVipByHand(VIP, true);

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(site.host("node-a").vips()).containsExactly(VIP);
              assertThat(site.host("node-b").vips()).isEmpty();
            });
    assertThat(site.host("node-b").calls()).containsExactly("disable " + VIP + " eth0");
  }

  @Test
  void podsWithoutThePairLabelAreLabelledAndSaid() {
    site.cluster().createServerPod(NS, "sip-0", "pair-1", "node-a", false);
    site.cluster().createServerPod(NS, "sip-1", "pair-1", "node-b", false);
    createPair(io.sipha.demo.SimulatedSite.pair(NS, "pair-1", "sip-0", "sip-0", "sip-1"));

    awaitStatus("Active", s -> s.phase == Phase.Active);
    assertThat(pod("sip-0").getMetadata().getLabels()).containsEntry("sipha.io/pair", "pair-1");
    assertThat(pod("sip-1").getMetadata().getLabels()).containsEntry("sipha.io/pair", "pair-1");
    awaitEvent(
        "a Normal PodLabelled Event",
        e -> e.startsWith("Normal PodLabelled") && e.contains("sip-0"));
  }
}
