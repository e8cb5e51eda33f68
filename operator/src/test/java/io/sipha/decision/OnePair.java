package io.sipha.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairSpec;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import io.sipha.api.VirtualIp;
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

/**
 * One pair in a small simulated world, driven step by step through {@link PairDecider#decide}: two
 * SIP Server pods (sip-0 on node-a, sip-1 on node-b) and one node agent per node. Every step feeds
 * the plan's status back as the next status, applies the plan's role assignments to the pods'
 * annotations and lets the agents answer according to {@link VipBindingRule}. The clock is a plain
 * {@link Instant} the test moves; nothing sleeps. After every step the safety rules of the design
 * are checked ({@link #assertSafe}, over {@link SafetyRules}, which the three-pair simulation
 * checks too).
 */
final class OnePair {
  static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
  static final String VIP_CIDR = "192.0.2.10/24";
  static final String PRIMARY = SipServerPair.ROLE_PRIMARY;
  static final String BACKUP = SipServerPair.ROLE_BACKUP;

  /** How a simulated node agent behaves. */
  enum AgentMode {
    /** Renews its Lease at every step and answers the status by {@link VipBindingRule}. */
    FOLLOW,
    /**
     * Renews its Lease but its report does not change (a slow or stuck script, or a host that has
     * not seen the API yet).
     */
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

    /**
     * The StatefulSet recreates the pod: same name and node, no annotations, Ready since {@code
     * at}.
     */
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

    /** What it says it hears of its peers over the peer channel. */
    PeerHearing hearing = PeerHearing.NONE;

    /** What the operator's probe of it says. */
    AgentProbe probe = AgentProbe.UNKNOWN;

    SimAgent(String node) {
      this.node = node;
    }

    AgentFact fact() {
      return new AgentFact(node, renewedAt, report)
          .reportsBehind(reportsBehind)
          .hearing(hearing)
          .probe(probe);
    }
  }

  final SipServerPairSpec spec = new SipServerPairSpec();
  long generation = 1;
  SipServerPairStatus status;
  Instant now = T0;
  final Map<String, SimPod> pods = new LinkedHashMap<>();
  final Map<String, SimAgent> agents = new LinkedHashMap<>();
  AllowedCidrs allowed = AllowedCidrs.any();
  String vipClaimedBy;

  /**
   * When the deciding process first saw the current step (a new leader), or null: as the status
   * says.
   */
  Instant stepObservedAt;

  /** The values spec.primary took since the last decision, as the operator's informer saw them. */
  Set<String> primariesSeen = Set.of();

  /** Every node any status ever listed in status.fenced: declared lost by the operator. */
  final Set<String> declaredLost = new LinkedHashSet<>();

  final List<Plan> plans = new ArrayList<>();

  /** One-shot faults: the next step's status write or role writes are lost (a failed API call). */
  boolean loseNextStatusWrite;

  boolean loseNextRoleWrites;

  OnePair() {
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
  static OnePair active() {
    return activeWith(s -> {});
  }

  static OnePair activeWith(Consumer<SipServerPairSpec> tweak) {
    OnePair w = new OnePair();
    tweak.accept(w.spec);
    Plan p = w.settle();
    assertThat(p.status().phase).as("setup: the pair is Active").isEqualTo(Phase.Active);
    assertThat(p.status().primary).isEqualTo("sip-0");
    assertThat(p.status().epoch).isEqualTo(1);
    assertThat(p.status().vip.state).isEqualTo(VipStatus.State.Bound);
    return w;
  }

  /**
   * sip-0 was deleted and sip-1 took over at epoch 2; sip-0 is recreated and Ready at the returned
   * instant.
   */
  static Instant failoverThenRecreate(OnePair w) {
    w.pod("sip-0").exists = false;
    Plan done = w.settle();
    assertThat(done.status().primary).isEqualTo("sip-1");
    assertThat(done.status().epoch).isEqualTo(2);
    Instant back = w.now.plusSeconds(1);
    w.pod("sip-0").recreate(back);
    return back;
  }

  /** sip-0's node-a is disconnected and declared lost; sip-1 is primary on node-b at epoch 2. */
  static OnePair afterNodeLoss() {
    OnePair w = OnePair.active();
    w.disconnect("node-a");
    Instant lastSeen = w.agent("node-a").renewedAt;
    w.stepAt(lastSeen.plusSeconds(3));
    Plan done = w.settle();
    assertThat(done.status().primary).isEqualTo("sip-1");
    assertThat(done.status().vip.state).isEqualTo(VipStatus.State.Bound);
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
    return SafetyRules.nodeLoss(spec);
  }

  PairFacts facts() {
    Map<String, PodFact> podFacts = new LinkedHashMap<>();
    pods.forEach((n, p) -> podFacts.put(n, p.fact()));
    Map<String, AgentFact> agentFacts = new LinkedHashMap<>();
    agents.forEach((n, a) -> agentFacts.put(n, a.fact()));
    return new PairFacts(
            "voice",
            "pair-1",
            generation,
            spec,
            status,
            podFacts,
            agentFacts,
            allowed,
            vipClaimedBy,
            now)
        .withStepObservedAt(stepObservedAt)
        .withPrimariesSeen(primariesSeen);
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
      return fail(
          "the pair did not settle in 30 steps; last status: phase %s, transition %s",
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
      Optional<VipBindingRule.Binding> want =
          VipBindingRule.binding(
              status,
              a.node,
              primaryExists ? primary.node : null,
              primaryExists ? primary.annotations() : null);
      VipReport r = a.report;
      if (want.isPresent()) {
        VipBindingRule.Binding b = want.get();
        if (r == null || !r.is(VipReport.State.Bound) || r.epoch() != b.epoch()) {
          a.report =
              new VipReport(
                  VipReport.State.Bound,
                  b.epoch(),
                  b.vip().cidr(),
                  "vip-enable",
                  0,
                  "ok",
                  now.toString(),
                  null,
                  "eth0");
        }
      } else if (r == null || !r.is(VipReport.State.Unbound) || r.epoch() != epoch) {
        boolean granted = status != null && status.vip != null && a.node.equals(status.vip.node);
        Long stale =
            r != null && r.is(VipReport.State.Bound) && !granted && r.epoch() < epoch
                ? r.epoch()
                : null;
        if (stale == null && r != null) {
          stale = r.removedStaleEpoch();
        }
        String address = status == null || status.vip == null ? null : status.vip.address;
        a.report =
            new VipReport(
                VipReport.State.Unbound,
                epoch,
                address,
                "vip-disable",
                0,
                "ok",
                now.toString(),
                stale,
                "eth0");
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
    assertThat(st.epoch)
        .as("safety: the epoch never decreases (was %d)", previousEpoch)
        .isGreaterThanOrEqualTo(previousEpoch);

    Map<String, Long> primaries = new LinkedHashMap<>();
    pods.values().stream()
        .filter(p -> p.exists && PRIMARY.equals(p.role))
        .forEach(p -> primaries.put(p.name, p.epoch));
    assertThat(SafetyRules.sharedPrimaryEpochs(primaries))
        .as("safety: at most one pod annotated primary per epoch")
        .isEmpty();
    List<String> primaryNow =
        primaries.entrySet().stream()
            .filter(e -> Long.valueOf(st.epoch).equals(e.getValue()))
            .map(Map.Entry::getKey)
            .toList();
    if (!primaryNow.isEmpty()) {
      assertThat(primaryNow)
          .as("safety: the pod annotated primary at the current epoch is status.primary")
          .containsExactly(st.primary);
    }

    if (!SafetyRules.grantsVip(st)) {
      return;
    }
    VipStatus vip = st.vip;
    var saw = SafetyRules.GrantWitness.of(facts, st.epoch, facts.agents().keySet());
    for (AgentFact a : facts.agents().values()) {
      VipReport r = a.report();
      if (!a.node().equals(vip.node)
          && r != null
          && r.is(VipReport.State.Bound)
          && r.epoch() < st.epoch
          && !saw.lost().contains(a.node())) {
        assertThat(declaredLost)
            .as(
                "safety: VIP granted to %s while live node %s reports it Bound at older epoch %d",
                vip.node, a.node(), r.epoch())
            .contains(a.node());
      }
    }
    if (before != null
        && before.vip != null
        && before.vip.node != null
        && !before.vip.node.equals(vip.node)
        && before.vip.state != VipStatus.State.Unbound) {
      assertThat(
              saw.confirmed().contains(before.vip.node) || declaredLost.contains(before.vip.node))
          .as(
              "safety: VIP moved from %s to %s before %s confirmed its release at epoch %d or was declared lost",
              before.vip.node, vip.node, before.vip.node, st.epoch)
          .isTrue();
    }
  }
}
