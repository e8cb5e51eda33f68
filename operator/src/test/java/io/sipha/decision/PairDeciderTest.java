package io.sipha.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.sipha.api.Condition;
import io.sipha.api.FailbackMode;
import io.sipha.api.FencedHolder;
import io.sipha.api.HistoryEntry;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairSpec;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.TransitionKind;
import io.sipha.api.VipStatus;
import io.sipha.api.VirtualIp;
import io.sipha.decision.Plan.Note;
import io.sipha.decision.Plan.RoleAssignment;
import io.sipha.vip.AllowedCidrs;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Drives {@link PairDecider#decide} step by step in a small simulated world: two SIP Server pods
 * (sip-0 on node-a, sip-1 on node-b) and one node agent per node. Every step feeds the plan's
 * status back as the next status, applies the plan's role assignments to the pods' annotations
 * and lets the agents answer according to {@link VipBindingRule}. The clock is a plain {@link
 * Instant} the test moves; nothing sleeps. After every step of every scenario the shared safety
 * assertion ({@link World#assertSafe}) checks the safety rules of the design.
 */
@DisplayName("PairDecider")
class PairDeciderTest {

  static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
  static final String VIP_CIDR = "192.0.2.10/24";
  static final String PRIMARY = SipServerPair.ROLE_PRIMARY;
  static final String BACKUP = SipServerPair.ROLE_BACKUP;

  // =====================================================================================
  // The simulated world
  // =====================================================================================

  /** How a simulated node agent behaves. */
  enum AgentMode {
    /** Renews its Lease at every step and answers the status by {@link VipBindingRule}. */
    FOLLOW,
    /** Renews its Lease but its report does not change (a slow or stuck script, or a host that has not seen the API yet). */
    HOLD,
    /** Neither renews its Lease nor changes its report: the host is disconnected. */
    DISCONNECTED
  }

  /** A server pod as the API holds it. */
  static final class SimPod {
    final String name;
    boolean exists = true;
    String node;
    boolean ready = true;
    Instant readySince = T0.minusSeconds(60);
    String failure;
    String role;
    Long epoch;
    boolean labelled = true;

    SimPod(String name, String node) {
      this.name = name;
      this.node = node;
    }

    PodFact fact() {
      return exists
          ? new PodFact(name, true, node, ready, readySince, failure, role, epoch, labelled)
          : PodFact.missing(name);
    }

    Map<String, String> annotations() {
      Map<String, String> a = new HashMap<>();
      if (role != null) {
        a.put(SipServerPair.ROLE_ANNOTATION, role);
      }
      if (epoch != null) {
        a.put(SipServerPair.EPOCH_ANNOTATION, String.valueOf(epoch));
      }
      return a;
    }

    /** The StatefulSet recreates the pod: same name and node, no annotations, Ready since {@code at}. */
    void recreate(Instant at) {
      exists = true;
      ready = true;
      readySince = at;
      failure = null;
      role = null;
      epoch = null;
    }
  }

  /** A node agent as the operator sees it through its Lease. */
  static final class SimAgent {
    final String node;
    AgentMode mode = AgentMode.FOLLOW;
    Instant renewedAt;
    VipReport report;
    /** Its heartbeat has come by its watch, the reports it wrote before it not yet by theirs. */
    boolean reportsBehind;

    SimAgent(String node) {
      this.node = node;
    }

    AgentFact fact() {
      return new AgentFact(node, renewedAt, report).reportsBehind(reportsBehind);
    }
  }

  /** Two pods, two nodes, two agents, one pair; a fixed clock moved by the test. */
  static final class World {
    final SipServerPairSpec spec = new SipServerPairSpec();
    long generation = 1;
    SipServerPairStatus status;
    Instant now = T0;
    final Map<String, SimPod> pods = new LinkedHashMap<>();
    final Map<String, SimAgent> agents = new LinkedHashMap<>();
    AllowedCidrs allowed = AllowedCidrs.any();
    String vipClaimedBy;
    /** When the deciding process first saw the current step (a new leader), or null: as the status says. */
    Instant stepObservedAt;
    /** The values spec.primary took since the last decision, as the operator's informer saw them. */
    Set<String> primariesSeen = Set.of();
    /** Every node any status ever listed in status.fenced: declared lost by the operator. */
    final Set<String> declaredLost = new LinkedHashSet<>();
    final List<Plan> plans = new ArrayList<>();
    /** One-shot faults: the next step's status write or role writes are lost (a failed API call). */
    boolean loseNextStatusWrite;
    boolean loseNextRoleWrites;

    World() {
      spec.setServers(new ArrayList<>(List.of("sip-0", "sip-1")));
      spec.setPrimary("sip-0");
      spec.setVirtualIP(new VirtualIp("192.0.2.10", 24, "eth0"));
      pods.put("sip-0", new SimPod("sip-0", "node-a"));
      pods.put("sip-1", new SimPod("sip-1", "node-b"));
      for (String n : List.of("node-a", "node-b")) {
        SimAgent a = new SimAgent(n);
        a.renewedAt = T0;
        agents.put(n, a);
      }
      agentsAnswer();
    }

    /** A pair whose first election completed: sip-0 primary on node-a at epoch 1, VIP Bound. */
    static World active() {
      return activeWith(s -> {});
    }

    static World activeWith(Consumer<SipServerPairSpec> tweak) {
      World w = new World();
      tweak.accept(w.spec);
      Plan p = w.settle();
      assertThat(p.status().phase).as("setup: the pair is Active").isEqualTo(Phase.Active);
      assertThat(p.status().primary).isEqualTo("sip-0");
      assertThat(p.status().epoch).isEqualTo(1);
      assertThat(p.status().vip.state).isEqualTo(VipStatus.State.Bound);
      return w;
    }

    SimPod pod(String name) {
      return pods.get(name);
    }

    SimAgent agent(String node) {
      return agents.get(node);
    }

    /** The user edits the spec: metadata.generation grows. */
    void editSpec(Consumer<SipServerPairSpec> edit) {
      edit.accept(spec);
      generation++;
    }

    /** The host is cut off: its agent stops renewing and reporting. */
    void disconnect(String node) {
      agent(node).mode = AgentMode.DISCONNECTED;
    }

    /** The agent's script is stuck: it renews its Lease but its report stays as it is. */
    void hold(String node) {
      agent(node).mode = AgentMode.HOLD;
    }

    /** The agent acts on the status again and answers at once. */
    void follow(String node) {
      agent(node).mode = AgentMode.FOLLOW;
      agentsAnswer();
    }

    Duration nodeLoss() {
      return Duration.ofSeconds(spec.getFailover() == null ? 3 : spec.getFailover().getNodeLossSeconds());
    }

    PairFacts facts() {
      Map<String, PodFact> podFacts = new LinkedHashMap<>();
      pods.forEach((n, p) -> podFacts.put(n, p.fact()));
      Map<String, AgentFact> agentFacts = new LinkedHashMap<>();
      agents.forEach((n, a) -> agentFacts.put(n, a.fact()));
      return new PairFacts("voice", "pair-1", generation, spec, status, podFacts, agentFacts, allowed,
          vipClaimedBy, now).withStepObservedAt(stepObservedAt).withPrimariesSeen(primariesSeen);
    }

    /** One reconcile, 100 ms after the previous one. */
    Plan step() {
      return stepAt(now.plusMillis(100));
    }

    /** One reconcile at the given instant. */
    Plan stepAt(Instant at) {
      assertThat(at).as("the clock never goes back").isAfterOrEqualTo(now);
      now = at;
      for (SimAgent a : agents.values()) {
        if (a.mode != AgentMode.DISCONNECTED) {
          a.renewedAt = now;
        }
      }
      SipServerPairStatus before = status;
      PairFacts facts = facts();
      Plan plan = PairDecider.decide(facts);
      plan.status().fenced.forEach(f -> declaredLost.add(f.node));
      for (String p : plan.podsToLabel()) {
        pod(p).labelled = true;
      }
      for (RoleAssignment r : loseNextRoleWrites ? List.<RoleAssignment>of() : plan.roles()) {
        SimPod p = pod(r.pod());
        assertThat(p.exists).as("role assignment for a pod that does not exist: %s", r).isTrue();
        p.role = r.role();
        p.epoch = r.epoch();
      }
      if (!loseNextStatusWrite) {
        status = plan.status();
      }
      loseNextStatusWrite = false;
      loseNextRoleWrites = false;
      plans.add(plan);
      assertSafe(before, facts, plan);
      agentsAnswer();
      return plan;
    }

    /** Steps until no transition is in progress and no role is left to write. */
    Plan settle() {
      Plan last = settle(30);
      if (last.status().transition != null || !last.roles().isEmpty()) {
        return fail("the pair did not settle in 30 steps; last status: phase %s, transition %s",
            status.phase, status.transition == null ? null : status.transition.kind);
      }
      return last;
    }

    /** Steps at most {@code steps} times, until settled; returns the last plan, settled or not. */
    Plan settle(int steps) {
      Plan last = null;
      for (int i = 0; i < steps; i++) {
        last = step();
        if (last.status().transition == null && last.roles().isEmpty()) {
          break;
        }
      }
      return last;
    }

    /** Agents in FOLLOW mode do what VipBindingRule says for the current status. */
    void agentsAnswer() {
      long epoch = status == null ? 0 : status.epoch;
      SimPod primary = status == null || status.primary == null ? null : pod(status.primary);
      boolean primaryExists = primary != null && primary.exists;
      for (SimAgent a : agents.values()) {
        if (a.mode != AgentMode.FOLLOW) {
          continue;
        }
        Optional<VipBindingRule.Binding> want = VipBindingRule.binding(status, a.node,
            primaryExists ? primary.node : null, primaryExists ? primary.annotations() : null);
        VipReport r = a.report;
        if (want.isPresent()) {
          VipBindingRule.Binding b = want.get();
          if (r == null || !r.is(VipReport.State.Bound) || r.epoch() != b.epoch()) {
            a.report = new VipReport(VipReport.State.Bound, b.epoch(), b.vip().cidr(), "vip-enable", 0, "ok",
                now.toString(), null, "eth0");
          }
        } else if (r == null || !r.is(VipReport.State.Unbound) || r.epoch() != epoch) {
          boolean granted = status != null && status.vip != null && a.node.equals(status.vip.node);
          Long stale = r != null && r.is(VipReport.State.Bound) && !granted && r.epoch() < epoch ? r.epoch() : null;
          if (stale == null && r != null) {
            stale = r.removedStaleEpoch();
          }
          String address = status == null || status.vip == null ? null : status.vip.address;
          a.report = new VipReport(VipReport.State.Unbound, epoch, address, "vip-disable", 0, "ok",
              now.toString(), stale, "eth0");
        }
      }
    }

    /**
     * The safety rules, checked after every step: at most one pod annotated primary at the current
     * epoch (and only the one the status names); the epoch never decreases; the VIP is never granted
     * to a node while another live node reports it Bound at an older epoch unless that node was
     * declared lost; and a grant that moves the VIP follows the previous holder's confirmed release
     * (or its loss).
     */
    void assertSafe(SipServerPairStatus before, PairFacts facts, Plan plan) {
      SipServerPairStatus st = plan.status();
      long previousEpoch = before == null ? 0 : before.epoch;
      assertThat(st.epoch).as("safety: the epoch never decreases (was %d)", previousEpoch)
          .isGreaterThanOrEqualTo(previousEpoch);

      List<String> primariesNow = pods.values().stream()
          .filter(p -> p.exists && PRIMARY.equals(p.role) && Long.valueOf(st.epoch).equals(p.epoch))
          .map(p -> p.name)
          .toList();
      assertThat(primariesNow).as("safety: at most one pod annotated primary at the current epoch %d", st.epoch)
          .hasSizeLessThanOrEqualTo(1);
      if (!primariesNow.isEmpty()) {
        assertThat(primariesNow).as("safety: the pod annotated primary at the current epoch is status.primary")
            .containsExactly(st.primary);
      }

      VipStatus vip = st.vip;
      if (vip != null && vip.node != null
          && (vip.state == VipStatus.State.Binding || vip.state == VipStatus.State.Bound)) {
        for (AgentFact a : facts.agents().values()) {
          if (a.node().equals(vip.node)) {
            continue;
          }
          VipReport r = a.report();
          if (a.alive(facts.now(), nodeLoss()) && r != null && r.is(VipReport.State.Bound) && r.epoch() < st.epoch) {
            assertThat(declaredLost)
                .as("safety: VIP granted to %s while live node %s reports it Bound at older epoch %d",
                    vip.node, a.node(), r.epoch())
                .contains(a.node());
          }
        }
        if (before != null && before.vip != null && before.vip.node != null && !before.vip.node.equals(vip.node)
            && before.vip.state != VipStatus.State.Unbound) {
          AgentFact prev = facts.agent(before.vip.node);
          boolean confirmed = prev.report() != null && prev.report().is(VipReport.State.Unbound)
              && prev.report().epoch() >= st.epoch;
          assertThat(confirmed || declaredLost.contains(prev.node()))
              .as("safety: VIP moved from %s to %s before %s confirmed its release at epoch %d or was declared lost",
                  before.vip.node, vip.node, before.vip.node, st.epoch)
              .isTrue();
        }
      }
    }
  }

  // =====================================================================================
  // Small readers
  // =====================================================================================

  static Optional<Condition> condition(Plan p, String type) {
    return Conditions.find(p.status().conditions, type);
  }

  static Condition requireCondition(Plan p, String type) {
    return condition(p, type).orElseGet(() -> fail("no condition %s in %s", type, conditionTypes(p)));
  }

  static List<String> conditionTypes(Plan p) {
    return p.status().conditions.stream().map(c -> c.type + "=" + c.status + "/" + c.reason).toList();
  }

  static List<String> eventReasons(Plan p) {
    return p.events().stream().map(Note::reason).toList();
  }

  static Note event(Plan p, String reason) {
    return p.events().stream().filter(e -> e.reason().equals(reason)).findFirst()
        .orElseGet(() -> fail("no event %s among %s", reason, eventReasons(p)));
  }

  static HistoryEntry lastHistory(Plan p) {
    List<HistoryEntry> h = p.status().history;
    assertThat(h).isNotEmpty();
    return h.get(h.size() - 1);
  }

  static boolean promotes(Plan p) {
    return p.roles().stream().anyMatch(r -> r.role().equals(PRIMARY));
  }

  // =====================================================================================
  // First election
  // =====================================================================================

  @Nested
  @DisplayName("first election")
  class FirstElection {

    @Test
    @DisplayName("spec.primary Ready: it is elected at epoch 1, demotion written before promotion, VIP granted to its node")
    void desiredPrimaryIsElected() {
      World w = new World();
      Plan p = w.step();

      assertThat(p.status().epoch).isEqualTo(1);
      assertThat(p.status().primary).isEqualTo("sip-0");
      assertThat(p.status().backup).isEqualTo("sip-1");
      assertThat(p.status().vip.address).isEqualTo(VIP_CIDR);
      assertThat(p.status().vip.interfaceName).isEqualTo("eth0");
      assertThat(p.status().vip.node).isEqualTo("node-a");
      assertThat(p.status().vip.state).isEqualTo(VipStatus.State.Binding);
      assertThat(p.status().phase).isEqualTo(Phase.Pending);
      assertThat(p.roles()).containsExactly(
          new RoleAssignment("sip-1", BACKUP, 1), new RoleAssignment("sip-0", PRIMARY, 1));
      assertThat(eventReasons(p)).contains("ElectionStarted");
    }

    @Test
    @DisplayName("once the elected node reports the VIP Bound at epoch 1 the pair is Active and the Election is in history")
    void electionCompletes() {
      World w = new World();
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
      World w = new World();
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
    @DisplayName("no server Ready: phase Pending, no roles, and the Ready condition names the pods it waits for")
    void noneReadyIsPending() {
      World w = new World();
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
      World w = new World();
      w.pod("sip-0").exists = false;
      Plan p = w.step();

      assertThat(p.status().phase).isNotEqualTo(Phase.Invalid);
      assertThat(requireCondition(p, Conditions.READY).reason).isNotEqualTo("InvalidSpec");
      assertThat(p.status().primary).isEqualTo("sip-1");
      assertThat(p.roles()).containsExactly(new RoleAssignment("sip-1", PRIMARY, 1));
    }

    @Test
    @DisplayName("both pods missing is Pending (not Invalid) and the message says which pods do not exist")
    void bothMissingIsPending() {
      World w = new World();
      w.pod("sip-0").exists = false;
      w.pod("sip-1").exists = false;
      Plan p = w.step();

      assertThat(p.status().phase).isEqualTo(Phase.Pending);
      Condition ready = requireCondition(p, Conditions.READY);
      assertThat(ready.reason).isNotEqualTo("InvalidSpec");
      assertThat(ready.message).contains("pod sip-0 does not exist").contains("pod sip-1 does not exist");
      assertThat(p.roles()).isEmpty();
    }

    @Test
    @DisplayName("a pod without the pair label is labelled and an Event says so")
    void unlabelledPodIsLabelled() {
      World w = new World();
      w.pod("sip-1").labelled = false;
      Plan p = w.step();

      assertThat(p.podsToLabel()).containsExactly("sip-1");
      assertThat(event(p, "PodLabelled").message()).contains("sip-1").contains(SipServerPair.PAIR_LABEL);
      assertThat(w.step().podsToLabel()).isEmpty();
    }
  }

  // =====================================================================================
  // Seed workflow 1: manual switchover
  // =====================================================================================

  @Nested
  @DisplayName("manual switchover (workflow 1)")
  class ManualSwitchover {

    @Test
    @DisplayName("changing spec.primary demotes the old primary, waits for its node to release, then grants and promotes")
    void switchoverStepByStep() {
      World w = World.active();
      w.hold("node-a"); // node-a's vip-disable is slow: it still reports Bound at epoch 1
      w.editSpec(s -> s.setPrimary("sip-1"));

      Plan start = w.step();
      Instant startedAt = w.now;
      assertThat(start.status().epoch).isEqualTo(2);
      assertThat(start.status().primary).as("no primary while the VIP is released").isNull();
      assertThat(start.status().backup).isEqualTo("sip-0");
      assertThat(start.status().vip.node).isEqualTo("node-a");
      assertThat(start.status().vip.state).isEqualTo(VipStatus.State.Releasing);
      assertThat(start.status().phase).isEqualTo(Phase.SwitchingOver);
      assertThat(start.status().transition.kind).isEqualTo(TransitionKind.Switchover);
      assertThat(start.roles()).first().isEqualTo(new RoleAssignment("sip-0", BACKUP, 2));
      assertThat(promotes(start)).as("no promotion before the release is confirmed").isFalse();
      assertThat(event(start, "SwitchoverStarted").warning()).isFalse();

      Plan waiting = w.step();
      assertThat(waiting.status().vip.node).as("still waiting for node-a").isEqualTo("node-a");
      assertThat(waiting.status().vip.state).isEqualTo(VipStatus.State.Releasing);
      assertThat(waiting.status().primary).isNull();
      assertThat(promotes(waiting)).isFalse();
      assertThat(waiting.recheckAfter()).isNotNull();

      w.follow("node-a"); // the script finishes: node-a reports Unbound at epoch 2
      assertThat(w.agent("node-a").report.is(VipReport.State.Unbound)).isTrue();
      assertThat(w.agent("node-a").report.epoch()).isEqualTo(2);

      Plan grant = w.step();
      assertThat(grant.status().vip.node).isEqualTo("node-b");
      assertThat(grant.status().vip.state).isEqualTo(VipStatus.State.Binding);
      assertThat(grant.status().primary).isEqualTo("sip-1");
      assertThat(grant.roles()).containsExactly(new RoleAssignment("sip-1", PRIMARY, 2));
      assertThat(eventReasons(grant)).contains("VipReleased");
      assertThat(w.agent("node-b").report.is(VipReport.State.Bound)).isTrue();

      Plan done = w.step();
      assertThat(done.status().phase).isEqualTo(Phase.Active);
      assertThat(done.status().vip.state).isEqualTo(VipStatus.State.Bound);
      assertThat(done.status().transition).isNull();
      HistoryEntry h = lastHistory(done);
      assertThat(h.kind).isEqualTo(TransitionKind.Switchover);
      assertThat(h.from).isEqualTo("sip-0");
      assertThat(h.to).isEqualTo("sip-1");
      assertThat(h.epoch).isEqualTo(2);
      assertThat(h.reason).isEqualTo("SwitchoverRequested");
      assertThat(h.startedAt).isEqualTo(startedAt.toString());
      assertThat(h.durationMillis).isEqualTo(Duration.between(startedAt, w.now).toMillis()).isEqualTo(300);
      assertThat(event(done, "SwitchoverCompleted").message()).contains("sip-1").contains("node-b").contains("300 ms");
      assertThat(w.pod("sip-0").role).isEqualTo(BACKUP);
      assertThat(w.pod("sip-1").role).isEqualTo(PRIMARY);
    }

    @Test
    @DisplayName("a switchover whose old node is lost while releasing grants the VIP once that node is declared lost")
    void oldNodeLostWhileReleasing() {
      World w = World.active();
      w.hold("node-a");
      w.editSpec(s -> s.setPrimary("sip-1"));
      w.step();
      w.disconnect("node-a");
      Instant lastSeen = w.agent("node-a").renewedAt;

      Plan before = w.stepAt(lastSeen.plusMillis(2900));
      assertThat(before.status().vip.node).isEqualTo("node-a");
      assertThat(before.status().vip.state).isEqualTo(VipStatus.State.Releasing);

      Plan lost = w.stepAt(lastSeen.plusSeconds(3));
      assertThat(lost.status().vip.node).isEqualTo("node-b");
      assertThat(lost.status().vip.state).isEqualTo(VipStatus.State.Binding);
      assertThat(lost.status().fenced).extracting(f -> f.node).containsExactly("node-a");
      assertThat(w.settle().status().primary).isEqualTo("sip-1");
    }

    @Test
    @DisplayName("setting spec.primary to the current primary changes nothing")
    void samePrimaryIsNoop() {
      World w = World.active();
      w.editSpec(s -> s.setPrimary("sip-0"));
      Plan p = w.step();
      assertThat(p.status().epoch).isEqualTo(1);
      assertThat(p.roles()).isEmpty();
      assertThat(p.status().transition).isNull();
    }
  }

  @Nested
  @DisplayName("refused switchover")
  class RefusedSwitchover {

    @Test
    @DisplayName("a NotReady target is refused with a condition and an Event naming it; epoch, primary and roles stay")
    void notReadyTargetIsRefused() {
      World w = World.active();
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
      assertThat(eventReasons(again)).as("the refusal Event is not repeated").doesNotContain("SwitchoverRefused");
      assertThat(again.status().epoch).isEqualTo(1);
    }

    @Test
    @DisplayName("a target whose node agent is not running is refused, naming the node")
    void targetOnDeadNodeIsRefused() {
      World w = World.active();
      w.disconnect("node-b");
      w.stepAt(w.now.plusSeconds(4));
      w.editSpec(s -> s.setPrimary("sip-1"));
      Plan p = w.step();
      assertThat(requireCondition(p, Conditions.SWITCHOVER_REFUSED).message).contains("sip-1").contains("node-b");
      assertThat(p.status().epoch).isEqualTo(1);
      assertThat(p.status().primary).isEqualTo("sip-0");
    }

    @Test
    @DisplayName("once the refused target becomes Ready the switchover proceeds and the refusal is cleared")
    void proceedsOnceReady() {
      World w = World.active();
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
      World w = World.active();
      w.pod("sip-1").ready = false;
      w.editSpec(s -> s.setPrimary("sip-1"));
      Plan p = w.step();
      assertThat(condition(p, Conditions.SWITCHOVER_REFUSED)).isPresent();
      assertThat(condition(p, Conditions.FAILBACK_PENDING)).isEmpty();
    }
  }

  // =====================================================================================
  // Seed workflow 2: primary server failure
  // =====================================================================================

  @Nested
  @DisplayName("primary server failure (workflow 2)")
  class PrimaryFailure {

    @Test
    @DisplayName("a deleted primary pod fails over at once with reason PrimaryPodDeleted")
    void deletedPodFailsOverAtOnce() {
      World w = World.active();
      w.pod("sip-0").exists = false;

      Plan p = w.step();
      assertThat(p.status().transition).isNotNull();
      assertThat(p.status().transition.kind).isEqualTo(TransitionKind.Failover);
      assertThat(p.status().transition.reason).isEqualTo("PrimaryPodDeleted");
      assertThat(p.status().epoch).isEqualTo(2);
      assertThat(p.status().phase).isEqualTo(Phase.FailingOver);
      assertThat(event(p, "FailoverStarted").warning()).isTrue();
      assertThat(p.roles()).extracting(RoleAssignment::pod).doesNotContain("sip-0");

      Plan done = w.settle();
      assertThat(done.status().primary).isEqualTo("sip-1");
      assertThat(done.status().vip.node).isEqualTo("node-b");
      assertThat(done.status().vip.state).isEqualTo(VipStatus.State.Bound);
      HistoryEntry h = lastHistory(done);
      assertThat(h.kind).isEqualTo(TransitionKind.Failover);
      assertThat(h.reason).isEqualTo("PrimaryPodDeleted");
      assertThat(h.from).isEqualTo("sip-0");
      assertThat(h.to).isEqualTo("sip-1");
      assertThat(eventReasons(done)).contains("FailoverCompleted");
    }

    @Test
    @DisplayName("a terminated primary container fails over at once with reason PrimaryFailed, VIP released on its live node first")
    void terminatedContainerFailsOverAtOnce() {
      World w = World.active();
      w.hold("node-a");
      w.pod("sip-0").failure = "container sip terminated (Error, exit code 137)";

      Plan p = w.step();
      assertThat(p.status().transition.kind).isEqualTo(TransitionKind.Failover);
      assertThat(p.status().transition.reason).isEqualTo("PrimaryFailed");
      assertThat(p.status().vip.node).as("node-a's agent is alive: it must disable the VIP first").isEqualTo("node-a");
      assertThat(p.status().vip.state).isEqualTo(VipStatus.State.Releasing);
      assertThat(p.roles()).containsExactly(
          new RoleAssignment("sip-0", BACKUP, 2), new RoleAssignment("sip-1", BACKUP, 2));

      w.follow("node-a");
      Plan grant = w.step();
      assertThat(grant.status().vip.node).isEqualTo("node-b");
      assertThat(grant.roles()).containsExactly(new RoleAssignment("sip-1", PRIMARY, 2));
      assertThat(lastHistory(w.settle()).reason).isEqualTo("PrimaryFailed");
    }

    @Test
    @DisplayName("a NotReady primary is kept for unreadyGraceSeconds (recheckAfter points at the deadline), then fails over")
    void notReadyWaitsForGrace() {
      World w = World.active();
      Instant since = w.now;
      w.pod("sip-0").ready = false;
      w.pod("sip-0").readySince = since;

      Plan early = w.stepAt(since.plusSeconds(1));
      assertThat(early.status().transition).isNull();
      assertThat(early.status().primary).isEqualTo("sip-0");
      assertThat(early.status().epoch).isEqualTo(1);
      assertThat(early.roles()).isEmpty();
      assertThat(early.status().phase).isEqualTo(Phase.Degraded);
      assertThat(early.recheckAfter()).isEqualTo(Duration.ofSeconds(1));

      Plan justBefore = w.stepAt(since.plusMillis(1999));
      assertThat(justBefore.status().transition).isNull();
      assertThat(justBefore.recheckAfter()).isEqualTo(Duration.ofMillis(1));

      Plan atDeadline = w.stepAt(since.plusSeconds(2));
      assertThat(atDeadline.status().transition.kind).isEqualTo(TransitionKind.Failover);
      assertThat(atDeadline.status().transition.reason).isEqualTo("PrimaryNotReady");
      assertThat(atDeadline.status().epoch).isEqualTo(2);

      Plan done = w.settle();
      assertThat(done.status().primary).isEqualTo("sip-1");
      assertThat(lastHistory(done).reason).isEqualTo("PrimaryNotReady");
    }

    @Test
    @DisplayName("a primary that becomes Ready again within the grace keeps its role")
    void readyAgainWithinGrace() {
      World w = World.active();
      Instant since = w.now;
      w.pod("sip-0").ready = false;
      w.pod("sip-0").readySince = since;
      w.stepAt(since.plusSeconds(1));
      w.pod("sip-0").ready = true;
      w.pod("sip-0").readySince = since.plusMillis(1500);
      Plan p = w.stepAt(since.plusSeconds(5));
      assertThat(p.status().primary).isEqualTo("sip-0");
      assertThat(p.status().epoch).isEqualTo(1);
      assertThat(p.status().phase).isEqualTo(Phase.Active);
    }

    @Test
    @DisplayName("with failover disabled a failed primary is reported Degraded and nothing moves")
    void failoverDisabled() {
      World w = World.activeWith(s -> s.getFailover().setEnabled(false));
      w.pod("sip-0").exists = false;
      Plan p = w.step();
      assertThat(p.status().phase).isEqualTo(Phase.Degraded);
      assertThat(p.status().epoch).isEqualTo(1);
      assertThat(p.status().primary).isEqualTo("sip-0");
      assertThat(requireCondition(p, Conditions.READY).message).contains("failover is disabled");
    }
  }

  // =====================================================================================
  // Seed workflow 3: primary host disconnected
  // =====================================================================================

  /** sip-0's node-a is disconnected and declared lost; sip-1 is primary on node-b at epoch 2. */
  static World afterNodeLoss() {
    World w = World.active();
    w.disconnect("node-a");
    Instant lastSeen = w.agent("node-a").renewedAt;
    w.stepAt(lastSeen.plusSeconds(3));
    Plan done = w.settle();
    assertThat(done.status().primary).isEqualTo("sip-1");
    assertThat(done.status().vip.state).isEqualTo(VipStatus.State.Bound);
    return w;
  }

  @Nested
  @DisplayName("primary host disconnected (workflow 3)")
  class HostDisconnected {

    @Test
    @DisplayName("before nodeLossSeconds nothing moves; once the agent is late, recheckAfter points at the moment the node would be lost")
    void nothingBeforeNodeLoss() {
      World w = World.active();
      w.disconnect("node-a");
      Instant lastSeen = w.agent("node-a").renewedAt;

      Plan onTime = w.stepAt(lastSeen.plusSeconds(1));
      assertThat(onTime.status().transition).isNull();
      assertThat(onTime.recheckAfter()).as("an agent on time needs no timer").isNull();

      Plan p = w.stepAt(lastSeen.plus(AgentFact.LATE));
      assertThat(p.status().transition).isNull();
      assertThat(p.status().primary).isEqualTo("sip-0");
      assertThat(p.status().epoch).isEqualTo(1);
      assertThat(p.recheckAfter()).isEqualTo(Duration.ofSeconds(3).minus(AgentFact.LATE));
    }

    @Test
    @DisplayName("the backup's node lost: a timer at its deadline, then BackupReady False and Degraded, nothing moves")
    void backupNodeLost() {
      World w = World.active();
      w.disconnect("node-b");
      Instant lastSeen = w.agent("node-b").renewedAt;

      Plan late = w.stepAt(lastSeen.plus(AgentFact.LATE));
      assertThat(late.recheckAfter()).isEqualTo(Duration.ofSeconds(3).minus(AgentFact.LATE));
      Plan lost = w.stepAt(lastSeen.plusSeconds(3));
      assertThat(requireCondition(lost, Conditions.BACKUP_READY).status).isEqualTo("False");
      assertThat(lost.status().phase).isEqualTo(Phase.Degraded);
      assertThat(lost.status().transition).isNull();
      assertThat(lost.status().primary).isEqualTo("sip-0");
    }

    @Test
    @DisplayName("after nodeLossSeconds: Failover NodeLost, VIP granted to the backup's node in the same plan, lost node fenced")
    void nodeLostFailsOverInOnePlan() {
      World w = World.active();
      w.disconnect("node-a");
      Instant lastSeen = w.agent("node-a").renewedAt;

      Plan p = w.stepAt(lastSeen.plusSeconds(3));
      assertThat(p.status().epoch).isEqualTo(2);
      assertThat(p.status().transition.kind).isEqualTo(TransitionKind.Failover);
      assertThat(p.status().transition.reason).isEqualTo("NodeLost");
      assertThat(p.status().primary).isEqualTo("sip-1");
      assertThat(p.status().vip.node).isEqualTo("node-b");
      assertThat(p.status().vip.state).isEqualTo(VipStatus.State.Binding);
      assertThat(p.roles()).containsExactly(
          new RoleAssignment("sip-0", BACKUP, 2), new RoleAssignment("sip-1", PRIMARY, 2));
      assertThat(p.status().fenced).hasSize(1);
      FencedHolder f = p.status().fenced.get(0);
      assertThat(f.node).isEqualTo("node-a");
      assertThat(f.pod).isEqualTo("sip-0");
      assertThat(f.epoch).isEqualTo(1);
      assertThat(event(p, "VipReleased").message()).contains("node lost");

      Plan done = w.step();
      assertThat(done.status().vip.state).isEqualTo(VipStatus.State.Bound);
      HistoryEntry h = lastHistory(done);
      assertThat(h.kind).isEqualTo(TransitionKind.Failover);
      assertThat(h.reason).isEqualTo("NodeLost");
      assertThat(h.durationMillis).isEqualTo(100);
      assertThat(done.status().fenced).extracting(x -> x.node).containsExactly("node-a");
      assertThat(done.status().phase).as("the backup's node is lost").isEqualTo(Phase.Degraded);
    }

    @Test
    @DisplayName("the VIP is up on the other node within 3.3 s of the last heartbeat with the default nodeLossSeconds")
    void withinDefaultBudget() {
      World w = World.active();
      w.disconnect("node-a");
      Instant lastSeen = w.agent("node-a").renewedAt;
      w.stepAt(lastSeen.plusSeconds(3));
      Plan bound = w.step();
      assertThat(bound.status().vip.state).isEqualTo(VipStatus.State.Bound);
      assertThat(Duration.between(lastSeen, w.now)).isLessThanOrEqualTo(Duration.ofMillis(3300));
    }
  }

  // =====================================================================================
  // Seed workflow 4: reconnection of a stale primary
  // =====================================================================================

  @Nested
  @DisplayName("reconnection of a stale primary (workflow 4)")
  class Reconnection {

    @Test
    @DisplayName("the lost node returns holding the VIP at the old epoch: SplitBrain, then its release resolves it and the holder re-announces")
    void splitBrainDetectedAndResolved() {
      World w = afterNodeLoss();
      long announce = w.status.vip.announce;
      w.hold("node-a"); // back on the network, first report is what it held: Bound at epoch 1
      assertThat(w.agent("node-a").report.is(VipReport.State.Bound)).isTrue();
      assertThat(w.agent("node-a").report.epoch()).isEqualTo(1);

      Plan seen = w.step();
      Condition sb = requireCondition(seen, Conditions.SPLIT_BRAIN);
      assertThat(sb.status).isEqualTo("True");
      assertThat(sb.message).contains("node-a").contains("epoch 1");
      assertThat(seen.status().phase).isEqualTo(Phase.SplitBrain);
      assertThat(event(seen, "SplitBrainDetected").warning()).isTrue();
      assertThat(seen.status().primary).isEqualTo("sip-1");
      assertThat(seen.status().epoch).isEqualTo(2);
      assertThat(seen.status().vip.node).isEqualTo("node-b");
      assertThat(w.pod("sip-0").role).as("the stale pod carries backup at the current epoch").isEqualTo(BACKUP);
      assertThat(w.pod("sip-0").epoch).isEqualTo(2L);

      w.follow("node-a"); // it sees the API: not granted, so it removes the VIP and reports Unbound at epoch 2
      assertThat(w.agent("node-a").report.is(VipReport.State.Unbound)).isTrue();
      assertThat(w.agent("node-a").report.epoch()).isEqualTo(2);

      Plan resolved = w.step();
      Condition after = requireCondition(resolved, Conditions.SPLIT_BRAIN);
      assertThat(after.status).isEqualTo("False");
      assertThat(resolved.status().vip.announce).isEqualTo(announce + 1);
      HistoryEntry h = lastHistory(resolved);
      assertThat(h.kind).isEqualTo(TransitionKind.Demotion);
      assertThat(h.from).isEqualTo("sip-0");
      assertThat(h.to).isEqualTo("sip-1");
      assertThat(h.epoch).isEqualTo(2);
      assertThat(event(resolved, "SplitBrainResolved").message()).contains("node-a");
      assertThat(resolved.status().phase).isEqualTo(Phase.Active);
      assertThat(resolved.status().fenced).isEmpty();
      assertThat(resolved.status().epoch).isEqualTo(2);

      Plan later = w.step();
      assertThat(later.status().vip.announce).as("announced once").isEqualTo(announce + 1);
      assertThat(eventReasons(later)).doesNotContain("SplitBrainResolved");
    }

    @Test
    @DisplayName("a returned agent that already removed the stale VIP resolves the fence without a SplitBrain and the holder re-announces")
    void returnedAgentAlreadyRemovedIt() {
      World w = afterNodeLoss();
      long announce = w.status.vip.announce;
      w.follow("node-a");
      assertThat(w.agent("node-a").report.removedStaleEpoch()).isEqualTo(1L);

      Plan p = w.step();
      assertThat(Conditions.isTrue(p.status().conditions, Conditions.SPLIT_BRAIN)).isFalse();
      assertThat(p.status().fenced).isEmpty();
      assertThat(p.status().vip.announce).isEqualTo(announce + 1);
      assertThat(eventReasons(p)).contains("SplitBrainResolved").doesNotContain("SplitBrainDetected");
      assertThat(p.status().phase).isEqualTo(Phase.Active);
    }

    /**
     * A self-fenced primary comes back: its first renewal reaches the operator by the heartbeat
     * watch before the report that says it removed the VIP reaches it by the reports watch (seen in
     * CI under load: a SplitBrainDetected Warning and a demotion for a node that held nothing).
     */
    @Test
    @DisplayName("a returned node whose heartbeat is ahead of its reports is not taken for a split brain; its reports then resolve the fence")
    void aHeartbeatAheadOfItsReportsIsNoSplitBrain() {
      World w = afterNodeLoss();
      w.hold("node-a"); // its last report the operator has: Bound at epoch 1
      w.agent("node-a").reportsBehind = true;
      w.agent("node-a").renewedAt = w.now;

      Plan early = w.step();
      assertThat(eventReasons(early)).doesNotContain("SplitBrainDetected");
      assertThat(early.status().phase).isNotEqualTo(Phase.SplitBrain);
      assertThat(early.status().fenced).as("still fenced until its release is seen").isNotEmpty();
      assertThat(early.status().vip.node).isEqualTo("node-b");

      w.agent("node-a").reportsBehind = false;
      w.follow("node-a");
      Plan resolved = w.step();
      assertThat(eventReasons(resolved)).doesNotContain("SplitBrainDetected");
      assertThat(resolved.status().fenced).isEmpty();
      assertThat(resolved.status().phase).isEqualTo(Phase.Active);
    }

    @Test
    @DisplayName("while the stale node holds the VIP the true holder stays granted and the stale node is never granted")
    void trueHolderStaysGranted() {
      World w = afterNodeLoss();
      w.hold("node-a");
      for (int i = 0; i < 5; i++) {
        Plan p = w.step();
        assertThat(p.status().vip.node).isEqualTo("node-b");
        assertThat(p.status().primary).isEqualTo("sip-1");
        assertThat(p.status().phase).isEqualTo(Phase.SplitBrain);
      }
    }
  }

  // =====================================================================================
  // Failback
  // =====================================================================================

  /** sip-0 was deleted and sip-1 took over at epoch 2; sip-0 is recreated and Ready at the returned instant. */
  static Instant failoverThenRecreate(World w) {
    w.pod("sip-0").exists = false;
    Plan done = w.settle();
    assertThat(done.status().primary).isEqualTo("sip-1");
    assertThat(done.status().epoch).isEqualTo(2);
    Instant back = w.now.plusSeconds(1);
    w.pod("sip-0").recreate(back);
    return back;
  }

  @Nested
  @DisplayName("failback Manual")
  class FailbackManual {

    @Test
    @DisplayName("the failed server comes back Ready: no switch back, FailbackPending True with reason FailbackManual")
    void noAutomaticSwitchBack() {
      World w = World.active();
      Instant back = failoverThenRecreate(w);

      Plan p = w.stepAt(back);
      assertThat(p.roles()).containsExactly(new RoleAssignment("sip-0", BACKUP, 2));
      Condition c = requireCondition(p, Conditions.FAILBACK_PENDING);
      assertThat(c.status).isEqualTo("True");
      assertThat(c.reason).isEqualTo("FailbackManual");
      assertThat(c.message).contains("sip-1").contains("sip-0");
      assertThat(p.status().primary).isEqualTo("sip-1");

      Plan muchLater = w.stepAt(back.plusSeconds(3600));
      assertThat(muchLater.status().primary).isEqualTo("sip-1");
      assertThat(muchLater.status().epoch).isEqualTo(2);
      assertThat(muchLater.status().transition).isNull();
      assertThat(muchLater.status().phase).isEqualTo(Phase.Active);
      assertThat(requireCondition(muchLater, Conditions.FAILBACK_PENDING).reason).isEqualTo("FailbackManual");
    }

    @Test
    @DisplayName("setting spec.primary to the current primary acknowledges; changing it again switches over")
    void acknowledgeThenSwitchOver() {
      World w = World.active();
      Instant back = failoverThenRecreate(w);
      w.stepAt(back);

      w.editSpec(s -> s.setPrimary("sip-1"));
      Plan ack = w.step();
      assertThat(condition(ack, Conditions.FAILBACK_PENDING)).isEmpty();
      assertThat(ack.status().acceptedPrimary).isEqualTo("sip-1");
      assertThat(ack.status().epoch).isEqualTo(2);
      assertThat(ack.status().transition).isNull();
      assertThat(ack.roles()).isEmpty();

      w.editSpec(s -> s.setPrimary("sip-0"));
      Plan sw = w.step();
      assertThat(sw.status().transition.kind).isEqualTo(TransitionKind.Switchover);
      assertThat(sw.status().transition.to).isEqualTo("sip-0");
      assertThat(sw.status().epoch).isEqualTo(3);

      Plan done = w.settle();
      assertThat(done.status().primary).isEqualTo("sip-0");
      assertThat(done.status().vip.node).isEqualTo("node-a");
      assertThat(done.status().phase).isEqualTo(Phase.Active);
      assertThat(lastHistory(done).kind).isEqualTo(TransitionKind.Switchover);
    }

    @Test
    @DisplayName("the acknowledgement and the request between two decisions (the spec looks unchanged) still switch over")
    void acknowledgementAndRequestBetweenTwoDecisions() {
      World w = World.active();
      Instant back = failoverThenRecreate(w);
      w.stepAt(back);
      w.editSpec(s -> s.setPrimary("sip-1"));
      w.editSpec(s -> s.setPrimary("sip-0"));
      w.primariesSeen = Set.of("sip-1", "sip-0"); // the informer saw both edits go by: set to sip-1, then to sip-0
      Plan sw = w.step();
      assertThat(sw.status().transition).as("a request, not FailbackPending").isNotNull();
      assertThat(sw.status().transition.kind).isEqualTo(TransitionKind.Switchover);
      assertThat(sw.status().transition.to).isEqualTo("sip-0");
    }

    @Test
    @DisplayName("an edit of another field while FailbackPending is no request")
    void anotherEditIsNoRequest() {
      World w = World.active();
      Instant back = failoverThenRecreate(w);
      w.stepAt(back);
      w.editSpec(s -> s.setFailback(io.sipha.api.FailbackMode.Manual)); // spelled out: generation grows
      Plan p = w.step();
      assertThat(p.status().transition).isNull();
      assertThat(p.status().primary).isEqualTo("sip-1");
      assertThat(requireCondition(p, Conditions.FAILBACK_PENDING).reason).isEqualTo("FailbackManual");
    }
  }

  @Nested
  @DisplayName("failback Automatic")
  class FailbackAutomatic {

    @Test
    @DisplayName("switches back only after the server has been Ready for failbackDelaySeconds")
    void switchesBackAfterDelay() {
      World w = World.activeWith(s -> {
        s.setFailback(FailbackMode.Automatic);
        s.getFailover().setFailbackDelaySeconds(10);
      });
      Instant back = failoverThenRecreate(w);

      Plan scheduled = w.stepAt(back.plusMillis(100));
      assertThat(scheduled.status().transition).isNull();
      assertThat(scheduled.status().primary).isEqualTo("sip-1");
      Condition c = requireCondition(scheduled, Conditions.FAILBACK_PENDING);
      assertThat(c.status).isEqualTo("True");
      assertThat(c.reason).isEqualTo("FailbackScheduled");
      assertThat(scheduled.recheckAfter()).isNotNull()
          .isLessThanOrEqualTo(Duration.between(w.now, back.plusSeconds(10)));

      Plan almost = w.stepAt(back.plusMillis(9900));
      assertThat(almost.status().transition).isNull();
      assertThat(almost.status().epoch).isEqualTo(2);
      assertThat(almost.recheckAfter()).isEqualTo(Duration.ofMillis(100));

      Plan start = w.stepAt(back.plusSeconds(10));
      assertThat(start.status().transition.kind).isEqualTo(TransitionKind.Failback);
      assertThat(start.status().transition.reason).isEqualTo("FailbackAutomatic");
      assertThat(start.status().transition.to).isEqualTo("sip-0");
      assertThat(start.status().epoch).isEqualTo(3);

      Plan done = w.settle();
      assertThat(done.status().primary).isEqualTo("sip-0");
      assertThat(done.status().vip.node).isEqualTo("node-a");
      assertThat(lastHistory(done).kind).isEqualTo(TransitionKind.Failback);
      assertThat(condition(done, Conditions.FAILBACK_PENDING)).isEmpty();
      assertThat(done.status().phase).isEqualTo(Phase.Active);
    }

    @Test
    @DisplayName("a server that goes NotReady again before the delay restarts the wait")
    void flappingRestartsTheWait() {
      World w = World.activeWith(s -> {
        s.setFailback(FailbackMode.Automatic);
        s.getFailover().setFailbackDelaySeconds(10);
      });
      Instant back = failoverThenRecreate(w);
      w.stepAt(back.plusSeconds(5));
      w.pod("sip-0").ready = false;
      w.pod("sip-0").readySince = back.plusSeconds(6);
      Plan waiting = w.stepAt(back.plusSeconds(7));
      assertThat(requireCondition(waiting, Conditions.FAILBACK_PENDING).reason).isEqualTo("WaitingForServer");
      w.pod("sip-0").ready = true;
      w.pod("sip-0").readySince = back.plusSeconds(8);
      Plan notYet = w.stepAt(back.plusSeconds(12));
      assertThat(notYet.status().transition).isNull();
      assertThat(notYet.status().primary).isEqualTo("sip-1");
      Plan due = w.stepAt(back.plusSeconds(18));
      assertThat(due.status().transition.kind).isEqualTo(TransitionKind.Failback);
    }

    @Test
    @DisplayName("after a node loss, automatic failback waits for the split brain to be resolved and the delay to pass")
    void noFailbackDuringSplitBrain() {
      World w = World.activeWith(s -> {
        s.setFailback(FailbackMode.Automatic);
        s.getFailover().setFailbackDelaySeconds(10);
      });
      w.disconnect("node-a");
      Instant lastSeen = w.agent("node-a").renewedAt;
      w.stepAt(lastSeen.plusSeconds(3));
      w.settle();
      w.hold("node-a"); // returns still holding the VIP at epoch 1

      Plan seen = w.step();
      assertThat(seen.status().phase).isEqualTo(Phase.SplitBrain);
      assertThat(seen.status().transition).as("no failback while a split brain is unresolved").isNull();
      assertThat(seen.status().epoch).isEqualTo(2);

      w.follow("node-a");
      Plan resolved = w.step();
      assertThat(eventReasons(resolved)).contains("SplitBrainResolved");
      assertThat(resolved.status().fenced).isEmpty();
      assertThat(resolved.status().transition).as("not before failbackDelaySeconds after the node returned").isNull();
    }
  }

  // =====================================================================================
  // Paused
  // =====================================================================================

  @Nested
  @DisplayName("every wait has a deadline")
  class Deadlines {

    VipReport failing(String script, long epoch, String message) {
      return new VipReport(VipReport.State.Failed, epoch, VIP_CIDR, script, 2, message, T0.toString(), null, "eth0");
    }

    @Test
    @DisplayName("a switchover whose old node keeps failing to release reverts to the old primary after 15 s, refused with the script's error")
    void switchoverRevertsWhenTheOldNodeCannotRelease() {
      World w = World.active();
      w.hold("node-a");
      w.editSpec(s -> s.setPrimary("sip-1"));
      Plan start = w.step();
      assertThat(start.status().epoch).isEqualTo(2);
      w.agent("node-a").report = failing("vip-disable", 2, "RTNETLINK answers: Operation not permitted");
      Instant began = w.now;

      Plan waiting = w.stepAt(began.plusSeconds(14));
      assertThat(waiting.status().transition).isNotNull();
      assertThat(waiting.recheckAfter()).isLessThanOrEqualTo(Duration.ofSeconds(1));

      Plan reverted = w.stepAt(began.plusSeconds(15));
      assertThat(reverted.status().transition).isNull();
      assertThat(reverted.status().primary).isEqualTo("sip-0");
      assertThat(reverted.status().epoch).isEqualTo(3);
      assertThat(reverted.status().vip.node).isEqualTo("node-a");
      assertThat(reverted.roles()).contains(new RoleAssignment("sip-0", PRIMARY, 3));
      Condition refused = requireCondition(reverted, Conditions.SWITCHOVER_REFUSED);
      assertThat(refused.reason).isEqualTo("VipReleaseFailed");
      assertThat(refused.message).contains("vip-disable").contains("Operation not permitted").contains("node-a");
      assertThat(event(reverted, "SwitchoverAborted").warning()).isTrue();
      assertThat(lastHistory(reverted).kind).isEqualTo(TransitionKind.Revert);

      w.follow("node-a");
      Plan back = w.settle();
      assertThat(back.status().phase).isEqualTo(Phase.Active);
      assertThat(back.status().primary).isEqualTo("sip-0");
      Plan later = w.stepAt(w.now.plusSeconds(30));
      assertThat(later.status().transition).as("the refused request is not retried by itself").isNull();
      assertThat(later.status().primary).isEqualTo("sip-0");
    }

    @Test
    @DisplayName("a release is confirmed only by an Unbound report about the address being released, not about another one")
    void aReleaseIsConfirmedOnlyByAReportAboutTheAddressBeingReleased() {
      World w = World.active();
      w.hold("node-a");
      w.editSpec(s -> s.setPrimary("sip-1"));
      Plan start = w.step();
      assertThat(start.status().transition.step).isEqualTo(io.sipha.api.Transition.Step.Release);
      // node-a reports Unbound at the new epoch, but about 192.0.2.40 (what it last made sure of):
      // 192.0.2.10 may still be on its host
      w.agent("node-a").report = new VipReport(VipReport.State.Unbound, 2, "192.0.2.40/24", "vip-disable", 0, "ok",
          T0.toString(), null, "eth0");
      Plan still = w.step();
      assertThat(still.status().transition.step).isEqualTo(io.sipha.api.Transition.Step.Release);
      assertThat(still.status().vip.state).isEqualTo(VipStatus.State.Releasing);
      assertThat(still.status().vip.node).isEqualTo("node-a");
      w.agent("node-a").report = new VipReport(VipReport.State.Unbound, 2, VIP_CIDR, "vip-disable", 0, "ok",
          T0.toString(), null, "eth0");
      Plan bind = w.step();
      assertThat(bind.status().transition.step).isEqualTo(io.sipha.api.Transition.Step.Bind);
      assertThat(bind.status().vip.node).isEqualTo("node-b");
    }

    @Test
    @DisplayName("a deadline counts from when this leader saw the step, not from a time a leader with a clock 60 s ahead wrote")
    void deadlinesCountOnTheDecidersOwnClock() {
      World w = World.active();
      w.hold("node-a");
      w.editSpec(s -> s.setPrimary("sip-1"));
      w.step();
      w.agent("node-a").report = failing("vip-disable", 2, "RTNETLINK answers: Operation not permitted");
      // the step was started by a previous leader whose clock was 60 s ahead; this one sees it now
      w.status.transition.stepStartedAt = w.now.plusSeconds(60).toString();
      w.status.transition.startedAt = w.status.transition.stepStartedAt;
      w.stepObservedAt = w.now;
      Instant seen = w.now;

      assertThat(w.stepAt(seen.plusSeconds(14)).status().transition).isNotNull();
      Plan reverted = w.stepAt(seen.plusSeconds(15));
      assertThat(reverted.status().transition).as("15 s after this leader saw the step, not 75").isNull();
      assertThat(reverted.status().primary).isEqualTo("sip-0");
    }

    @Test
    @DisplayName("a failover whose old holder is reachable but cannot release never grants the VIP elsewhere: it says TransitionStalled with the way out")
    void failoverWhoseOldHolderCannotReleaseStallsVisibly() {
      World w = World.active();
      w.hold("node-a");
      w.pod("sip-0").failure = "container sip-server terminated (Error, exit code 1)";
      Plan start = w.step();
      assertThat(start.status().transition.kind).isEqualTo(TransitionKind.Failover);
      w.agent("node-a").report = failing("vip-disable", start.status().epoch, "Cannot find device \"eth0\"");
      Instant began = w.now;

      Plan stalled = w.stepAt(began.plusSeconds(15));
      assertThat(stalled.status().vip.node).isEqualTo("node-a");
      assertThat(stalled.status().vip.state).isEqualTo(VipStatus.State.Releasing);
      assertThat(promotes(stalled)).isFalse();
      Condition c = requireCondition(stalled, Conditions.TRANSITION_STALLED);
      assertThat(c.status).isEqualTo("True");
      assertThat(c.reason).isEqualTo("ReleaseStalled");
      assertThat(c.message).contains("node-a").contains("vip-disable").contains("nodeLossSeconds");
      assertThat(event(stalled, "ReleaseStalled").warning()).isTrue();
      assertThat(requireCondition(stalled, Conditions.READY).message).contains("stalled");

      w.disconnect("node-a"); // the way out: the node is stopped
      Plan lost = w.stepAt(w.now.plusSeconds(3));
      assertThat(lost.status().vip.node).isEqualTo("node-b");
      Plan done = w.settle();
      assertThat(done.status().primary).isEqualTo("sip-1");
      assertThat(condition(done, Conditions.TRANSITION_STALLED)).isEmpty();
    }

    @Test
    @DisplayName("a new primary's node that renews its Lease but never reports gives the role back after 15 s, through a confirmed release")
    void bindWithASilentWorkerGivesUp() {
      World w = World.active();
      w.hold("node-b"); // renews its Lease, acts on nothing
      w.editSpec(s -> s.setPrimary("sip-1"));
      Plan grant = w.settle(5);
      assertThat(grant.status().transition.step).isEqualTo(io.sipha.api.Transition.Step.Bind);
      Instant bindStarted = w.now;

      Plan gaveUp = w.stepAt(bindStarted.plusSeconds(16));
      assertThat(eventReasons(gaveUp)).contains("SwitchoverAborted");
      assertThat(event(gaveUp, "SwitchoverAborted").message()).contains("node node-b has not bound");
      assertThat(gaveUp.status().vip.node).as("node-b must confirm it holds nothing first").isEqualTo("node-b");
      assertThat(gaveUp.status().vip.state).isEqualTo(VipStatus.State.Releasing);

      w.follow("node-b");
      Plan back = w.settle();
      assertThat(back.status().primary).isEqualTo("sip-0");
      assertThat(back.status().vip.node).isEqualTo("node-a");
      assertThat(requireCondition(back, Conditions.SWITCHOVER_REFUSED).message).contains("node-b");
    }
  }

  @Nested
  @DisplayName("paused")
  class Paused {

    @Test
    @DisplayName("phase Paused, no role assignments, and status.primary / epoch unchanged even when the primary fails")
    void pausedChangesNothing() {
      World w = World.active();
      w.editSpec(s -> s.setPaused(true));
      Plan p = w.step();
      assertThat(p.status().phase).isEqualTo(Phase.Paused);
      assertThat(p.roles()).isEmpty();
      Condition ready = requireCondition(p, Conditions.READY);
      assertThat(ready.status).isEqualTo("False");
      assertThat(ready.reason).isEqualTo("Paused");
      assertThat(eventReasons(p)).contains("Paused");

      w.pod("sip-0").exists = false;
      w.disconnect("node-a");
      Plan failed = w.stepAt(w.now.plusSeconds(10));
      assertThat(failed.status().phase).isEqualTo(Phase.Paused);
      assertThat(failed.roles()).isEmpty();
      assertThat(failed.status().primary).isEqualTo("sip-0");
      assertThat(failed.status().epoch).isEqualTo(1);
      assertThat(failed.status().transition).isNull();
      assertThat(failed.status().vip.node).isEqualTo("node-a");
      assertThat(failed.status().vip.state).isEqualTo(VipStatus.State.Bound);
      assertThat(failed.status().fenced).isEmpty();
    }

    @Test
    @DisplayName("a forged epoch of 2^63-1 on a pod is ignored: the epoch does not overflow and the switchover completes")
    void forgedMaximalEpochDoesNotOverflow() {
      World w = World.active();
      w.pod("sip-1").epoch = Long.MAX_VALUE;
      w.editSpec(s -> s.setPrimary("sip-1"));
      Plan done = w.settle();
      assertThat(done.status().epoch).isEqualTo(2);
      assertThat(done.status().primary).isEqualTo("sip-1");
      assertThat(w.pod("sip-1").epoch).isEqualTo(2);
      assertThat(done.status().phase).isEqualTo(Phase.Active);
    }

    @Test
    @DisplayName("a pause during a release finishes the transition under way, then changes nothing")
    void pauseDuringAReleaseFinishesTheTransition() {
      World w = World.active();
      w.hold("node-a");
      w.editSpec(s -> s.setPrimary("sip-1"));
      w.step(); // Switchover: node-a is asked to release, nobody is primary
      w.editSpec(s -> s.setPaused(true));
      Plan paused = w.step();
      assertThat(requireCondition(paused, Conditions.READY).message).contains("finishing the Switchover");
      w.follow("node-a");
      Plan done = w.settle();
      assertThat(done.status().primary).as("the VIP is not left without a holder for the pause").isEqualTo("sip-1");
      assertThat(done.status().vip.node).isEqualTo("node-b");
      assertThat(done.status().vip.state).isEqualTo(VipStatus.State.Bound);
      assertThat(done.status().phase).isEqualTo(Phase.Paused);
      assertThat(lastHistory(done).kind).isEqualTo(TransitionKind.Switchover);

      w.pod("sip-1").exists = false; // and now it changes nothing
      Plan after = w.stepAt(w.now.plusSeconds(10));
      assertThat(after.status().primary).isEqualTo("sip-1");
      assertThat(after.status().transition).isNull();
      assertThat(after.roles()).isEmpty();
    }

    @Test
    @DisplayName("a pair paused before its first election elects nobody")
    void pausedBeforeElection() {
      World w = new World();
      w.spec.setPaused(true);
      Plan p = w.step();
      assertThat(p.status().phase).isEqualTo(Phase.Paused);
      assertThat(p.status().epoch).isZero();
      assertThat(p.status().primary).isNull();
      assertThat(p.roles()).isEmpty();
    }

    @Test
    @DisplayName("unpausing resumes: a primary that failed while paused is failed over")
    void unpauseResumes() {
      World w = World.active();
      w.editSpec(s -> s.setPaused(true));
      w.step();
      w.pod("sip-0").exists = false;
      w.step();
      w.editSpec(s -> s.setPaused(false));
      Plan p = w.step();
      assertThat(p.status().transition.kind).isEqualTo(TransitionKind.Failover);
      assertThat(w.settle().status().primary).isEqualTo("sip-1");
    }
  }

  // =====================================================================================
  // Invalid specs
  // =====================================================================================

  record InvalidCase(Consumer<World> breakIt, String fieldPath, String alsoMentions) {}

  static Stream<Arguments> invalidSpecs() {
    return Stream.of(
        invalid("the same server twice",
            w -> w.spec.setServers(new ArrayList<>(List.of("sip-0", "sip-0"))), "spec.servers", "same pod twice"),
        invalid("spec.primary not in spec.servers",
            w -> w.spec.setPrimary("sip-2"), "spec.primary", "sip-2"),
        invalid("an address that is not an IP literal (300.1.1.1)",
            w -> w.spec.getVirtualIP().setAddress("300.1.1.1"), "spec.virtualIP.address", "300.1.1.1"),
        invalid("prefixLength 33 for an IPv4 address",
            w -> w.spec.getVirtualIP().setPrefixLength(33), "spec.virtualIP.prefixLength", "1-32"),
        invalid("an interface name carrying a shell command",
            w -> w.spec.getVirtualIP().setInterfaceName("eth0; rm -rf /"), "spec.virtualIP.interface", "eth0; rm -rf /"),
        invalid("a VIP outside the admin's allowed CIDRs",
            w -> w.allowed = AllowedCidrs.parse(List.of("198.51.100.0/24")), "spec.virtualIP.address", "198.51.100.0/24"),
        invalid("a VIP already claimed by another pair",
            w -> w.vipClaimedBy = "voice/pair-2", "spec.virtualIP.address", "voice/pair-2"));
  }

  /**
   * The invalid specs a user writes (not the admin's narrowing of the allowed ranges, which makes
   * the last valid spec invalid too: the pair then changes nothing at all).
   */
  static Stream<Arguments> invalidSpecChanges() {
    return invalidSpecs().filter(a -> !((Named<?>) a.get()[0]).getName().contains("allowed CIDRs"));
  }

  static Arguments invalid(String name, Consumer<World> breakIt, String fieldPath, String alsoMentions) {
    return Arguments.of(Named.of(name, new InvalidCase(breakIt, fieldPath, alsoMentions)));
  }

  @Nested
  @DisplayName("invalid specs")
  class InvalidSpecs {

    @ParameterizedTest(name = "{0} is Invalid: Ready False/InvalidSpec naming the field, no roles")
    @MethodSource("io.sipha.decision.PairDeciderTest#invalidSpecs")
    void invalidOnANewPair(InvalidCase c) {
      World w = new World();
      c.breakIt().accept(w);
      Plan p = w.step();

      assertThat(p.status().phase).isEqualTo(Phase.Invalid);
      Condition ready = requireCondition(p, Conditions.READY);
      assertThat(ready.status).isEqualTo("False");
      assertThat(ready.reason).isEqualTo("InvalidSpec");
      assertThat(ready.message).contains(c.fieldPath()).contains(c.alsoMentions());
      assertThat(p.roles()).isEmpty();
      assertThat(p.podsToLabel()).isEmpty();
      assertThat(p.status().epoch).isZero();
      assertThat(p.status().primary).isNull();
      Note e = event(p, "InvalidSpec");
      assertThat(e.warning()).isTrue();
      assertThat(e.message()).contains(c.fieldPath());
    }

    @ParameterizedTest(name = "{0} on an Active pair: the pair keeps serving on its last valid spec and fails over when its primary fails")
    @MethodSource("io.sipha.decision.PairDeciderTest#invalidSpecChanges")
    void anInvalidPairKeepsServingOnItsLastValidSpec(InvalidCase c) {
      World w = World.active();
      w.generation++;
      c.breakIt().accept(w);
      Plan invalid = w.step();
      assertThat(invalid.status().phase).isEqualTo(Phase.Invalid);
      assertThat(event(invalid, "InvalidSpec").warning()).isTrue();

      w.pod("sip-0").exists = false; // the primary fails while the spec is invalid
      Plan p = w.settle();
      assertThat(p.status().primary).as("failed over on the last valid spec").isEqualTo("sip-1");
      assertThat(p.status().vip.node).isEqualTo("node-b");
      assertThat(p.status().vip.address).as("the VIP of the last valid spec").isEqualTo(VIP_CIDR);
      assertThat(p.status().phase).as("and it still says Invalid").isEqualTo(Phase.Invalid);
      Condition ready = requireCondition(p, Conditions.READY);
      assertThat(ready.reason).isEqualTo("InvalidSpec");
      assertThat(ready.message).contains(c.fieldPath()).contains("last valid spec");
      assertThat(p.events().stream().filter(e -> e.reason().equals("InvalidSpec"))).as("said once").isEmpty();
    }

    @ParameterizedTest(name = "{0} on an Active pair changes no role, no epoch and no VIP grant")
    @MethodSource("io.sipha.decision.PairDeciderTest#invalidSpecs")
    void invalidOnAnActivePair(InvalidCase c) {
      World w = World.active();
      SipServerPairStatus before = w.status;
      w.generation++;
      c.breakIt().accept(w);
      Plan p = w.step();

      assertThat(p.status().phase).isEqualTo(Phase.Invalid);
      assertThat(requireCondition(p, Conditions.READY).message).contains(c.fieldPath());
      assertThat(p.roles()).isEmpty();
      assertThat(p.status().epoch).isEqualTo(before.epoch);
      assertThat(p.status().primary).isEqualTo(before.primary);
      assertThat(p.status().vip.node).isEqualTo(before.vip.node);
      assertThat(p.status().vip.state).isEqualTo(before.vip.state);
      assertThat(p.status().vip.address).isEqualTo(before.vip.address);
      assertThat(p.status().observedGeneration).isEqualTo(w.generation);
    }
  }

  // =====================================================================================
  // The binding rule and forged annotations
  // =====================================================================================

  @Nested
  @DisplayName("VipBindingRule")
  class BindingRule {

    SipServerPairStatus grantedTo(String node, String primary, long epoch, VipStatus.State state) {
      SipServerPairStatus st = new SipServerPairStatus();
      st.primary = primary;
      st.epoch = epoch;
      st.vip = new VipStatus(VIP_CIDR, "eth0", node, state, 0);
      return st;
    }

    Map<String, String> annotated(String role, long epoch) {
      return Map.of(SipServerPair.ROLE_ANNOTATION, role, SipServerPair.EPOCH_ANNOTATION, String.valueOf(epoch));
    }

    @Test
    @DisplayName("grants the VIP to the node of status.primary when that pod is primary at the status epoch")
    void grantsTheTruePrimary() {
      SipServerPairStatus st = grantedTo("node-a", "sip-0", 4, VipStatus.State.Binding);
      Optional<VipBindingRule.Binding> b = VipBindingRule.binding(st, "node-a", "node-a", annotated(PRIMARY, 4));
      assertThat(b).isPresent();
      assertThat(b.get().epoch()).isEqualTo(4);
      assertThat(b.get().vip().cidr()).isEqualTo(VIP_CIDR);
      assertThat(b.get().vip().interfaceName()).isEqualTo("eth0");
      assertThat(VipBindingRule.binding(grantedTo("node-a", "sip-0", 4, VipStatus.State.Bound), "node-a", "node-a",
          annotated(PRIMARY, 4))).isPresent();
    }

    @Test
    @DisplayName("forged annotation: a backup pod annotated role=primary at the current epoch gets no binding")
    void forgedAnnotationBindsNothing() {
      // status names sip-0 on node-a; sip-1 on node-b was edited by a tenant to role=primary, epoch=4
      SipServerPairStatus st = grantedTo("node-a", "sip-0", 4, VipStatus.State.Bound);
      assertThat(VipBindingRule.binding(st, "node-b", "node-b", annotated(PRIMARY, 4)))
          .as("even if node-b's agent looked at the forged pod").isEmpty();
      assertThat(VipBindingRule.binding(st, "node-b", "node-a", annotated(PRIMARY, 4)))
          .as("node-b's agent looking at status.primary").isEmpty();
    }

    @Test
    @DisplayName("no binding for a stale epoch annotation, a Releasing/Unbound grant, another node or a missing primary")
    void noBindingOtherwise() {
      SipServerPairStatus st = grantedTo("node-a", "sip-0", 4, VipStatus.State.Bound);
      assertThat(VipBindingRule.binding(st, "node-a", "node-a", annotated(PRIMARY, 3))).isEmpty();
      assertThat(VipBindingRule.binding(st, "node-a", "node-a", annotated(BACKUP, 4))).isEmpty();
      assertThat(VipBindingRule.binding(st, "node-a", "node-a", null)).isEmpty();
      assertThat(VipBindingRule.binding(st, "node-a", null, annotated(PRIMARY, 4))).isEmpty();
      assertThat(VipBindingRule.binding(st, "node-a", "node-b", annotated(PRIMARY, 4))).isEmpty();
      assertThat(VipBindingRule.binding(grantedTo("node-a", "sip-0", 4, VipStatus.State.Releasing), "node-a", "node-a",
          annotated(PRIMARY, 4))).isEmpty();
      assertThat(VipBindingRule.binding(grantedTo("node-a", "sip-0", 4, VipStatus.State.Unbound), "node-a", "node-a",
          annotated(PRIMARY, 4))).isEmpty();
      assertThat(VipBindingRule.binding(grantedTo("node-a", null, 4, VipStatus.State.Bound), "node-a", "node-a",
          annotated(PRIMARY, 4))).isEmpty();
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
    @DisplayName("in the world, a forged primary annotation on the backup binds nothing and the decider re-asserts backup")
    void forgedAnnotationInTheWorld() {
      World w = World.active();
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
  }

  // =====================================================================================
  // Lost writes and restarts mid-switchover
  // =====================================================================================

  @Nested
  @DisplayName("lost writes and restarts")
  class Resilience {

    @ParameterizedTest(name = "a switchover whose status write is lost at step {0} still completes with one primary")
    @ValueSource(ints = {0, 1, 2})
    void lostStatusWrite(int atStep) {
      World w = World.active();
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

    @ParameterizedTest(name = "a switchover whose role writes are lost at step {0} still completes with one primary")
    @ValueSource(ints = {0, 1, 2})
    void lostRoleWrites(int atStep) {
      World w = World.active();
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
      World w = World.active();
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

  // =====================================================================================
  // The safety assertion is not vacuous
  // =====================================================================================

  @Nested
  @DisplayName("the shared safety assertion")
  class SafetyAssertion {

    @Test
    @DisplayName("fails when two pods are annotated primary at the current epoch")
    void catchesTwoPrimaries() {
      World w = World.active();
      w.pod("sip-1").role = PRIMARY;
      w.pod("sip-1").epoch = 1L;
      Plan p = w.plans.get(w.plans.size() - 1);
      assertThatThrownBy(() -> w.assertSafe(w.status, w.facts(), p))
          .isInstanceOf(AssertionError.class).hasMessageContaining("at most one pod annotated primary");
    }

    @Test
    @DisplayName("fails when the epoch goes down")
    void catchesEpochGoingDown() {
      World w = World.active();
      SipServerPairStatus higher = PairDecider.copy(w.status);
      higher.epoch = 5;
      Plan p = w.plans.get(w.plans.size() - 1);
      assertThatThrownBy(() -> w.assertSafe(higher, w.facts(), p))
          .isInstanceOf(AssertionError.class).hasMessageContaining("epoch never decreases");
    }

    @Test
    @DisplayName("fails when the VIP is granted while a live node not declared lost still reports it Bound at an older epoch")
    void catchesEarlyGrant() {
      World w = World.active();
      SipServerPairStatus granted = PairDecider.copy(w.status);
      granted.epoch = 2;
      granted.primary = "sip-1";
      granted.vip.node = "node-b";
      granted.vip.state = VipStatus.State.Binding;
      Plan forged = new Plan(List.of(), List.of(), granted, List.of(), null);
      assertThatThrownBy(() -> w.assertSafe(w.status, w.facts(), forged))
          .isInstanceOf(AssertionError.class).hasMessageContaining("reports it Bound at older epoch");
    }
  }
}
