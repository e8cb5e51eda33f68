package io.sipha.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sipha.operator.OperatorMetrics;
import io.sipha.operator.SiphaOperator;
import io.sipha.vip.AllowedCidrs;
import java.net.InetAddress;
import java.time.Clock;
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

  @Option(names = "--namespace", split = ",", description = "Namespaces of the pairs to manage (default: all).")
  List<String> namespaces = new ArrayList<>();

  @Option(names = "--lease-namespace", defaultValue = "${env:POD_NAMESPACE:-sipha-system}",
      description = "Namespace of the agents' Leases and of the leader-election Lease (default: $POD_NAMESPACE or sipha-system).")
  String leaseNamespace;

  @Option(names = "--allowed-vip-cidrs", split = ",", description = "Ranges pairs may claim VIPs in, e.g. 192.0.2.0/24 (default: any).")
  List<String> allowedCidrs = new ArrayList<>();

  @Option(names = "--leader-election", arity = "1", defaultValue = "true", paramLabel = "true|false",
      description = "Elect a leader among replicas through Lease sipha-operator (default: ${DEFAULT-VALUE}).")
  boolean leaderElection;

  @Option(names = "--identity", description = "This replica's name in leader election (default: $POD_NAME or the host name).")
  String identity;

  @Option(names = "--http-port", defaultValue = "8080", description = "Port of /healthz, /readyz and /metrics; 0 turns them off (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--log-format", defaultValue = "text", description = "text or json (default: ${DEFAULT-VALUE}).")
  LogFormat logFormat;

  /** How the command gets its client: kubeconfig or in-cluster configuration, as kubectl does. */
  java.util.function.Supplier<KubernetesClient> clients = () -> new KubernetesClientBuilder().build();

  /** The running operator and its endpoints. */
  record Running(io.javaoperatorsdk.operator.Operator operator, HttpEndpoints http, KubernetesClient client,
      java.util.concurrent.atomic.AtomicBoolean stopping) implements AutoCloseable {
    @Override
    public void close() {
      stopping.set(true);
      if (http != null) {
        http.close();
      }
      operator.stop();
      client.close();
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
    String identity = this.identity != null ? this.identity
        : System.getenv().getOrDefault("POD_NAME", InetAddress.getLocalHost().getHostName());
    var stopping = new java.util.concurrent.atomic.AtomicBoolean();
    Runnable lostLeadership = () -> {
      if (!stopping.get()) {
        // another replica leads now: acting on would make two writers; restart as a candidate
        System.err.println("sipha operator " + identity + ": lost leadership; exiting to restart as a candidate");
        Runtime.getRuntime().halt(1);
      }
    };
    var operator = new SiphaOperator(client, new HashSet<>(namespaces), leaseNamespace, allowed, leaderElection,
        identity, new OperatorMetrics(registry), io.sipha.decision.MonotonicClock.startingNow(), lostLeadership).start();
    HttpEndpoints http = httpPort == 0 ? null : new HttpEndpoints(httpPort, registry,
        () -> new HttpEndpoints.Check(true, "operator process running"),
        () -> {
          var info = operator.getRuntimeInfo();
          boolean ok = info.isStarted() && info.allEventSourcesAreHealthy();
          return new HttpEndpoints.Check(ok, ok ? "watching" : "event sources not healthy: " + info.unhealthyEventSources());
        });
    return new Running(operator, http, client, stopping);
  }
}
