package io.sipha.decision;

import io.sipha.api.SipServerPairSpec;
import io.sipha.api.SipServerPairStatus;
import io.sipha.vip.AllowedCidrs;
import java.time.Instant;
import java.util.Map;

/**
 * Everything the decision needs about one pair, observed at one instant. No client, no clock:
 * {@code now} is given.
 *
 * @param generation metadata.generation of the pair
 * @param status the status as last written (null for a new pair)
 * @param pods the two server pods by name (a missing pod is {@link PodFact#missing})
 * @param agents the node agents by node name, each with its report for this pair
 * @param allowed the VIP ranges the admin allows
 * @param vipClaimedBy another pair (namespace/name) the same VIP belongs to, or null
 * @param nodeAddresses the nodes' own addresses (canonical host text) to the node that has each
 */
public record PairFacts(
    String namespace,
    String name,
    long generation,
    SipServerPairSpec spec,
    SipServerPairStatus status,
    Map<String, PodFact> pods,
    Map<String, AgentFact> agents,
    AllowedCidrs allowed,
    String vipClaimedBy,
    Instant now,
    Map<String, String> nodeAddresses) {

  public PairFacts(String namespace, String name, long generation, SipServerPairSpec spec,
      SipServerPairStatus status, Map<String, PodFact> pods, Map<String, AgentFact> agents,
      AllowedCidrs allowed, String vipClaimedBy, Instant now) {
    this(namespace, name, generation, spec, status, pods, agents, allowed, vipClaimedBy, now, Map.of());
  }

  public PodFact pod(String podName) {
    return podName == null ? PodFact.missing("") : pods.getOrDefault(podName, PodFact.missing(podName));
  }

  public AgentFact agent(String node) {
    return node == null ? new AgentFact("", null, null) : agents.getOrDefault(node, new AgentFact(node, null, null));
  }

  public String key() {
    return namespace + "/" + name;
  }
}
