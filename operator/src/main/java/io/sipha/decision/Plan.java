package io.sipha.decision;

import io.sipha.api.SipServerPairStatus;
import java.time.Duration;
import java.util.List;

/**
 * What the operator does next for one pair, in this order: label the pods that lack the pair
 * label, set the pods' role annotations (demotions before promotions), write the status, emit the
 * events, and look again after {@code recheckAfter} if nothing happens before.
 */
public record Plan(
    List<String> podsToLabel,
    List<RoleAssignment> roles,
    SipServerPairStatus status,
    List<Note> events,
    Duration recheckAfter) {

  /** The role annotations one pod must carry; a null role clears them (the pod leaves sipha's care). */
  public record RoleAssignment(String pod, String role, long epoch) {}

  /** A Kubernetes Event about the pair. */
  public record Note(boolean warning, String reason, String message) {}
}
