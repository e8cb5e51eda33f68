package io.sipha.decision;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sipha.api.FailbackMode;
import io.sipha.api.FencedHolder;
import io.sipha.api.HistoryEntry;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairSpec;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.Transition;
import io.sipha.api.VipStatus;
import io.sipha.decision.Plan.Note;
import io.sipha.decision.Plan.RoleAssignment;
import io.sipha.vip.VipAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
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
 */
public final class PairDecider {
  static final int HISTORY_LIMIT = 10;
  /**
   * How long the new primary's node may keep failing to bind the VIP before the old primary, still
   * healthy, takes the role back (the request is then refused with the script's error).
   */
  static final Duration BIND_PATIENCE = Duration.ofSeconds(15);
  static final String BIND_FAILED = "VipBindFailed";
  /**
   * How long the old holder's node may take to confirm a release. Past it, a switchover (or
   * failback) reverts to the old primary, still holding the VIP; a failover keeps waiting, since
   * the VIP is never granted to a second reachable host, and says so (TransitionStalled).
   */
  static final Duration RELEASE_PATIENCE = Duration.ofSeconds(15);
  static final String RELEASE_FAILED = "VipReleaseFailed";
  /**
   * A pod epoch above this is forged and ignored (2^53, the largest integer every JSON client
   * keeps exactly): outgrowing it would soon overflow. Real epochs grow by one per role change.
   */
  static final long MAX_EPOCH = 1L << 53;
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private PairDecider() {}

  public static Plan decide(PairFacts facts) {
    return new Run(facts).decide();
  }

  /** The pods a status names (primary, backup, a transition's ends), which may have left spec.servers. */
  public static Set<String> namedInStatus(SipServerPairStatus s) {
    Set<String> out = new LinkedHashSet<>();
    if (s != null) {
      for (String n : new String[] {s.primary, s.backup, s.transition == null ? null : s.transition.from,
          s.transition == null ? null : s.transition.to}) {
        if (n != null) {
          out.add(n);
        }
      }
    }
    return out;
  }

  static String json(SipServerPairSpec spec) {
    try {
      return JSON.writeValueAsString(spec);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * When the transition's current step began, for its deadline: as this process observed it
   * ({@link PairFacts#stepObservedAt}), or, for a step this very decision started or when the
   * shell does not say, as the status says.
   */
  static Instant stepSince(PairFacts f, Transition t) {
    Instant written = t.stepStartedAt == null ? Instant.parse(t.startedAt) : Instant.parse(t.stepStartedAt);
    Transition before = f.status() == null ? null : f.status().transition;
    boolean sameStep = before != null && before.epoch == t.epoch && before.step == t.step;
    return sameStep && f.stepObservedAt() != null ? f.stepObservedAt() : written;
  }

  /** The highest epoch of these: {@code floor}, or a pod's (forged ones above {@link #MAX_EPOCH} ignored). */
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

  static SipServerPairStatus copy(SipServerPairStatus s) {
    return s == null ? new SipServerPairStatus() : JSON.convertValue(s, SipServerPairStatus.class);
  }

  /** One decision: a working copy of the status and what was found on the way. */
  private static final class Run {
    private final PairFacts f;
    private final Instant now;
    private final SipServerPairStatus st;
    private final List<Note> events = new ArrayList<>();
    private final List<String> toLabel = new ArrayList<>();
    private Instant recheckAt;
    private SipServerPairSpec spec;
    private Duration nodeLoss;
    private String degradedWhy;
    private String refusedWhy;
    private String invalidWhy;
    private String servingWhy;
    private String stalledWhy;

    Run(PairFacts f) {
      this.f = f;
      this.now = f.now();
      this.st = copy(f.status());
    }

    Plan decide() {
      st.observedGeneration = f.generation();
      acknowledgementSeenGoingBy();
      SpecValidator.Outcome outcome = SpecValidator.validate(f.spec(), f.allowed(), f.vipClaimedBy(), f.nodeAddresses());
      spec = f.spec();
      if (!outcome.valid()) {
        String msg = String.join("; ", outcome.problems());
        SipServerPairSpec last = st.epoch == 0 ? null : lastValidSpec();
        SpecValidator.Outcome lastOutcome = last == null ? null
            : SpecValidator.validate(last, f.allowed(), null, f.nodeAddresses());
        if (lastOutcome == null || !lastOutcome.valid()) {
          st.phase = Phase.Invalid;
          if (Conditions.set(st.conditions, Conditions.READY, false, "InvalidSpec", msg, now, f.generation())) {
            events.add(new Note(true, "InvalidSpec", msg));
          }
          return plan(List.of());
        }
        // keep serving on the last valid spec (failovers included), and say Invalid
        invalidWhy = msg;
        spec = last;
        outcome = lastOutcome;
      } else {
        st.lastValidSpec = json(f.spec());
      }
      nodeLoss = Duration.ofSeconds(spec.getFailover().getNodeLossSeconds());
      for (String s : spec.getServers()) {
        PodFact p = f.pod(s);
        if (p.exists() && !p.labelled()) {
          toLabel.add(s);
          events.add(new Note(false, "PodLabelled", "added label " + SipServerPair.PAIR_LABEL + "=" + f.name() + " to pod " + s));
        }
      }
      VipAddress vip = outcome.vip();
      if (st.vip == null) {
        st.vip = new VipStatus(vip.cidr(), vip.interfaceName(), null, VipStatus.State.Unbound, 0);
      }
      if (spec.isPaused() && st.transition == null) {
        st.phase = Phase.Paused;
        servingWhy = "spec.paused is true";
        if (invalidWhy == null && Conditions.set(st.conditions, Conditions.READY, false, "Paused",
            "spec.paused is true: the operator observes and reports but changes no role and no VIP", now, f.generation())) {
          events.add(new Note(false, "Paused", "spec.paused is true: no role or VIP changes until it is false"));
        }
        observeConditions();
        markInvalid();
        return plan(List.of());
      }
      if (st.transition != null && epochFloor() > st.epoch) {
        // a pod carries a newer epoch than the transition (a status write was lost): go on above it,
        // from the Release step, so that every node confirms again at the new epoch
        Transition t = st.transition;
        t.epoch = epochFloor() + 1;
        st.epoch = t.epoch;
        t.step = Transition.Step.Release;
        st.primary = null;
        if (st.vip.state != VipStatus.State.Unbound) {
          st.vip.state = VipStatus.State.Releasing;
        }
        events.add(new Note(true, "EpochRaised", t.kind + " to " + t.to + " goes on at epoch " + t.epoch
            + ", above an epoch a pod already carries"));
      }
      if (st.transition == null) {
        followVipChange(vip);
        if (st.primary == null) {
          elect();
        } else {
          active();
        }
      } else {
        progress();
      }
      if (st.transition == null && epochFloor() > st.epoch && st.primary != null && othersMayHold()) {
        // a pod carries a newer epoch than the status (a status write was lost after the pods were
        // annotated) while another live node may still hold the VIP: re-granting it at once could
        // add it where the holder has dropped it (it saw the roles move) before that other node
        // confirmed: go through a release, as any move of the VIP
        String p = st.primary;
        start("Relocation", p, p, "EpochRaised", "a pod carries epoch " + epochFloor() + " above the status's "
            + st.epoch + " while another node may hold " + st.vip.address);
      } else if (st.transition == null && epochFloor() > st.epoch) {
        // a pod carries a newer epoch than the status (a status write was lost after the pods were
        // annotated): re-assert the roles above it, so that no pod's epoch ever goes back
        long raised = epochFloor() + 1;
        events.add(new Note(true, "EpochRaised", "a pod carries epoch " + epochFloor() + " above the status's "
            + st.epoch + "; roles re-asserted at epoch " + raised));
        st.epoch = raised;
        if (st.vip.state == VipStatus.State.Bound) {
          st.vip.state = VipStatus.State.Binding;
        }
      }
      summarize();
      if (spec.isPaused() && invalidWhy == null) {
        // a pause never stops a transition halfway (nobody would hold the VIP for the whole pause):
        // the one under way is finished, and only then does the pair stop changing
        String what = st.transition == null ? "the transition under way is finished"
            : "finishing the " + st.transition.kind + " to " + st.transition.to + " under way";
        st.phase = Phase.Paused;
        Conditions.set(st.conditions, Conditions.READY, false, "Paused", "spec.paused is true: " + what
            + "; then the operator observes and reports but changes no role and no VIP", now, f.generation());
      }
      markInvalid();
      return plan(roles());
    }

    // ---------------------------------------------------------------- workflows

    /** No primary yet: the desired primary if healthy, else the first healthy server. */
    private void elect() {
      String c = preferredCandidate();
      if (c != null) {
        // spec.primary counts as done only if it is the one elected; otherwise it stays a request
        st.acceptedPrimary = c.equals(spec.getPrimary()) ? c : null;
        start("Election", null, c, "Elected",
            c + " is elected primary" + (c.equals(spec.getPrimary()) ? " as spec.primary asks" : ""));
        return;
      }
      degradedWhy = "waiting for a healthy server: " + whyNoCandidate();
    }

    /** spec.primary if it is a candidate, else the first server of spec.servers that is; null if none. */
    private String preferredCandidate() {
      List<String> order = new ArrayList<>();
      if (spec.getPrimary() != null) {
        order.add(spec.getPrimary());
      }
      order.addAll(spec.getServers());
      for (String c : new LinkedHashSet<>(order)) {
        if (candidate(c)) {
          return c;
        }
      }
      return null;
    }

    /** Why no server of spec.servers is a candidate, one reason each. */
    private String whyNoCandidate() {
      List<String> waits = new ArrayList<>();
      for (String s : spec.getServers()) {
        waits.add(whyNotCandidate(s));
      }
      return String.join("; ", waits);
    }

    /** A primary holds the VIP: check for split brain, failure, switchover and failback. */
    private void active() {
      String primary = st.primary;
      if (!spec.getServers().contains(primary)) {
        leave(primary);
        return;
      }
      if (st.backup != null && !spec.getServers().contains(st.backup)) {
        st.backup = other(primary); // the backup left the pair: the other server is the backup now
      }
      String backup = other(primary);
      boolean unsettled = splitBrain(st.vip.node);
      AgentFact backupAgent = f.agent(f.pod(backup).node());
      if (backup != null && backupAgent.renewedAt() != null && backupAgent.late(now) && backupAgent.alive(now, nodeLoss)) {
        recheck(backupAgent.lostAt(nodeLoss)); // BackupReady turns False when the backup's node is lost
      }
      String[] failure = primaryFailure(primary);
      if (failure != null) {
        boolean moved = failure[0].equals("PrimaryRescheduled") || failure[0].equals("PrimaryPodRecreated");
        if (!spec.getFailover().isEnabled()) {
          degradedWhy = failure[1] + "; failover is disabled (spec.failover.enabled=false)";
        } else if (backup != null && candidate(backup)) {
          start("Failover", primary, backup, failure[0], failure[1]);
          return;
        } else if (moved && candidate(primary)) {
          // no backup to take over, but the primary itself is healthy where it now runs
          start("Relocation", primary, primary, failure[0], failure[1]);
          return;
        } else {
          degradedWhy = failure[1] + "; no failover: " + whyNotCandidate(backup);
        }
        // a manual switchover is still honoured (or refused with its reason): it is the way out
        if (!unsettled) {
          switchoverRequest(primary);
        }
        return;
      }
      if (unsettled) {
        // a returned node has not confirmed the release of its stale VIP: move nothing else yet
        return;
      }
      if (switchoverRequest(primary) || refusedWhy != null) {
        return;
      }
      failback(primary);
    }

    /**
     * The primary was taken out of spec.servers: it is demoted first, and the VIP moves to a server of
     * the pair as in a switchover (its node confirms the release before the new node binds). Until
     * one of spec.servers can take over it stays primary, and the pair says so.
     */
    private void leave(String primary) {
      String c = preferredCandidate();
      if (c != null) {
        st.acceptedPrimary = c.equals(spec.getPrimary()) ? c : st.acceptedPrimary;
        start("Switchover", primary, c, "PrimaryLeftPair", "primary pod " + primary + " is no longer in spec.servers");
        return;
      }
      degradedWhy = "primary pod " + primary + " is no longer in spec.servers but stays primary until a server of the"
          + " pair can take over: " + whyNoCandidate();
    }

    /** Returns {reason, message} when the primary has failed, else null (and schedules a look). */
    private String[] primaryFailure(String primary) {
      PodFact p = f.pod(primary);
      if (!p.exists()) {
        return new String[] {"PrimaryPodDeleted", "primary pod " + primary + " no longer exists"};
      }
      if (p.failure() != null) {
        return new String[] {"PrimaryFailed", "primary pod " + primary + " failed: " + p.failure()};
      }
      AgentFact holder = f.agent(st.vip.node);
      if (!holder.alive(now, nodeLoss)) {
        return new String[] {"NodeLost", "node " + st.vip.node + " is lost: its agent has not renewed its Lease for "
            + nodeLoss.toSeconds() + " s (spec.failover.nodeLossSeconds)"};
      }
      if (holder.late(now)) {
        recheck(holder.lostAt(nodeLoss));
      }
      if (p.node() != null && !p.node().equals(st.vip.node)) {
        return new String[] {"PrimaryRescheduled", "primary pod " + primary + " now runs on " + p.node()
            + ", not on " + st.vip.node + " where the VIP is"};
      }
      if (p.role() == null && p.epoch() == null) {
        return new String[] {"PrimaryPodRecreated", "primary pod " + primary + " was recreated and lost its role"};
      }
      if (!p.ready()) {
        Instant since = p.readySince() == null ? now : p.readySince();
        Instant deadline = since.plusSeconds(spec.getFailover().getUnreadyGraceSeconds());
        if (!now.isBefore(deadline)) {
          return new String[] {"PrimaryNotReady", "primary pod " + primary + " has been NotReady for more than "
              + spec.getFailover().getUnreadyGraceSeconds() + " s (spec.failover.unreadyGraceSeconds)"};
        }
        recheck(deadline);
      }
      return null;
    }

    /**
     * spec.primary was set to the status's primary (the acknowledgement of a failover) and then
     * back to the one it names now, both since the last decision: the acknowledgement is recorded
     * as if it had been seen on its own, whatever the phase, so that the request after it is one
     * ({@link PairFacts#primariesSeen}). Runs at every decision while the status names a primary.
     */
    private void acknowledgementSeenGoingBy() {
      String wanted = f.spec() == null ? null : f.spec().getPrimary();
      String primary = st.primary;
      if (wanted != null && primary != null && !wanted.equals(primary) && wanted.equals(st.acceptedPrimary)
          && f.primariesSeen().contains(primary)) {
        st.acceptedPrimary = primary;
      }
    }

    /** spec.primary differs from the last accepted request: switch over, or refuse and say why. */
    private boolean switchoverRequest(String primary) {
      String wanted = spec.getPrimary();
      if (wanted == null || wanted.equals(st.acceptedPrimary)) {
        return false;
      }
      if (wanted.equals(primary)) {
        st.acceptedPrimary = wanted;
        return false;
      }
      if (!candidate(wanted)) {
        refusedWhy = "spec.primary asks for " + wanted + " but " + whyNotCandidate(wanted)
            + "; nothing was changed, and the switchover starts once it is healthy";
        return false;
      }
      st.acceptedPrimary = wanted;
      start("Switchover", primary, wanted, "SwitchoverRequested", "spec.primary changed to " + wanted);
      return true;
    }

    private void failback(String primary) {
      if (bindRefusalStands()) {
        Conditions.remove(st.conditions, Conditions.FAILBACK_PENDING);
        return;
      }
      String wanted = spec.getPrimary();
      if (wanted == null || wanted.equals(primary) || !wanted.equals(st.acceptedPrimary)) {
        Conditions.remove(st.conditions, Conditions.FAILBACK_PENDING);
        return;
      }
      if (spec.getFailback() == FailbackMode.Manual) {
        Conditions.set(st.conditions, Conditions.FAILBACK_PENDING, true, "FailbackManual",
            primary + " is primary since a failover while spec.primary names " + wanted
                + "; failback is Manual: set spec.primary to " + primary
                + " to acknowledge, and change it later to switch over", now, f.generation());
        return;
      }
      PodFact p = f.pod(wanted);
      if (!candidate(wanted)) {
        Conditions.set(st.conditions, Conditions.FAILBACK_PENDING, true, "WaitingForServer",
            "failback to " + wanted + " waits: " + whyNotCandidate(wanted), now, f.generation());
        return;
      }
      // Ready for the delay, counted no earlier than the last transition (a pod on a node that was
      // lost keeps an old Ready time that says nothing about the time since it came back)
      Instant since = p.readySince() == null ? now : p.readySince();
      Instant lastChange = lastTransitionEnd();
      if (lastChange != null && lastChange.isAfter(since)) {
        since = lastChange;
      }
      Instant at = since.plusSeconds(spec.getFailover().getFailbackDelaySeconds());
      if (now.isBefore(at)) {
        Conditions.set(st.conditions, Conditions.FAILBACK_PENDING, true, "FailbackScheduled",
            "switching back to " + wanted + " once it has been Ready for "
                + spec.getFailover().getFailbackDelaySeconds() + " s", now, f.generation());
        recheck(at);
        return;
      }
      Conditions.remove(st.conditions, Conditions.FAILBACK_PENDING);
      start("Failback", primary, wanted, "FailbackAutomatic",
          wanted + " has been Ready for " + spec.getFailover().getFailbackDelaySeconds() + " s; failback is Automatic");
    }

    /** Starts a role change at the next epoch. The old holder releases the VIP first. */
    private void start(String kind, String from, String to, String reason, String message) {
      Transition t = new Transition();
      t.kind = kind;
      t.from = from;
      t.to = to;
      t.fromNode = st.vip.node;
      t.toNode = f.pod(to).node();
      t.epoch = epochFloor() + 1;
      t.step = Transition.Step.Release;
      t.reason = reason;
      t.startedAt = now.toString();
      t.stepStartedAt = t.startedAt;
      st.epoch = t.epoch;
      st.transition = t;
      st.primary = null;
      st.backup = other(to);
      events.add(new Note(!kind.equals("Switchover") && !kind.equals("Election"), kind + "Started",
          message + ": " + (from == null ? "" : from + " demoted to backup, ") + to
              + " to be primary on " + t.toNode + " at epoch " + t.epoch));
      release(t);
    }

    private void progress() {
      Transition t = st.transition;
      PodFact to = f.pod(t.to);
      boolean targetGone = !to.exists() || to.failure() != null || !Objects.equals(to.node(), t.toNode);
      boolean targetNodeLost = t.step == Transition.Step.Bind && !f.agent(t.toNode).alive(now, nodeLoss);
      if (targetGone || targetNodeLost) {
        String why = targetGone ? whyNotCandidate(t.to) : "node " + t.toNode + " is lost";
        events.add(new Note(true, t.kind + "Aborted", t.kind + " to " + t.to + " at epoch " + t.epoch
            + " aborted: " + why));
        String alternative = other(t.to);
        st.transition = null;
        if (t.kind.equals("Switchover") || t.kind.equals("Failback")) {
          // the request is not done: it stays pending (refused with its reason until possible)
          st.acceptedPrimary = t.from;
        }
        if (t.step == Transition.Step.Bind) {
          st.vip.node = t.toNode;
          st.vip.state = VipStatus.State.Releasing;
        }
        if (spec.getFailover().isEnabled() && alternative != null && candidate(alternative)) {
          start("Failover", t.to, alternative, targetGone ? "PrimaryFailed" : "NodeLost", why);
        } else {
          st.primary = null;
          degradedWhy = why;
        }
        return;
      }
      if (t.step == Transition.Step.Release) {
        release(t);
      } else {
        splitBrain(t.toNode);
        bind(t);
      }
    }

    /** Waits until every node that may hold the VIP confirmed its release, or is lost. */
    private void release(Transition t) {
      Set<String> mayHold = new LinkedHashSet<>();
      if (st.vip.node != null && st.vip.state != VipStatus.State.Unbound) {
        mayHold.add(st.vip.node);
      }
      f.agents().values().stream()
          .filter(a -> a.alive(now, nodeLoss) && a.report() != null
              && (!a.report().is(VipReport.State.Unbound) || a.report().alsoHolds(st.vip.address)))
          .forEach(a -> mayHold.add(a.node()));
      // a node declared lost that is reachable again must confirm at the new epoch like any other
      st.fenced.stream().filter(e -> f.agent(e.node).alive(now, nodeLoss)).forEach(e -> mayHold.add(e.node));
      List<String> waiting = new ArrayList<>();
      for (String node : mayHold) {
        AgentFact a = f.agent(node);
        if (!a.alive(now, nodeLoss)) {
          fence(node, podOn(node, t.from), t.epoch - 1);
          continue;
        }
        VipReport r = a.report();
        if (r != null && r.is(VipReport.State.Unbound) && r.epoch() >= t.epoch && VipReport.isAbout(r, st.vip.address)
            && !r.alsoHolds(st.vip.address)) {
          continue; // confirmed: a report about another address says nothing of this one
        }
        waiting.add(node);
        recheck(a.lostAt(nodeLoss));
      }
      if (!waiting.isEmpty()) {
        st.vip.node = waiting.get(0);
        st.vip.state = VipStatus.State.Releasing;
        releaseDeadline(t, waiting);
        return;
      }
      if (t.fromNode != null) {
        events.add(new Note(false, "VipReleased", st.vip.address + " released by " + t.fromNode
            + (f.agent(t.fromNode).alive(now, nodeLoss) ? " (confirmed by its agent)"
            : lostWhy(t.fromNode))));
      }
      t.step = Transition.Step.Bind;
      t.stepStartedAt = now.toString();
      st.primary = t.to;
      st.backup = other(t.to);
      st.vip.node = t.toNode;
      st.vip.state = VipStatus.State.Binding;
      recheck(f.agent(t.toNode).lostAt(nodeLoss));
    }

    /**
     * Past {@link #RELEASE_PATIENCE} with live nodes that have not confirmed the release: a
     * switchover or failback whose only holder left is the old primary's node gives the role back
     * to the old primary there (the VIP never left that node) and is refused with the node's
     * error; anything else keeps waiting (granting the VIP elsewhere could put it on two reachable
     * hosts) and says so in TransitionStalled, with the way out.
     */
    private void releaseDeadline(Transition t, List<String> waiting) {
      Instant since = stepSince(t);
      Instant deadline = since.plus(RELEASE_PATIENCE);
      if (now.isBefore(deadline)) {
        recheck(deadline);
        return;
      }
      String why = waiting.stream().map(n -> scriptError(n, failedAt(f.agent(n).report(), t.epoch),
          "has not confirmed the release")).reduce((a, b) -> a + "; " + b).orElse("");
      boolean revertible = (t.kind.equals("Switchover") || t.kind.equals("Failback")) && t.from != null
          && !t.from.equals(t.to) && candidate(t.from) && waiting.equals(List.of(String.valueOf(t.fromNode)))
          && t.fromNode.equals(f.pod(t.from).node());
      if (!revertible) {
        stalled("ReleaseStalled", t.kind + " to " + t.to + " at epoch " + t.epoch + " waits beyond "
            + RELEASE_PATIENCE.toSeconds() + " s: " + why + ". The VIP is not granted to another host while "
            + "a reachable node may hold it: fix the script or the interface there, or stop that node (once its "
            + "agent is silent for spec.failover.nodeLossSeconds the VIP moves)");
        return;
      }
      events.add(new Note(true, t.kind + "Aborted", t.kind + " to " + t.to + " at epoch " + t.epoch + " aborted after "
          + RELEASE_PATIENCE.toSeconds() + " s: " + why + "; " + t.from + " takes the role back on " + t.fromNode));
      if (t.to.equals(spec.getPrimary())) {
        st.acceptedPrimary = t.to; // done with, as refused: not retried until spec.primary changes
        Conditions.set(st.conditions, Conditions.SWITCHOVER_REFUSED, true, RELEASE_FAILED,
            "spec.primary asks for " + t.to + " but " + why + "; " + t.from + " stays primary. Fix the script or"
                + " the interface on " + t.fromNode + ", then change spec.primary again", now, f.generation());
      }
      // the VIP never left the old node: give it back the role at a new epoch, nothing to release
      st.transition = null;
      st.epoch = epochFloor() + 1;
      st.primary = t.from;
      st.backup = other(t.from);
      st.vip.node = t.fromNode;
      st.vip.state = VipStatus.State.Binding;
      HistoryEntry h = new HistoryEntry();
      h.epoch = st.epoch;
      h.kind = "Revert";
      h.from = t.to;
      h.to = t.from;
      h.reason = RELEASE_FAILED;
      h.startedAt = t.startedAt;
      h.durationMillis = Math.max(0, Duration.between(Instant.parse(t.startedAt), now).toMillis());
      addHistory(h);
    }

    private Instant stepSince(Transition t) {
      return PairDecider.stepSince(f, t);
    }

    /** The report if it says its script failed at this epoch, else null. */
    private static VipReport failedAt(VipReport r, long epoch) {
      return r != null && r.epoch() == epoch && r.is(VipReport.State.Failed) ? r : null;
    }

    /**
     * Why a node does not do its step, for a person: "vip-disable keeps failing on node node-a (exit
     * code 2): ..." from a failed report, else "node node-a {otherwise} although its agent renews
     * its Lease ...".
     */
    private static String scriptError(String node, VipReport failed, String otherwise) {
      if (failed != null) {
        return failed.script() + " keeps failing on node " + node + " (exit code " + failed.exitCode() + "): "
            + failed.message();
      }
      return "node " + node + " " + otherwise + " although its agent renews its Lease (its scripts or its work loop"
          + " may be stuck)";
    }

    private SipServerPairSpec lastValidSpec() {
      try {
        return st.lastValidSpec == null ? null : JSON.readValue(st.lastValidSpec, SipServerPairSpec.class);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        return null;
      }
    }

    /** The spec is invalid but the pair serves on its last valid one: phase Invalid, Ready names the fields. */
    private void markInvalid() {
      if (invalidWhy == null) {
        return;
      }
      st.phase = Phase.Invalid;
      String msg = invalidWhy + "; the pair keeps serving on its last valid spec"
          + (servingWhy == null ? "" : " (" + servingWhy + ")");
      boolean wasInvalid = Conditions.find(st.conditions, Conditions.READY).map(c -> "InvalidSpec".equals(c.reason)
          && c.message.startsWith(invalidWhy)).orElse(false);
      Conditions.set(st.conditions, Conditions.READY, false, "InvalidSpec", msg, now, f.generation());
      if (!wasInvalid) {
        events.add(new Note(true, "InvalidSpec", invalidWhy + "; the pair keeps serving on its last valid spec"));
      }
    }

    private void stalled(String reason, String message) {
      stalledWhy = message;
      if (Conditions.set(st.conditions, Conditions.TRANSITION_STALLED, true, reason, message, now, f.generation())) {
        events.add(new Note(true, reason, message));
      }
    }

    /** Waits until the new primary's node confirms the VIP at the transition's epoch. */
    private void bind(Transition t) {
      AgentFact a = f.agent(t.toNode);
      recheck(a.lostAt(nodeLoss));
      VipReport r = a.report();
      if (r == null || r.epoch() != t.epoch || !r.is(VipReport.State.Bound) || !st.vip.address.equals(r.address())) {
        // not bound yet: a Failed report, or no word at all from a node whose agent renews its Lease
        giveUpIfBindKeepsFailing(t, r);
        return;
      }
      st.vip.state = VipStatus.State.Bound;
      st.transition = null;
      long millis = Math.max(0, Duration.between(Instant.parse(t.startedAt), now).toMillis());
      HistoryEntry h = new HistoryEntry();
      h.epoch = t.epoch;
      h.kind = t.kind;
      h.from = t.from;
      h.to = t.to;
      h.reason = t.reason;
      h.startedAt = t.startedAt;
      h.durationMillis = millis;
      addHistory(h);
      events.add(new Note(false, t.kind + "Completed", t.to + " is primary and " + st.vip.address
          + " is bound on " + t.toNode + " at epoch " + t.epoch + ", " + millis + " ms after the start"));
    }

    /**
     * The new primary's node keeps failing to bind (its script fails there): after BIND_PATIENCE,
     * if the old primary is still healthy, it takes the role back, so that the pair does not stay
     * without a primary. A requested switchover is then refused with the script's error until
     * spec.primary changes again; it is not retried by itself (that would flap the roles).
     */
    private void giveUpIfBindKeepsFailing(Transition t, VipReport r) {
      Instant since = stepSince(t);
      Instant deadline = since.plus(BIND_PATIENCE);
      if (now.isBefore(deadline)) {
        recheck(deadline);
        return;
      }
      String why = scriptError(t.toNode, failedAt(r, t.epoch),
          "has not bound " + st.vip.address + " within " + BIND_PATIENCE.toSeconds() + " s");
      if (t.from == null || t.from.equals(t.to) || !candidate(t.from)) {
        // nobody to give the role back to: keep waiting for the node to bind, and say so
        stalled("BindStalled", t.kind + " to " + t.to + " at epoch " + t.epoch + " waits beyond "
            + BIND_PATIENCE.toSeconds() + " s: " + why + "; no other server can take the role");
        return;
      }
      events.add(new Note(true, t.kind + "Aborted", t.kind + " to " + t.to + " at epoch " + t.epoch + " aborted after "
          + BIND_PATIENCE.toSeconds() + " s: " + why + "; " + t.from + " takes the role back"));
      st.transition = null;
      st.vip.node = t.toNode;
      st.vip.state = VipStatus.State.Releasing;
      if (t.to.equals(spec.getPrimary())) {
        st.acceptedPrimary = t.to; // done with, as refused: not retried until spec.primary changes
        Conditions.set(st.conditions, Conditions.SWITCHOVER_REFUSED, true, BIND_FAILED,
            "spec.primary asks for " + t.to + " but " + why + "; " + t.from + " stays primary. Fix the"
                + " script or the interface on " + t.toNode + ", then change spec.primary again", now, f.generation());
      }
      start("Failover", t.to, t.from, BIND_FAILED, why);
    }

    /** " (node lost: nothing run there)", with the reason when it is not a plain missed renewal. */
    private String lostWhy(String node) {
      AgentFact a = f.agent(node);
      boolean plain = a.notWorking() == null && a.renewedAt() != null;
      return plain ? " (node lost: nothing run there)" : " (node lost: nothing run there; " + a.whyNotAlive(now, nodeLoss) + ")";
    }

    /** A refusal for a node that could not bind stands until spec.primary changes. */
    private boolean bindRefusalStands() {
      return Conditions.find(st.conditions, Conditions.SWITCHOVER_REFUSED)
          .map(c -> (BIND_FAILED.equals(c.reason) || RELEASE_FAILED.equals(c.reason)) && "True".equals(c.status))
          .orElse(false)
          && spec.getPrimary() != null && spec.getPrimary().equals(st.acceptedPrimary)
          && !spec.getPrimary().equals(st.primary);
    }

    /**
     * Nodes other than the true holder that report the VIP bound are stale primaries (they were
     * lost, or a forged state): their pods are already backups at the current epoch and their
     * agents remove the VIP. Once a returned node confirms, the true holder announces the VIP.
     */
    /** Returns true while a node that came back has not yet confirmed it released the VIP. */
    private boolean splitBrain(String holderNode) {
      VipReport holderReport = holderNode == null ? null : f.agent(holderNode).report();
      if (holderReport != null && holderReport.is(VipReport.State.Bound) && holderReport.epoch() == st.epoch) {
        // the true holder at the current epoch is not a stale one, whatever it was before
        st.fenced.removeIf(e -> e.node.equals(holderNode));
      }
      List<String> stale = new ArrayList<>();
      for (AgentFact a : f.agents().values()) {
        // a node whose heartbeat is ahead of its reports may have removed the VIP since that report
        // (a self-fenced primary coming back): its pairs are woken again when the reports arrive
        if (!a.node().equals(holderNode) && a.alive(now, nodeLoss) && !a.reportsBehind() && a.report() != null
            && a.report().is(VipReport.State.Bound)) {
          stale.add(a.node() + " (epoch " + a.report().epoch() + ")");
          FencedHolder e = fence(a.node(), podOn(a.node(), null), a.report().epoch());
          e.splitBrainSeen = true;
        }
      }
      boolean resolved = false;
      for (FencedHolder e : new ArrayList<>(st.fenced)) {
        AgentFact a = f.agent(e.node);
        VipReport r = a.report();
        if (!a.alive(now, nodeLoss) || r == null || !r.is(VipReport.State.Unbound) || r.epoch() < st.epoch
            || r.alsoHolds(st.vip.address)) {
          if (a.alive(now, nodeLoss)) {
            recheck(a.lostAt(nodeLoss));
          }
          continue;
        }
        st.fenced.remove(e);
        if (e.splitBrainSeen || (r.removedStaleEpoch() != null && r.removedStaleEpoch() >= e.epoch)) {
          resolved = true;
          st.vip.announce++;
          HistoryEntry h = new HistoryEntry();
          h.epoch = st.epoch;
          h.kind = "Demotion";
          h.from = e.pod;
          h.to = st.primary;
          h.reason = "StalePrimary";
          h.startedAt = now.toString();
          addHistory(h);
          events.add(new Note(false, "SplitBrainResolved", "stale primary " + (e.pod == null ? "" : e.pod + " ")
              + "on " + e.node + " (epoch " + e.epoch + ") is demoted and its node removed " + st.vip.address
              + "; " + holderNode + " announces it again"));
        }
      }
      if (!stale.isEmpty()) {
        String msg = "two VIP holders: " + String.join(", ", stale) + " besides " + holderNode
            + " at the current epoch " + st.epoch + "; the stale primary is demoted and its node removes "
            + st.vip.address;
        if (Conditions.set(st.conditions, Conditions.SPLIT_BRAIN, true, "StaleVipHolder", msg, now, f.generation())) {
          events.add(new Note(true, "SplitBrainDetected", msg));
        }
      } else if (resolved || Conditions.isTrue(st.conditions, Conditions.SPLIT_BRAIN)) {
        Conditions.set(st.conditions, Conditions.SPLIT_BRAIN, false, "Resolved",
            "the stale VIP holder was removed at epoch " + st.epoch + "; " + holderNode + " is the only holder",
            now, f.generation());
      } else if (!Conditions.find(st.conditions, Conditions.SPLIT_BRAIN).map(c -> "Resolved".equals(c.reason)).orElse(false)) {
        Conditions.set(st.conditions, Conditions.SPLIT_BRAIN, false, "SingleHolder",
            holderNode == null ? "no node holds the VIP" : "only " + holderNode + " holds the VIP", now, f.generation());
      }
      return st.fenced.stream().anyMatch(e -> f.agent(e.node).alive(now, nodeLoss));
    }

    /** A change of spec.virtualIP while a primary holds it: the holder moves to the new address. */
    private void followVipChange(VipAddress vip) {
      if (vip.cidr().equals(st.vip.address) && vip.interfaceName().equals(st.vip.interfaceName)) {
        VipReport r = f.agent(st.vip.node).report();
        if (st.vip.state == VipStatus.State.Binding && st.primary != null && r != null
            && r.is(VipReport.State.Bound) && r.epoch() == st.epoch && vip.cidr().equals(r.address())) {
          st.vip.state = VipStatus.State.Bound;
        }
        return;
      }
      events.add(new Note(false, "VipChanged", "virtual IP changes from " + st.vip.address + " dev "
          + st.vip.interfaceName + " to " + vip));
      st.vip.address = vip.cidr();
      st.vip.interfaceName = vip.interfaceName();
      if (st.vip.state == VipStatus.State.Bound) {
        st.vip.state = VipStatus.State.Binding;
      }
    }

    // ---------------------------------------------------------------- outcome

    private List<RoleAssignment> roles() {
      if (st.epoch == 0) {
        return List.of();
      }
      List<RoleAssignment> demote = new ArrayList<>();
      List<RoleAssignment> promote = new ArrayList<>();
      for (String s : spec.getServers()) {
        PodFact p = f.pod(s);
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
      leavers.removeAll(spec.getServers());
      for (String s : leavers) {
        PodFact p = f.pod(s);
        if (p.exists() && p.labelled() && !(SipServerPair.ROLE_BACKUP.equals(p.role())
            && Long.valueOf(st.epoch).equals(p.epoch())) && !s.equals(st.primary)) {
          demote.add(0, new RoleAssignment(s, SipServerPair.ROLE_BACKUP, st.epoch));
        }
      }
      demote.addAll(promote);
      return demote;
    }

    private void summarize() {
      observeConditions();
      if (stalledWhy == null) {
        Conditions.remove(st.conditions, Conditions.TRANSITION_STALLED);
      }
      Transition t = st.transition;
      if (refusedWhy != null) {
        if (Conditions.set(st.conditions, Conditions.SWITCHOVER_REFUSED, true, "TargetNotHealthy", refusedWhy, now, f.generation())) {
          events.add(new Note(true, "SwitchoverRefused", refusedWhy));
        }
      } else if (!bindRefusalStands()) {
        Conditions.remove(st.conditions, Conditions.SWITCHOVER_REFUSED);
      }
      String why;
      if (t != null) {
        st.phase = switch (t.kind) {
          case "Failover", "Relocation" -> Phase.FailingOver;
          case "Election" -> Phase.Pending;
          default -> Phase.SwitchingOver;
        };
        why = t.kind + " to " + t.to + " at epoch " + t.epoch + ": "
            + (t.step == Transition.Step.Release ? "waiting for " + st.vip.node + " to release " : "waiting for "
            + t.toNode + " to bind ") + st.vip.address + (stalledWhy == null ? "" : " (stalled: " + stalledWhy + ")");
      } else if (st.primary == null) {
        st.phase = Phase.Pending;
        why = degradedWhy == null ? "no primary yet" : degradedWhy;
      } else if (Conditions.isTrue(st.conditions, Conditions.SPLIT_BRAIN)) {
        st.phase = Phase.SplitBrain;
        why = Conditions.find(st.conditions, Conditions.SPLIT_BRAIN).get().message;
      } else if (degradedWhy != null) {
        st.phase = Phase.Degraded;
        why = degradedWhy;
      } else if (!Conditions.isTrue(st.conditions, Conditions.PRIMARY_READY)
          || !Conditions.isTrue(st.conditions, Conditions.BACKUP_READY)
          || !Conditions.isTrue(st.conditions, Conditions.VIP_BOUND)) {
        st.phase = Phase.Degraded;
        why = firstFalse();
      } else {
        st.phase = Phase.Active;
        why = st.primary + " is primary on " + st.vip.node + " with " + st.vip.address + " at epoch " + st.epoch;
      }
      if (invalidWhy != null) {
        servingWhy = why; // Ready says Invalid (markInvalid), with what the pair does meanwhile
        return;
      }
      boolean ready = st.phase == Phase.Active;
      String reason = ready ? "Active" : st.phase.name();
      boolean changed = Conditions.set(st.conditions, Conditions.READY, ready, reason, why, now, f.generation());
      if (changed && !ready && (st.phase == Phase.Degraded || st.phase == Phase.Pending) && t == null) {
        events.add(new Note(st.phase == Phase.Degraded, st.phase.name(), why));
      }
    }

    private String firstFalse() {
      for (String type : List.of(Conditions.PRIMARY_READY, Conditions.VIP_BOUND, Conditions.BACKUP_READY)) {
        var c = Conditions.find(st.conditions, type);
        if (c.isPresent() && !"True".equals(c.get().status)) {
          return c.get().message;
        }
      }
      return "degraded";
    }

    /** PrimaryReady, BackupReady and VipBound, from what is observed now. */
    private void observeConditions() {
      long g = f.generation();
      if (st.primary == null) {
        Conditions.set(st.conditions, Conditions.PRIMARY_READY, false, "NoPrimary", "no pod holds the primary role", now, g);
      } else {
        PodFact p = f.pod(st.primary);
        Conditions.set(st.conditions, Conditions.PRIMARY_READY, p.healthy(), p.healthy() ? "PodReady" : "PodNotReady",
            p.healthy() ? st.primary + " is Ready on " + p.node() : p.whyNotHealthy(), now, g);
      }
      String backup = st.backup != null ? st.backup : st.primary == null ? null : other(st.primary);
      if (backup == null) {
        Conditions.set(st.conditions, Conditions.BACKUP_READY, false, "NoBackup", "no pod holds the backup role", now, g);
      } else {
        boolean ok = candidate(backup);
        Conditions.set(st.conditions, Conditions.BACKUP_READY, ok, ok ? "PodReady" : "PodNotReady",
            ok ? backup + " is Ready on " + f.pod(backup).node() : whyNotCandidate(backup), now, g);
      }
      VipReport failed = null;
      String failedNode = null;
      for (AgentFact a : f.agents().values()) {
        if (a.report() != null && a.report().is(VipReport.State.Failed) && a.alive(now, nodeLoss)
            && a.report().epoch() == st.epoch) {
          failed = a.report();
          failedNode = a.node();
        }
      }
      VipReport holder = st.vip.node == null ? null : f.agent(st.vip.node).report();
      boolean bound = st.primary != null && st.transition == null && st.vip.state == VipStatus.State.Bound
          && holder != null && holder.is(VipReport.State.Bound) && holder.epoch() == st.epoch
          && st.vip.address.equals(holder.address());
      String reason;
      String msg;
      if (failed != null) {
        reason = "VipScriptFailed";
        msg = failed.script() + " failed on node " + failedNode + " with exit code " + failed.exitCode() + ": "
            + failed.message() + "; the agent retries with backoff";
      } else if (bound) {
        reason = "Bound";
        msg = st.vip.address + " is bound on " + st.vip.node + " at epoch " + st.epoch;
      } else if (st.vip.state == VipStatus.State.Releasing) {
        reason = "Releasing";
        msg = "waiting for " + st.vip.node + " to release " + st.vip.address;
      } else if (st.vip.state == VipStatus.State.Binding || st.vip.state == VipStatus.State.Bound) {
        reason = "Binding";
        msg = "waiting for " + st.vip.node + " to bind " + st.vip.address + " at epoch " + st.epoch;
      } else {
        reason = "NotBound";
        msg = st.vip.address + " is not bound on any node";
      }
      if (Conditions.set(st.conditions, Conditions.VIP_BOUND, bound && failed == null, reason, msg, now, g)
          && failed != null) {
        events.add(new Note(true, "VipScriptFailed", msg));
      }
    }

    private Plan plan(List<RoleAssignment> roles) {
      Duration after = recheckAt == null ? null : Duration.between(now, recheckAt);
      if (after != null && after.isNegative()) {
        after = Duration.ZERO;
      }
      return new Plan(List.copyOf(toLabel), roles, st, List.copyOf(events), after);
    }

    // ---------------------------------------------------------------- helpers

    private boolean candidate(String pod) {
      PodFact p = f.pod(pod);
      return p.healthy() && f.agent(p.node()).alive(now, nodeLoss);
    }

    private String whyNotCandidate(String pod) {
      if (pod == null) {
        return "there is no other server";
      }
      PodFact p = f.pod(pod);
      if (!p.healthy()) {
        return p.whyNotHealthy();
      }
      if (f.agent(p.node()).notWorking() != null) {
        return "the node agent on " + p.node() + " renews its Lease but does not work: " + f.agent(p.node()).notWorking();
      }
      return "the node agent on " + p.node() + " is not running (no Lease renewed in the last "
          + nodeLoss.toSeconds() + " s)";
    }

    private String other(String pod) {
      for (String s : spec.getServers()) {
        if (!s.equals(pod)) {
          return s;
        }
      }
      return null;
    }

    private String podOn(String node, String preferred) {
      if (preferred != null && node.equals(f.pod(preferred).node())) {
        return preferred;
      }
      for (String s : spec.getServers()) {
        if (node.equals(f.pod(s).node())) {
          return s;
        }
      }
      return preferred;
    }

    private FencedHolder fence(String node, String pod, long epoch) {
      for (FencedHolder e : st.fenced) {
        if (e.node.equals(node)) {
          return e;
        }
      }
      FencedHolder e = new FencedHolder(node, pod, epoch);
      st.fenced.add(e);
      return e;
    }

    /**
     * A live node other than the grantee may hold the VIP: it reports it bound or in an unknown
     * state, or it was declared lost (fenced) and has not confirmed its release since.
     */
    private boolean othersMayHold() {
      for (AgentFact a : f.agents().values()) {
        if (a.node().equals(st.vip.node) || !a.alive(now, nodeLoss)) {
          continue;
        }
        VipReport r = a.report();
        boolean fenced = st.fenced.stream().anyMatch(e -> e.node.equals(a.node()));
        if ((r != null && (!r.is(VipReport.State.Unbound) || r.alsoHolds(st.vip.address)))
            || (fenced && (r == null || r.epoch() < st.epoch))) {
          return true;
        }
      }
      return false;
    }

    /** The highest epoch seen: the status's, or a pod's if the status is behind (a lost write, a recreated pair). */
    private long epochFloor() {
      return PairDecider.epochFloor(st.epoch, f, spec.getServers());
    }

    private Instant lastTransitionEnd() {
      if (st.history.isEmpty()) {
        return null;
      }
      HistoryEntry h = st.history.get(st.history.size() - 1);
      return Instant.parse(h.startedAt).plusMillis(h.durationMillis);
    }

    private void addHistory(HistoryEntry h) {
      st.history.add(h);
      while (st.history.size() > HISTORY_LIMIT) {
        st.history.remove(0);
      }
    }

    private void recheck(Instant at) {
      if (at != null && (recheckAt == null || at.isBefore(recheckAt))) {
        recheckAt = at;
      }
    }
  }
}
