package io.sipha.decision;

import io.sipha.api.SipServerPairStatus;
import java.time.Duration;
import java.util.List;

/**
 * What the operator does next for one pair, in this order: label the pods that lack the pair label,
 * set the pods' role annotations (demotions before promotions), write the status, emit the events,
 * and look again after {@code recheckAfter} if nothing happens before.
 */
public record Plan(
    List<String> podsToLabel,
    List<RoleAssignment> roles,
    SipServerPairStatus status,
    List<Note> events,
    Duration recheckAfter) {

  /**
   * The role annotations one pod must carry; a null role clears them (the pod leaves sipha's care).
   */
  public record RoleAssignment(String pod, String role, long epoch) {}

  /** One write to one pod: the pair label and/or its role (null: none). */
  public record PodWrite(String pod, boolean label, RoleAssignment role) {}

  /**
   * The pod writes in the order they are made: one per pod, the label (where missing) and the role
   * together; pods in the order of podsToLabel, then of roles (demotions before promotions).
   */
  public List<PodWrite> podWrites() {
    java.util.Map<String, PodWrite> out = new java.util.LinkedHashMap<>();
    podsToLabel.forEach(p -> out.put(p, new PodWrite(p, true, null)));
    roles.forEach(
        r ->
            out.merge(
                r.pod(),
                new PodWrite(r.pod(), false, r),
                (a, b) -> new PodWrite(a.pod(), a.label() || b.label(), b.role())));
    return List.copyOf(out.values());
  }

  /**
   * A Kubernetes Event about the pair.
   *
   * @param what what happened
   * @param kind the transition it happened to, for {@link EventReason#Started}, {@code Aborted} and
   *     {@code Completed}; else null
   */
  public record Note(
      boolean warning, EventReason what, io.sipha.api.TransitionKind kind, String message) {
    public Note(boolean warning, EventReason what, String message) {
      this(warning, what, null, message);
    }

    /**
     * The Event's reason: the kind and what happened to it ({@code FailoverStarted}), else what
     * happened.
     */
    public String reason() {
      return kind == null ? what.name() : kind.name() + what.name();
    }
  }
}
