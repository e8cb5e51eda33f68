package io.sipha.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/** What the user asks for: the two servers, the desired primary and the virtual IP. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "!has(self.servers) || size(self.servers) != 2 || self.servers[0] != self.servers[1]",
    message = "spec.servers must name two different pods",
    fieldPath = ".servers")
@ValidationRule(
    value = "!has(self.primary) || (has(self.servers) && self.primary in self.servers)",
    message = "spec.primary must be one of spec.servers",
    fieldPath = ".primary")
public class SipServerPairSpec {

  @Required
  @Size(min = 2, max = 2)
  @JsonPropertyDescription(
      "The names of the two SIP Server pods, in the pair's namespace. Each must carry the label"
          + " sipha.io/pair=<pair name> (the operator adds it where missing).")
  private List<String> servers = new ArrayList<>();

  @JsonPropertyDescription(
      "The desired primary, one of servers. Change it to request a switchover. Optional: without it"
          + " the first Ready server is elected.")
  private String primary;

  @Required
  @JsonPropertyDescription("The virtual IP that moves with the primary role.")
  private VirtualIp virtualIP;

  @JsonPropertyDescription("When and how fast the backup takes over by itself.")
  private FailoverPolicy failover = new FailoverPolicy();

  @Default("Manual")
  @Pattern("^(Manual|Automatic)$")
  @JsonProperty("failback")
  @JsonPropertyDescription(
      "Manual or Automatic. After an automatic failover: Manual keeps the new primary until"
          + " spec.primary is changed; Automatic switches back to spec.primary once it has been Ready"
          + " for failover.failbackDelaySeconds.")
  // kept as written, so that a wrong value reaches the operator's validation instead of vanishing
  private String failback = FailbackMode.Manual.name();

  @Default("false")
  @JsonPropertyDescription(
      "Maintenance: the operator observes and reports but changes no role and no VIP.")
  private boolean paused;

  public List<String> getServers() {
    return servers;
  }

  public void setServers(List<String> servers) {
    this.servers = servers;
  }

  public String getPrimary() {
    return primary;
  }

  public void setPrimary(String primary) {
    this.primary = primary;
  }

  public VirtualIp getVirtualIP() {
    return virtualIP;
  }

  public void setVirtualIP(VirtualIp virtualIP) {
    this.virtualIP = virtualIP;
  }

  public FailoverPolicy getFailover() {
    return failover;
  }

  public void setFailover(FailoverPolicy failover) {
    this.failover = failover;
  }

  /** The failback mode, or null when spec.failback holds neither Manual nor Automatic. */
  @JsonIgnore
  public FailbackMode getFailback() {
    return FailbackMode.of(failback);
  }

  @JsonIgnore
  public void setFailback(FailbackMode failback) {
    this.failback = failback == null ? null : failback.name();
  }

  public boolean isPaused() {
    return paused;
  }

  public void setPaused(boolean paused) {
    this.paused = paused;
  }
}
