package io.sipha.decision;

import io.sipha.api.HistoryEntry;
import io.sipha.api.Transition;
import io.sipha.api.TransitionKind;
import io.sipha.api.VipStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The steps of a role change: it starts at the next epoch, waits in Release until every node that
 * may hold the VIP confirmed its release (or is lost), then in Bind until the new primary's node
 * confirms the VIP. Each wait has a deadline: past it the change is given back or says it is
 * stalled, never left waiting in silence.
 */
final class TransitionSteps {
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

  private final Decision d;
  private final StaleHolders staleHolders;

  TransitionSteps(Decision d, StaleHolders staleHolders) {
    this.d = d;
    this.staleHolders = staleHolders;
  }

  /** Starts a role change at the next epoch. The old holder releases the VIP first. */
  void start(TransitionKind kind, String from, String to, String reason, String message) {
    var st = d.st;
    Transition t = new Transition();
    t.kind = kind;
    t.from = from;
    t.to = to;
    t.fromNode = st.vip.node;
    t.toNode = d.pod(to).node();
    t.epoch = d.epochFloor() + 1;
    t.step = Transition.Step.Release;
    t.reason = reason;
    t.startedAt = d.now.toString();
    t.stepStartedAt = t.startedAt;
    st.epoch = t.epoch;
    st.transition = t;
    st.primary = null;
    st.backup = d.other(to);
    d.note(
        kind != TransitionKind.Switchover && kind != TransitionKind.Election,
        EventReason.Started,
        kind,
        message
            + ": "
            + (from == null ? "" : from + " demoted to backup, ")
            + to
            + " to be primary on "
            + t.toNode
            + " at epoch "
            + t.epoch);
    release(t);
  }

  /** A transition under way: abort it if its target is gone, else wait on its step. */
  void progress() {
    Transition t = d.st.transition;
    PodFact to = d.pod(t.to);
    boolean targetGone =
        !to.exists() || to.failure() != null || !Objects.equals(to.node(), t.toNode);
    boolean targetNodeLost = t.step == Transition.Step.Bind && !d.alive(t.toNode);
    if (targetGone || targetNodeLost) {
      abortForLostTarget(t, targetGone);
      return;
    }
    if (t.step == Transition.Step.Release) {
      release(t);
    } else {
      staleHolders.check(t.toNode);
      bind(t);
    }
  }

  private void abortForLostTarget(Transition t, boolean targetGone) {
    var st = d.st;
    String why = targetGone ? d.whyNotCandidate(t.to) : "node " + t.toNode + " is lost";
    d.note(
        true,
        EventReason.Aborted,
        t.kind,
        t.kind + " to " + t.to + " at epoch " + t.epoch + " aborted: " + why);
    String alternative = d.other(t.to);
    st.transition = null;
    if (t.kind.requested()) {
      // the request is not done: it stays pending (refused with its reason until possible)
      st.acceptedPrimary = t.from;
    }
    if (t.step == Transition.Step.Bind) {
      st.vip.node = t.toNode;
      st.vip.state = VipStatus.State.Releasing;
    }
    if (d.spec.getFailover().isEnabled() && alternative != null && d.candidate(alternative)) {
      start(
          TransitionKind.Failover,
          t.to,
          alternative,
          (targetGone ? PrimaryFailure.Reason.PrimaryFailed : PrimaryFailure.Reason.NodeLost)
              .name(),
          why);
    } else {
      st.primary = null;
      d.degradedWhy = why;
    }
  }

  /** Waits until every node that may hold the VIP confirmed its release, or is lost. */
  private void release(Transition t) {
    var st = d.st;
    Set<String> mayHold = new LinkedHashSet<>();
    if (st.vip.node != null && st.vip.state != VipStatus.State.Unbound) {
      mayHold.add(st.vip.node);
    }
    d.facts.agents().values().stream()
        .filter(
            a ->
                a.alive(d.now, d.nodeLoss)
                    && a.report() != null
                    && (!a.report().is(VipReport.State.Unbound)
                        || a.report().alsoHolds(st.vip.address)))
        .forEach(a -> mayHold.add(a.node()));
    // a node declared lost that is reachable again must confirm at the new epoch like any other
    st.fenced.stream().filter(e -> d.alive(e.node)).forEach(e -> mayHold.add(e.node));
    List<String> waiting = new ArrayList<>();
    for (String node : mayHold) {
      AgentFact a = d.agent(node);
      if (!a.alive(d.now, d.nodeLoss)) {
        d.fence(node, d.podOn(node, t.from), t.epoch - 1);
        continue;
      }
      VipReport r = a.report();
      if (r != null
          && r.is(VipReport.State.Unbound)
          && r.epoch() >= t.epoch
          && VipReport.isAbout(r, st.vip.address)
          && !r.alsoHolds(st.vip.address)) {
        continue; // confirmed: a report about another address says nothing of this one
      }
      waiting.add(node);
      d.recheck(a.lostAt(d.nodeLoss));
    }
    if (!waiting.isEmpty()) {
      st.vip.node = waiting.get(0);
      st.vip.state = VipStatus.State.Releasing;
      releaseDeadline(t, waiting);
      return;
    }
    if (t.fromNode != null) {
      d.note(
          false,
          EventReason.VipReleased,
          st.vip.address
              + " released by "
              + t.fromNode
              + (d.alive(t.fromNode) ? " (confirmed by its agent)" : d.lostWhy(t.fromNode)));
    }
    t.step = Transition.Step.Bind;
    t.stepStartedAt = d.now.toString();
    st.primary = t.to;
    st.backup = d.other(t.to);
    st.vip.node = t.toNode;
    st.vip.state = VipStatus.State.Binding;
    d.recheck(d.agent(t.toNode).lostAt(d.nodeLoss));
  }

  /**
   * Past {@link #RELEASE_PATIENCE} with live nodes that have not confirmed the release: a
   * switchover or failback whose only holder left is the old primary's node gives the role back to
   * the old primary there (the VIP never left that node) and is refused with the node's error;
   * anything else keeps waiting (granting the VIP elsewhere could put it on two reachable hosts)
   * and says so in TransitionStalled, with the way out.
   */
  private void releaseDeadline(Transition t, List<String> waiting) {
    Instant deadline = d.stepSince(t).plus(RELEASE_PATIENCE);
    if (d.now.isBefore(deadline)) {
      d.recheck(deadline);
      return;
    }
    String why =
        waiting.stream()
            .map(
                n ->
                    scriptError(
                        n, failedAt(d.agent(n).report(), t.epoch), "has not confirmed the release"))
            .reduce((a, b) -> a + "; " + b)
            .orElse("");
    boolean revertible =
        t.kind.requested()
            && t.from != null
            && !t.from.equals(t.to)
            && d.candidate(t.from)
            && waiting.equals(List.of(String.valueOf(t.fromNode)))
            && t.fromNode.equals(d.pod(t.from).node());
    if (!revertible) {
      stalled(
          EventReason.ReleaseStalled,
          t.kind
              + " to "
              + t.to
              + " at epoch "
              + t.epoch
              + " waits beyond "
              + RELEASE_PATIENCE.toSeconds()
              + " s: "
              + why
              + ". The VIP is not granted to another host while "
              + "a reachable node may hold it: fix the script or the interface there, or stop that node (once its "
              + "agent is silent for spec.failover.nodeLossSeconds the VIP moves)");
      return;
    }
    d.note(
        true,
        EventReason.Aborted,
        t.kind,
        t.kind
            + " to "
            + t.to
            + " at epoch "
            + t.epoch
            + " aborted after "
            + RELEASE_PATIENCE.toSeconds()
            + " s: "
            + why
            + "; "
            + t.from
            + " takes the role back on "
            + t.fromNode);
    refuseRequest(t, RELEASE_FAILED, why, t.fromNode);
    revert(t);
  }

  /** The VIP never left the old node: it gets back the role at a new epoch, nothing to release. */
  private void revert(Transition t) {
    var st = d.st;
    st.transition = null;
    st.epoch = d.epochFloor() + 1;
    st.primary = t.from;
    st.backup = d.other(t.from);
    st.vip.node = t.fromNode;
    st.vip.state = VipStatus.State.Binding;
    d.addHistory(
        new HistoryEntry(
            st.epoch,
            TransitionKind.Revert,
            t.to,
            t.from,
            RELEASE_FAILED,
            t.startedAt,
            millisSince(t.startedAt)));
  }

  /**
   * A switchover to {@code t.to} that spec.primary asks for failed on {@code node}: it is done
   * with, as refused, and not retried until spec.primary changes (that would flap the roles).
   */
  private void refuseRequest(Transition t, String reason, String why, String node) {
    if (t.to.equals(d.spec.getPrimary())) {
      d.st.acceptedPrimary = t.to;
      d.condition(
          Conditions.SWITCHOVER_REFUSED,
          true,
          reason,
          "spec.primary asks for "
              + t.to
              + " but "
              + why
              + "; "
              + t.from
              + " stays primary. Fix the script or the interface on "
              + node
              + ", then change spec.primary again");
    }
  }

  /** Waits until the new primary's node confirms the VIP at the transition's epoch. */
  private void bind(Transition t) {
    var st = d.st;
    AgentFact a = d.agent(t.toNode);
    d.recheck(a.lostAt(d.nodeLoss));
    VipReport r = a.report();
    if (r == null
        || r.epoch() != t.epoch
        || !r.is(VipReport.State.Bound)
        || !st.vip.address.equals(r.address())) {
      // not bound yet: a Failed report, or no word at all from a node whose agent renews its Lease
      giveUpIfBindKeepsFailing(t, r);
      return;
    }
    st.vip.state = VipStatus.State.Bound;
    st.transition = null;
    long millis = millisSince(t.startedAt);
    d.addHistory(new HistoryEntry(t.epoch, t.kind, t.from, t.to, t.reason, t.startedAt, millis));
    d.note(
        false,
        EventReason.Completed,
        t.kind,
        t.to
            + " is primary and "
            + st.vip.address
            + " is bound on "
            + t.toNode
            + " at epoch "
            + t.epoch
            + ", "
            + millis
            + " ms after the start");
    // the first serving decision (failure detection, NodeContact) is made at once, not on the
    // next event: what woke the pair during the transition has been spent on it
    d.recheck(d.now);
  }

  /**
   * The new primary's node keeps failing to bind (its script fails there): after BIND_PATIENCE, if
   * the old primary is still healthy, it takes the role back, so that the pair does not stay
   * without a primary. A requested switchover is then refused with the script's error until
   * spec.primary changes again; it is not retried by itself (that would flap the roles).
   */
  private void giveUpIfBindKeepsFailing(Transition t, VipReport r) {
    Instant deadline = d.stepSince(t).plus(BIND_PATIENCE);
    if (d.now.isBefore(deadline)) {
      d.recheck(deadline);
      return;
    }
    String why =
        scriptError(
            t.toNode,
            failedAt(r, t.epoch),
            "has not bound " + d.st.vip.address + " within " + BIND_PATIENCE.toSeconds() + " s");
    if (t.from == null || t.from.equals(t.to) || !d.candidate(t.from)) {
      // nobody to give the role back to: keep waiting for the node to bind, and say so
      stalled(
          EventReason.BindStalled,
          t.kind
              + " to "
              + t.to
              + " at epoch "
              + t.epoch
              + " waits beyond "
              + BIND_PATIENCE.toSeconds()
              + " s: "
              + why
              + "; no other server can take the role");
      return;
    }
    d.note(
        true,
        EventReason.Aborted,
        t.kind,
        t.kind
            + " to "
            + t.to
            + " at epoch "
            + t.epoch
            + " aborted after "
            + BIND_PATIENCE.toSeconds()
            + " s: "
            + why
            + "; "
            + t.from
            + " takes the role back");
    d.st.transition = null;
    d.st.vip.node = t.toNode;
    d.st.vip.state = VipStatus.State.Releasing;
    refuseRequest(t, BIND_FAILED, why, t.toNode);
    start(TransitionKind.Failover, t.to, t.from, BIND_FAILED, why);
  }

  private void stalled(EventReason reason, String message) {
    d.stalledWhy = message;
    if (d.condition(Conditions.TRANSITION_STALLED, true, reason.name(), message)) {
      d.note(true, reason, message);
    }
  }

  private long millisSince(String startedAt) {
    return Math.max(0, Duration.between(Instant.parse(startedAt), d.now).toMillis());
  }

  /** The report if it says its script failed at this epoch, else null. */
  private static VipReport failedAt(VipReport r, long epoch) {
    return r != null && r.epoch() == epoch && r.is(VipReport.State.Failed) ? r : null;
  }

  /**
   * Why a node does not do its step, for a person: "vip-disable keeps failing on node node-a (exit
   * code 2): ..." from a failed report, else "node node-a {otherwise} although its agent renews its
   * Lease ...".
   */
  private static String scriptError(String node, VipReport failed, String otherwise) {
    if (failed != null) {
      return failed.script()
          + " keeps failing on node "
          + node
          + " (exit code "
          + failed.exitCode()
          + "): "
          + failed.message();
    }
    return "node "
        + node
        + " "
        + otherwise
        + " although its agent renews its Lease (its scripts or its work loop"
        + " may be stuck)";
  }
}
