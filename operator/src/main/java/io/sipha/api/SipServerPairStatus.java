package io.sipha.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/** What the operator observed and did. Written by the operator only; agents act on it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SipServerPairStatus {

  @JsonPropertyDescription("The metadata.generation of the spec this status reflects.")
  public Long observedGeneration;

  @JsonPropertyDescription(
      "Pending, Active, SwitchingOver, FailingOver, Degraded, SplitBrain, Paused or Invalid.")
  public Phase phase;

  @JsonPropertyDescription(
      "The pod that holds the primary role at the current epoch; empty while the VIP is being"
          + " released by the old primary's node.")
  public String primary;

  @JsonPropertyDescription("The pod that holds the backup role.")
  public String backup;

  @JsonPropertyDescription(
      "Fencing token: grows by one on every role change. Pods carry it in sipha.io/epoch; an agent"
          + " binds the VIP only for the primary at the current epoch.")
  public long epoch;

  @JsonPropertyDescription(
      "The value of spec.primary the operator last took as a request. A switchover is requested"
          + " when spec.primary differs from it.")
  public String acceptedPrimary;

  @JsonPropertyDescription("The validated virtual IP, the node granted to hold it and its state.")
  public VipStatus vip;

  @JsonPropertyDescription("The role change in progress, if any.")
  public Transition transition;

  @JsonPropertyDescription(
      "Nodes that held the VIP when they were declared lost and have not confirmed its release.")
  public List<FencedHolder> fenced = new ArrayList<>();

  @JsonPropertyDescription(
      "Ready, PrimaryReady, BackupReady, VipBound, SplitBrain, SwitchoverRefused, FailbackPending.")
  public List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription(
      "The last spec the operator found valid, as JSON. While spec is invalid the pair keeps serving on"
          + " it (failovers included) and says Invalid; an invalid change never gives its VIP away.")
  public String lastValidSpec;

  @JsonPropertyDescription("The last 10 completed transitions, oldest first.")
  public List<HistoryEntry> history = new ArrayList<>();

  /**
   * A copy that shares nothing with this one (a decision works on it and leaves the status it was
   * given as it was); a missing list is copied as an empty one, as it is read from the API.
   */
  public SipServerPairStatus copy() {
    SipServerPairStatus c = new SipServerPairStatus();
    c.observedGeneration = observedGeneration;
    c.phase = phase;
    c.primary = primary;
    c.backup = backup;
    c.epoch = epoch;
    c.acceptedPrimary = acceptedPrimary;
    c.vip = vip == null ? null : vip.copy();
    c.transition = transition == null ? null : transition.copy();
    c.fenced = copyOf(fenced, FencedHolder::copy);
    c.conditions = copyOf(conditions, Condition::copy);
    c.lastValidSpec = lastValidSpec;
    c.history = copyOf(history, HistoryEntry::copy);
    return c;
  }

  private static <T> List<T> copyOf(List<T> list, java.util.function.UnaryOperator<T> copy) {
    List<T> out = new ArrayList<>();
    if (list != null) {
      list.forEach(e -> out.add(e == null ? null : copy.apply(e)));
    }
    return out;
  }
}
