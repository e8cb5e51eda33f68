package io.sipha.decision;

/**
 * What a Kubernetes Event about a pair says happened. {@link #Started}, {@link #Aborted} and {@link
 * #Completed} go with a transition kind ({@code FailoverStarted}); the others stand alone.
 */
public enum EventReason {
  Started,
  Aborted,
  Completed,
  PodLabelled,
  InvalidSpec,
  Paused,
  Pending,
  Degraded,
  EpochRaised,
  VipChanged,
  VipReleased,
  VipReleaseTimedOut,
  VipScriptFailed,
  ReleaseStalled,
  BindStalled,
  SwitchoverRefused,
  SplitBrainDetected,
  SplitBrainResolved
}
