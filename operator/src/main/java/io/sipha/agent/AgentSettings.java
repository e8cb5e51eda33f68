package io.sipha.agent;

import io.sipha.vip.VipScripts;
import java.time.Duration;
import java.util.List;

/**
 * What a node agent is told: its node, where its Leases are, which pairs it serves, its scripts and
 * its timings.
 *
 * @param watchNamespace the pairs' namespace, or null for all
 * @param podFieldSelector ask the API for this node's pods only (spec.nodeName); pods are filtered
 *     by node here in any case
 * @param nodeAddresses the node's own addresses (the downward API's status.hostIPs): the agent
 *     never adds or removes one of them, and publishes them so that the operator refuses them as
 *     VIPs; the host IPs of the pods on this node count too
 * @param podName the agent's own pod (in leaseNamespace), or null: a stop is announced as a restart
 *     only while that pod is being deleted (a rolling update), never when the node shuts down
 */
public record AgentSettings(
    String node,
    String leaseNamespace,
    String watchNamespace,
    VipScripts scripts,
    Duration renewEvery,
    Duration resyncEvery,
    boolean podFieldSelector,
    List<String> nodeAddresses,
    String podName) {
  public AgentSettings(
      String node,
      String leaseNamespace,
      String watchNamespace,
      VipScripts scripts,
      Duration renewEvery,
      Duration resyncEvery,
      boolean podFieldSelector) {
    this(
        node,
        leaseNamespace,
        watchNamespace,
        scripts,
        renewEvery,
        resyncEvery,
        podFieldSelector,
        List.of(),
        null);
  }
}
