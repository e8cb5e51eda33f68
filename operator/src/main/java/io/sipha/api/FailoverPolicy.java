package io.sipha.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** Automatic failover settings. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@io.fabric8.generator.annotation.ValidationRule(
    value =
        "!has(self.fenceAfterSeconds) || !has(self.nodeLossSeconds) || self.fenceAfterSeconds < self.nodeLossSeconds",
    message = "spec.failover.fenceAfterSeconds must be below nodeLossSeconds",
    fieldPath = ".fenceAfterSeconds")
public class FailoverPolicy {

  @Default("true")
  @JsonPropertyDescription(
      "Promote the backup by itself when the primary fails or its node is lost. When false, only"
          + " spec.primary changes roles.")
  private boolean enabled = true;

  @Default("2")
  @Min(0)
  @Max(3600)
  @JsonPropertyDescription(
      "Seconds the primary pod may stay NotReady before the backup takes over. A deleted pod or a"
          + " terminated container is a failure at once.")
  private int unreadyGraceSeconds = 2;

  @Default("3")
  @Min(2)
  @Max(3600)
  @JsonPropertyDescription(
      "Seconds without a heartbeat from the primary's node agent before that node is declared lost"
          + " and the backup takes over. Agents renew every second.")
  private int nodeLossSeconds = 3;

  @Min(1)
  @JsonPropertyDescription(
      "Opt-in self-fencing: an agent holding this pair's VIP that can neither renew its Lease nor"
          + " reach the peer agent (the other server's node) for this many seconds removes the VIP by"
          + " itself. Must be below nodeLossSeconds, so that the VIP is gone before the backup takes"
          + " it. An API outage alone, with the peer reachable, never removes it. Unset: off.")
  private Integer fenceAfterSeconds;

  @Default("30")
  @Min(0)
  @Max(86400)
  @JsonPropertyDescription(
      "With failback Automatic: seconds spec.primary must have been Ready before switching back.")
  private int failbackDelaySeconds = 30;

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public int getUnreadyGraceSeconds() {
    return unreadyGraceSeconds;
  }

  public void setUnreadyGraceSeconds(int unreadyGraceSeconds) {
    this.unreadyGraceSeconds = unreadyGraceSeconds;
  }

  public int getNodeLossSeconds() {
    return nodeLossSeconds;
  }

  public void setNodeLossSeconds(int nodeLossSeconds) {
    this.nodeLossSeconds = nodeLossSeconds;
  }

  public Integer getFenceAfterSeconds() {
    return fenceAfterSeconds;
  }

  public void setFenceAfterSeconds(Integer fenceAfterSeconds) {
    this.fenceAfterSeconds = fenceAfterSeconds;
  }

  public int getFailbackDelaySeconds() {
    return failbackDelaySeconds;
  }

  public void setFailbackDelaySeconds(int failbackDelaySeconds) {
    this.failbackDelaySeconds = failbackDelaySeconds;
  }
}
