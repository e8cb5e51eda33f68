package io.sipha.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A Kubernetes-style condition. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Condition {
  @JsonPropertyDescription("The condition's type.")
  public String type;

  @JsonPropertyDescription("True, False or Unknown.")
  public String status;

  @JsonPropertyDescription("Why, in CamelCase.")
  public String reason;

  @JsonPropertyDescription("Why, for a person.")
  public String message;

  @JsonPropertyDescription("When status last changed (RFC 3339).")
  public String lastTransitionTime;

  @JsonPropertyDescription("The metadata.generation the condition was computed from.")
  public Long observedGeneration;

  public Condition() {}

  public Condition(String type, String status, String reason, String message) {
    this.type = type;
    this.status = status;
    this.reason = reason;
    this.message = message;
  }

  /** A copy that shares nothing with this one. */
  public Condition copy() {
    Condition c = new Condition(type, status, reason, message);
    c.lastTransitionTime = lastTransitionTime;
    c.observedGeneration = observedGeneration;
    return c;
  }
}
