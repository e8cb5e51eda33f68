package io.sipha.demo;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/**
 * A real Kubernetes API from an admin kubeconfig: the local control plane that {@code
 * e2e/control-plane} builds and starts, whose kube-scheduler places the pods, whose StatefulSet
 * controller makes them and whose kwok plays their kubelet. What kwok does not play (a server
 * turning NotReady, its container ending) is written into the pod's status here, through the status
 * subresource, as a kubelet writes it.
 */
public final class ControlPlaneApi implements SiteApi {
  /** The annotation kwok manages the local control plane's fake nodes by. */
  public static final String KWOK_NODE = "kwok.x-k8s.io/node";

  private final Path kubeconfig;
  private final Config config;
  private final KubernetesClient client;
  private final Clock clock;

  private ControlPlaneApi(Path kubeconfig, Config config, Clock clock) {
    this.kubeconfig = kubeconfig;
    this.config = config;
    this.clock = clock;
    this.client = newClient();
  }

  /** The API of this kubeconfig (its current context). */
  public static ControlPlaneApi fromKubeconfig(Path kubeconfig, Clock clock) {
    try {
      return new ControlPlaneApi(
          kubeconfig.toAbsolutePath(), Config.fromKubeconfig(Files.readString(kubeconfig)), clock);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read the kubeconfig " + kubeconfig + ": " + e.getMessage(), e);
    }
  }

  public Path kubeconfig() {
    return kubeconfig;
  }

  public Config config() {
    return config;
  }

  @Override
  public KubernetesClient client() {
    return client;
  }

  @Override
  public KubernetesClient newClient() {
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  @Override
  public String url() {
    return config.getMasterUrl();
  }

  /**
   * The namespace, created if missing; one already there is kept as it is, one being deleted is
   * waited for (up to a minute) and made again.
   */
  @Override
  public void ensureNamespace(String name) {
    var ns = client.namespaces().withName(name);
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(1);
    while (ns.get() != null && ns.get().getMetadata().getDeletionTimestamp() != null) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "namespace "
                + name
                + " on "
                + url()
                + " has been terminating for a minute:"
                + " see kubectl get namespace "
                + name
                + " -o yaml");
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
    if (ns.get() == null) {
      client
          .namespaces()
          .resource(
              new NamespaceBuilder()
                  .withNewMetadata()
                  .withName(name)
                  // the SIP Servers run on the host network, as examples/sip-servers.yaml says
                  .withLabels(Map.of("pod-security.kubernetes.io/enforce", "privileged"))
                  .endMetadata()
                  .build())
          .create();
    }
  }

  /** The node's InternalIP, as the chart tells the agent its node's address (status.hostIPs). */
  @Override
  public String nodeAddress(String node) {
    Node n = client.nodes().withName(node).get();
    if (n == null || n.getStatus() == null || n.getStatus().getAddresses() == null) {
      return null;
    }
    return n.getStatus().getAddresses().stream()
        .filter(a -> "InternalIP".equals(a.getType()))
        .map(NodeAddress::getAddress)
        .findFirst()
        .orElse(null);
  }

  /** Is this a fake node of the local control plane (managed by kwok)? */
  public boolean isFakeNode(String node) {
    Node n = client.nodes().withName(node).get();
    return n != null
        && n.getMetadata().getAnnotations() != null
        && "fake".equals(n.getMetadata().getAnnotations().get(KWOK_NODE));
  }

  @Override
  public Pod setReady(String namespace, String name, boolean ready) {
    String now = clock.instant().toString();
    String status = ready ? "True" : "False";
    return patchStatus(
        namespace,
        name,
        """
        {"status":{"conditions":[
          {"type":"Ready","status":"%1$s","lastTransitionTime":"%2$s"},
          {"type":"ContainersReady","status":"%1$s","lastTransitionTime":"%2$s"}],
         "containerStatuses":[{"name":"sip-server","ready":%3$s,
          "state":{"terminated":null,"waiting":null,"running":{"startedAt":"%2$s"}}}]}}"""
            .formatted(status, now, ready));
  }

  @Override
  public Pod terminateContainer(String namespace, String name, int exitCode) {
    String now = clock.instant().toString();
    return patchStatus(
        namespace,
        name,
        """
        {"status":{"conditions":[
          {"type":"Ready","status":"False","lastTransitionTime":"%1$s"},
          {"type":"ContainersReady","status":"False","lastTransitionTime":"%1$s"}],
         "containerStatuses":[{"name":"sip-server","ready":false,"started":false,
          "state":{"running":null,"waiting":null,
           "terminated":{"exitCode":%2$d,"reason":"Error","startedAt":"%1$s","finishedAt":"%1$s"}}}]}}"""
            .formatted(now, exitCode));
  }

  /** A strategic merge patch of the pod's status: conditions merge by type, containers by name. */
  private Pod patchStatus(String namespace, String name, String patch) {
    return client
        .pods()
        .inNamespace(namespace)
        .withName(name)
        .subresource("status")
        .patch(PatchContext.of(PatchType.STRATEGIC_MERGE), patch);
  }

  @Override
  public void close() {
    client.close();
  }
}
