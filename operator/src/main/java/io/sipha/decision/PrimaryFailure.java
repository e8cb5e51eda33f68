package io.sipha.decision;

import java.time.Instant;

/**
 * Why the primary can no longer serve where the VIP is, for a person and as a reason (which becomes
 * the transition's reason).
 */
record PrimaryFailure(Reason reason, String message) {

  enum Reason {
    PrimaryPodDeleted,
    PrimaryFailed,
    NodeLost,
    PrimaryRescheduled,
    PrimaryPodRecreated,
    PrimaryNotReady;

    /** The primary still runs, healthy maybe, but not where the VIP is: it can move with it. */
    boolean moved() {
      return this == PrimaryRescheduled || this == PrimaryPodRecreated;
    }
  }

  /**
   * Failure detection: the primary's failure, or null while it serves (and then a look is scheduled
   * for when a deadline that is running out would make it one).
   */
  static PrimaryFailure of(Decision d, String primary) {
    PodFact p = d.pod(primary);
    if (!p.exists()) {
      return new PrimaryFailure(
          Reason.PrimaryPodDeleted, "primary pod " + primary + " no longer exists");
    }
    if (p.failure() != null) {
      return new PrimaryFailure(
          Reason.PrimaryFailed, "primary pod " + primary + " failed: " + p.failure());
    }
    String node = d.st.vip.node;
    String lost = NodeLoss.of(d, node);
    if (lost != null) {
      return new PrimaryFailure(Reason.NodeLost, lost);
    }
    if (p.node() != null && !p.node().equals(node)) {
      return new PrimaryFailure(
          Reason.PrimaryRescheduled,
          "primary pod "
              + primary
              + " now runs on "
              + p.node()
              + ", not on "
              + node
              + " where the VIP is");
    }
    if (p.role() == null && p.epoch() == null) {
      return new PrimaryFailure(
          Reason.PrimaryPodRecreated,
          "primary pod " + primary + " was recreated and lost its role");
    }
    if (!p.ready()) {
      int grace = d.spec.getFailover().getUnreadyGraceSeconds();
      Instant since = p.readySince() == null ? d.now : p.readySince();
      Instant deadline = since.plusSeconds(grace);
      if (!d.now.isBefore(deadline)) {
        return new PrimaryFailure(
            Reason.PrimaryNotReady,
            "primary pod "
                + primary
                + " has been NotReady for more than "
                + grace
                + " s (spec.failover.unreadyGraceSeconds)");
      }
      d.recheck(deadline);
    }
    return null;
  }
}
