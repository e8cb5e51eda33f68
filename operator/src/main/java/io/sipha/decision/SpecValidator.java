package io.sipha.decision;

import io.sipha.api.SipServerPairSpec;
import io.sipha.vip.AllowedCidrs;
import io.sipha.vip.VipAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Checks a pair's spec beyond what the CRD schema can say. Every problem names the field and the
 * fix. The operator validates always, so a pair applied without the schema is refused all the same.
 */
public final class SpecValidator {
  private static final Pattern POD_NAME =
      Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");

  private SpecValidator() {}

  /** The outcome: the validated VIP, or the problems. */
  public record Outcome(VipAddress vip, List<String> problems) {
    public boolean valid() {
      return problems.isEmpty();
    }
  }

  public static Outcome validate(
      SipServerPairSpec spec, AllowedCidrs allowed, String vipClaimedBy) {
    return validate(spec, allowed, vipClaimedBy, java.util.Map.of());
  }

  /**
   * @param nodeAddresses the nodes' own addresses (canonical host text) to the node of each: a VIP
   *     equal to one would take that node's address off it when released
   */
  public static Outcome validate(
      SipServerPairSpec spec,
      AllowedCidrs allowed,
      String vipClaimedBy,
      java.util.Map<String, String> nodeAddresses) {
    List<String> problems = new ArrayList<>();
    if (spec == null) {
      return new Outcome(null, List.of("spec: is required"));
    }
    List<String> servers = spec.getServers() == null ? List.of() : spec.getServers();
    if (servers.size() != 2) {
      problems.add(
          "spec.servers: must name exactly two pods, found "
              + servers.size()
              + " ("
              + servers
              + ")");
    }
    for (int i = 0; i < servers.size(); i++) {
      String s = servers.get(i);
      if (s == null || s.length() > 253 || !POD_NAME.matcher(s).matches()) {
        problems.add(
            "spec.servers[" + i + "]: \"" + s + "\" is not a pod name (lowercase DNS name)");
      }
    }
    if (new HashSet<>(servers).size() != servers.size()) {
      problems.add(
          "spec.servers: names the same pod twice (" + servers + "); name two different pods");
    }
    if (spec.getPrimary() != null && !servers.contains(spec.getPrimary())) {
      problems.add(
          "spec.primary: \"" + spec.getPrimary() + "\" is not one of spec.servers " + servers);
    }
    VipAddress vip = null;
    if (spec.getVirtualIP() == null) {
      problems.add("spec.virtualIP: is required (address, prefixLength, interface)");
    } else {
      VipAddress.Result r =
          VipAddress.parse(
              spec.getVirtualIP().getAddress(),
              spec.getVirtualIP().getPrefixLength(),
              spec.getVirtualIP().getInterfaceName());
      if (!r.ok()) {
        problems.add("spec.virtualIP." + r.problem());
      } else if (nodeAddresses.containsKey(r.vip().host())) {
        problems.add(
            "spec.virtualIP.address: "
                + r.vip().host()
                + " is the own address of node "
                + nodeAddresses.get(r.vip().host())
                + "; a VIP must be an address that no node has (releasing it would take the node off"
                + " the network): choose a free address");
      } else if (!allowed.allows(r.vip().address())) {
        problems.add(
            "spec.virtualIP.address: "
                + r.vip().host()
                + " is outside the ranges the cluster admin allows ("
                + allowed
                + "); choose an address in them or ask the admin to extend allowedVipCidrs");
      } else if (vipClaimedBy != null) {
        problems.add(
            "spec.virtualIP.address: "
                + r.vip().host()
                + " is already claimed by pair "
                + vipClaimedBy
                + ", which holds it or asked for it first; two pairs may not share a VIP: choose another"
                + " address, or free it in "
                + vipClaimedBy
                + " first");
      } else {
        vip = r.vip();
      }
    }
    if (spec.getFailover() != null) {
      if (spec.getFailover().getNodeLossSeconds() < 2) {
        problems.add(
            "spec.failover.nodeLossSeconds: "
                + spec.getFailover().getNodeLossSeconds()
                + " is below 2; agents renew every second, so use 2 or more");
      }
      if (spec.getFailover().getUnreadyGraceSeconds() < 0) {
        problems.add("spec.failover.unreadyGraceSeconds: must be 0 or more");
      }
      Integer fence = spec.getFailover().getFenceAfterSeconds();
      if (fence != null && (fence < 1 || fence >= spec.getFailover().getNodeLossSeconds())) {
        problems.add(
            "spec.failover.fenceAfterSeconds: "
                + fence
                + " must be at least 1 and below nodeLossSeconds ("
                + spec.getFailover().getNodeLossSeconds()
                + "), so that a cut-off node drops the VIP before the"
                + " backup takes it");
      }
      if (spec.getFailover().getFailbackDelaySeconds() < 0) {
        problems.add("spec.failover.failbackDelaySeconds: must be 0 or more");
      }
    }
    if (spec.getFailback() == null) {
      problems.add("spec.failback: must be Manual or Automatic");
    }
    return new Outcome(problems.isEmpty() ? vip : null, List.copyOf(problems));
  }
}
