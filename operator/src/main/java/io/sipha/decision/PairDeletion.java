package io.sipha.decision;

import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.Transition;
import io.sipha.api.TransitionKind;
import io.sipha.api.VipStatus;
import io.sipha.decision.Plan.Note;
import io.sipha.decision.Plan.RoleAssignment;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What deleting a pair does before its finalizer is removed: both pods are demoted and the VIP is
 * released at a new epoch, every node that may hold it confirms (or is lost), and only then are the
 * pods' role annotations cleared and the pair let go. A node that does not confirm within {@link
 * TransitionSteps#RELEASE_PATIENCE} does not keep the pair forever: it is let go with a Warning,
 * and that node's agent goes on removing the address of a pair that is gone.
 */
public final class PairDeletion {
  private PairDeletion() {}

  /**
   * @param plan the writes to make now
   * @param released the VIP is confirmed gone everywhere (or given up on): clear the roles with
   *     this plan and let the pair go
   */
  public record Outcome(Plan plan, boolean released) {}

  public static Outcome decide(PairFacts f) {
    Instant now = f.now();
    SipServerPairStatus st = PairDecider.copy(f.status());
    List<Note> events = new ArrayList<>();
    Set<String> pods = new LinkedHashSet<>();
    if (f.spec() != null && f.spec().getServers() != null) {
      f.spec().getServers().stream().filter(s -> s != null).forEach(pods::add);
    }
    pods.addAll(PairDecider.namedInStatus(f.status()));
    Duration nodeLoss =
        Duration.ofSeconds(
            f.spec() == null || f.spec().getFailover() == null
                ? 3
                : f.spec().getFailover().getNodeLossSeconds());
    boolean elected = st.vip != null && st.epoch > 0;
    if (elected && (st.transition == null || st.transition.kind != TransitionKind.Deletion)) {
      // start: nobody primary, the VIP released at a new epoch that every holder must confirm
      Transition t = new Transition();
      t.kind = TransitionKind.Deletion;
      t.from = st.primary;
      t.fromNode = st.vip.node;
      t.epoch = PairDecider.epochFloor(st.epoch, f, pods) + 1;
      t.step = Transition.Step.Release;
      t.reason = "PairDeleted";
      t.startedAt = now.toString();
      t.stepStartedAt = t.startedAt;
      st.transition = t;
      st.epoch = t.epoch;
      st.primary = null;
      st.backup = null;
      if (st.vip.state != VipStatus.State.Unbound) {
        st.vip.state = VipStatus.State.Releasing;
      }
      events.add(
          new Note(
              false,
              EventReason.Started,
              TransitionKind.Deletion,
              "the pair is being deleted: both pods are demoted and "
                  + st.vip.address
                  + " is released at epoch "
                  + st.epoch
                  + " before the pair goes"));
    }
    List<String> waiting = new ArrayList<>();
    if (elected) {
      for (AgentFact a : f.agents().values()) {
        if (!a.alive(now, nodeLoss)) {
          continue;
        }
        VipReport r = a.report();
        boolean mayHold =
            a.node().equals(st.vip.node) && st.vip.state != VipStatus.State.Unbound
                || (r != null && !r.is(VipReport.State.Unbound));
        boolean confirmed = r != null && r.is(VipReport.State.Unbound) && r.epoch() >= st.epoch;
        if (mayHold && !confirmed) {
          waiting.add(a.node());
        }
      }
    }
    Instant deadline =
        elected
            ? PairDecider.stepSince(f, st.transition).plus(TransitionSteps.RELEASE_PATIENCE)
            : now;
    boolean released = waiting.isEmpty() || !now.isBefore(deadline);
    if (!waiting.isEmpty() && released) {
      events.add(
          new Note(
              true,
              EventReason.VipReleaseTimedOut,
              String.join(", ", waiting)
                  + " did not confirm the release of "
                  + st.vip.address
                  + " within "
                  + TransitionSteps.RELEASE_PATIENCE.toSeconds()
                  + " s; the pair is deleted all the"
                  + " same and the agent there goes on removing the address of a pair that is gone"));
    }
    st.phase = Phase.Deleting;
    String msg =
        released
            ? "the pair is deleted: roles cleared"
                + (elected ? ", " + st.vip.address + " released" : "")
            : "the pair is being deleted: waiting for "
                + String.join(", ", waiting)
                + " to release "
                + st.vip.address;
    Conditions.set(st.conditions, Conditions.READY, false, "Deleting", msg, now, f.generation());
    if (released && elected) {
      st.vip.state = VipStatus.State.Unbound;
      events.add(new Note(false, EventReason.Completed, TransitionKind.Deletion, msg));
    }
    List<RoleAssignment> roles = new ArrayList<>();
    for (String name : pods) {
      PodFact p = f.pod(name);
      if (!p.exists() || !p.labelled()) {
        continue; // gone, or not ours (it carries another pair's label)
      }
      if (released) {
        if (p.role() != null || p.epoch() != null) {
          roles.add(new RoleAssignment(name, null, 0)); // cleared
        }
      } else if (!SipServerPair.ROLE_BACKUP.equals(p.role())
          || !Long.valueOf(st.epoch).equals(p.epoch())) {
        roles.add(new RoleAssignment(name, SipServerPair.ROLE_BACKUP, st.epoch));
      }
    }
    Duration untilDeadline = Duration.between(now, deadline);
    // look again every second for the confirmations, and at the deadline
    Duration recheck =
        released
            ? null
            : untilDeadline.isNegative()
                ? Duration.ZERO
                : untilDeadline.compareTo(Duration.ofSeconds(1)) < 0
                    ? untilDeadline
                    : Duration.ofSeconds(1);
    return new Outcome(new Plan(List.of(), roles, st, events, recheck), released);
  }
}
