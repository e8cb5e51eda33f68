package io.sipha.cli.sandbox;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.demo.SimulatedSite;
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
 * kubectl. The embedded API (with the discovery documents kubectl needs), hosts node-a and node-b
 * with their agents, the operator, and pair-1 Active over sip-0 (node-a) and sip-1 (node-b) in
 * namespace voice. The sandbox also plays the parts a cluster would: the kubelet and the
 * StatefulSet (a deleted server pod comes back after {@link #RECREATE_AFTER}), and the network
 * (ConfigMap {@value #CONTROL}: {@code node-a: down} cuts node-a off, {@code up} or deleting the
 * ConfigMap brings it back; {@code sip-0: notready|ready|failed} plays the pod's health).
 */
public final class Sandbox implements AutoCloseable {
  public static final String NS = "voice";
  public static final String PAIR = "pair-1";
  public static final String VIP = "192.0.2.10/24";
  public static final String CONTROL = "sandbox-control";
  public static final Duration RECREATE_AFTER = Duration.ofSeconds(2);
  static final Map<String, String> HOME = new LinkedHashMap<>(Map.of("sip-0", "node-a", "sip-1", "node-b"));
  static final List<String> NODES = List.of("node-a", "node-b");
  private static final java.time.format.DateTimeFormatter CLOCK = java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

  private final PrintStream log;
  private final Path hostsDir;
  private final SimulatedSite site;
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

  private Sandbox(PrintStream log) {
    this.log = log;
    try {
      hostsDir = Files.createTempDirectory("sipha-sandbox-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    site = new SimulatedSite(hostsDir, NODES, Duration.ofSeconds(5), AllowedCidrs.parse(List.of("192.0.2.0/24")),
        OperatorMetrics.none());
  }

  /**
   * Starts everything, waits until pair-1 is Active with its VIP on node-a, and writes the
   * kubeconfig. What happens from then on is written to {@code log}, one line per step.
   */
  public static Sandbox start(Path kubeconfigOut, PrintStream log) {
    Sandbox s = new Sandbox(log);
    try {
      s.setUp(kubeconfigOut);
      return s;
    } catch (RuntimeException e) {
      s.close();
      throw e;
    }
  }

  private void setUp(Path kubeconfigOut) {
    site.cluster().createNamespace(NS);
    site.startAgents();
    site.startOperator();
    var client = site.client();
    informers.add(client.v1().events().inNamespace(NS).inform(handler(
        e -> say("event", e.getType() + " " + e.getReason() + ": " + e.getMessage()), false, null), 0));
    for (String pod : HOME.keySet()) {
      site.cluster().createServerPod(NS, pod, PAIR, HOME.get(pod), true);
    }
    informers.add(client.pods().inNamespace(NS).inform(handler(null, false, this::podDeleted), 0));
    HOME.keySet().forEach(pod -> podStates.put(pod, "ready"));
    client.configMaps().inNamespace(NS).resource(new ConfigMapBuilder()
        .withNewMetadata().withName(CONTROL).withNamespace(NS).endMetadata()
        .withData(new LinkedHashMap<>(Map.of("node-a", "up", "node-b", "up", "sip-0", "ready", "sip-1", "ready")))
        .build()).create();
    informers.add(client.configMaps().inNamespace(NS).withName(CONTROL).inform(handler(
        cm -> worker.execute(() -> control(cm.getData() == null ? Map.of() : cm.getData())), true,
        cm -> worker.execute(() -> control(Map.of()))), 0));
    SipServerPair p = SimulatedSite.pair(NS, PAIR, "sip-0", "sip-0", "sip-1");
    p.getSpec().getFailover().setUnreadyGraceSeconds(2);
    p.getSpec().getFailover().setNodeLossSeconds(3);
    client.resources(SipServerPair.class).inNamespace(NS).resource(p).create();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!active()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("pair-1 did not become Active within 30 s");
      }
      pause(20);
    }
    worker.scheduleWithFixedDelay(this::timeline, 0, 25, TimeUnit.MILLISECONDS);
    kubeconfig = Kubeconfig.write(kubeconfigOut, site.cluster().url(), NS);
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
    return site.cluster().url();
  }

  public SimulatedSite site() {
    return site;
  }

  /** What to type, for a person who just started it. */
  public void printIntro(PrintStream out) {
    out.println("sipha sandbox is running: an embedded Kubernetes API at " + url().replaceAll("/$", "")
        + " with the operator,");
    out.println("the hosts node-a and node-b (simulated; VIP scripts in " + hostsDir + ") each with its node agent,");
    out.println("and pair-1 in namespace voice: sip-0 (node-a) primary, sip-1 (node-b) backup, VIP " + VIP + " on node-a.");
    out.println();
    out.println("In another terminal:");
    out.println();
    out.println("  export KUBECONFIG=" + kubeconfig + "    # context " + Kubeconfig.CONTEXT + ", namespace voice");
    out.println();
    String f = "  %-48s# %s%n";
    out.printf(f, "kubectl get ssp", "NAME and AGE only: the mock API renders no columns");
    out.printf(f, "kubectl sipha status", "the columns kubectl get ssp shows on a cluster");
    out.printf(f, "kubectl sipha switchover pair-1 --to sip-1", "the patch, then the switchover live");
    out.println("  kubectl patch ssp pair-1 --type merge -p '{\"spec\":{\"primary\":\"sip-0\"}}'");
    out.printf(f, "kubectl sipha status pair-1", "conditions, pods, agents' heartbeats and reports");
    out.printf(f, "kubectl sipha history pair-1", "transitions, durations, reasons");
    out.printf(f, "kubectl sipha plan pair-1 --if node-lost=node-a", "what the operator would do; changes nothing");
    out.printf(f, "kubectl get lease -n sipha-system", "the node agents' heartbeats");
    out.println();
    out.println("Failures to try:");
    out.printf(f, "kubectl delete pod sip-0", "a server fails; back " + RECREATE_AFTER.toSeconds()
        + " s later (its StatefulSet)");
    out.printf("  %s%n  %-48s# %s%n", control("node-a", "down"), "", "node-a cut off: its agent stops, its host keeps the VIP");
    out.printf("  %s%n  %-48s# %s%n", control("node-a", "up"), "", "node-a back: a stale primary, demoted by itself");
    out.printf("  %s%n  %-48s# %s%n", control("sip-1", "notready"), "", "sip-1 NotReady (also: ready, failed)");
    out.println();
    if (!onPath("kubectl-sipha")) {
      out.println("kubectl sipha is the plugin: make install-plugin puts it on your PATH (BINDIR=~/bin make"
          + " install-plugin");
      out.println("without root); meanwhile: java -cp " + jar() + " io.sipha.cli.PluginMain status pair-1");
      out.println();
    }
    out.println("The mock API reads JSON only: kubectl create configmap|secret and kubectl edit send what it cannot");
    out.println("read; get, patch --type merge, delete, apply --validate=false -f and the plugin work.");
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
    String node = HOME.get(name);
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

  /** The network's and the kubelet's part, from ConfigMap sandbox-control. */
  private void control(Map<String, String> data) {
    if (closed) {
      return;
    }
    for (String key : data.keySet()) {
      if (!NODES.contains(key) && !HOME.containsKey(key)) {
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
    for (String pod : HOME.keySet()) {
      String v = value(data, pod);
      if (v == null) {
        v = "ready";
      }
      if (Objects.equals(v, podStates.get(pod))) {
        continue;
      }
      try {
        if (v.equals("ready")) {
          site.cluster().setReady(NS, pod, true);
          say("control", pod + " is Ready");
        } else if (v.equals("notready")) {
          site.cluster().setReady(NS, pod, false);
          say("control", pod + " is NotReady");
        } else if (v.equals("failed")) {
          site.cluster().terminateContainer(NS, pod, 1);
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

  /** Calls {@code seen} for new objects (and changed ones if {@code updates}), {@code deleted} for deleted ones. */
  private static <T> ResourceEventHandler<T> handler(Consumer<T> seen, boolean updates, Consumer<T> deleted) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        if (seen != null) {
          seen.accept(obj);
        }
      }

      @Override
      public void onUpdate(T before, T obj) {
        if (seen != null && updates) {
          seen.accept(obj);
        }
      }

      @Override
      public void onDelete(T obj, boolean unknown) {
        if (deleted != null) {
          deleted.accept(obj);
        }
      }
    };
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

  /** Stops the operator, the agents and the embedded API, and removes the hosts' folders. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    if (talking) {
      say("stop", "stopping the sandbox: operator, agents, embedded API");
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
    try (Stream<Path> files = Files.walk(hostsDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // a temporary folder: what is left is left
    }
  }
}
