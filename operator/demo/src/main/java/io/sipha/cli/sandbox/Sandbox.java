package io.sipha.cli.sandbox;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.kube.AgentReports;
import io.sipha.demo.ControlPlaneApi;
import io.sipha.kube.InformerHandlers;
import io.sipha.demo.SimulatedSite;
import io.sipha.demo.SimulatedSite.AgentTiming;
import io.fabric8.kubernetes.client.readiness.Readiness;
import io.sipha.operator.OperatorMetrics;
import io.sipha.vip.AllowedCidrs;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@code sipha demo --keep-running}: the demo's site left running for a person with their own
 * kubectl. An API, hosts node-a and node-b with their agents, the operator, and pair-1 Active over
 * sip-0 and sip-1 in namespace voice.
 *
 * <p>On the embedded API (the default: nothing to build) the sandbox also plays the parts a
 * cluster would: the kubelet and the StatefulSet (sip-0 on node-a, sip-1 on node-b; a deleted
 * server pod comes back after {@link #RECREATE_AFTER}). On the local control plane
 * ({@code make sandbox} once {@code e2e/control-plane} is built) those parts are real: the
 * repository's {@code examples/sip-servers.yaml} and {@code examples/pair-1.yaml} are applied,
 * the StatefulSet controller makes the pods, kube-scheduler places them and kwok plays their
 * kubelet, and kubectl gets the printer columns, {@code create} and {@code edit}.
 *
 * <p>On both, the sandbox plays the network and a server's health (ConfigMap {@value #CONTROL}:
 * {@code node-a: down} cuts node-a off, {@code up} or deleting the ConfigMap brings it back;
 * {@code sip-0: notready|ready|failed} plays the pod's health).
 */
public final class Sandbox implements AutoCloseable {
  public static final String NS = "voice";
  public static final String PAIR = "pair-1";
  public static final String VIP = "192.0.2.10/24";
  public static final String CONTROL = "sandbox-control";
  public static final Duration RECREATE_AFTER = Duration.ofSeconds(2);
  /** Where the embedded sandbox puts the servers (on a control plane, kube-scheduler decides). */
  static final Map<String, String> EMBEDDED_HOME = Map.of("sip-0", "node-a", "sip-1", "node-b");
  static final List<String> SERVERS = List.of("sip-0", "sip-1");
  static final List<String> NODES = List.of("node-a", "node-b");
  /** The examples the sandbox applies on a control plane, in the repository. */
  static final List<Path> EXAMPLES = List.of(Path.of("examples", "sip-servers.yaml"), Path.of("examples", "pair-1.yaml"));
  private static final java.time.format.DateTimeFormatter CLOCK = java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

  private final PrintStream log;
  private final Path hostsDir;
  /** The control plane it runs on, or null: the embedded API. */
  private final ControlPlaneApi controlPlane;
  /** The repository whose examples it applies on a control plane. */
  private final Path repo;
  private final SimulatedSite site;
  /** Each server pod's node. */
  private final Map<String, String> home = new ConcurrentHashMap<>();
  private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "sandbox");
    t.setDaemon(true);
    return t;
  });
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private final Set<String> down = ConcurrentHashMap.newKeySet();
  private final Map<String, String> podStates = new ConcurrentHashMap<>();
  private volatile boolean closed;
  private volatile boolean talking;
  private int timelinePrinted;
  private Path kubeconfig;

  private Sandbox(ControlPlaneApi controlPlane, Path repo, PrintStream log) {
    this.log = log;
    this.controlPlane = controlPlane;
    this.repo = repo;
    try {
      hostsDir = Files.createTempDirectory("sipha-sandbox-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    site = SimulatedSite.on(controlPlane, hostsDir, NODES, AgentTiming.fast(Duration.ofSeconds(5)),
        AllowedCidrs.parse(List.of("192.0.2.0/24")), OperatorMetrics.none());
  }

  /**
   * Starts everything on the embedded API, waits until pair-1 is Active with its VIP on node-a,
   * and writes the kubeconfig. What happens from then on is written to {@code log}, one line per
   * step.
   */
  public static Sandbox start(Path kubeconfigOut, PrintStream log) {
    return start(null, null, kubeconfigOut, log);
  }

  /**
   * The same on a local control plane (null: the embedded API): its fake nodes node-a and node-b,
   * the CRD applied, the examples of the repository at {@code repo} applied.
   */
  public static Sandbox start(ControlPlaneApi controlPlane, Path repo, Path kubeconfigOut, PrintStream log) {
    if (controlPlane != null) {
      refuseUnlessLocal(controlPlane, repo);
    }
    Sandbox s = new Sandbox(controlPlane, repo, log);
    try {
      s.setUp(kubeconfigOut);
      return s;
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
  }

  /**
   * The sandbox writes a namespace, a StatefulSet and Leases and plays hosts: only on the local
   * control plane's fake nodes, never on a cluster someone uses.
   */
  private static void refuseUnlessLocal(ControlPlaneApi cp, Path repo) {
    String refusal = whyNotLocal(cp, repo);
    if (refusal != null) {
      cp.close();
      throw new IllegalStateException("--control-plane: " + refusal);
    }
  }

  /** Why the sandbox may not run on this control plane, or null when it may. */
  private static String whyNotLocal(ControlPlaneApi cp, Path repo) {
    for (String n : NODES) {
      if (!cp.isFakeNode(n)) {
        return cp.url() + " has no fake node " + n + " (annotation " + ControlPlaneApi.KWOK_NODE + "=fake): the sandbox"
            + " runs only on the local control plane that e2e/control-plane/cluster.sh starts (make sandbox starts it),"
            + " never on a cluster in use";
      }
    }
    if (cp.client().apiextensions().v1().customResourceDefinitions().withName("sipserverpairs.sipha.io").get() == null) {
      return cp.url() + " has no SipServerPair CRD: apply it first (kubectl apply --server-side -f crds/; make sandbox"
          + " does)";
    }
    for (Path p : EXAMPLES) {
      if (!Files.isReadable(repo.resolve(p))) {
        return repo.resolve(p).toAbsolutePath() + " is missing: the sandbox applies the repository's examples; run it"
            + " from the repository's root (make sandbox does)";
      }
    }
    return null;
  }

  private void setUp(Path kubeconfigOut) {
    site.api().ensureNamespace(NS);
    var client = site.client();
    if (client.resources(SipServerPair.class).inNamespace(NS).withName(PAIR).get() != null) {
      throw new IllegalStateException(PAIR + " is already in namespace " + NS + " on " + url() + ": another sandbox"
          + " runs there, or one did not clean up (kubectl delete namespace " + NS + ")");
    }
    site.startAgents();
    site.startOperator();
    informers.add(client.v1().events().inNamespace(NS).inform(InformerHandlers.of(
        e -> say("event", e.getType() + " " + e.getReason() + ": " + e.getMessage()), null, null), 0));
    if (controlPlane == null) {
      home.putAll(EMBEDDED_HOME);
      for (String pod : SERVERS) {
        site.cluster().createServerPod(NS, pod, PAIR, home.get(pod), true);
      }
      informers.add(client.pods().inNamespace(NS).inform(InformerHandlers.of(null, null, this::podDeleted), 0));
    } else {
      apply(EXAMPLES.get(0));
      awaitServersReady();
      informers.add(client.pods().inNamespace(NS).inform(new ClusterPods(), 0));
    }
    SERVERS.forEach(pod -> podStates.put(pod, "ready"));
    var control = new ConfigMapBuilder()
        .withNewMetadata().withName(CONTROL).withNamespace(NS).endMetadata()
        .withData(new LinkedHashMap<>(Map.of("node-a", "up", "node-b", "up", "sip-0", "ready", "sip-1", "ready")))
        .build();
    client.configMaps().inNamespace(NS).resource(control).create();
    Consumer<io.fabric8.kubernetes.api.model.ConfigMap> switchboard =
        cm -> worker.execute(() -> control(cm.getData() == null ? Map.of() : cm.getData()));
    informers.add(client.configMaps().inNamespace(NS).withName(CONTROL).inform(InformerHandlers.of(
        switchboard, switchboard, cm -> worker.execute(() -> control(Map.of()))), 0));
    if (controlPlane == null) {
      SipServerPair p = SimulatedSite.pair(NS, PAIR, "sip-0", "sip-0", "sip-1");
      p.getSpec().getFailover().setUnreadyGraceSeconds(2);
      p.getSpec().getFailover().setNodeLossSeconds(3);
      client.resources(SipServerPair.class).inNamespace(NS).resource(p).create();
    } else {
      apply(EXAMPLES.get(1));
    }
    // a control plane's operator starts cold beside kube-apiserver & co. on the same cores
    int activeWithin = controlPlane == null ? 30 : 90;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(activeWithin);
    while (!active()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("pair-1 did not become Active within " + activeWithin + " s");
      }
      pause(20);
    }
    worker.scheduleWithFixedDelay(this::timeline, 0, 25, TimeUnit.MILLISECONDS);
    kubeconfig = controlPlane == null ? Kubeconfig.write(kubeconfigOut, url(), NS)
        : Kubeconfig.write(kubeconfigOut, controlPlane.config(), NS);
  }

  /** An example from the repository, applied server-side as a platform team applies it. */
  private void apply(Path example) {
    try (var in = Files.newInputStream(repo.resolve(example))) {
      site.client().load(in).fieldManager("sipha-sandbox").forceConflicts().serverSideApply();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + example, e);
    }
  }

  /** The StatefulSet controller makes the pods, kube-scheduler places them, kwok makes them Ready. */
  private void awaitServersReady() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (true) {
      List<Pod> ready = site.client().pods().inNamespace(NS).list().getItems().stream()
          .filter(p -> SERVERS.contains(p.getMetadata().getName()) && Readiness.isPodReady(p)).toList();
      if (ready.size() == SERVERS.size()) {
        ready.forEach(p -> home.put(p.getMetadata().getName(), p.getSpec().getNodeName()));
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the StatefulSet's pods sip-0 and sip-1 were not Ready on the fake nodes within"
            + " 90 s (" + ready.size() + " Ready): is the control plane's kube-controller-manager, kube-scheduler and"
            + " kwok running?");
      }
      pause(200);
    }
  }

  private boolean active() {
    SipServerPair p = site.client().resources(SipServerPair.class).inNamespace(NS).withName(PAIR).get();
    SipServerPairStatus s = p == null ? null : p.getStatus();
    return s != null && s.phase == Phase.Active && "sip-0".equals(s.primary);
  }

  public Path kubeconfig() {
    return kubeconfig;
  }

  public String url() {
    return site.api().url();
  }

  /** Each server pod's node, as it was placed at the start. */
  public Map<String, String> home() {
    return Map.copyOf(home);
  }

  public SimulatedSite site() {
    return site;
  }

  /** What to type, for a person who just started it. */
  public void printIntro(PrintStream out) {
    printIntro(out, null);
  }

  /**
   * What to type; {@code kubectl}, when not null, is the kubectl built with the control plane (a
   * machine's own may be older than its server).
   */
  public void printIntro(PrintStream out, Path kubectl) {
    String primaryNode = home.get("sip-0");
    String backupNode = home.get("sip-1");
    if (controlPlane == null) {
      out.println("sipha sandbox is running: an embedded Kubernetes API at " + url().replaceAll("/$", "")
          + " with the operator,");
    } else {
      out.println("sipha sandbox is running on the local control plane at " + url().replaceAll("/$", "") + " (kube-apiserver "
          + site.client().getKubernetesVersion().getGitVersion() + ", etcd, kube-controller-manager, kube-scheduler;");
      out.println("kwok plays the kubelets of the fake nodes node-a and node-b) with the operator,");
    }
    out.println("the hosts node-a and node-b (simulated; VIP scripts in " + hostsDir + ") each with its node agent,");
    out.println("and pair-1 in namespace voice: sip-0 (" + primaryNode + ") primary, sip-1 (" + backupNode + ") backup, VIP "
        + VIP + " on " + primaryNode + ".");
    if (controlPlane != null) {
      out.println("The StatefulSet and the pair are the repository's examples/sip-servers.yaml and examples/pair-1.yaml.");
    }
    out.println();
    out.println("In another terminal:");
    out.println();
    out.println("  export KUBECONFIG=" + kubeconfig + "    # context " + Kubeconfig.CONTEXT + ", namespace voice");
    if (kubectl != null) {
      out.println("  alias kubectl=" + kubectl + "    # built with the control plane; yours may be older");
    }
    out.println();
    String f = "  %-48s# %s%n";
    if (controlPlane == null) {
      out.printf(f, "kubectl get ssp", "NAME and AGE only: the mock API renders no columns");
      out.printf(f, "kubectl sipha status", "the columns kubectl get ssp shows on a cluster");
    } else {
      out.printf(f, "kubectl get ssp", "PRIMARY, BACKUP, VIP, NODE, PHASE, EPOCH");
      out.printf(f, "kubectl explain ssp.spec.failover", "the field docs, from the CRD's schema");
      out.printf(f, "kubectl edit ssp pair-1", "set spec.primary: sip-1 and save: a switchover");
    }
    out.printf(f, "kubectl sipha switchover pair-1 --to sip-1", "the patch, then the switchover live");
    out.println("  kubectl patch ssp pair-1 --type merge -p '{\"spec\":{\"primary\":\"sip-0\"}}'");
    out.printf(f, "kubectl sipha status pair-1", "conditions, pods, agents' heartbeats and reports");
    out.printf(f, "kubectl sipha history pair-1", "transitions, durations, reasons");
    out.printf(f, "kubectl sipha plan pair-1 --if node-lost=" + primaryNode, "what the operator would do; changes nothing");
    out.printf(f, "kubectl get lease -n sipha-system", "the node agents' heartbeats");
    out.println();
    out.println("Failures to try:");
    out.printf(f, "kubectl delete pod sip-0", controlPlane == null
        ? "a server fails; back " + RECREATE_AFTER.toSeconds() + " s later (its StatefulSet)"
        : "a server fails; its StatefulSet controller makes it again");
    out.printf("  %s%n  %-48s# %s%n", control(primaryNode, "down"), "", primaryNode
        + " cut off: its agent stops, its host keeps the VIP");
    out.printf("  %s%n  %-48s# %s%n", control(primaryNode, "up"), "", primaryNode + " back: a stale primary, demoted by itself");
    out.printf("  %s%n  %-48s# %s%n", control("sip-1", "notready"), "", "sip-1 NotReady (also: ready, failed)");
    out.println();
    if (!onPath("kubectl-sipha")) {
      out.println("kubectl sipha is the plugin: make install-plugin puts it on your PATH (BINDIR=~/bin make"
          + " install-plugin");
      out.println("without root); meanwhile: java -cp " + jar() + " io.sipha.cli.PluginMain status pair-1");
      out.println();
    }
    if (controlPlane == null) {
      out.println("The mock API reads JSON only: kubectl create configmap|secret and kubectl edit send what it cannot");
      out.println("read; get, patch --type merge, delete, apply --validate=false -f and the plugin work. On the local");
      out.println("control plane (make cluster builds it once, then make sandbox runs there) all of kubectl works.");
    } else {
      out.println("kwok keeps a cut-off node Ready: sipha judges a node by its own agent's heartbeat, not by the kubelet's.");
    }
    out.println();
    out.println("What happens is printed below. Ctrl-C stops everything.");
    out.println();
    out.flush();
    talking = true;
  }

  /** The kubectl command that sets one key of the control ConfigMap. */
  public static String control(String key, String value) {
    return "kubectl patch configmap " + CONTROL + " --type merge -p '{\"data\":{\"" + key + "\":\"" + value + "\"}}'";
  }

  // ------------------------------------------------------------------ the cluster's parts

  /** The StatefulSet's part: a deleted server pod is created again, on the same node. */
  private void podDeleted(Pod pod) {
    String name = pod.getMetadata().getName();
    String node = home.get(name);
    if (node == null || closed) {
      return;
    }
    say("kubelet", "pod " + name + " is gone; its StatefulSet creates it again on " + node + " in "
        + RECREATE_AFTER.toSeconds() + " s");
    worker.schedule(() -> {
      if (closed || site.client().pods().inNamespace(NS).withName(name).get() != null) {
        return;
      }
      try {
        site.cluster().createServerPod(NS, name, PAIR, node, true);
        if (down.contains(node)) {
          site.cluster().setReady(NS, name, false);
        }
        podStates.put(name, down.contains(node) ? "notready" : "ready");
        say("kubelet", "pod " + name + " created on " + node + (down.contains(node) ? " (NotReady: its node is down)" : ", Ready"));
      } catch (RuntimeException e) {
        say("kubelet", "could not create " + name + ": " + e.getMessage());
      }
    }, RECREATE_AFTER.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * On a control plane the StatefulSet controller, kube-scheduler and kwok do the cluster's part:
   * the sandbox says what they did.
   */
  private final class ClusterPods implements ResourceEventHandler<Pod> {
    @Override
    public void onAdd(Pod pod) {
      String name = pod.getMetadata().getName();
      if (SERVERS.contains(name) && !Readiness.isPodReady(pod)) {
        say("cluster", "pod " + name + " created by its StatefulSet");
      }
    }

    @Override
    public void onUpdate(Pod before, Pod pod) {
      String name = pod.getMetadata().getName();
      if (!SERVERS.contains(name)) {
        return;
      }
      String node = pod.getSpec().getNodeName();
      if (node != null && before.getSpec().getNodeName() == null) {
        say("cluster", "pod " + name + " scheduled on " + node + " by kube-scheduler");
      }
      boolean ready = Readiness.isPodReady(pod);
      if (ready != Readiness.isPodReady(before)) {
        say("cluster", "pod " + name + (ready ? " Ready" : " NotReady") + " on " + node);
      }
    }

    @Override
    public void onDelete(Pod pod, boolean unknown) {
      String name = pod.getMetadata().getName();
      if (SERVERS.contains(name) && !closed) {
        podStates.put(name, "ready");
        say("cluster", "pod " + name + " is gone; its StatefulSet controller creates it again");
      }
    }
  }

  /** The network's and the kubelet's part, from ConfigMap sandbox-control. */
  private void control(Map<String, String> data) {
    if (closed) {
      return;
    }
    for (String key : data.keySet()) {
      if (!NODES.contains(key) && !SERVERS.contains(key)) {
        say("control", "ignoring " + key + ": the keys are node-a, node-b (down|up) and sip-0, sip-1 (ready|notready|failed)");
      }
    }
    for (String node : NODES) {
      String v = value(data, node);
      if (v != null && !v.equals("down") && !v.equals("up")) {
        say("control", "ignoring " + node + "=" + v + ": down or up");
        continue;
      }
      if ("down".equals(v) && down.add(node)) {
        site.stopAgent(node);
        say("control", node + " is cut off: its agent stops (no heartbeat, nothing runs there); its host keeps what it holds");
      } else if (!"down".equals(v) && down.remove(node)) {
        site.startAgent(node);
        say("control", node + " is back: its agent starts and reports what its host holds");
      }
    }
    for (String pod : SERVERS) {
      String v = value(data, pod);
      if (v == null) {
        v = "ready";
      }
      if (Objects.equals(v, podStates.get(pod))) {
        continue;
      }
      try {
        if (v.equals("ready")) {
          site.api().setReady(NS, pod, true);
          say("control", pod + " is Ready");
        } else if (v.equals("notready")) {
          site.api().setReady(NS, pod, false);
          say("control", pod + " is NotReady");
        } else if (v.equals("failed")) {
          site.api().terminateContainer(NS, pod, 1);
          say("control", pod + "'s SIP Server container has terminated (exit code 1)");
        } else {
          say("control", "ignoring " + pod + "=" + v + ": ready, notready or failed");
          continue;
        }
      } catch (RuntimeException e) {
        say("control", "could not change " + pod + ": " + e.getMessage());
      }
      podStates.put(pod, v);
    }
  }

  private static String value(Map<String, String> data, String key) {
    String v = data.get(key);
    return v == null ? null : v.strip().toLowerCase();
  }

  private void timeline() {
    try {
      List<String> all = site.timeline();
      for (; timelinePrinted < all.size(); timelinePrinted++) {
        String[] w = all.get(timelinePrinted).split(" ", 3);
        say("host", w[0] + " ran vip-" + w[1] + " " + (w.length > 2 ? w[2] : ""));
      }
    } catch (RuntimeException e) {
      // the hosts' folder is gone: we are closing
    }
  }

  private synchronized void say(String kind, String text) {
    if (talking && !closed) {
      log.printf("%s  %-7s  %s%n", CLOCK.format(LocalTime.now()), kind, text);
      log.flush();
    }
  }

  private static boolean onPath(String command) {
    String path = System.getenv("PATH");
    return path != null && Stream.of(path.split(File.pathSeparator))
        .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, command)));
  }

  private static String jar() {
    try {
      Path p = Path.of(Sandbox.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return p.toString().endsWith(".jar") ? p.toString() : "operator/target/sipha.jar";
    } catch (Exception e) {
      return "operator/target/sipha.jar";
    }
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  /** While the operator still runs, so that its finalizer clears the pods' roles and the VIP. */
  private void deletePair() {
    try {
      var pair = site.client().resources(SipServerPair.class).inNamespace(NS).withName(PAIR);
      pair.delete();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (pair.get() != null && System.nanoTime() < deadline) {
        pause(100);
      }
    } catch (RuntimeException e) {
      log.println("sandbox: could not delete " + PAIR + ": " + e.getMessage());
    }
  }

  /** The namespace with the examples in it, and the Leases the sandbox's agents wrote. */
  private void removeWhatItMade() {
    try {
      var client = site.client();
      client.namespaces().withName(NS).delete();
      client.leases().inNamespace(SimulatedSite.LEASE_NAMESPACE).list().getItems().stream()
          .filter(l -> NODES.stream().anyMatch(n -> isAgentLease(l.getMetadata().getName(), n)))
          .forEach(l -> client.leases().inNamespace(SimulatedSite.LEASE_NAMESPACE).resource(l).delete());
    } catch (RuntimeException e) {
      log.println("sandbox: could not remove namespace " + NS + " or the agents' Leases: " + e.getMessage());
    }
  }

  private static boolean isAgentLease(String name, String node) {
    return name.equals(AgentReports.LEASE_PREFIX + node)
        || java.util.stream.IntStream.range(0, AgentReports.SHARDS).anyMatch(i -> name.equals(AgentReports.shardName(node, i)));
  }

  /**
   * Stops the operator, the agents and the embedded API (on a control plane: deletes the pair and
   * removes what the sandbox made there), and removes the hosts' folders.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    if (talking) {
      say("stop", controlPlane == null ? "stopping the sandbox: operator, agents, embedded API"
          : "stopping the sandbox: pair-1 deleted (its finalizer demotes the servers and removes the VIP), then the"
          + " operator and the agents; namespace voice and the agents' Leases removed");
    }
    if (controlPlane != null) {
      deletePair();
    }
    closed = true;
    informers.forEach(SharedIndexInformer::close);
    worker.shutdownNow();
    try {
      worker.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    site.close();
    if (controlPlane != null) {
      removeWhatItMade();
      controlPlane.close();
    }
    try (Stream<Path> files = Files.walk(hostsDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // a temporary folder: what is left is left
    }
  }
}
