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
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sipha operator}: the reconciler of SipServerPairs. */
@Command(
    name = "operator",
    mixinStandardHelpOptions = true,
    description = "Run the SipServerPair operator (kubeconfig or in-cluster configuration).")
final class OperatorCommand implements Callable<Integer> {
  @Option(names = "--namespace", split = ",", description = "Namespaces of the pairs to manage (default: all).")
  List<String> namespaces = new ArrayList<>();

  @Option(names = "--lease-namespace", defaultValue = "${env:POD_NAMESPACE:-sipha-system}",
      description = "Namespace of the agents' Leases and of the leader-election Lease (default: $POD_NAMESPACE or ${DEFAULT-VALUE}).")
  String leaseNamespace;

  @Option(names = "--allowed-vip-cidrs", split = ",", description = "Ranges pairs may claim VIPs in, e.g. 192.0.2.0/24 (default: any).")
  List<String> allowedCidrs = new ArrayList<>();

  @Option(names = "--leader-election", negatable = true, defaultValue = "true",
      description = "Elect a leader among replicas (default: ${DEFAULT-VALUE}).")
  boolean leaderElection;

  @Override
  public Integer call() throws Exception {
    AllowedCidrs allowed = AllowedCidrs.parse(allowedCidrs);
    KubernetesClient client = new KubernetesClientBuilder().build();
    var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    String identity = System.getenv().getOrDefault("POD_NAME", InetAddress.getLocalHost().getHostName());
    var operator = new SiphaOperator(client, new HashSet<>(namespaces), leaseNamespace, allowed, leaderElection,
        identity, new OperatorMetrics(registry), Clock.systemUTC()).start();
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      operator.stop();
      stop.countDown();
    }));
    stop.await();
    return 0;
  }
}
