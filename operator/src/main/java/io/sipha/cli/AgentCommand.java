package io.sipha.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sipha.agent.AgentMetrics;
import io.sipha.agent.AgentSettings;
import io.sipha.agent.NodeAgent;
import io.sipha.agent.PeerProbe;
import io.sipha.vip.VipScripts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sipha agent --node N --scripts-dir D}: the node agent. */
@Command(
    name = "agent",
    mixinStandardHelpOptions = true,
    description =
        "Run the node agent: heartbeat, and bind or unbind VIPs on this node with the admin's scripts.")
final class AgentCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--node",
      required = true,
      defaultValue = "${env:NODE_NAME}",
      description = "This node's name (default: $NODE_NAME).")
  String node;

  @Option(
      names = "--node-ip",
      split = ",",
      defaultValue = "${env:NODE_IPS:-}",
      description =
          "This node's own addresses, comma-separated (default: $NODE_IPS, the downward API's"
              + " status.hostIPs): never added or removed as a VIP, and refused by the operator as one.")
  List<String> nodeIps = new java.util.ArrayList<>();

  @Option(
      names = "--pod-name",
      defaultValue = "${env:POD_NAME:-}",
      description =
          "The agent's own pod (default: $POD_NAME): a stop is announced as a restart only while"
              + " this pod is being deleted, so that a node shutting down is not given the restart grace.")
  String podName;

  @Option(
      names = "--scripts-dir",
      required = true,
      description = "Directory holding the executables vip-enable, vip-disable and vip-status.")
  Path scriptsDir;

  @Option(
      names = "--script-timeout-ms",
      defaultValue = "10000",
      description = "Kill a script after this long (default: ${DEFAULT-VALUE}).")
  long scriptTimeoutMs;

  @Option(names = "--namespace", description = "Namespace of the pairs (default: all).")
  String namespace;

  @Option(
      names = "--lease-namespace",
      defaultValue = "${env:POD_NAMESPACE:-sipha-system}",
      description =
          "Namespace of the agents' Leases (default: $POD_NAMESPACE or ${DEFAULT-VALUE}).")
  String leaseNamespace;

  @Option(
      names = "--renew-ms",
      defaultValue = "1000",
      description = "Lease renewal period (default: ${DEFAULT-VALUE}).")
  long renewMs;

  @Option(
      names = "--resync-ms",
      defaultValue = "5000",
      description = "How often vip-status checks for drift (default: ${DEFAULT-VALUE}).")
  long resyncMs;

  @Option(
      names = "--http-port",
      defaultValue = "9477",
      description =
          "Port of /healthz and /metrics on the host network; 0 turns them off (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(
      names = "--http-address",
      defaultValue = "0.0.0.0",
      description =
          "Address of /healthz, /peer and /metrics: the peers reach /peer on the node's address"
              + " (default: ${DEFAULT-VALUE}).")
  String httpAddress;

  @Option(
      names = "--pod-field-selector",
      arity = "1",
      defaultValue = "true",
      paramLabel = "true|false",
      description =
          "Ask the API for this node's pods only (spec.nodeName field selector) (default: ${DEFAULT-VALUE}).")
  boolean podFieldSelector;

  @Option(
      names = "--peer-port",
      defaultValue = "9477",
      description =
          "Port of the peer agents' /peer, asked before self-fencing (default: ${DEFAULT-VALUE}).")
  int peerPort;

  @Option(
      names = "--peer-key-file",
      description =
          "The peer channel's shared key (at least 16 bytes; the chart's Secret): with it the agent"
              + " heartbeats the agents of its pairs' other nodes directly over UDP, authenticated,"
              + " and a host loss is seen in well under a second. Without it, off.")
  java.nio.file.Path peerKeyFile;

  @Option(
      names = "--peer-address",
      description =
          "The address the peer channel listens on and its peers send to: the node's address on"
              + " the signalling network, the VIP's (default: the first --node-ip).")
  String peerAddress;

  @Option(
      names = "--peer-heartbeat-port",
      defaultValue = "9478",
      description = "UDP port of the peer channel (default: ${DEFAULT-VALUE}).")
  int peerHeartbeatPort;

  @Option(
      names = "--peer-interval-ms",
      defaultValue = "50",
      description = "How often each peer is heartbeated (default: ${DEFAULT-VALUE}).")
  long peerIntervalMs;

  @Option(
      names = "--peer-silent-ms",
      defaultValue = "300",
      description =
          "Nothing heard from a peer for this long: it is silent, and the operator is told at once"
              + " (default: ${DEFAULT-VALUE}).")
  long peerSilentMs;

  @Option(
      names = "--log-format",
      defaultValue = "text",
      description = "text or json (default: ${DEFAULT-VALUE}).")
  LogFormat logFormat;

  /** How the command gets its client: kubeconfig or in-cluster configuration, as kubectl does. */
  java.util.function.Supplier<KubernetesClient> clients =
      () -> new KubernetesClientBuilder().build();

  /** The running agent and its endpoints. */
  record Running(NodeAgent agent, HttpEndpoints http, KubernetesClient client)
      implements AutoCloseable {
    @Override
    public void close() {
      if (http != null) {
        http.close();
      }
      agent.shutdown();
      client.close();
    }
  }

  @Override
  public Integer call() throws Exception {
    return UntilStopped.serve(start());
  }

  /** Starts the agent and its endpoints; null (after saying why) when its scripts are unusable. */
  Running start() throws Exception {
    if (node == null || node.isBlank()) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--node is required (or set NODE_NAME)");
    }
    VipScripts scripts;
    try {
      scripts = VipScripts.in(scriptsDir, Duration.ofMillis(scriptTimeoutMs));
    } catch (IllegalStateException e) {
      spec.commandLine().getErr().println("sipha agent: " + e.getMessage());
      return null;
    }
    logFormat.apply();
    AgentSettings.Peer peer;
    try {
      peer = peerSettings();
    } catch (IllegalArgumentException | IllegalStateException e) {
      spec.commandLine().getErr().println("sipha agent: " + e.getMessage());
      return null;
    }
    KubernetesClient client = clients.get();
    var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    var agent =
        new NodeAgent(
                client,
                new AgentSettings(
                    node,
                    leaseNamespace,
                    namespace,
                    scripts,
                    Duration.ofMillis(renewMs),
                    Duration.ofMillis(resyncMs),
                    podFieldSelector,
                    nodeIps.stream().filter(s -> !s.isBlank()).toList(),
                    podName == null || podName.isBlank() ? null : podName,
                    peer),
                io.sipha.decision.MonotonicClock.startingNow(),
                new AgentMetrics(registry, node),
                PeerProbe.http(peerPort, Duration.ofMillis(500)))
            .start();
    HttpEndpoints http =
        httpPort == 0
            ? null
            : new HttpEndpoints(
                httpAddress,
                httpPort,
                registry,
                () -> agentCheck(agent, agent.heartbeatRunning()),
                () -> agentCheck(agent, agent.lastRenewal() != null),
                agent::peerAnswer);
    return new Running(agent, http, client);
  }

  /** The peer channel as the options say, or null when it is off (no --peer-key-file). */
  AgentSettings.Peer peerSettings() {
    if (peerKeyFile == null) {
      return null;
    }
    // a key that is there must be usable now; one that is not there yet is waited for (the
    // operator makes the Secret, the kubelet projects it a while after)
    java.nio.file.Path file = peerKeyFile;
    java.util.function.Supplier<io.sipha.peer.PeerCodec> key =
        () ->
            java.nio.file.Files.exists(file)
                ? io.sipha.peer.PeerCodec.fromFile(file, "--peer-key-file")
                : null;
    key.get();
    List<String> ips = nodeIps.stream().filter(s -> !s.isBlank()).toList();
    String address = peerAddress != null && !peerAddress.isBlank() ? peerAddress.strip() : null;
    if (address == null && !ips.isEmpty()) {
      address = ips.get(0);
    }
    if (address == null) {
      throw new IllegalArgumentException(
          "--peer-key-file needs the address to listen on: set --peer-address (or --node-ip)");
    }
    if (peerIntervalMs < 10 || peerSilentMs < 2 * peerIntervalMs) {
      throw new IllegalArgumentException(
          "--peer-interval-ms must be at least 10 and --peer-silent-ms at least twice it (got "
              + peerIntervalMs
              + " and "
              + peerSilentMs
              + ")");
    }
    java.net.InetAddress bind;
    try {
      bind = java.net.InetAddress.getByName(address);
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException("--peer-address " + address + ": not an address");
    }
    // where the operator's probe finds /healthz: the address it listens on, or, listening on every
    // address, the node's own
    String at = httpAddress == null ? "" : httpAddress.strip();
    boolean everyAddress = at.isEmpty() || at.equals("0.0.0.0") || at.equals("::");
    String host = everyAddress ? (ips.isEmpty() ? null : ips.get(0)) : at;
    String probe =
        httpPort == 0 || host == null
            ? null
            : (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + httpPort;
    return new AgentSettings.Peer(
        new java.net.InetSocketAddress(bind, peerHeartbeatPort),
        key,
        Duration.ofMillis(peerIntervalMs),
        Duration.ofMillis(peerSilentMs),
        probe);
  }

  /** Live (or ready) only while the heartbeat runs (has renewed) and the work loop works. */
  static HttpEndpoints.Check agentCheck(NodeAgent agent, boolean heartbeat) {
    String stuck = agent.notWorking();
    if (stuck != null) {
      return new HttpEndpoints.Check(false, "the agent does not work: " + stuck);
    }
    return new HttpEndpoints.Check(heartbeat, "last Lease renewal " + agent.lastRenewal());
  }
}
