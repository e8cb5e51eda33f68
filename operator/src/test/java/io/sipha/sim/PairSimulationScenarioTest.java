package io.sipha.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sipha.api.SipServerPairStatus;
import io.sipha.api.Transition;
import io.sipha.api.VipStatus;
import io.sipha.decision.PairDecider;
import io.sipha.decision.Plan;
import io.sipha.sim.Step.AdvanceClock;
import io.sipha.sim.Step.AgentCrash;
import io.sipha.sim.Step.AgentRestart;
import io.sipha.sim.Step.AgentTick;
import io.sipha.sim.Step.ApiError;
import io.sipha.sim.Step.Heal;
import io.sipha.sim.Step.OperatorCrash;
import io.sipha.sim.Step.Partition;
import io.sipha.sim.Step.PodFailed;
import io.sipha.sim.Step.PodRecreated;
import io.sipha.sim.Step.Reconcile;
import io.sipha.sim.Step.ScriptFail;
import io.sipha.sim.Step.ScriptHang;
import io.sipha.sim.Step.Switchover;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The simulation on fixed schedules: the four workflows of the seed and the faults of the issue
 * pass through the same world and invariants as the property, and a deliberately broken decider is
 * caught (so the invariants are not vacuous). {@link #replay} runs any schedule, e.g. the minimal
 * one printed by a failed property.
 */
class PairSimulationScenarioTest {

  /** Runs a schedule as the property does (invariants after every step, then heal and converge). */
  static World replay(Step... steps) {
    World w = World.active();
    w.run(List.of(steps));
    w.healAndConverge();
    return w;
  }

  static Step reconcile() {
    return Reconcile.FULL;
  }

  static Step ms(int millis) {
    return new AdvanceClock(millis);
  }

  @Test
  @DisplayName("manual switchover: node-a releases, then node-b binds, sip-1 primary at epoch 2")
  void manualSwitchover() {
    World w = World.active();
    w.run(
        List.of(
            new Switchover("sip-1"),
            reconcile(),
            tick("node-b"),
            reconcile(),
            tick("node-a"),
            reconcile(),
            tick("node-b"),
            reconcile()));
    assertThat(w.converged()).as(w.state()).isTrue();
    assertThat(w.status().primary).isEqualTo("sip-1");
    assertThat(w.status().epoch).isEqualTo(2);
    assertThat(w.vipHosts()).containsExactly("node-b");
  }

  @Test
  @DisplayName(
      "host disconnected, then back: node-b takes the VIP, node-a drops its stale VIP once its agent runs")
  void hostDisconnectedThenReconnected() {
    World w = World.active();
    w.run(List.of(new Step.Isolate("node-a"), ms(3500), reconcile(), tick("node-b"), reconcile()));
    assertThat(w.status().primary).as(w.state()).isEqualTo("sip-1");
    assertThat(w.status().fenced).extracting(f -> f.node).containsExactly("node-a");
    assertThat(w.vipHosts())
        .as("the partitioned host keeps its VIP: the seed accepts it")
        .containsExactly("node-a", "node-b");
    assertThat(w.sawFenced).isTrue();
    w.run(List.of(new Heal("node-a"), ms(1000), reconcile(), tick("node-a"), reconcile()));
    assertThat(w.vipHosts()).as(w.state()).containsExactly("node-b");
    assertThat(w.status().fenced).isEmpty();
    w.healAndConverge();
    assertThat(w.status().primary).isEqualTo("sip-1");
  }

  @Test
  @DisplayName(
      "the peer path: a node cut from the API that its peer still hears keeps its VIP; with the"
          + " signalling cut too it is lost at once, long before its Lease runs out")
  void aNodeCutFromTheApiThatItsPeerHearsKeepsItsVipAndIsLostAtOnceWhenTheSignallingGoesToo() {
    World w = World.active();
    w.run(List.of(new Partition("node-a"), ms(5000), reconcile(), tick("node-b"), reconcile()));
    assertThat(w.status().primary).as(w.state()).isEqualTo("sip-0");
    assertThat(w.vipHosts()).containsExactly("node-a");
    io.sipha.api.Condition contact =
        io.sipha.decision.Conditions.find(
                w.status().conditions, io.sipha.decision.Conditions.NODE_CONTACT)
            .orElseThrow();
    assertThat(contact.reason).as(w.state()).isEqualTo("ApiContactLost");

    w.run(List.of(new Heal("node-a"), ms(1500), reconcile(), tick("node-a"), reconcile()));
    w.run(
        List.of(
            new Step.SignallingCut(true),
            new Partition("node-a"),
            ms(500),
            reconcile(),
            tick("node-b"),
            reconcile()));
    assertThat(w.status().primary).as(w.state()).isEqualTo("sip-1");
    assertThat(w.status().history.get(w.status().history.size() - 1).reason).isEqualTo("NodeLost");
    assertThat(w.vipHosts())
        .as("the cut-off host keeps its VIP: the seed accepts it")
        .containsExactly("node-a", "node-b");
    w.healAndConverge();
    assertThat(w.vipHosts()).containsExactly("node-b");
  }

  @Test
  @DisplayName(
      "reconnection seen by the operator: SplitBrain, the stale node removes its VIP at the new epoch")
  void staleHolderSeenAsSplitBrain() {
    World w = World.active();
    w.run(
        List.of(
            new Step.Isolate("node-a"),
            ms(3500),
            reconcile(),
            tick("node-b"),
            reconcile(),
            new Heal("node-a"),
            ms(1000),
            reconcile()));
    assertThat(w.sawSplitBrain).as(w.state()).isTrue();
    w.run(List.of(tick("node-a"), reconcile()));
    assertThat(w.vipHosts()).containsExactly("node-b");
    assertThat(w.agent("node-a").report("pair-1").removedStaleEpoch()).isEqualTo(1L);
  }

  @Test
  @DisplayName(
      "agent crash, operator crash mid-plan, failing and hanging scripts, a 500: the switchover reverts past the release deadline, one primary holds the VIP")
  void faultsMidSwitchover() {
    World w =
        replay(
            new Switchover("sip-1"),
            new ScriptHang("node-a", true, false),
            reconcile(),
            tick("node-a"),
            new Reconcile(1),
            new OperatorCrash(),
            new AgentCrash("node-b", AgentCrash.Kind.CRASH),
            new ApiError(),
            reconcile(),
            new ScriptFail("node-b", true, true),
            new AgentRestart("node-b"),
            tick("node-b"),
            ms(11000),
            tick("node-a"),
            reconcile());
    // node-a's vip-disable hung past the release deadline (15 s): the switchover reverted to sip-0,
    // which never left node-a, and the request is refused with the reason
    assertThat(w.status().primary).isEqualTo("sip-0");
    assertThat(w.vipHosts()).containsExactly("node-a");
    assertThat(w.status().conditions)
        .anyMatch(
            c ->
                c.type.equals("SwitchoverRefused")
                    && c.status.equals("True")
                    && c.reason.equals("VipReleaseFailed")
                    && c.message.contains("node-a"));
  }

  @Test
  @DisplayName(
      "found by make soak: pods ahead of a status whose write was lost, while a healed stale holder still has"
          + " the VIP: the roles are re-asserted through a release, not by granting the VIP again at once")
  void epochRaisedWhileAStaleHolderIsBackGoesThroughARelease() {
    World w =
        replay(
            new Partition("node-a"),
            ms(3000),
            reconcile(),
            tick("node-b"),
            reconcile(),
            new ScriptHang("node-a", true, true),
            new PodRecreated("sip-0", "node-b", true),
            ms(2000),
            new Switchover("sip-1"),
            reconcile(),
            new Switchover("sip-0"),
            tick("node-a"),
            new Reconcile(0),
            new Switchover("sip-0"));
    assertThat(w.vipHosts()).hasSize(1);
  }

  @Test
  @DisplayName(
      "found by the three-pair simulation: a VIP change whose vip-enable added the new address and failed,"
          + " then a switchover: the old holder makes sure of that address before the VIP is granted to the other node")
  void aFailedVipChangeIsMadeSureOfBeforeTheVipMoves() {
    World w =
        replay(
            new Step.VipChange("pair-1", "192.0.2.40"),
            reconcile(),
            new ScriptFail("node-a", true, true),
            new Switchover("sip-1"),
            tick("node-a"),
            reconcile());
    assertThat(w.hostVips("node-a")).doesNotContain("192.0.2.40");
    assertThat(w.vipHosts("pair-1")).containsExactly("node-b");
  }

  @Test
  @DisplayName(
      "found by make soak with three pairs: an agent that restarts in the middle of a failed VIP change makes sure"
          + " of the address the status names then; when the VIP changes back, its report about the other address does not"
          + " count as releasing this one")
  void aReportAboutAnotherAddressIsNoRelease() {
    World w =
        replay(
            new Step.VipChange("pair-1", "192.0.2.40"),
            reconcile(),
            new ScriptFail("node-a", true, true),
            tick("node-a"),
            new Step.PodDeleted("sip-0"),
            new AgentCrash("node-a", AgentCrash.Kind.MID_SCRIPT));
    assertThat(w.vipHosts("pair-1")).hasSize(1);
  }

  @Test
  @DisplayName(
      "found by make soak with three pairs: an agent that crashed while its vip-enable hung (the address was"
          + " added) and whose pair's VIP changed meanwhile removes that address at start, though its last report said Unbound")
  void anAddressAddedByAnEnableInFlightAtACrashIsRemovedAtStart() {
    World w =
        replay(
            new PodFailed("sip-0"),
            reconcile(),
            new Step.VipChange("pair-1", "192.0.2.40"),
            new ScriptHang("node-b", true, true),
            tick("node-a"),
            reconcile(),
            tick("node-b"),
            new AgentCrash("node-b", AgentCrash.Kind.CRASH),
            new Switchover("sip-1"),
            new PodRecreated("sip-1", "node-a", false),
            reconcile(),
            new Step.PodReady("sip-1"),
            reconcile());
    assertThat(w.vipHosts("pair-1")).hasSize(1);
  }

  @Test
  @DisplayName(
      "found by make soak with three pairs: an address the previous run reported Bound, whose start-up check"
          + " fails after the pair's VIP changed, is not forgotten: the start-up check tries again until it is removed")
  void aLeftoverThatCannotBeCheckedAtStartIsNotForgotten() {
    World w =
        replay(
            new ScriptFail("node-a", true, true),
            new AgentCrash("node-a", AgentCrash.Kind.CRASH),
            new Step.VipChange("pair-1", "192.0.2.40"),
            ms(3500),
            reconcile(),
            new AgentRestart("node-a"),
            tick("node-a"));
    assertThat(w.vipHosts("pair-1")).hasSize(1);
  }

  @Test
  @DisplayName(
      "found by make soak with three pairs: the address an agent holds while its report is about a failed"
          + " add of the pair's new VIP is named in that report (alsoOnHost), so a restarted agent removes it")
  void theAddressHeldWhileAnAddFailedIsNotLostAtARestart() {
    World w =
        replay(
            new Step.VipChange("pair-1", "192.0.2.40"),
            reconcile(),
            new ScriptFail("node-a", true, true),
            tick("node-a"),
            new PodRecreated("sip-0", "node-c", false),
            reconcile(),
            new AgentCrash("node-a", AgentCrash.Kind.CRASH));
    assertThat(w.vipHosts("pair-1")).hasSize(1);
  }

  @Test
  @DisplayName(
      "found by make soak with three pairs: two pairs pointed at one free address at about the same time"
          + " (the first one's writes still in flight): the operator lets one of them have it, the other says Invalid")
  void twoPairsPointedAtOneFreeAddressAtOnceGetItOnceOnly() {
    World w =
        replay(
            new Step.VipChange("pair-2", "192.0.2.40"),
            new Reconcile("pair-2", 0),
            new Step.VipChange("pair-1", "192.0.2.40"),
            reconcile(),
            new Reconcile("pair-2", -1));
    assertThat(w.vipHosts("pair-1")).hasSize(1);
  }

  @Test
  @DisplayName(
      "a node back from a partition whose watch reconnects later acts on fresh reads, one a second: it keeps"
          + " the stale VIP until a read shows the failover decided while it was lost, then removes it")
  void aNodeBackWithItsWatchStillDownRemovesItsStaleVipOnceAFreshReadShowsTheFailover() {
    World w =
        replay(
            new Step.Isolate("node-b"), ms(1000), ms(1000), ms(1500), new Reconcile("pair-2", 0));
    assertThat(w.vipHosts("pair-2")).containsExactly("node-c");
    assertThat(w.agent("node-b").report("pair-2").removedStaleEpoch()).isEqualTo(1L);
  }

  @Test
  @DisplayName(
      "after a failover (failback Manual) the user acknowledges it and asks for the old primary back, both"
          + " between two reconciles: the request is honoured, not lost behind a spec.primary that looks unchanged")
  void anAcknowledgementAndARequestBetweenTwoReconcilesAreBothSeen() {
    World w = World.active();
    w.run(
        List.of(
            new PodFailed("sip-0"),
            ms(2500),
            reconcile(),
            tick("node-a"),
            reconcile(),
            tick("node-b"),
            reconcile(),
            new Step.PodReady("sip-0"),
            reconcile()));
    assertThat(w.status().primary).as(w.state()).isEqualTo("sip-1");
    assertThat(w.status().conditions)
        .anyMatch(c -> c.type.equals("FailbackPending") && c.status.equals("True"));
    w.run(
        List.of(
            new Step.AcknowledgeThenSwitchover("sip-0"),
            reconcile(),
            tick("node-b"),
            reconcile(),
            tick("node-a"),
            reconcile()));
    assertThat(w.status().primary).as(w.state()).isEqualTo("sip-0");
    w.healAndConverge();
  }

  @Test
  @DisplayName(
      "found by make soak with three pairs: an agent that crashed right after vip-enable added a changed VIP,"
          + " whose pair's VIP changed back before it restarted: the address was written as about to be added, and is removed")
  void anAddressBeingAddedAtACrashIsFoundThoughNothingNamesItAnyMore() {
    World w =
        replay(
            new Step.VipChange("pair-1", "192.0.2.40"),
            reconcile(),
            new Step.VipChange("pair-1", "192.0.2.10"),
            new AgentCrash("node-a", AgentCrash.Kind.MID_SCRIPT),
            reconcile());
    assertThat(w.hostVips("node-a")).doesNotContain("192.0.2.40");
  }

  @Test
  @DisplayName(
      "a node back from a second cut, whose last fresh read is less than a second old, waits for the next one"
          + " before it acts: it keeps its stale VIP until then, and removes it once a fresh read shows the failover")
  void aNodeBackFromASecondCutWaitsForItsNextFreshReadAndThenRemovesItsStaleVip() {
    World w =
        replay(
            new Step.Isolate("node-b"),
            ms(3000),
            ms(100),
            new Reconcile("pair-2", -1),
            new ScriptFail("node-b", true, false),
            new Step.Heal("node-b"),
            tick("node-b"),
            new Step.Isolate("node-b"),
            tick("node-b"));
    assertThat(w.vipHosts("pair-2")).containsExactly("node-c");
  }

  @Test
  @DisplayName(
      "a self-fenced node back after a failover whose writes land after its first fresh read adds its VIP"
          + " again on that read, as a stale holder, and removes it once it sees the failover (SplitBrain resolved)")
  void aSelfFencedNodeThatReaddsOnAReadFromBeforeTheFailoverRemovesItOnceItSeesIt() {
    World w =
        replay(
            new Partition("node-c"),
            ms(300),
            ms(100),
            ms(500),
            new Step.SelfFencing("pair-3", true),
            ms(11000),
            new Reconcile("pair-3", 0));
    assertThat(w.vipHosts("pair-3")).hasSize(1);
  }

  @Test
  @DisplayName(
      "a deposed leader's late role write, made from older facts, is refused and never lowers a pod's epoch")
  void aDeposedLeadersLateRoleWriteIsRefused() {
    World w =
        replay(
            new Switchover("sip-1"),
            new Reconcile(1),
            new Step.LeaderChange(),
            reconcile(),
            tick("node-a"),
            reconcile(),
            tick("node-b"),
            reconcile());
    assertThat(w.status().primary).isEqualTo("sip-1");
    assertThat(w.vipHosts()).containsExactly("node-b");
  }

  @Test
  @DisplayName("a decider that grants the VIP without waiting for the release is caught")
  void brokenDeciderIsCaught() {
    World w = World.active(facts -> skipRelease(PairDecider.decide(facts)));
    assertThatThrownBy(() -> w.run(List.of(new Switchover("sip-1"), reconcile(), tick("node-b"))))
        .isInstanceOf(World.Violation.class)
        .hasMessageContaining(World.VIP_AFTER_RELEASE)
        .hasMessageContaining("node-b enabled 192.0.2.10/24 at epoch 2 while node-a holds it");
  }

  @Test
  @DisplayName("a decider that reuses the epoch and promotes before it demotes is caught mid-plan")
  void promotionBeforeDemotionIsCaught() {
    World w =
        World.active(
            facts -> {
              if (facts.status() == null || facts.status().epoch == 0) {
                return PairDecider.decide(facts); // the first election is left alone
              }
              Plan p = skipRelease(PairDecider.decide(facts));
              long old = facts.status().epoch;
              p.status().epoch = old;
              if (p.status().transition != null) {
                p.status().transition.epoch = old;
              }
              List<Plan.RoleAssignment> roles = new ArrayList<>();
              p.roles().forEach(r -> roles.add(0, new Plan.RoleAssignment(r.pod(), r.role(), old)));
              return new Plan(p.podsToLabel(), roles, p.status(), p.events(), p.recheckAfter());
            });
    assertThatThrownBy(() -> w.run(List.of(new Switchover("sip-1"), new Reconcile(1))))
        .isInstanceOf(World.Violation.class)
        .hasMessageContaining(World.ONE_PRIMARY)
        .hasMessageContaining("[sip-0, sip-1] are all primary at epoch 1");
  }

  @Test
  @DisplayName(
      "a failure message names the invariant, the step and the state, and traces the schedule one step per line")
  void failureMessageIsReadable() {
    World w = World.active(facts -> skipRelease(PairDecider.decide(facts)));
    assertThatThrownBy(() -> w.run(List.of(new Switchover("sip-1"), reconcile(), tick("node-b"))))
        .hasMessageContaining("Invariant broken: " + World.VIP_AFTER_RELEASE)
        .hasMessageContaining("after step 3: node-b's agent runs")
        .hasMessageContaining(
            "pair-1: node-b enabled 192.0.2.10/24 at epoch 2 while node-a holds it")
        .hasMessageContaining("host node-a holds [192.0.2.10]")
        .hasMessageContaining("  1. the user sets spec.primary to sip-1\n")
        .hasMessageContaining("  2. the operator reconciles pair-1\n");
  }

  @Test
  @DisplayName("the minimizer keeps only the steps the failure needs")
  void minimizerDropsFiller() {
    Schedule s =
        new Schedule(
            List.of(
                reconcile(),
                ms(100),
                new Partition("node-a"),
                ms(3500),
                tick("node-c"),
                reconcile(),
                tick("node-b"),
                new Heal("node-a"),
                tick("node-a")));
    // with the real decider this schedule is safe
    assertThat(ReplayHint.failure(s)).isNull();
    assertThat(s.toString())
        .startsWith("Schedule of 9 steps:\n    1. the operator reconciles pair-1\n");
  }

  // ------------------------------------------------------------------ known bugs
  // (docs/reliability.md)

  /** Replays a schedule with every invariant strict (no known bug tolerated). */
  static void strictReplay(Step... steps) {
    World w = World.active(PairDecider::decide, Set.of());
    w.run(List.of(steps));
    w.healAndConverge();
  }

  /** The minimal schedule of known bug 1 (decision core). */
  static final Step[] POD_EPOCH_GOES_BACK = {
    new Switchover("sip-1"),
    reconcile(),
    new PodFailed("sip-1"),
    new Reconcile(0),
    new Switchover("sip-0")
  };

  /** Known bug 1 with a lost target node instead of a failed target pod. */
  static final Step[] POD_EPOCH_GOES_BACK_NODE_LOST = {
    new Switchover("sip-1"),
    reconcile(),
    new Partition("node-b"),
    tick("node-a"),
    reconcile(),
    ms(3000),
    new Reconcile(0),
    new Switchover("sip-0")
  };

  /** Known bug 1 where the aborted transition leaves no candidate: the pair goes Pending. */
  static final Step[] POD_EPOCH_GOES_BACK_NO_CANDIDATE = {
    new Switchover("sip-1"),
    reconcile(),
    new PodFailed("sip-1"),
    new Partition("node-a"),
    new Reconcile(0),
    new Switchover("sip-0"),
    ms(3000),
    reconcile(),
    reconcile()
  };

  /** The minimal schedule of known bug 2 (decision core). */
  static final Step[] FENCED_HOLDER_BLOCKS_SWITCHOVER = {
    new Partition("node-a"),
    ms(3000),
    reconcile(),
    new PodFailed("sip-1"),
    new Heal("node-a"),
    ms(1000),
    reconcile(),
    new Switchover("sip-1")
  };

  /** Known bug 2 where the new primary's pod is recreated on the fenced node. */
  static final Step[] FENCED_HOLDER_BLOCKS_SWITCHOVER_POD_MOVED = {
    new Partition("node-a"),
    ms(3000),
    reconcile(),
    new Switchover("sip-1"),
    new PodRecreated("sip-1", "node-a", true)
  };

  /** The minimal schedule of known bug 3 (node agent): a duplicate VIP until the drift check. */
  static final Step[] FAILED_PROBE_KEEPS_UNBOUND = {
    new Switchover("sip-1"),
    reconcile(),
    new ScriptFail("node-b", true, true),
    tick("node-a"),
    reconcile(),
    new AgentCrash("node-b", AgentCrash.Kind.MID_SCRIPT),
    ms(3000),
    reconcile(),
    new AgentRestart("node-b"),
    tick("node-b")
  };

  /** Known bug 3 where the host no longer concerns the pair: the stale VIP is never removed. */
  static final Step[] FAILED_PROBE_LEAVES_VIP_FOREVER = {
    new Switchover("sip-1"),
    reconcile(),
    new ScriptHang("node-b", true, true),
    tick("node-a"),
    reconcile(),
    new AgentCrash("node-b", AgentCrash.Kind.MID_SCRIPT),
    new PodRecreated("sip-1", "node-a", true),
    new AgentRestart("node-b"),
    tick("node-b")
  };

  @Test
  @DisplayName(
      "known bug 1: a pod's epoch goes back when a status write is lost after an aborted transition")
  void knownBugPodEpochGoesBack() {
    strictReplay(POD_EPOCH_GOES_BACK);
  }

  @Test
  @DisplayName("known bug 1, with the switchover's target node lost instead of its pod failed")
  void knownBugPodEpochGoesBackNodeLost() {
    strictReplay(POD_EPOCH_GOES_BACK_NODE_LOST);
  }

  @Test
  @DisplayName(
      "known bug 1, where the aborted transition leaves no candidate and the pair goes Pending")
  void knownBugPodEpochGoesBackNoCandidate() {
    strictReplay(POD_EPOCH_GOES_BACK_NO_CANDIDATE);
  }

  @Test
  @DisplayName(
      "known bug 2: the holder's own node left in status.fenced makes the operator ignore spec.primary")
  void knownBugFencedHolderBlocksSwitchover() {
    strictReplay(FENCED_HOLDER_BLOCKS_SWITCHOVER);
  }

  @Test
  @DisplayName("known bug 2, with the new primary's pod recreated on the fenced node")
  void knownBugFencedHolderBlocksSwitchoverPodMoved() {
    strictReplay(FENCED_HOLDER_BLOCKS_SWITCHOVER_POD_MOVED);
  }

  @Test
  @DisplayName(
      "known bug 3: a failed start-up vip-status keeps an Unbound report while the host holds the VIP")
  void knownBugFailedProbeKeepsUnbound() {
    strictReplay(FAILED_PROBE_KEEPS_UNBOUND);
  }

  @Test
  @DisplayName(
      "known bug 3, where the host no longer concerns the pair: the stale VIP stays on it for good")
  void knownBugFailedProbeLeavesVipForever() {
    strictReplay(FAILED_PROBE_LEAVES_VIP_FOREVER);
  }

  /**
   * To decide: a node fenced earlier in the transition, alive again with a stale Unbound report, is
   * not waited for.
   */
  static final Step[] FENCED_NODE_RETURNS_BEFORE_THE_GRANT = {
    new Partition("node-a"),
    ms(3000),
    reconcile(),
    new AgentCrash("node-b", AgentCrash.Kind.MID_SCRIPT),
    ms(1000),
    new Heal("node-a"),
    ms(2000),
    reconcile(),
    new AgentRestart("node-b"),
    tick("node-a"),
    reconcile()
  };

  @Test
  @DisplayName(
      "to decide: the release does not wait for a node fenced earlier in the transition that is alive again")
  void toDecideFencedNodeReturnsBeforeTheGrant() {
    strictReplay(FENCED_NODE_RETURNS_BEFORE_THE_GRANT);
  }

  @Test
  @DisplayName("a failed start-up probe reports Failed, which makes the bug-3 schedules safe")
  void failedProbeFixHolds() {
    for (Step[] steps : List.of(FAILED_PROBE_KEEPS_UNBOUND, FAILED_PROBE_LEAVES_VIP_FOREVER)) {
      World w = World.active(PairDecider::decide, Set.of());
      w.run(List.of(steps));
      w.healAndConverge();
      assertThat(w.vipHosts()).hasSize(1);
    }
  }

  static Step tick(String node) {
    return new AgentTick(node);
  }

  /** The broken decider: a transition waiting for the release goes straight to Bind. */
  private static Plan skipRelease(Plan p) {
    SipServerPairStatus st = p.status();
    Transition t = st.transition;
    if (t == null || t.step != Transition.Step.Release) {
      return p;
    }
    t.step = Transition.Step.Bind;
    st.primary = t.to;
    st.vip.node = t.toNode;
    st.vip.state = VipStatus.State.Binding;
    List<Plan.RoleAssignment> roles = new ArrayList<>();
    for (String s : List.of(t.from, t.to)) {
      roles.add(new Plan.RoleAssignment(s, s.equals(t.to) ? "primary" : "backup", t.epoch));
    }
    roles.sort((a, b) -> a.role().compareTo(b.role()));
    return new Plan(p.podsToLabel(), roles, st, p.events(), p.recheckAfter());
  }
}
