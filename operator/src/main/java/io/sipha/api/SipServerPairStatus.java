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
}
