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

  @Option(names = "--http-address", defaultValue = "0.0.0.0",
      description = "Address of /healthz, /readyz and /metrics (default: ${DEFAULT-VALUE}).")
  String httpAddress;

  @Option(names = "--log-format", defaultValue = "text", description = "text or json (default: ${DEFAULT-VALUE}).")
  LogFormat logFormat;

  /** How the command gets its client: kubeconfig or in-cluster configuration, as kubectl does. */
  java.util.function.Supplier<KubernetesClient> clients = () -> new KubernetesClientBuilder().build();

  /** The running operator and its endpoints. */
  record Running(Candidate candidate, HttpEndpoints http, KubernetesClient client) implements AutoCloseable {
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
  }

  /**
   * The operator of this process. When it loses leadership while it runs (another replica leads now,
   * or a blip of the API let its Lease expire) it stops at once, so that it never goes on writing,
   * and a fresh operator starts in the same process as a candidate: no exit, so repeated API blips
   * do not put the pod in CrashLoopBackOff.
   */
  static final class Candidate {
    private final java.util.function.Function<Runnable, io.javaoperatorsdk.operator.Operator> start;
    private final java.util.concurrent.ExecutorService restarter = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "operator-candidate");
      t.setDaemon(true);
      return t;
    });
    private volatile io.javaoperatorsdk.operator.Operator current;
    private volatile boolean stopping;
    private final java.util.concurrent.atomic.AtomicInteger restarts = new java.util.concurrent.atomic.AtomicInteger();

    Candidate(java.util.function.Function<Runnable, io.javaoperatorsdk.operator.Operator> start) {
      this.start = start;
      this.current = start.apply(this::lostLeadership);
    }

    io.javaoperatorsdk.operator.Operator current() {
      return current;
    }

    int restarts() {
      return restarts.get();
    }

    private void lostLeadership() {
      if (stopping) {
        return;
      }
      System.err.println("sipha operator: lost leadership; stopping and standing again as a candidate");
      restarter.execute(() -> {
        io.javaoperatorsdk.operator.Operator old = current;
        old.stop();
        if (!stopping) {
          restarts.incrementAndGet();
          current = start.apply(this::lostLeadership);
        }
      });
    }

    void stop() {
      stopping = true;
      restarter.shutdown();
      current.stop();
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
    var metrics = new OperatorMetrics(registry);
    var clock = io.sipha.decision.MonotonicClock.startingNow();
    var candidate = new Candidate(lost -> new SiphaOperator(client, new HashSet<>(namespaces), leaseNamespace, allowed,
        leaderElection, identity, metrics, clock, lost).start());
    HttpEndpoints http = httpPort == 0 ? null : new HttpEndpoints(httpAddress, httpPort, registry,
        () -> new HttpEndpoints.Check(true, "operator process running"),
        () -> {
          var info = candidate.current().getRuntimeInfo();
          boolean ok = info.isStarted() && info.allEventSourcesAreHealthy();
          return new HttpEndpoints.Check(ok, ok ? "watching" : "event sources not healthy: " + info.unhealthyEventSources());
        });
    return new Running(candidate, http, client);
  }
}
