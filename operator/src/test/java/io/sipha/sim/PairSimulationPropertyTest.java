package io.sipha.sim;

import io.sipha.sim.Step.AdvanceClock;
import io.sipha.sim.Step.AgentCrash;
import io.sipha.sim.Step.AgentRestart;
import io.sipha.sim.Step.AgentTick;
import io.sipha.sim.Step.ApiConflict;
import io.sipha.sim.Step.ApiError;
import io.sipha.sim.Step.Heal;
import io.sipha.sim.Step.InvalidSwitchover;
import io.sipha.sim.Step.OperatorCrash;
import io.sipha.sim.Step.Partition;
import io.sipha.sim.Step.PodDeleted;
import io.sipha.sim.Step.PodFailed;
import io.sipha.sim.Step.PodNotReady;
import io.sipha.sim.Step.PodReady;
import io.sipha.sim.Step.PodRecreated;
import io.sipha.sim.Step.Reconcile;
import io.sipha.sim.Step.ScriptFail;
import io.sipha.sim.Step.ScriptHang;
import io.sipha.sim.Step.Switchover;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.Tuple.Tuple2;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.statistics.Statistics;

/**
 * The deterministic simulation: random schedules of operator, agent, pod, node, script and API
 * faults and of user edits (switchovers, pause, failback, a VIP pointed at a free address or at
 * another pair's) against three pairs on three hosts, run by the real {@link
 * io.sipha.decision.PairDecider}, {@link io.sipha.decision.AgentStep} and the operator's own
 * cross-pair rule for a contested VIP, with the safety invariants checked after every step and
 * convergence checked after every fault is repaired. See docs/reliability.md.
 *
 * <p>To replay a failure, copy the seed from the failure message into {@code @Property(seed =
 * "...")}.
 */
class PairSimulationPropertyTest {

  @Property(tries = 1000)
  @AddLifecycleHook(ReplayHint.class)
  void safeUnderEveryScheduleAndConvergesOnceHealed(@ForAll("schedules") Schedule schedule) {
    World w = World.active();
    w.run(schedule.steps());
    w.healAndConverge();
    collectStatistics(w);
  }

  /** make soak: ten times the schedules of make test (about ten times as long). */
  @Property(tries = 10_000)
  @net.jqwik.api.Tag("soak")
  @AddLifecycleHook(ReplayHint.class)
  void soakSafeUnderEveryScheduleAndConvergesOnceHealed(@ForAll("schedules") Schedule schedule) {
    safeUnderEveryScheduleAndConvergesOnceHealed(schedule);
  }

  static void collectStatistics(World w) {
    Statistics.label("role changes (highest epoch - 1)")
        .collect(w.maxEpoch <= 1 ? "0" : w.maxEpoch <= 3 ? "1-2" : w.maxEpoch <= 6 ? "3-5" : "6+");
    Statistics.label("a node declared lost (status.fenced)").collect(w.sawFenced);
    Statistics.label("a node declared lost on the peer path (its Lease still fresh)")
        .collect(w.sawPeerLoss);
    Statistics.label("a node vouched for by its peer (its Lease out)").collect(w.sawVouched);
    Statistics.label("VIP on two hosts at some time (a partitioned or silent one)")
        .collect(w.sawTwoHolders);
    Statistics.label("SplitBrain condition written").collect(w.sawSplitBrain);
    Statistics.label("a transition aborted").collect(w.sawAbort);
    Statistics.label("a status write refused (409/500/404)").collect(w.sawFailedWrite);
    Statistics.label("a pair pointed at another pair's address").collect(w.sawContestedVip);
    Statistics.label("a holder cut off from the API self-fenced").collect(w.sawSelfFence);
    Statistics.label("converged after the heal, s")
        .collect(
            w.convergedAfter.toSeconds() < 3
                ? "0-2"
                : w.convergedAfter.toSeconds() < 6
                    ? "3-5"
                    : w.convergedAfter.toSeconds() < 11 ? "6-10" : "11+");
  }

  @Provide
  Arbitrary<Schedule> schedules() {
    return steps()
        .list()
        .ofMinSize(20)
        .ofMaxSize(MAX)
        .withSizeDistribution(RandomDistribution.uniform())
        .map(Schedule::new);
  }

  /** The schedule alphabet, weighted so that reconciles, agent runs and time dominate. */
  static final int MAX = Integer.getInteger("sipha.sim.maxSteps", 60);

  static Arbitrary<Step> steps() {
    Arbitrary<String> node =
        Arbitraries.frequencyOf(
            Tuple.of(4, Arbitraries.just("node-a")),
            Tuple.of(4, Arbitraries.just("node-b")),
            Tuple.of(2, Arbitraries.just("node-c")));
    // pair-1 most, the others less: each pair gets enough of a schedule to go through faults
    Arbitrary<String> pair =
        Arbitraries.frequencyOf(
            Tuple.of(3, Arbitraries.just("pair-1")),
            Tuple.of(2, Arbitraries.just("pair-2")),
            Tuple.of(1, Arbitraries.just("pair-3")));
    Arbitrary<String> pod =
        Arbitraries.frequencyOf(
            Tuple.of(3, Arbitraries.of("sip-0", "sip-1")),
            Tuple.of(2, Arbitraries.of("sip-2", "sip-3")),
            Tuple.of(1, Arbitraries.of("sip-4", "sip-5")));
    Arbitrary<Boolean> bool = Arbitraries.of(true, false);
    List<Tuple2<Integer, Arbitrary<? extends Step>>> alphabet =
        List.of(
            w(16, pair.map(p -> new Reconcile(p, -1))),
            w(
                3,
                Combinators.combine(pair, Arbitraries.integers().between(0, 3)).as(Reconcile::new)),
            w(18, node.map(AgentTick::new)),
            w(
                14,
                Arbitraries.of(100, 300, 500, 1000, 1500, 2000, 3000, 3500, 5000, 11000)
                    .map(AdvanceClock::new)),
            w(4, pod.map(Switchover::new)),
            w(1, pod.map(Step.AcknowledgeThenSwitchover::new)),
            w(1, Combinators.combine(pair, bool).as(InvalidSwitchover::new)),
            w(1, Combinators.combine(pair, bool).as(Step.Pause::new)),
            w(1, Combinators.combine(pair, bool).as(Step.Failback::new)),
            w(
                2,
                Combinators.combine(pair, Arbitraries.of(World.ADDRESSES)).as(Step.VipChange::new)),
            w(
                1,
                Combinators.combine(node, Arbitraries.of(-3600, -5, 0, 5, 3600))
                    .as(Step.ClockSkew::new)),
            w(2, pod.map(PodNotReady::new)),
            w(2, pod.map(PodReady::new)),
            w(1, pod.map(PodFailed::new)),
            w(1, pod.map(PodDeleted::new)),
            w(2, Combinators.combine(pod, node, bool).as(PodRecreated::new)),
            w(4, node.map(Partition::new)),
            w(3, node.map(Heal::new)),
            w(2, node.map(Step.Isolate::new)),
            w(2, bool.map(Step.SignallingCut::new)),
            w(2, Combinators.combine(pair, bool).as(Step.SelfFencing::new)),
            w(
                2,
                Combinators.combine(node, Arbitraries.of(AgentCrash.Kind.class))
                    .as(AgentCrash::new)),
            w(2, node.map(AgentRestart::new)),
            w(2, Arbitraries.just(new OperatorCrash())),
            w(1, Arbitraries.just(new Step.LeaderChange())),
            w(2, Combinators.combine(node, bool, bool).as(ScriptFail::new)),
            w(2, Combinators.combine(node, bool, bool).as(ScriptHang::new)),
            w(
                2,
                Combinators.combine(Arbitraries.of("operator", "node-a", "node-b", "node-c"), bool)
                    .as(Step.CacheLag::new)),
            w(2, Arbitraries.just(new ApiConflict())),
            w(2, Arbitraries.just(new ApiError())));
    @SuppressWarnings("unchecked")
    Tuple2<Integer, Arbitrary<? extends Step>>[] array = alphabet.toArray(new Tuple2[0]);
    return Arbitraries.frequencyOf(array);
  }

  private static Tuple2<Integer, Arbitrary<? extends Step>> w(
      int weight, Arbitrary<? extends Step> a) {
    return Tuple.of(weight, a);
  }
}
