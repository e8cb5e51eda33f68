package io.sipha.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sipha.operator.OperatorMetrics;
import io.sipha.operator.SiphaOperator;
import io.sipha.vip.AllowedCidrs;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sipha operator}: the reconciler of SipServerPairs. */
@Command(
    name = "operator",
    mixinStandardHelpOptions = true,
    description = "Run the SipServerPair operator (kubeconfig or in-cluster configuration).")
final class OperatorCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--namespace",
      split = ",",
      description = "Namespaces of the pairs to manage (default: all).")
  List<String> namespaces = new ArrayList<>();

  @Option(
      names = "--lease-namespace",
      defaultValue = "${env:POD_NAMESPACE:-sipha-system}",
      description =
          "Namespace of the agents' Leases and of the leader-election Lease (default: $POD_NAMESPACE or sipha-system).")
  String leaseNamespace;

  @Option(
      names = "--allowed-vip-cidrs",
      split = ",",
      description = "Ranges pairs may claim VIPs in, e.g. 192.0.2.0/24 (default: any).")
  List<String> allowedCidrs = new ArrayList<>();

  @Option(
      names = "--leader-election",
      arity = "1",
      defaultValue = "true",
      paramLabel = "true|false",
      description =
          "Elect a leader among replicas through Lease sipha-operator (default: ${DEFAULT-VALUE}).")
  boolean leaderElection;

  @Option(
      names = "--identity",
      description = "This replica's name in leader election (default: $POD_NAME or the host name).")
  String identity;

  @Option(
      names = "--http-port",
      defaultValue = "8080",
      description =
          "Port of /healthz, /readyz and /metrics; 0 turns them off (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(
      names = "--http-address",
      defaultValue = "0.0.0.0",
      description = "Address of /healthz, /readyz and /metrics (default: ${DEFAULT-VALUE}).")
  String httpAddress;

  @Option(
      names = "--peer-key-secret",
      defaultValue = "sipha-agent-peer-key",
      description =
          "The Secret (in --lease-namespace) the agents' peer channel key is kept in: made with"
              + " random characters when it does not exist; empty: the operator makes none"
              + " (default: ${DEFAULT-VALUE}).")
  String peerKeySecret;

  @Option(
      names = "--log-format",
      defaultValue = "text",
      description = "text or json (default: ${DEFAULT-VALUE}).")
  LogFormat logFormat;

  /** How the command gets its client: kubeconfig or in-cluster configuration, as kubectl does. */
  java.util.function.Supplier<KubernetesClient> clients =
      () -> new KubernetesClientBuilder().build();

  /** How soon a fresh start that failed is tried again, doubling up to {@link #RESTART_MAX}. */
  static final java.time.Duration RESTART_FIRST = java.time.Duration.ofSeconds(1);

  static final java.time.Duration RESTART_MAX = java.time.Duration.ofSeconds(30);

  /** The running operator and its endpoints. */
  record Running(
      LeaderCandidate<io.javaoperatorsdk.operator.Operator> candidate,
      HttpEndpoints http,
      KubernetesClient client)
      implements AutoCloseable {
    @Override
    public void close() {
      if (http != null) {
        http.close();
      }
      candidate.stop();
      client.close();
    }

    /** The operator running now (a new one after each lost leadership). */
    io.javaoperatorsdk.operator.Operator operator() {
      return candidate.current();
    }

    /** How many times this process lost leadership and became a candidate again. */
    int restarts() {
      return candidate.restarts();
    }

    /** How many of those fresh starts failed and were tried again. */
    int failedStarts() {
      return candidate.failedStarts();
    }
  }

  @Override
  public Integer call() throws Exception {
    return UntilStopped.serve(start());
  }

  /** Starts the operator and its endpoints; null (after saying why) when an option is wrong. */
  Running start() throws Exception {
    AllowedCidrs allowed;
    try {
      allowed = AllowedCidrs.parse(allowedCidrs);
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println("sipha operator: --allowed-vip-cidrs: " + e.getMessage());
      return null;
    }
    logFormat.apply();
    KubernetesClient client = clients.get();
    var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    String identity =
        this.identity != null
            ? this.identity
            : System.getenv().getOrDefault("POD_NAME", InetAddress.getLocalHost().getHostName());
    var metrics = new OperatorMetrics(registry);
    var clock = io.sipha.decision.MonotonicClock.startingNow();
    var candidate =
        new LeaderCandidate<io.javaoperatorsdk.operator.Operator>(
            lost ->
                new SiphaOperator(
                        client,
                        new HashSet<>(namespaces),
                        leaseNamespace,
                        allowed,
                        leaderElection,
                        identity,
                        metrics,
                        clock,
                        lost)
                    .start(),
            io.javaoperatorsdk.operator.Operator::stop,
            RESTART_FIRST,
            RESTART_MAX);
    if (peerKeySecret != null && !peerKeySecret.isBlank()) {
      ensurePeerKey(client);
    }
    HttpEndpoints http =
        httpPort == 0
            ? null
            : new HttpEndpoints(
                httpAddress,
                httpPort,
                registry,
                () -> new HttpEndpoints.Check(true, "operator process running"),
                () -> {
                  var info = candidate.current().getRuntimeInfo();
                  boolean ok = info.isStarted() && info.allEventSourcesAreHealthy();
                  return new HttpEndpoints.Check(
                      ok,
                      ok
                          ? "watching"
                          : "event sources not healthy: " + info.unhealthyEventSources());
                });
    return new Running(candidate, http, client);
  }

  /**
   * Makes the agents' peer key Secret if it is missing, on a thread of its own that tries again
   * every 10 s while the API refuses (the operator's work does not wait for it).
   */
  private void ensurePeerKey(KubernetesClient client) {
    Thread t =
        new Thread(
            () -> {
              while (true) {
                try {
                  var outcome =
                      io.sipha.kube.PeerKeySecret.ensure(client, leaseNamespace, peerKeySecret);
                  if (outcome == io.sipha.kube.PeerKeySecret.Outcome.CREATED) {
                    org.slf4j.LoggerFactory.getLogger(OperatorCommand.class)
                        .info(
                            "made the agents' peer key: Secret {}/{}",
                            leaseNamespace,
                            peerKeySecret);
                  }
                  return;
                } catch (RuntimeException e) {
                  org.slf4j.LoggerFactory.getLogger(OperatorCommand.class)
                      .warn(
                          "could not make sure of the peer key Secret {}/{} (tried again in 10 s): {}",
                          leaseNamespace,
                          peerKeySecret,
                          e.toString());
                }
                try {
                  Thread.sleep(10_000);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "peer-key-secret");
    t.setDaemon(true);
    t.start();
  }
}
