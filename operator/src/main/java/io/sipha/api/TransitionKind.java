package io.sipha.api;

/** What a role change is, in a transition under way and in the history. */
public enum TransitionKind {
  /** The first primary of a pair (or after every server was lost). */
  Election,
  /** Asked for: spec.primary changed, or the primary left spec.servers. */
  Switchover,
  /** The primary failed (pod, node or readiness): the backup takes over. */
  Failover,
  /**
   * The primary stays primary but moves: it was rescheduled or recreated, and no backup could take
   * over.
   */
  Relocation,
  /** Back to spec.primary after a failover (spec.failback: Automatic). */
  Failback,
  /**
   * A switchover or failback given up: the old primary takes the role back, the VIP never left it.
   */
  Revert,
  /** A stale primary that came back holding the VIP was demoted (history only). */
  Demotion,
  /** The pair is being deleted: every holder releases the VIP before it goes. */
  Deletion;

  /** A transition of this kind is asked for by a person, not forced by a failure. */
  public boolean requested() {
    return this == Switchover || this == Failback;
  }
}
