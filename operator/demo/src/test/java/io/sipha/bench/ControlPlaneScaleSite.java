package io.sipha.bench;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.readiness.Readiness;
import io.sipha.agent.AgentMetrics;
import io.sipha.agent.AgentSettings;
import io.sipha.agent.NodeAgent;
import io.sipha.agent.PeerProbe;
import io.sipha.controlplane.LocalControlPlane;
import io.sipha.decision.MonotonicClock;
import io.sipha.demo.EmbeddedCluster;
import io.sipha.demo.SimulatedHost;
import io.sipha.demo.SimulatedSite.AgentTiming;
import io.sipha.vip.VipScripts;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The scale bench on the local control plane ({@code e2e/control-plane}, started by {@code make
 * bench BENCH_ARGS=real}): kube-apiserver with etcd, kwok's nodes node-a and node-b turning the
 * bench's pods Running and Ready, the CRD applied server-side. The agents run here as the agent
 * command runs them (the pod field selector on, each with a client of its own), each on a simulated
 * host; the operator runs as its own process. Every client uses the admin's certificate, so the API
 * server's priority and fairness treats them as exempt (a cluster's ServiceAccounts would share the
 * workload-low level).
 */
final class ControlPlaneScaleSite implements ScaleSite {
  private static final List<String> NODES = List.of("node-a", "node-b");
  private final LocalControlPlane cp = LocalControlPlane.fromEnvironment();
  private final KubernetesClient admin = cp.adminClient();
  private final Map<String, SimulatedHost> hosts = new LinkedHashMap<>();
  private final Map<String, NodeAgent> agents = new LinkedHashMap<>();
  private final Map<String, KubernetesClient> agentClients = new LinkedHashMap<>();
  private final Clock clock = MonotonicClock.startingNow();
  private final AgentTiming timing;

  ControlPlaneScaleSite(Path dir, AgentTiming timing) {
    this.timing = timing;
    cp.applyCrds();
    createNamespace(LEASE_NAMESPACE);
    Path hostsDir = dir.resolve("hosts");
    for (String n : NODES) {
      hosts.put(n, SimulatedHost.create(n, hostsDir));
    }
  }

  @Override
  public String name() {
    return "kube-apiserver";
  }

  @Override
  public KubernetesClient client() {
    return admin;
  }

  @Override
  public void createNamespace(String namespace) {
    LocalControlPlane.ensureNamespace(admin, namespace);
  }

  @Override
  public void createServerPods(String namespace, List<ServerPod> pods) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (ServerPod p : pods) {
        Pod pod = EmbeddedCluster.serverPod(namespace, p.name(), p.pair(), p.node(), true);
        done.add(pool.submit(() -> admin.pods().inNamespace(namespace).resource(pod).create()));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (true) {
      long ready =
          admin.pods().inNamespace(namespace).list().getItems().stream()
              .filter(Readiness::isPodReady)
              .count();
      if (ready >= pods.size()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "kwok made " + ready + " of " + pods.size() + " pods Ready in 5 minutes");
      }
      Thread.sleep(500);
    }
  }

  @Override
  public void startAgents() {
    for (String n : NODES) {
      Node node = admin.nodes().withName(n).get();
      List<String> addresses =
          node.getStatus().getAddresses().stream()
              .filter(a -> "InternalIP".equals(a.getType()))
              .map(NodeAddress::getAddress)
              .toList();
      KubernetesClient c = cp.adminClient();
      NodeAgent a =
          new NodeAgent(
                  c,
                  new AgentSettings(
                      n,
                      LEASE_NAMESPACE,
                      null,
                      VipScripts.in(hosts.get(n).scriptsDir(), timing.scriptTimeout()),
                      timing.renewEvery(),
                      timing.resyncEvery(),
                      true,
                      addresses,
                      "sipha-agent-" + n),
                  clock,
                  AgentMetrics.none(n),
                  PeerProbe.none())
              .start();
      agents.put(n, a);
      agentClients.put(n, c);
    }
  }

  @Override
  public void stopAgent(String node) {
    NodeAgent a = agents.remove(node);
    if (a != null) {
      a.close();
      agentClients.remove(node).close();
    }
  }

  @Override
  public Path operatorKubeconfig(Path dir) {
    return cp.kubeconfig();
  }

  private static final Pattern REQUEST =
      Pattern.compile("^apiserver_request_total\\{([^}]*)} (\\S+)$");
  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");

  /** apiserver_request_total of the write verbs, summed by resource (and subresource). */
  @Override
  public Map<String, Long> writesByResource() {
    Map<String, Long> out = new TreeMap<>();
    for (String line : admin.raw("/metrics").split("\n")) {
      Matcher m = REQUEST.matcher(line);
      if (!m.matches()) {
        continue;
      }
      Map<String, String> labels = new LinkedHashMap<>();
      Matcher l = LABEL.matcher(m.group(1));
      while (l.find()) {
        labels.put(l.group(1), l.group(2));
      }
      String verb = labels.getOrDefault("verb", "");
      if (!List.of("POST", "PUT", "PATCH", "APPLY", "DELETE").contains(verb)) {
        continue;
      }
      String sub = labels.getOrDefault("subresource", "");
      String key = labels.getOrDefault("resource", "?") + (sub.isEmpty() ? "" : "/" + sub);
      out.merge(key, (long) Double.parseDouble(m.group(2)), Long::sum);
    }
    return out;
  }

  @Override
  public void close() {
    for (String n : List.copyOf(agents.keySet())) {
      stopAgent(n);
    }
    admin.close();
  }
}
