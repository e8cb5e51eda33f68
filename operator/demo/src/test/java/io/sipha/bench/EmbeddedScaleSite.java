package io.sipha.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.sipha.demo.SimulatedSite;
import io.sipha.demo.SimulatedSite.AgentTiming;
import io.sipha.operator.OperatorMetrics;
import io.sipha.vip.AllowedCidrs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The scale bench on the embedded API (the Fabric8 mock server), as the demo runs. */
final class EmbeddedScaleSite implements ScaleSite {
  private final SimulatedSite site;

  EmbeddedScaleSite(Path dir, AgentTiming timing) {
    site =
        new SimulatedSite(
            dir, List.of("node-a", "node-b"), timing, AllowedCidrs.any(), OperatorMetrics.none());
  }

  @Override
  public String name() {
    return "embedded API";
  }

  @Override
  public KubernetesClient client() {
    return site.client();
  }

  @Override
  public void createNamespace(String namespace) {
    site.cluster().createNamespace(namespace);
  }

  @Override
  public void createServerPods(String namespace, List<ServerPod> pods) {
    for (ServerPod p : pods) {
      site.cluster().createServerPod(namespace, p.name(), p.pair(), p.node(), true);
    }
  }

  @Override
  public void startAgents() {
    site.startAgents();
  }

  @Override
  public void stopAgent(String node) {
    site.stopAgent(node);
  }

  @Override
  public Path operatorKubeconfig(Path dir) throws Exception {
    Path kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(
        kubeconfig,
        """
        apiVersion: v1
        kind: Config
        clusters: [{name: embedded, cluster: {server: "%s"}}]
        users: [{name: bench, user: {token: bench}}]
        contexts: [{name: embedded, context: {cluster: embedded, user: bench}}]
        current-context: embedded
        """
            .formatted(site.cluster().url()));
    return kubeconfig;
  }

  @Override
  public void close() {
    site.close();
  }
}
