package io.sipha.demo;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.sipha.agent.AgentMetrics;
import io.sipha.agent.AgentSettings;
import io.sipha.agent.NodeAgent;
import io.sipha.agent.PeerProbe;
import io.sipha.api.FailoverPolicy;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairSpec;
import io.sipha.api.VirtualIp;
import io.sipha.operator.OperatorMetrics;
import io.sipha.operator.SiphaOperator;
import io.sipha.vip.AllowedCidrs;
import io.sipha.vip.VipScripts;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A whole sipha installation on one machine: an API (the embedded one, or a local control plane's),
 * simulated hosts each with its real node agent (running the hosts' real scripts), and the real
 * operator. Agents and the operator can be stopped and started again, as a lost host or a restarted
 * pod would be.
 */
public final class SimulatedSite implements AutoCloseable {
  public static final String LEASE_NAMESPACE = "sipha-system";

  /** How the agents run: heartbeat period, drift resync period, script timeout. */
  public record AgentTiming(Duration renewEvery, Duration resyncEvery, Duration scriptTimeout) {
    /** Heartbeat and resync every second. */
    public static AgentTiming fast(Duration scriptTimeout) {
      return new AgentTiming(Duration.ofSeconds(1), Duration.ofSeconds(1), scriptTimeout);
    }
  }

  private final SiteApi api;
  private final Path hostsDir;
  private final Map<String, SimulatedHost> hosts = new LinkedHashMap<>();
  private final Map<String, Path> scriptsDirs = new LinkedHashMap<>();
  private final Map<String, NodeAgent> agents = new LinkedHashMap<>();
  private final Clock clock = io.sipha.decision.MonotonicClock.startingNow();
  private final AgentTiming timing;
  private final AllowedCidrs allowed;
  private final OperatorMetrics metrics;
  private final boolean ownsApi;
  private Operator operator;
  private KubernetesClient operatorClient;

  /** A site of simulated hosts (folders with recording scripts) under {@code hostsDir}. */
  public SimulatedSite(
      Path hostsDir,
      List<String> nodes,
      Duration scriptTimeout,
      AllowedCidrs allowed,
      OperatorMetrics metrics) {
    this(hostsDir, nodes, AgentTiming.fast(scriptTimeout), allowed, metrics);
  }

  public SimulatedSite(
      Path hostsDir,
      List<String> nodes,
      AgentTiming timing,
      AllowedCidrs allowed,
      OperatorMetrics metrics) {
    this(null, hostsDir, nodes, timing, allowed, metrics);
  }

  /**
   * A site of simulated hosts on this API (null: an embedded one of its own, closed with the site;
   * otherwise the caller's, which it closes itself).
   */
  public static SimulatedSite on(
      SiteApi api,
      Path hostsDir,
      List<String> nodes,
      AgentTiming timing,
      AllowedCidrs allowed,
      OperatorMetrics metrics) {
    return new SimulatedSite(api, hostsDir, nodes, timing, allowed, metrics);
  }

  private SimulatedSite(
      SiteApi api,
      Path hostsDir,
      List<String> nodes,
      AgentTiming timing,
      AllowedCidrs allowed,
      OperatorMetrics metrics) {
    this(api, hostsDir, timing, allowed, metrics);
    for (String n : nodes) {
      SimulatedHost h = SimulatedHost.create(n, hostsDir);
      hosts.put(n, h);
      scriptsDirs.put(n, h.scriptsDir());
    }
  }

  /** A site whose nodes run the scripts in the given folders (real hosts, network namespaces). */
  public static SimulatedSite withScripts(
      Map<String, Path> scriptsByNode,
      AgentTiming timing,
      AllowedCidrs allowed,
      OperatorMetrics metrics) {
    SimulatedSite site = new SimulatedSite((SiteApi) null, null, timing, allowed, metrics);
    site.scriptsDirs.putAll(scriptsByNode);
    return site;
  }

  private SimulatedSite(
      SiteApi api,
      Path hostsDir,
      AgentTiming timing,
      AllowedCidrs allowed,
      OperatorMetrics metrics) {
    this.hostsDir = hostsDir;
    this.timing = timing;
    this.allowed = allowed;
    this.metrics = metrics;
    this.ownsApi = api == null;
    this.api = api == null ? new EmbeddedCluster(clock) : api;
    if (this.api instanceof EmbeddedCluster embedded) {
      embedded.nodeAddresses(this::nodeAddress);
    }
    this.api.ensureNamespace(LEASE_NAMESPACE);
  }

  /**
   * The embedded API the site runs on (for what only it can do: canned answers, pods placed by
   * hand).
   */
  public EmbeddedCluster cluster() {
    if (api instanceof EmbeddedCluster embedded) {
      return embedded;
    }
    throw new IllegalStateException("this site runs on " + api.url() + ", not on the embedded API");
  }

  /** The API the site runs on. */
  public SiteApi api() {
    return api;
  }

  public KubernetesClient client() {
    return api.client();
  }

  public SimulatedHost host(String node) {
    return hosts.get(node);
  }

  public List<String> timeline() {
    return SimulatedHost.timeline(hostsDir);
  }

  public OperatorMetrics metrics() {
    return metrics;
  }

  /** Starts (or restarts) the agent of a node, with a client of its own. */
  public NodeAgent startAgent(String node) {
    return startAgent(node, api.newClient(), PeerProbe.none());
  }

  /** Starts (or restarts) the agent of a node with this client and this way to reach its peers. */
  public NodeAgent startAgent(String node, KubernetesClient client, PeerProbe peers) {
    stopAgent(node);
    NodeAgent a =
        new NodeAgent(
                client,
                new AgentSettings(
                    node,
                    LEASE_NAMESPACE,
                    null,
                    VipScripts.in(scriptsDirs.get(node), timing.scriptTimeout()),
                    timing.renewEvery(),
                    timing.resyncEvery(),
                    podFieldSelector(),
                    List.of(nodeAddress(node)),
                    agentPodName(node)),
                clock,
                AgentMetrics.none(node),
                peers)
            .start();
    agents.put(node, a);
    return a;
  }

  /**
   * The agents read their own node's pods with a field selector, as the chart runs them, where the
   * API has field selectors (the embedded one has none).
   */
  private boolean podFieldSelector() {
    return !(api instanceof EmbeddedCluster);
  }

  /**
   * A node's own address, as its agent is told it: the node's InternalIP on a control plane, and on
   * the embedded API 198.51.100.1 for the first node, .2 for the second, ...: never a VIP.
   */
  public String nodeAddress(String node) {
    String own = api.nodeAddress(node);
    if (own != null) {
      return own;
    }
    int i = List.copyOf(scriptsDirs.keySet()).indexOf(node);
    return i < 0 ? null : "198.51.100." + (i + 1);
  }

  /** The pod name a simulated node's agent is given (the pod exists only if a test creates it). */
  public static String agentPodName(String node) {
    return "sipha-agent-" + node;
  }

  /** The running agent of a node, or null. */
  public NodeAgent agent(String node) {
    return agents.get(node);
  }

  /**
   * Stops a node's agent: its host keeps what it holds and is unreachable, as a disconnected host.
   */
  public void stopAgent(String node) {
    NodeAgent a = agents.remove(node);
    if (a != null) {
      a.close();
    }
  }

  public void startAgents() {
    scriptsDirs.keySet().forEach(this::startAgent);
  }

  public void startOperator() {
    startOperator(api.newClient());
  }

  /** Starts (or restarts) the operator with this client (one that goes through a proxy, say). */
  public void startOperator(KubernetesClient client) {
    stopOperator();
    operatorClient = client;
    operator =
        new SiphaOperator(
                operatorClient,
                Set.of(),
                LEASE_NAMESPACE,
                allowed,
                false,
                "sipha-operator-0",
                metrics,
                clock,
                () -> {})
            .start();
  }

  public void stopOperator() {
    if (operator != null) {
      // as a process that dies: its client goes first, so that a reconciliation still running
      // (stop waits for it 2 s at most) cannot write after this returns
      operatorClient.close();
      operator.stop();
      operator = null;
    }
  }

  /** The pair every example uses, with tight timings (grace 1 s, node loss 2 s). */
  public static SipServerPair pair(
      String namespace, String name, String primary, String... servers) {
    SipServerPair p = new SipServerPair();
    p.getMetadata().setName(name);
    p.getMetadata().setNamespace(namespace);
    SipServerPairSpec spec = new SipServerPairSpec();
    spec.setServers(List.of(servers));
    spec.setPrimary(primary);
    spec.setVirtualIP(new VirtualIp("192.0.2.10", 24, "eth0"));
    FailoverPolicy f = new FailoverPolicy();
    f.setUnreadyGraceSeconds(1);
    f.setNodeLossSeconds(2);
    spec.setFailover(f);
    p.setSpec(spec);
    return p;
  }

  @Override
  public void close() {
    stopOperator();
    for (String n : List.copyOf(agents.keySet())) {
      stopAgent(n);
    }
    if (ownsApi) {
      api.close();
    }
  }
}
