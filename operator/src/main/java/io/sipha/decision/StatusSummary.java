package io.sipha.decision;

import io.sipha.api.Phase;
import io.sipha.api.Transition;
import io.sipha.api.VipStatus;
import java.util.List;

/**
 * The phase and the conditions, derived once at the end of a decision from what the workflows
 * found: PrimaryReady, BackupReady and VipBound from what is observed now; then the phase and
 * Ready, whose message says what the pair waits for (or what is invalid, or paused).
 */
final class StatusSummary {
  /** What the decision could do, which decides how the status is summed up. */
  enum Scope {
    /** The spec is invalid and there is no valid one to serve on: nothing was decided. */
    NothingValid,
    /** spec.paused with no transition under way: nothing was changed, only observed. */
    PausedIdle,
    /** The workflows ran. */
    Decided
  }

  private final Decision d;
  private final SwitchoverPolicy policy;

  StatusSummary(Decision d, SwitchoverPolicy policy) {
    this.d = d;
    this.policy = policy;
  }

  void derive(Scope scope, String invalidMessage) {
    switch (scope) {
      case NothingValid -> {
        d.st.phase = Phase.Invalid;
        if (d.condition(Conditions.READY, false, "InvalidSpec", invalidMessage)) {
          d.note(true, EventReason.InvalidSpec, invalidMessage);
        }
      }
      case PausedIdle -> {
        d.st.phase = Phase.Paused;
        d.servingWhy = "spec.paused is true";
        if (d.invalidWhy == null
            && d.condition(
                Conditions.READY,
                false,
                "Paused",
                "spec.paused is true: the operator observes and reports but changes no role and no VIP")) {
          d.note(
              false,
              EventReason.Paused,
              "spec.paused is true: no role or VIP changes until it is false");
        }
        observeConditions();
        markInvalid();
      }
      case Decided -> {
        summarize();
        if (d.spec.isPaused() && d.invalidWhy == null) {
          // a pause never stops a transition halfway (nobody would hold the VIP for the whole
          // pause):
          // the one under way is finished, and only then does the pair stop changing
          Transition t = d.st.transition;
          String what =
              t == null
                  ? "the transition under way is finished"
                  : "finishing the " + t.kind + " to " + t.to + " under way";
          d.st.phase = Phase.Paused;
          d.condition(
              Conditions.READY,
              false,
              "Paused",
              "spec.paused is true: "
                  + what
                  + "; then the operator observes and reports but changes no role and no VIP");
        }
        markInvalid();
      }
    }
  }

  private void summarize() {
    var st = d.st;
    observeConditions();
    if (d.stalledWhy == null) {
      Conditions.remove(st.conditions, Conditions.TRANSITION_STALLED);
    }
    if (d.contact == null) {
      Conditions.remove(st.conditions, Conditions.NODE_CONTACT);
    } else {
      d.condition(Conditions.NODE_CONTACT, d.contact.ok(), d.contact.reason(), d.contact.message());
    }
    if (d.refusedWhy != null) {
      if (d.condition(Conditions.SWITCHOVER_REFUSED, true, "TargetNotHealthy", d.refusedWhy)) {
        d.note(true, EventReason.SwitchoverRefused, d.refusedWhy);
      }
    } else if (!policy.bindRefusalStands()) {
      Conditions.remove(st.conditions, Conditions.SWITCHOVER_REFUSED);
    }
    Transition t = st.transition;
    String why = phaseAndWhy();
    if (d.invalidWhy != null) {
      d.servingWhy = why; // Ready says Invalid (markInvalid), with what the pair does meanwhile
      return;
    }
    boolean ready = st.phase == Phase.Active;
    boolean changed = d.condition(Conditions.READY, ready, ready ? "Active" : st.phase.name(), why);
    if (changed
        && !ready
        && t == null
        && (st.phase == Phase.Degraded || st.phase == Phase.Pending)) {
      d.note(
          st.phase == Phase.Degraded,
          st.phase == Phase.Degraded ? EventReason.Degraded : EventReason.Pending,
          why);
    }
  }

  /** Sets the phase from the transition, the primary and the conditions; returns why, for Ready. */
  private String phaseAndWhy() {
    var st = d.st;
    Transition t = st.transition;
    if (t != null) {
      st.phase =
          switch (t.kind) {
            case Failover, Relocation -> Phase.FailingOver;
            case Election -> Phase.Pending;
            default -> Phase.SwitchingOver;
          };
      return t.kind
          + " to "
          + t.to
          + " at epoch "
          + t.epoch
          + ": "
          + (t.step == Transition.Step.Release
              ? "waiting for " + st.vip.node + " to release "
              : "waiting for " + t.toNode + " to bind ")
          + st.vip.address
          + (d.stalledWhy == null ? "" : " (stalled: " + d.stalledWhy + ")");
    }
    if (st.primary == null) {
      st.phase = Phase.Pending;
      return d.degradedWhy == null ? "no primary yet" : d.degradedWhy;
    }
    if (Conditions.isTrue(st.conditions, Conditions.SPLIT_BRAIN)) {
      st.phase = Phase.SplitBrain;
      return Conditions.find(st.conditions, Conditions.SPLIT_BRAIN).get().message;
    }
    if (d.degradedWhy != null) {
      st.phase = Phase.Degraded;
      return d.degradedWhy;
    }
    if (!Conditions.isTrue(st.conditions, Conditions.PRIMARY_READY)
        || !Conditions.isTrue(st.conditions, Conditions.BACKUP_READY)
        || !Conditions.isTrue(st.conditions, Conditions.VIP_BOUND)) {
      st.phase = Phase.Degraded;
      return firstFalse();
    }
    st.phase = Phase.Active;
    return st.primary
        + " is primary on "
        + st.vip.node
        + " with "
        + st.vip.address
        + " at epoch "
        + st.epoch;
  }

  private String firstFalse() {
    for (String type :
        List.of(Conditions.PRIMARY_READY, Conditions.VIP_BOUND, Conditions.BACKUP_READY)) {
      var c = Conditions.find(d.st.conditions, type);
      if (c.isPresent() && !"True".equals(c.get().status)) {
        return c.get().message;
      }
    }
    return "degraded";
  }

  /**
   * The spec is invalid but the pair serves on its last valid one: phase Invalid, Ready names the
   * fields.
   */
  private void markInvalid() {
    String invalidWhy = d.invalidWhy;
    if (invalidWhy == null) {
      return;
    }
    d.st.phase = Phase.Invalid;
    String msg =
        invalidWhy
            + "; the pair keeps serving on its last valid spec"
            + (d.servingWhy == null ? "" : " (" + d.servingWhy + ")");
    boolean wasInvalid =
        Conditions.find(d.st.conditions, Conditions.READY)
            .map(c -> "InvalidSpec".equals(c.reason) && c.message.startsWith(invalidWhy))
            .orElse(false);
    d.condition(Conditions.READY, false, "InvalidSpec", msg);
    if (!wasInvalid) {
      d.note(
          true,
          EventReason.InvalidSpec,
          invalidWhy + "; the pair keeps serving on its last valid spec");
    }
  }

  /** PrimaryReady, BackupReady and VipBound, from what is observed now. */
  private void observeConditions() {
    var st = d.st;
    if (st.primary == null) {
      d.condition(Conditions.PRIMARY_READY, false, "NoPrimary", "no pod holds the primary role");
    } else {
      PodFact p = d.pod(st.primary);
      d.condition(
          Conditions.PRIMARY_READY,
          p.healthy(),
          p.healthy() ? "PodReady" : "PodNotReady",
          p.healthy() ? st.primary + " is Ready on " + p.node() : p.whyNotHealthy());
    }
    String backup = st.backup != null ? st.backup : st.primary == null ? null : d.other(st.primary);
    if (backup == null) {
      d.condition(Conditions.BACKUP_READY, false, "NoBackup", "no pod holds the backup role");
    } else {
      boolean ok = d.candidate(backup);
      d.condition(
          Conditions.BACKUP_READY,
          ok,
          ok ? "PodReady" : "PodNotReady",
          ok ? backup + " is Ready on " + d.pod(backup).node() : d.whyNotCandidate(backup));
    }
    vipBound();
  }

  private void vipBound() {
    var st = d.st;
    VipReport failed = null;
    String failedNode = null;
    for (AgentFact a : d.facts.agents().values()) {
      if (a.report() != null
          && a.report().is(VipReport.State.Failed)
          && a.alive(d.now, d.nodeLoss)
          && a.report().epoch() == st.epoch) {
        failed = a.report();
        failedNode = a.node();
      }
    }
    VipReport holder = st.vip.node == null ? null : d.agent(st.vip.node).report();
    boolean bound =
        st.primary != null
            && st.transition == null
            && st.vip.state == VipStatus.State.Bound
            && holder != null
            && holder.is(VipReport.State.Bound)
            && holder.epoch() == st.epoch
            && st.vip.address.equals(holder.address());
    String reason;
    String msg;
    if (failed != null) {
      reason = "VipScriptFailed";
      msg =
          failed.script()
              + " failed on node "
              + failedNode
              + " with exit code "
              + failed.exitCode()
              + ": "
              + failed.message()
              + "; the agent retries with backoff";
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
    if (d.condition(Conditions.VIP_BOUND, bound && failed == null, reason, msg) && failed != null) {
      d.note(true, EventReason.VipScriptFailed, msg);
    }
  }
}
