package io.sipha.decision;

import io.sipha.api.FailbackMode;
import io.sipha.api.TransitionKind;
import java.time.Instant;

/**
 * What spec.primary asks for while a primary serves: a switchover (or its refusal, with the
 * reason), and the failback to it after a failover (Automatic after a delay, or Manual: pending
 * until acknowledged).
 */
final class SwitchoverPolicy {
  private final Decision d;
  private final TransitionSteps steps;

  SwitchoverPolicy(Decision d, TransitionSteps steps) {
    this.d = d;
    this.steps = steps;
  }

  /**
   * spec.primary was set to the status's primary (the acknowledgement of a failover) and then back
   * to the one it names now, both since the last decision: the acknowledgement is recorded as if it
   * had been seen on its own, whatever the phase, so that the request after it is one ({@link
   * PairFacts#primariesSeen}). Runs at every decision while the status names a primary.
   */
  static void acknowledgementSeenGoingBy(PairFacts f, io.sipha.api.SipServerPairStatus st) {
    String wanted = f.spec() == null ? null : f.spec().getPrimary();
    String primary = st.primary;
    if (wanted != null
        && primary != null
        && !wanted.equals(primary)
        && wanted.equals(st.acceptedPrimary)
        && f.primariesSeen().contains(primary)) {
      st.acceptedPrimary = primary;
    }
  }

  /**
   * spec.primary differs from the last accepted request: switch over (true), or refuse and say why.
   */
  boolean switchoverRequest(String primary) {
    String wanted = d.spec.getPrimary();
    if (wanted == null || wanted.equals(d.st.acceptedPrimary)) {
      return false;
    }
    if (wanted.equals(primary)) {
      d.st.acceptedPrimary = wanted;
      return false;
    }
    if (!d.candidate(wanted)) {
      d.refusedWhy =
          "spec.primary asks for "
              + wanted
              + " but "
              + d.whyNotCandidate(wanted)
              + "; nothing was changed, and the switchover starts once it is healthy";
      return false;
    }
    d.st.acceptedPrimary = wanted;
    steps.start(
        TransitionKind.Switchover,
        primary,
        wanted,
        "SwitchoverRequested",
        "spec.primary changed to " + wanted);
    return true;
  }

  /**
   * Back to spec.primary after a failover, as spec.failback says; FailbackPending says what waits.
   */
  void failback(String primary) {
    String wanted = d.spec.getPrimary();
    if (bindRefusalStands()
        || wanted == null
        || wanted.equals(primary)
        || !wanted.equals(d.st.acceptedPrimary)) {
      Conditions.remove(d.st.conditions, Conditions.FAILBACK_PENDING);
      return;
    }
    var failover = d.spec.getFailover();
    if (d.spec.getFailback() == FailbackMode.Manual) {
      d.condition(
          Conditions.FAILBACK_PENDING,
          true,
          "FailbackManual",
          primary
              + " is primary since a failover while"
              + " spec.primary names "
              + wanted
              + "; failback is Manual: set spec.primary to "
              + primary
              + " to acknowledge, and change it later to switch over");
      return;
    }
    if (!d.candidate(wanted)) {
      d.condition(
          Conditions.FAILBACK_PENDING,
          true,
          "WaitingForServer",
          "failback to " + wanted + " waits: " + d.whyNotCandidate(wanted));
      return;
    }
    // Ready for the delay, counted no earlier than the last transition (a pod on a node that was
    // lost keeps an old Ready time that says nothing about the time since it came back)
    PodFact p = d.pod(wanted);
    Instant since = p.readySince() == null ? d.now : p.readySince();
    Instant lastChange = d.lastTransitionEnd();
    if (lastChange != null && lastChange.isAfter(since)) {
      since = lastChange;
    }
    Instant at = since.plusSeconds(failover.getFailbackDelaySeconds());
    if (d.now.isBefore(at)) {
      d.condition(
          Conditions.FAILBACK_PENDING,
          true,
          "FailbackScheduled",
          "switching back to "
              + wanted
              + " once it has been Ready for "
              + failover.getFailbackDelaySeconds()
              + " s");
      d.recheck(at);
      return;
    }
    Conditions.remove(d.st.conditions, Conditions.FAILBACK_PENDING);
    steps.start(
        TransitionKind.Failback,
        primary,
        wanted,
        "FailbackAutomatic",
        wanted
            + " has been Ready for "
            + failover.getFailbackDelaySeconds()
            + " s; failback is Automatic");
  }

  /** A refusal for a node that could not bind (or release) stands until spec.primary changes. */
  boolean bindRefusalStands() {
    String wanted = d.spec.getPrimary();
    return Conditions.find(d.st.conditions, Conditions.SWITCHOVER_REFUSED)
            .map(
                c ->
                    (TransitionSteps.BIND_FAILED.equals(c.reason)
                            || TransitionSteps.RELEASE_FAILED.equals(c.reason))
                        && "True".equals(c.status))
            .orElse(false)
        && wanted != null
        && wanted.equals(d.st.acceptedPrimary)
        && !wanted.equals(d.st.primary);
  }
}
