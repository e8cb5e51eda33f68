package io.sipha.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.sipha.agent.NodeAgent;
import io.sipha.vip.VipScripts;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sipha agent --node N --scripts-dir D}: the node agent. */
@Command(
    name = "agent",
    mixinStandardHelpOptions = true,
    description = "Run the node agent: heartbeat, and bind or unbind VIPs on this node with the admin's scripts.")
final class AgentCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--node", required = true, defaultValue = "${env:NODE_NAME}",
      description = "This node's name (default: $NODE_NAME).")
  String node;

  @Option(names = "--scripts-dir", required = true,
      description = "Directory holding the executables vip-enable, vip-disable and vip-status.")
  Path scriptsDir;

  @Option(names = "--script-timeout-ms", defaultValue = "10000", description = "Kill a script after this long (default: ${DEFAULT-VALUE}).")
  long scriptTimeoutMs;

  @Option(names = "--namespace", description = "Namespace of the pairs (default: all).")
  String namespace;

  @Option(names = "--lease-namespace", defaultValue = "${env:POD_NAMESPACE:-sipha-system}",
      description = "Namespace of the agents' Leases (default: $POD_NAMESPACE or ${DEFAULT-VALUE}).")
  String leaseNamespace;

  @Option(names = "--renew-ms", defaultValue = "1000", description = "Lease renewal period (default: ${DEFAULT-VALUE}).")
  long renewMs;

  @Option(names = "--resync-ms", defaultValue = "5000", description = "How often vip-status checks for drift (default: ${DEFAULT-VALUE}).")
  long resyncMs;

  @Override
  public Integer call() throws Exception {
    if (node == null || node.isBlank()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--node is required (or set NODE_NAME)");
    }
    VipScripts scripts;
    try {
      scripts = VipScripts.in(scriptsDir, Duration.ofMillis(scriptTimeoutMs));
    } catch (IllegalStateException e) {
      spec.commandLine().getErr().println("sipha agent: " + e.getMessage());
      return 2;
    }
    KubernetesClient client = new KubernetesClientBuilder().build();
    var agent = new NodeAgent(client, new NodeAgent.Settings(node, leaseNamespace, namespace, scripts,
        Duration.ofMillis(renewMs), Duration.ofMillis(resyncMs), true), Clock.systemUTC()).start();
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      agent.close();
      stop.countDown();
    }));
    stop.await();
    return 0;
  }
}
