package io.sipha.cli.sandbox;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.demo.ControlPlaneApi;
import io.sipha.demo.SimulatedSite;
import io.sipha.demo.SimulatedSite.AgentTiming;
import io.sipha.kube.InformerHandlers;
import io.sipha.operator.OperatorMetrics;
import io.sipha.vip.AllowedCidrs;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * <p>On the embedded API (the default: nothing to build) the sandbox also plays the parts a cluster
 * would: the kubelet and the StatefulSet (sip-0 on node-a, sip-1 on node-b; a deleted server pod
 * comes back after {@link #RECREATE_AFTER}). On the local control plane ({@code make sandbox} once
 * {@code e2e/control-plane} is built) those parts are real: the repository's {@code
 * examples/sip-servers.yaml} and {@code examples/pair-1.yaml} are applied, the StatefulSet
 * controller makes the pods, kube-scheduler places them and kwok plays their kubelet, and kubectl
 * gets the printer columns, {@code create} and {@code edit}.
 *
 * <p>On both, the sandbox plays the network and a server's health (ConfigMap {@value #CONTROL}:
 * {@code node-a: down} cuts node-a off, {@code up} or deleting the ConfigMap brings it back; {@code
 * sip-0: notready|ready|failed} plays the pod's health).
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
  static final List<Path> EXAMPLES =
      List.of(Path.of("examples", "sip-servers.yaml"), Path.of("examples", "pair-1.yaml"));

  private final Console console;
  private final Path hostsDir;

  /** The control plane it runs on, or null: the embedded API. */
  private final ControlPlaneApi controlPlane;

  private final SimulatedSite site;

  /** Each server pod's node. */
  private final Map<String, String> home = new ConcurrentHashMap<>();

  private final ScheduledExecutorService worker =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "sandbox");
            t.setDaemon(true);
            return t;
          });
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private final Switchboard switchboard;

  /** The control plane's own steps; null on the embedded API. */
  private final OnControlPlane onControlPlane;

  /** The cluster's part: played on the embedded API, told on a control plane. */
  private EmbeddedStatefulSet statefulSet;

  private ControlPlanePods controlPlanePods;
  private volatile boolean closed;
  private Path kubeconfig;

  private Sandbox(ControlPlaneApi controlPlane, Path repo, PrintStream log) {
    this.console = new Console(log);
    this.controlPlane = controlPlane;
    try {
      hostsDir = Files.createTempDirectory("sipha-sandbox-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    site =
        SimulatedSite.on(
            controlPlane,
            hostsDir,
            NODES,
            AgentTiming.fast(Duration.ofSeconds(5)),
            AllowedCidrs.parse(List.of("192.0.2.0/24")),
            OperatorMetrics.none());
    switchboard = new Switchboard(site, console, NODES, SERVERS);
    onControlPlane =
        controlPlane == null ? null : new OnControlPlane(site.client(), repo, console::note);
  }

  /**
   * Starts everything on the embedded API, waits until pair-1 is Active with its VIP on node-a, and
   * writes the kubeconfig. What happens from then on is written to {@code log}, one line per step.
   */
  public static Sandbox start(Path kubeconfigOut, PrintStream log) {
    return start(null, null, kubeconfigOut, log);
  }

  /**
   * The same on a local control plane (null: the embedded API): its fake nodes node-a and node-b,
   * the CRD applied, the examples of the repository at {@code repo} applied.
   */
  public static Sandbox start(
      ControlPlaneApi controlPlane, Path repo, Path kubeconfigOut, PrintStream log) {
    if (controlPlane != null) {
      OnControlPlane.refuseUnlessLocal(controlPlane, repo);
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

  private void setUp(Path kubeconfigOut) {
    site.api().ensureNamespace(NS);
    var client = site.client();
    if (client.resources(SipServerPair.class).inNamespace(NS).withName(PAIR).get() != null) {
      throw new IllegalStateException(
          PAIR
              + " is already in namespace "
              + NS
              + " on "
              + url()
              + ": another sandbox"
              + " runs there, or one did not clean up (kubectl delete namespace "
              + NS
              + ")");
    }
    site.startAgents();
    site.startOperator();
    informers.add(
        client
            .v1()
            .events()
            .inNamespace(NS)
            .inform(
                InformerHandlers.of(
                    e ->
                        console.say(
                            "event", e.getType() + " " + e.getReason() + ": " + e.getMessage()),
                    null,
                    null),
                0));
    if (controlPlane == null) {
      home.putAll(EMBEDDED_HOME);
      statefulSet =
          new EmbeddedStatefulSet(site, console, switchboard, home, worker, RECREATE_AFTER);
      statefulSet.createPods();
      informers.add(
          client
              .pods()
              .inNamespace(NS)
              .inform(InformerHandlers.of(null, null, statefulSet::deleted), 0));
    } else {
      onControlPlane.apply(EXAMPLES.get(0));
      home.putAll(onControlPlane.awaitServersReady());
      controlPlanePods = new ControlPlanePods(console, switchboard, SERVERS);
      informers.add(client.pods().inNamespace(NS).inform(controlPlanePods, 0));
    }
    var control =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName(CONTROL)
            .withNamespace(NS)
            .endMetadata()
            .withData(
                new LinkedHashMap<>(
                    Map.of("node-a", "up", "node-b", "up", "sip-0", "ready", "sip-1", "ready")))
            .build();
    client.configMaps().inNamespace(NS).resource(control).create();
    Consumer<io.fabric8.kubernetes.api.model.ConfigMap> switchboard =
        cm -> switchboard(cm.getData() == null ? Map.of() : cm.getData());
    informers.add(
        client
            .configMaps()
            .inNamespace(NS)
            .withName(CONTROL)
            .inform(InformerHandlers.of(switchboard, switchboard, cm -> switchboard(Map.of())), 0));
    if (controlPlane == null) {
      SipServerPair p = SimulatedSite.pair(NS, PAIR, "sip-0", "sip-0", "sip-1");
      p.getSpec().getFailover().setUnreadyGraceSeconds(2);
      p.getSpec().getFailover().setNodeLossSeconds(3);
      client.resources(SipServerPair.class).inNamespace(NS).resource(p).create();
    } else {
      onControlPlane.apply(EXAMPLES.get(1));
    }
    // a control plane's operator starts cold beside kube-apiserver & co. on the same cores
    int activeWithin = controlPlane == null ? 30 : 90;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(activeWithin);
    while (!active()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "pair-1 did not become Active within " + activeWithin + " s");
      }
      OnControlPlane.pause(20);
    }
    worker.scheduleWithFixedDelay(this::scriptsRan, 0, 25, TimeUnit.MILLISECONDS);
    kubeconfig =
        controlPlane == null
            ? Kubeconfig.write(kubeconfigOut, url(), NS)
            : Kubeconfig.write(kubeconfigOut, controlPlane.config(), NS);
  }

  private boolean active() {
    SipServerPair p =
        site.client().resources(SipServerPair.class).inNamespace(NS).withName(PAIR).get();
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
    String version =
        controlPlane == null ? null : site.client().getKubernetesVersion().getGitVersion();
    new Intro(url(), version, hostsDir, Map.copyOf(home), kubeconfig).print(out, kubectl);
    console.talk();
  }

  /** The kubectl command that sets one key of the control ConfigMap. */
  public static String control(String key, String value) {
    return "kubectl patch configmap "
        + CONTROL
        + " --type merge -p '{\"data\":{\""
        + key
        + "\":\""
        + value
        + "\"}}'";
  }

  /** The switchboard acts on the sandbox's one thread, one change of the ConfigMap at a time. */
  private void switchboard(Map<String, String> data) {
    worker.execute(
        () -> {
          if (!closed) {
            switchboard.apply(data);
          }
        });
  }

  private void scriptsRan() {
    try {
      console.scriptsRan(site.timeline());
    } catch (RuntimeException e) {
      // the hosts' folder is gone: we are closing
    }
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
    if (console.talking()) {
      console.say(
          "stop",
          controlPlane == null
              ? "stopping the sandbox: operator, agents, embedded API"
              : "stopping the sandbox: pair-1 deleted (its finalizer demotes the servers and removes the VIP), then the"
                  + " operator and the agents; namespace voice and the agents' Leases removed");
    }
    if (controlPlane != null) {
      onControlPlane.deletePair();
    }
    closed = true;
    console.close();
    if (statefulSet != null) {
      statefulSet.close();
    }
    if (controlPlanePods != null) {
      controlPlanePods.close();
    }
    informers.forEach(SharedIndexInformer::close);
    worker.shutdownNow();
    try {
      worker.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    site.close();
    if (controlPlane != null) {
      onControlPlane.removeWhatItMade();
      controlPlane.close();
    }
    try (Stream<Path> files = Files.walk(hostsDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // a temporary folder: what is left is left
    }
  }
}
