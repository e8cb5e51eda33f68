package io.sipha.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A role change in progress. Kept in status so that a restarted operator finishes it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Transition {

  /** The step the transition waits on. */
  public enum Step {
    /** The old primary's node must confirm the VIP is removed. */
    Release,
    /** The new primary's node must confirm the VIP is added. */
    Bind
  }

  @JsonPropertyDescription("Election, Switchover, Failover, Relocation, Failback or Deletion.")
  public TransitionKind kind;

  @JsonPropertyDescription("The pod that loses the primary role (empty for an election).")
  public String from;

  @JsonPropertyDescription("The pod that gains the primary role.")
  public String to;

  @JsonPropertyDescription("The node the VIP leaves.")
  public String fromNode;

  @JsonPropertyDescription("The node the VIP goes to.")
  public String toNode;

  @JsonPropertyDescription("The epoch of the new roles.")
  public long epoch;

  @JsonPropertyDescription("Release or Bind.")
  public Step step;

  @JsonPropertyDescription("Why, in CamelCase: SwitchoverRequested, PrimaryPodDeleted, NodeLost...")
  public String reason;

  @JsonPropertyDescription("When the transition started (RFC 3339).")
  public String startedAt;

  @JsonPropertyDescription("When the current step started (RFC 3339).")
  public String stepStartedAt;

  /** A copy that shares nothing with this one. */
  public Transition copy() {
    Transition c = new Transition();
    c.kind = kind;
    c.from = from;
    c.to = to;
    c.fromNode = fromNode;
    c.toNode = toNode;
    c.epoch = epoch;
    c.step = step;
    c.reason = reason;
    c.startedAt = startedAt;
    c.stepStartedAt = stepStartedAt;
    return c;
  }
}
