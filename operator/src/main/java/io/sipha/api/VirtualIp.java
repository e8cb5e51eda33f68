package io.sipha.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** The virtual IP address that the primary's node holds. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualIp {

  @Required
  @Pattern("^[0-9A-Fa-f.:]+$")
  @JsonPropertyDescription(
      "The address, IPv4 (192.0.2.10) or IPv6 (2001:db8::10), without prefix length.")
  private String address;

  @Required
  @Min(1)
  @Max(128)
  @JsonPropertyDescription("Prefix length: 1-32 for IPv4, 1-128 for IPv6.")
  private Integer prefixLength;

  @Required
  @Pattern("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$")
  @JsonPropertyDescription(
      "The host network interface that carries the address, as named on the node (eth0, bond0.100).")
  private String interfaceName;

  public VirtualIp() {}

  public VirtualIp(String address, Integer prefixLength, String interfaceName) {
    this.address = address;
    this.prefixLength = prefixLength;
    this.interfaceName = interfaceName;
  }

  public String getAddress() {
    return address;
  }

  public void setAddress(String address) {
    this.address = address;
  }

  public Integer getPrefixLength() {
    return prefixLength;
  }

  public void setPrefixLength(Integer prefixLength) {
    this.prefixLength = prefixLength;
  }

  @com.fasterxml.jackson.annotation.JsonProperty("interface")
  public String getInterfaceName() {
    return interfaceName;
  }

  @com.fasterxml.jackson.annotation.JsonProperty("interface")
  public void setInterfaceName(String interfaceName) {
    this.interfaceName = interfaceName;
  }
}
