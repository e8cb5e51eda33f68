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
 * @param peer the peer channel, or null when it is off
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
    String podName,
    Peer peer) {

  /**
   * The peer channel: authenticated UDP heartbeats between the agents of a pair's nodes.
   *
   * @param bind where it listens (the node's address on the signalling network, the peer port)
   * @param key the agents' shared key, or null while it is not there yet (the Secret the operator
   *     makes is projected into the pod a while after); it may throw for a key that is unusable
   * @param interval how often it heartbeats each peer
   * @param silentAfter nothing heard from a peer for this long: the peer is silent
   * @param probeEndpoint where the operator probes this agent (host:port of its /healthz), or null
   */
  public record Peer(
      java.net.InetSocketAddress bind,
      java.util.function.Supplier<io.sipha.peer.PeerCodec> key,
      Duration interval,
      Duration silentAfter,
      String probeEndpoint) {}

  public AgentSettings(
      String node,
      String leaseNamespace,
      String watchNamespace,
      VipScripts scripts,
      Duration renewEvery,
      Duration resyncEvery,
      boolean podFieldSelector,
      List<String> nodeAddresses,
      String podName) {
    this(
        node,
        leaseNamespace,
        watchNamespace,
        scripts,
        renewEvery,
        resyncEvery,
        podFieldSelector,
        nodeAddresses,
        podName,
        null);
  }

  /** The same settings with the peer channel on. */
  public AgentSettings withPeer(Peer p) {
    return new AgentSettings(
        node,
        leaseNamespace,
        watchNamespace,
        scripts,
        renewEvery,
        resyncEvery,
        podFieldSelector,
        nodeAddresses,
        podName,
        p);
  }

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
        null,
        null);
  }
}
