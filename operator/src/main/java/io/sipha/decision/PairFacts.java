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
 * @param stepObservedAt when this operator process first saw the current step of the transition in
 *     progress, on its own clock (null: as the status says): deadlines count from it, never from a
 *     time another process (a previous leader) wrote
 * @param primariesSeen the values spec.primary was set to since the pair was last decided on, as
 *     this process's informer saw them go by (empty: none, or not known): an acknowledgement of a
 *     failover followed by a new request, both between two decisions, is not lost
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
    Map<String, String> nodeAddresses,
    Instant stepObservedAt,
    java.util.Set<String> primariesSeen) {

  public PairFacts(
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
      Map<String, String> nodeAddresses,
      Instant stepObservedAt) {
    this(
        namespace,
        name,
        generation,
        spec,
        status,
        pods,
        agents,
        allowed,
        vipClaimedBy,
        now,
        nodeAddresses,
        stepObservedAt,
        java.util.Set.of());
  }

  public PairFacts(
      String namespace,
      String name,
      long generation,
      SipServerPairSpec spec,
      SipServerPairStatus status,
      Map<String, PodFact> pods,
      Map<String, AgentFact> agents,
      AllowedCidrs allowed,
      String vipClaimedBy,
      Instant now) {
    this(
        namespace,
        name,
        generation,
        spec,
        status,
        pods,
        agents,
        allowed,
        vipClaimedBy,
        now,
        Map.of(),
        null);
  }

  /** The same facts with these pods. */
  public PairFacts withPods(Map<String, PodFact> newPods) {
    return new PairFacts(
        namespace,
        name,
        generation,
        spec,
        status,
        newPods,
        agents,
        allowed,
        vipClaimedBy,
        now,
        nodeAddresses,
        stepObservedAt,
        primariesSeen);
  }

  /** The same facts with these agents. */
  public PairFacts withAgents(Map<String, AgentFact> newAgents) {
    return new PairFacts(
        namespace,
        name,
        generation,
        spec,
        status,
        pods,
        newAgents,
        allowed,
        vipClaimedBy,
        now,
        nodeAddresses,
        stepObservedAt,
        primariesSeen);
  }

  /** The same facts with the step's start as this process observed it. */
  public PairFacts withStepObservedAt(Instant at) {
    return new PairFacts(
        namespace,
        name,
        generation,
        spec,
        status,
        pods,
        agents,
        allowed,
        vipClaimedBy,
        now,
        nodeAddresses,
        at,
        primariesSeen);
  }

  /** The same facts with the values spec.primary took since the last decision. */
  public PairFacts withPrimariesSeen(java.util.Set<String> seen) {
    return new PairFacts(
        namespace,
        name,
        generation,
        spec,
        status,
        pods,
        agents,
        allowed,
        vipClaimedBy,
        now,
        nodeAddresses,
        stepObservedAt,
        java.util.Set.copyOf(seen));
  }

  public PodFact pod(String podName) {
    return podName == null
        ? PodFact.missing("")
        : pods.getOrDefault(podName, PodFact.missing(podName));
  }

  public AgentFact agent(String node) {
    return node == null
        ? new AgentFact("", null, null)
        : agents.getOrDefault(node, new AgentFact(node, null, null));
  }

  public String key() {
    return namespace + "/" + name;
  }
}
