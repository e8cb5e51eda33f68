package io.sipha.decision;

import io.sipha.api.Condition;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Keeps a list of conditions the Kubernetes way: lastTransitionTime moves only on a change of
 * status.
 */
public final class Conditions {
  public static final String READY = "Ready";
  public static final String PRIMARY_READY = "PrimaryReady";
  public static final String BACKUP_READY = "BackupReady";
  public static final String VIP_BOUND = "VipBound";
  public static final String SPLIT_BRAIN = "SplitBrain";
  public static final String SWITCHOVER_REFUSED = "SwitchoverRefused";
  public static final String FAILBACK_PENDING = "FailbackPending";

  /** A step of a transition is past its deadline: True says which node does not act, and why. */
  public static final String TRANSITION_STALLED = "TransitionStalled";

  /**
   * What the operator sees of the VIP holder's node through its two observers, the peer agent (over
   * the peer channel) and its own evidence (probe, Lease); set while the peer channel says
   * something of the holder, or while an observer disagrees.
   */
  public static final String NODE_CONTACT = "NodeContact";

  private Conditions() {}

  public static Optional<Condition> find(List<Condition> list, String type) {
    return list.stream().filter(c -> type.equals(c.type)).findFirst();
  }

  public static boolean isTrue(List<Condition> list, String type) {
    return find(list, type).map(c -> "True".equals(c.status)).orElse(false);
  }

  /** Sets a condition; returns true when its status, reason or message changed. */
  public static boolean set(
      List<Condition> list,
      String type,
      boolean status,
      String reason,
      String message,
      Instant now,
      long generation) {
    String s = status ? "True" : "False";
    Condition c = find(list, type).orElse(null);
    if (c == null) {
      c = new Condition(type, s, reason, message);
      c.lastTransitionTime = now.toString();
      c.observedGeneration = generation;
      list.add(c);
      return true;
    }
    boolean changed = !s.equals(c.status) || !reason.equals(c.reason) || !message.equals(c.message);
    if (!s.equals(c.status)) {
      c.lastTransitionTime = now.toString();
    }
    c.status = s;
    c.reason = reason;
    c.message = message;
    c.observedGeneration = generation;
    return changed;
  }

  public static void remove(List<Condition> list, String type) {
    list.removeIf(c -> type.equals(c.type));
  }
}
