package io.sipha.api;

/** The pair's phase, as shown by kubectl get ssp. */
public enum Phase {
  Pending,
  Active,
  SwitchingOver,
  FailingOver,
  Degraded,
  SplitBrain,
  Paused,
  Invalid,
  /** The pair is being deleted: its VIP is released and its pods' roles cleared before it goes. */
  Deleting
}
