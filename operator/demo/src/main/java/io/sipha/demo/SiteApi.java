package io.sipha.demo;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The Kubernetes API a simulated site runs on: the embedded one ({@link EmbeddedCluster}) or a
 * local control plane's ({@link ControlPlaneApi}). Beside clients, it plays the kubelet's part for
 * a server pod's health, as far as that API needs it played.
 */
public interface SiteApi extends AutoCloseable {
  /** A client kept open for the site's own reads and writes. */
  KubernetesClient client();

  /** A new client, as a separate process would have (the caller closes it). */
  KubernetesClient newClient();

  /** The API server's URL. */
  String url();

  /** The namespace, created if it is not there. */
  void ensureNamespace(String name);

  /** The node's own address as the agent on it is told it, or null to let the site choose one. */
  String nodeAddress(String node);

  /** Acts as the kubelet: sets the server pod's Ready condition (its container running). */
  Pod setReady(String namespace, String name, boolean ready);

  /** Acts as the kubelet: the SIP Server container has terminated with this exit code. */
  Pod terminateContainer(String namespace, String name, int exitCode);

  @Override
  void close();
}
