package io.sipha.decision;

import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairSpec;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.SpecJson;
import io.sipha.api.Transition;
import io.sipha.api.TransitionKind;
import io.sipha.api.VipStatus;
import io.sipha.decision.Plan.RoleAssignment;
import io.sipha.vip.VipAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The pure core: from the facts about one pair to the plan of what to do next. It knows the four
 * workflows of IP Address Takeover (manual switchover, primary server failure, primary host
 * disconnected, reconnection of a stale primary) and the safety rules:
 *
 * <ul>
 *   <li>the epoch grows by one on every role change, and only one pod is primary at an epoch;
 *   <li>the VIP is granted to a node only after every node that may hold it confirmed its release
 *       at the new epoch, or was declared lost;
 *   <li>a lost node that comes back holding the VIP is a split brain: its pod is demoted, its agent
 *       removes the VIP, and the true holder announces the VIP again.
 * </ul>
 *
 * Each call is idempotent: the plan converges the API to the state the status describes, so a
 * restarted operator or a lost write is repaired by the next call.
 *
 * <p>This class validates the spec and chooses the workflow; each concern is its own room: {@link
 * Election}, {@link PrimaryFailure} (failure detection), {@link SwitchoverPolicy} (switchover and
 * failback), {@link TransitionSteps} (release, bind and their deadlines), {@link StaleHolders}
 * (split brain), and {@link StatusSummary}, which derives the phase and the conditions once at the
 * end. They share one {@link Decision}.
 */
public final class PairDecider {
  /**
   * A pod epoch above this is forged and ignored (2^53, the largest integer every JSON client keeps
   * exactly): outgrowing it would soon overflow. Real epochs grow by one per role change.
   */
  static final long MAX_EPOCH = 1L << 53;

  private final PairFacts f;
  private final Decision d;
  private final StaleHolders staleHolders;
  private final TransitionSteps steps;
  private final Election election;
  private final SwitchoverPolicy policy;
  private final StatusSummary summary;

  private PairDecider(PairFacts f) {
    this.f = f;
    this.d = new Decision(f);
    this.staleHolders = new StaleHolders(d);
    this.steps = new TransitionSteps(d, staleHolders);
    this.election = new Election(d, steps);
    this.policy = new SwitchoverPolicy(d, steps);
    this.summary = new StatusSummary(d, policy);
  }

  public static Plan decide(PairFacts facts) {
    return new PairDecider(facts).decide();
  }

  /**
   * The pods a status names (primary, backup, a transition's ends), which may have left
   * spec.servers.
   */
  public static Set<String> namedInStatus(SipServerPairStatus s) {
    Set<String> out = new LinkedHashSet<>();
    if (s != null) {
      for (String n :
          new String[] {
            s.primary,
            s.backup,
            s.transition == null ? null : s.transition.from,
            s.transition == null ? null : s.transition.to
          }) {
        if (n != null) {
          out.add(n);
        }
      }
    }
    return out;
  }

  /**
   * When the transition's current step began, for its deadline: as this process observed it ({@link
   * PairFacts#stepObservedAt}), or, for a step this very decision started or when the shell does
   * not say, as the status says.
   */
  static Instant stepSince(PairFacts f, Transition t) {
    Instant written =
        t.stepStartedAt == null ? Instant.parse(t.startedAt) : Instant.parse(t.stepStartedAt);
    Transition before = f.status() == null ? null : f.status().transition;
    boolean sameStep = before != null && before.epoch == t.epoch && before.step == t.step;
    return sameStep && f.stepObservedAt() != null ? f.stepObservedAt() : written;
  }

  /**
   * The highest epoch of these: {@code floor}, or a pod's (forged ones above {@link #MAX_EPOCH}
   * ignored).
   */
  static long epochFloor(long floor, PairFacts f, Iterable<String> pods) {
    long max = floor;
    for (String s : pods) {
      Long e = f.pod(s).epoch();
      if (e != null && e > max && e <= MAX_EPOCH) {
        max = e;
      }
    }
    return max;
  }

  /** A copy of the status to work on (a new one for a new pair). */
  static SipServerPairStatus copy(SipServerPairStatus s) {
    return s == null ? new SipServerPairStatus() : s.copy();
  }

  private Plan decide() {
    var st = d.st;
    st.observedGeneration = f.generation();
    SwitchoverPolicy.acknowledgementSeenGoingBy(f, st);
    SpecValidator.Outcome outcome =
        SpecValidator.validate(f.spec(), f.allowed(), f.vipClaimedBy(), f.nodeAddresses());
    d.spec = f.spec();
    if (!outcome.valid()) {
      String msg = String.join("; ", outcome.problems());
      SipServerPairSpec last = st.epoch == 0 ? null : SpecJson.read(st.lastValidSpec);
      SpecValidator.Outcome lastOutcome =
          last == null ? null : SpecValidator.validate(last, f.allowed(), null, f.nodeAddresses());
      if (lastOutcome == null || !lastOutcome.valid()) {
        summary.derive(StatusSummary.Scope.NothingValid, msg);
        return plan(List.of());
      }
      // keep serving on the last valid spec (failovers included), and say Invalid
      d.invalidWhy = msg;
      d.spec = last;
      outcome = lastOutcome;
    } else {
      st.lastValidSpec = SpecJson.write(f.spec());
    }
    d.judgeNodes(Duration.ofSeconds(d.spec.getFailover().getNodeLossSeconds()));
    labelPods();
    VipAddress vip = outcome.vip();
    if (st.vip == null) {
      st.vip = new VipStatus(vip.cidr(), vip.interfaceName(), null, VipStatus.State.Unbound, 0);
    }
    if (d.spec.isPaused() && st.transition == null) {
      summary.derive(StatusSummary.Scope.PausedIdle, null);
      return plan(List.of());
    }
    if (st.transition != null && d.epochFloor() > st.epoch) {
      raiseTransitionEpoch();
    }
    if (st.transition == null) {
      followVipChange(vip);
      if (st.primary == null) {
        election.elect();
      } else {
        serving(st.primary);
      }
    } else {
      steps.progress();
    }
    if (st.transition == null && d.epochFloor() > st.epoch) {
      raiseRolesEpoch();
    }
    summary.derive(StatusSummary.Scope.Decided, null);
    return plan(roles());
  }

  private void labelPods() {
    for (String s : d.spec.getServers()) {
      PodFact p = d.pod(s);
      if (p.exists() && !p.labelled()) {
        d.toLabel.add(s);
        d.note(
            false,
            EventReason.PodLabelled,
            "added label " + SipServerPair.PAIR_LABEL + "=" + f.name() + " to pod " + s);
      }
    }
  }

  /**
   * A pod carries a newer epoch than the transition (a status write was lost): go on above it, from
   * the Release step, so that every node confirms again at the new epoch.
   */
  private void raiseTransitionEpoch() {
    var st = d.st;
    Transition t = st.transition;
    t.epoch = d.epochFloor() + 1;
    st.epoch = t.epoch;
    t.step = Transition.Step.Release;
    st.primary = null;
    if (st.vip.state != VipStatus.State.Unbound) {
      st.vip.state = VipStatus.State.Releasing;
    }
    d.note(
        true,
        EventReason.EpochRaised,
        t.kind
            + " to "
            + t.to
            + " goes on at epoch "
            + t.epoch
            + ", above an epoch a pod already carries");
  }

  /**
   * A pod carries a newer epoch than the status (a status write was lost after the pods were
   * annotated). While another live node may still hold the VIP, re-granting it at once could add it
   * where the holder has dropped it (it saw the roles move) before that other node confirmed: it
   * goes through a release, as any move of the VIP. Otherwise the roles are re-asserted above it,
   * so that no pod's epoch ever goes back.
   */
  private void raiseRolesEpoch() {
    var st = d.st;
    long floor = d.epochFloor();
    if (st.primary != null && staleHolders.othersMayHold()) {
      String p = st.primary;
      steps.start(
          TransitionKind.Relocation,
          p,
          p,
          "EpochRaised",
          "a pod carries epoch "
              + floor
              + " above the status's "
              + st.epoch
              + " while another node may hold "
              + st.vip.address);
      return;
    }
    long raised = floor + 1;
    d.note(
        true,
        EventReason.EpochRaised,
        "a pod carries epoch "
            + floor
            + " above the status's "
            + st.epoch
            + "; roles re-asserted at epoch "
            + raised);
    st.epoch = raised;
    if (st.vip.state == VipStatus.State.Bound) {
      st.vip.state = VipStatus.State.Binding;
    }
  }

  /** A primary holds the VIP: check for split brain, failure, switchover and failback. */
  private void serving(String primary) {
    var st = d.st;
    if (!d.spec.getServers().contains(primary)) {
      election.leave(primary);
      return;
    }
    if (st.backup != null && !d.spec.getServers().contains(st.backup)) {
      st.backup = d.other(primary); // the backup left the pair: the other server is the backup now
    }
    String backup = d.other(primary);
    boolean unsettled = staleHolders.check(st.vip.node);
    AgentFact backupAgent = d.agent(d.pod(backup).node());
    if (backup != null
        && backupAgent.renewedAt() != null
        && backupAgent.late(d.now)
        && backupAgent.alive(d.now, d.nodeLoss)) {
      d.recheck(
          backupAgent.lostAt(d.nodeLoss)); // BackupReady turns False when the backup's node is lost
    }
    PrimaryFailure failure = PrimaryFailure.of(d, primary);
    if (failure != null) {
      failed(primary, backup, failure, unsettled);
      return;
    }
    if (unsettled) {
      // a returned node has not confirmed the release of its stale VIP: move nothing else yet
      return;
    }
    if (policy.switchoverRequest(primary) || d.refusedWhy != null) {
      return;
    }
    policy.failback(primary);
  }

  /** The primary failed: fail over to the backup, move the primary with the VIP, or say why not. */
  private void failed(String primary, String backup, PrimaryFailure failure, boolean unsettled) {
    String reason = failure.reason().name();
    if (!d.spec.getFailover().isEnabled()) {
      d.degradedWhy = failure.message() + "; failover is disabled (spec.failover.enabled=false)";
    } else if (backup != null && d.candidate(backup)) {
      steps.start(TransitionKind.Failover, primary, backup, reason, failure.message());
      return;
    } else if (failure.reason().moved() && d.candidate(primary)) {
      // no backup to take over, but the primary itself is healthy where it now runs
      steps.start(TransitionKind.Relocation, primary, primary, reason, failure.message());
      return;
    } else {
      d.degradedWhy = failure.message() + "; no failover: " + d.whyNotCandidate(backup);
    }
    // a manual switchover is still honoured (or refused with its reason): it is the way out
    if (!unsettled) {
      policy.switchoverRequest(primary);
    }
  }

  /** A change of spec.virtualIP while a primary holds it: the holder moves to the new address. */
  private void followVipChange(VipAddress vip) {
    var st = d.st;
    if (vip.cidr().equals(st.vip.address) && vip.interfaceName().equals(st.vip.interfaceName)) {
      VipReport r = d.agent(st.vip.node).report();
      if (st.vip.state == VipStatus.State.Binding
          && st.primary != null
          && r != null
          && r.is(VipReport.State.Bound)
          && r.epoch() == st.epoch
          && vip.cidr().equals(r.address())) {
        st.vip.state = VipStatus.State.Bound;
      }
      return;
    }
    d.note(
        false,
        EventReason.VipChanged,
        "virtual IP changes from "
            + st.vip.address
            + " dev "
            + st.vip.interfaceName
            + " to "
            + vip);
    st.vip.address = vip.cidr();
    st.vip.interfaceName = vip.interfaceName();
    if (st.vip.state == VipStatus.State.Bound) {
      st.vip.state = VipStatus.State.Binding;
    }
  }

  /**
   * The role annotations to write: demotions (pods that left the pair first), then the promotion.
   */
  private List<RoleAssignment> roles() {
    var st = d.st;
    if (st.epoch == 0) {
      return List.of();
    }
    List<RoleAssignment> demote = new ArrayList<>();
    List<RoleAssignment> promote = new ArrayList<>();
    for (String s : d.spec.getServers()) {
      PodFact p = d.pod(s);
      if (!p.exists()) {
        continue;
      }
      boolean primary = s.equals(st.primary);
      String role = primary ? SipServerPair.ROLE_PRIMARY : SipServerPair.ROLE_BACKUP;
      if (!role.equals(p.role()) || !Long.valueOf(st.epoch).equals(p.epoch())) {
        (primary ? promote : demote).add(new RoleAssignment(s, role, st.epoch));
      }
    }
    // pods that left spec.servers while the status named them: demoted (if they are still ours)
    Set<String> leavers = namedInStatus(f.status());
    leavers.addAll(namedInStatus(st));
    leavers.removeAll(d.spec.getServers());
    for (String s : leavers) {
      PodFact p = d.pod(s);
      if (p.exists()
          && p.labelled()
          && !(SipServerPair.ROLE_BACKUP.equals(p.role())
              && Long.valueOf(st.epoch).equals(p.epoch()))
          && !s.equals(st.primary)) {
        demote.add(0, new RoleAssignment(s, SipServerPair.ROLE_BACKUP, st.epoch));
      }
    }
    demote.addAll(promote);
    return demote;
  }

  private Plan plan(List<RoleAssignment> roles) {
    return new Plan(List.copyOf(d.toLabel), roles, d.st, List.copyOf(d.events), d.recheckAfter());
  }
}
