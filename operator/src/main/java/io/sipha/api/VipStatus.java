package io.sipha.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The validated VIP and where it is granted. Agents read only this, never the spec. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VipStatus {

  /** Where the VIP is in its handover. */
  public enum State {
    /** The granted node must remove it (the previous primary's node during a handover). */
    Releasing,
    /** The granted node must add it and has not confirmed yet. */
    Binding,
    /** The granted node confirmed it holds it at the current epoch. */
    Bound,
    /** No node is granted the VIP. */
    Unbound
  }

  @JsonPropertyDescription("address/prefixLength, validated by the operator.")
  public String address;

  @JsonPropertyDescription("The host interface, validated by the operator.")
  @com.fasterxml.jackson.annotation.JsonProperty("interface")
  public String interfaceName;

  @JsonPropertyDescription("The node the VIP is granted to (or being released from).")
  public String node;

  @JsonPropertyDescription("Releasing, Binding, Bound or Unbound.")
  public State state;

  @JsonPropertyDescription(
      "Raised by one to ask the holder to announce the VIP again (gratuitous ARP / unsolicited"
          + " neighbour advertisement), e.g. after a stale holder was removed.")
  public long announce;

  public VipStatus() {}

  public VipStatus(String address, String interfaceName, String node, State state, long announce) {
    this.address = address;
    this.interfaceName = interfaceName;
    this.node = node;
    this.state = state;
    this.announce = announce;
  }

  /** A copy that shares nothing with this one. */
  public VipStatus copy() {
    return new VipStatus(address, interfaceName, node, state, announce);
  }
}
