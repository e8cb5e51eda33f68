package io.sipha.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A completed transition. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HistoryEntry {
  @JsonPropertyDescription("The epoch of the roles it set.")
  public long epoch;

  @JsonPropertyDescription(
      "Election, Switchover, Failover, Relocation, Failback, Revert or Demotion.")
  public TransitionKind kind;

  @JsonPropertyDescription("The pod that lost the primary role.")
  public String from;

  @JsonPropertyDescription("The pod that gained it (or kept it, for a Demotion).")
  public String to;

  @JsonPropertyDescription("Why, in CamelCase.")
  public String reason;

  @JsonPropertyDescription("When it started (RFC 3339).")
  public String startedAt;

  @JsonPropertyDescription("From start until the new primary's node confirmed the VIP.")
  public long durationMillis;

  public HistoryEntry() {}

  public HistoryEntry(
      long epoch,
      TransitionKind kind,
      String from,
      String to,
      String reason,
      String startedAt,
      long durationMillis) {
    this.epoch = epoch;
    this.kind = kind;
    this.from = from;
    this.to = to;
    this.reason = reason;
    this.startedAt = startedAt;
    this.durationMillis = durationMillis;
  }

  /** A copy that shares nothing with this one. */
  public HistoryEntry copy() {
    return new HistoryEntry(epoch, kind, from, to, reason, startedAt, durationMillis);
  }
}
