package io.sipha.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A node that held the VIP when it was declared lost: it may still hold it when it returns. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FencedHolder {
  @JsonPropertyDescription("The lost node.")
  public String node;

  @JsonPropertyDescription("The pod that was primary there.")
  public String pod;

  @JsonPropertyDescription("The epoch at which it was primary.")
  public long epoch;

  @JsonPropertyDescription("Set once the returned node was seen holding the VIP (a split brain).")
  public boolean splitBrainSeen;

  public FencedHolder() {}

  public FencedHolder(String node, String pod, long epoch) {
    this.node = node;
    this.pod = pod;
    this.epoch = epoch;
  }

  /** A copy that shares nothing with this one. */
  public FencedHolder copy() {
    FencedHolder c = new FencedHolder(node, pod, epoch);
    c.splitBrainSeen = splitBrainSeen;
    return c;
  }
}
