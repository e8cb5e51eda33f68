package io.sipha.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.HistoryEntry;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.TransitionKind;
import io.sipha.decision.Conditions;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The four workflows of the seed, end to end: real operator, real agents, real script processes.
 */
class SeedWorkflowsTest extends SiteTest {

  @Test
  void firstElectionMakesSpecPrimaryTheHolder() {
    activePair();
    SipServerPairStatus s = status();
    assertThat(s.epoch).isEqualTo(1);
    assertThat(s.backup).isEqualTo("sip-1");
    assertThat(s.vip.node).isEqualTo("node-a");
    assertThat(role("sip-0")).isEqualTo("primary@1");
    assertThat(role("sip-1")).isEqualTo("backup@1");
    assertThat(site.timeline()).containsExactly("node-a enable " + VIP + " eth0");
    assertThat(s.history).extracting(h -> h.kind).containsExactly(TransitionKind.Election);
    for (String type :
        List.of(
            Conditions.READY,
            Conditions.PRIMARY_READY,
            Conditions.BACKUP_READY,
            Conditions.VIP_BOUND)) {
      assertThat(conditionIs(s, type, "True")).as(type).isTrue();
    }
    assertThat(conditionIs(s, Conditions.SPLIT_BRAIN, "False")).isTrue();
  }

  @Test
  void manualSwitchoverDemotesThenReleasesThenPromotesThenBinds() {
    activePair();
    switchOverTo("sip-1");

    SipServerPairStatus s =
        awaitStatus(
            "sip-1 primary and Active", x -> x.phase == Phase.Active && "sip-1".equals(x.primary));
    assertThat(s.epoch).isEqualTo(2);
    assertThat(s.backup).isEqualTo("sip-0");
    assertThat(s.vip.node).isEqualTo("node-b");
    assertThat(role("sip-0")).isEqualTo("backup@2");
    assertThat(role("sip-1")).isEqualTo("primary@2");
    // the old host confirmed the VIP disabled before the new host enabled it
    assertThat(site.timeline())
        .containsExactly(
            "node-a enable " + VIP + " eth0",
            "node-a disable " + VIP + " eth0",
            "node-b enable " + VIP + " eth0");
    assertThat(site.host("node-a").vips()).isEmpty();
    assertThat(site.host("node-b").vips()).containsExactly(VIP);
    HistoryEntry h = s.history.get(s.history.size() - 1);
    assertThat(h.kind).isEqualTo(TransitionKind.Switchover);
    assertThat(h.from).isEqualTo("sip-0");
    assertThat(h.to).isEqualTo("sip-1");
    assertThat(h.reason).isEqualTo("SwitchoverRequested");
    assertThat(h.durationMillis).isPositive();
    assertThat(s.acceptedPrimary).isEqualTo("sip-1");
    awaitEventReasons("SwitchoverStarted", "VipReleased", "SwitchoverCompleted");
    assertThat(pair().getSpec().getPrimary())
        .as("the operator never writes spec")
        .isEqualTo("sip-1");
  }

  @Test
  void primaryPodDeletedFailsOverAtOnce() {
    activePair();
    site.client().pods().inNamespace(NS).withName("sip-0").delete();

    SipServerPairStatus s =
        awaitStatus(
            "sip-1 primary",
            x ->
                x.phase != Phase.FailingOver
                    && "sip-1".equals(x.primary)
                    && x.vip.state == io.sipha.api.VipStatus.State.Bound);
    assertThat(s.epoch).isEqualTo(2);
    HistoryEntry h = s.history.get(s.history.size() - 1);
    assertThat(h.kind).isEqualTo(TransitionKind.Failover);
    assertThat(h.reason).isEqualTo("PrimaryPodDeleted");
    // node-a's agent is alive: it removed the VIP before node-b added it
    assertThat(site.timeline())
        .containsExactly(
            "node-a enable " + VIP + " eth0",
            "node-a disable " + VIP + " eth0",
            "node-b enable " + VIP + " eth0");
    assertThat(role("sip-1")).isEqualTo("primary@2");
    // the backup is gone: the pair works but says it is degraded, naming the missing pod
    assertThat(s.phase).isEqualTo(Phase.Degraded);
    assertThat(condition(s, Conditions.BACKUP_READY).message).contains("sip-0");
    awaitEventReasons("FailoverStarted", "FailoverCompleted");
    // failback is Manual: spec.primary still names sip-0; when it is back nothing moves by itself
    site.cluster().createServerPod(NS, "sip-0", "pair-1", "node-a", true);
    s = awaitStatus("Active with sip-0 as backup", x -> x.phase == Phase.Active);
    assertThat(s.primary).isEqualTo("sip-1");
    assertThat(role("sip-0")).isEqualTo("backup@2");
    assertThat(condition(s, Conditions.FAILBACK_PENDING).reason).isEqualTo("FailbackManual");
  }

  /**
   * After a failover (failback Manual), the documented way back typed in one go: spec.primary set
   * to the current primary (the acknowledgement) and at once back to the old one. The operator may
   * see only the last edit; it must still switch back.
   */
  @Test
  void anAcknowledgementAndTheRequestAfterItInQuickSuccessionSwitchBack() {
    activePair();
    site.client().pods().inNamespace(NS).withName("sip-0").delete();
    awaitStatus("sip-1 primary", x -> "sip-1".equals(x.primary) && x.transition == null);
    site.cluster().createServerPod(NS, "sip-0", "pair-1", "node-a", true);
    SipServerPairStatus pending =
        awaitStatus(
            "FailbackPending",
            x ->
                x.phase == Phase.Active
                    && condition(x, Conditions.FAILBACK_PENDING) != null
                    && "True".equals(condition(x, Conditions.FAILBACK_PENDING).status));
    switchOverTo("sip-1");
    switchOverTo("sip-0");
    SipServerPairStatus back =
        awaitStatus(
            "sip-0 primary again",
            x -> "sip-0".equals(x.primary) && x.transition == null && x.phase == Phase.Active);
    assertThat(back.epoch).isGreaterThan(pending.epoch);
    assertThat(back.history.get(back.history.size() - 1).kind).isEqualTo(TransitionKind.Switchover);
    assertThat(site.host("node-a").vips()).containsExactly(VIP);
  }

  @Test
  void primaryContainerTerminatedFailsOverAtOnce() {
    activePair();
    site.cluster().terminateContainer(NS, "sip-0", 137);

    SipServerPairStatus s =
        awaitStatus(
            "sip-1 bound",
            x -> "sip-1".equals(x.primary) && x.vip.state == io.sipha.api.VipStatus.State.Bound);
    HistoryEntry h = s.history.get(s.history.size() - 1);
    assertThat(h.reason).isEqualTo("PrimaryFailed");
    assertThat(site.host("node-a").vips()).isEmpty();
    assertThat(site.host("node-b").vips()).containsExactly(VIP);
  }

  @Test
  void primaryNotReadyFailsOverAfterTheGracePeriod() {
    activePair();
    long start = System.nanoTime();
    site.cluster().setReady(NS, "sip-0", false);

    SipServerPairStatus s =
        awaitStatus(
            "sip-1 Active",
            x ->
                x.phase == Phase.Degraded
                    && "sip-1".equals(x.primary)
                    && x.vip.state == io.sipha.api.VipStatus.State.Bound);
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertThat(millis).as("not before unreadyGraceSeconds (1 s)").isGreaterThanOrEqualTo(900);
    HistoryEntry h = s.history.get(s.history.size() - 1);
    assertThat(h.reason).isEqualTo("PrimaryNotReady");
    assertThat(site.host("node-b").vips()).containsExactly(VIP);
  }

  @Test
  void hostDisconnectedThenReconnectedStalePrimaryIsDemoted() {
    activePair();
    // workflow 3: node-a disconnects; nothing can be run there
    site.stopAgent("node-a");

    SipServerPairStatus s =
        awaitStatus(
            "sip-1 bound on node-b",
            x -> "sip-1".equals(x.primary) && x.vip.state == io.sipha.api.VipStatus.State.Bound);
    assertThat(s.epoch).isEqualTo(2);
    HistoryEntry h = s.history.get(s.history.size() - 1);
    assertThat(h.kind).isEqualTo(TransitionKind.Failover);
    assertThat(h.reason).isEqualTo("NodeLost");
    assertThat(s.fenced).extracting(f -> f.node).containsExactly("node-a");
    assertThat(site.host("node-a").vips()).as("the lost host still holds it").containsExactly(VIP);
    assertThat(site.host("node-b").vips()).containsExactly(VIP);
    assertThat(site.host("node-a").calls()).containsExactly("enable " + VIP + " eth0");

    // workflow 4: node-a comes back; its first report shows the VIP bound at the old epoch
    site.startAgent("node-a");
    s = awaitStatus("single holder again", x -> x.fenced.isEmpty() && x.phase == Phase.Active);
    assertThat(site.host("node-a").vips()).isEmpty();
    assertThat(site.host("node-b").vips()).containsExactly(VIP);
    assertThat(site.host("node-a").calls())
        .containsExactly("enable " + VIP + " eth0", "disable " + VIP + " eth0");
    // the true holder announced the VIP again (a second vip-enable: gratuitous ARP)
    assertThat(s.vip.announce).isEqualTo(1);
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(site.host("node-b").calls())
                    .containsExactly("enable " + VIP + " eth0", "enable " + VIP + " eth0"));
    assertThat(role("sip-0")).isEqualTo("backup@2");
    assertThat(s.epoch).isEqualTo(2);
    assertThat(condition(s, Conditions.SPLIT_BRAIN).status).isEqualTo("False");
    assertThat(condition(s, Conditions.SPLIT_BRAIN).reason).isEqualTo("Resolved");
    assertThat(s.history)
        .extracting(x -> x.kind)
        .endsWith(TransitionKind.Failover, TransitionKind.Demotion);
    awaitEventReasons("SplitBrainResolved");
  }
}
