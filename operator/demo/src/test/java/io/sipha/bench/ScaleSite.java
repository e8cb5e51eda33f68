package io.sipha.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.sipha.demo.SimulatedSite;
import java.nio.file.Path;
import java.util.List;

/**
 * Where the scale bench runs: an API server with two nodes whose agents run here, each on a
 * simulated host (recording VIP scripts). The bench's own writes (pods, pairs) and reads go through
 * {@link #client()}; the operator runs as its own process with {@link #operatorKubeconfig}.
 */
interface ScaleSite extends AutoCloseable {
  String LEASE_NAMESPACE = SimulatedSite.LEASE_NAMESPACE;

  /** A pod of a pair on a node. */
  record ServerPod(String name, String pair, String node) {}

  /** What the figures are labelled with: "embedded API" or "kube-apiserver". */
  String name();

  KubernetesClient client();

  void createNamespace(String namespace);

  /** Creates these SIP Server pods and returns once every one of them is Running and Ready. */
  void createServerPods(String namespace, List<ServerPod> pods) throws Exception;

  void startAgents();

  /** Stops a node's agent: its host keeps what it holds, and its Lease is no longer renewed. */
  void stopAgent(String node);

  /** A kubeconfig (written into {@code dir}) for the operator process. */
  Path operatorKubeconfig(Path dir) throws Exception;

  /** The API server's own count of write requests so far, by resource, or empty if it has none. */
  default java.util.Map<String, Long> writesByResource() {
    return java.util.Map.of();
  }

  @Override
  void close();
}
