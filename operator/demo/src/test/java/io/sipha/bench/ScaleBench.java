package io.sipha.bench;

import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import io.sipha.demo.SimulatedSite;
import io.sipha.demo.SimulatedSite.AgentTiming;
import io.sipha.kube.InformerHandlers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Many pairs on one operator, on a {@link ScaleSite}: the embedded API or the local control plane.
 * The operator runs as its own process ({@code sipha operator}, -Xmx512m) so that its heap can be
 * measured alone; the two nodes' agents run in this process.
 */
final class ScaleBench {
  /** Makes the site the bench runs on, in this folder, with these agent timings. */
  interface Sites {
    ScaleSite open(Path dir, AgentTiming timing) throws Exception;
  }

  private final int pairs;
  private final Map<String, Object> results;
  private final Sites sites;
  private final String key;

  ScaleBench(int pairs, Map<String, Object> results, String key, Sites sites) {
    this.pairs = pairs;
    this.results = results;
    this.key = key;
    this.sites = sites;
  }

  void run() throws Exception {
    Path dir = Files.createTempDirectory("sipha-scale-");
    // heartbeat every second; no drift resync during the run (one process per held VIP per resync)
    try (ScaleSite site =
        sites.open(
            dir,
            new AgentTiming(
                Duration.ofSeconds(1), Duration.ofMinutes(10), Duration.ofSeconds(10)))) {
      String on = " (" + site.name() + ")";
      site.createNamespace(Bench.NS);
      List<ScaleSite.ServerPod> pods = new ArrayList<>();
      for (int i = 0; i < pairs; i++) {
        pods.add(new ScaleSite.ServerPod("sip-" + i + "-a", "pair-" + i, "node-a"));
        pods.add(new ScaleSite.ServerPod("sip-" + i + "-b", "pair-" + i, "node-b"));
      }
      site.createServerPods(Bench.NS, pods);
      site.startAgents();
      for (int i = 0; i < pairs; i++) {
        // half of the primaries on node-a, half on node-b; one VIP per pair
        String primary = i % 2 == 0 ? "sip-" + i + "-a" : "sip-" + i + "-b";
        SipServerPair p =
            SimulatedSite.pair(
                Bench.NS, "pair-" + i, primary, "sip-" + i + "-a", "sip-" + i + "-b");
        p.getSpec().getVirtualIP().setAddress(vip(i));
        p.getSpec().getVirtualIP().setPrefixLength(64);
        p.getSpec().getFailover().setNodeLossSeconds(3);
        site.client().resources(SipServerPair.class).inNamespace(Bench.NS).resource(p).create();
      }
      Tracker tracker = new Tracker(site.client());
      Path kubeconfig = site.operatorKubeconfig(dir);
      Map<String, Long> writes0 = site.writesByResource();
      long t0 = System.nanoTime();
      List<String> cmd = new ArrayList<>(List.of("java", "-Xmx512m", "-XX:+UseG1GC"));
      // more JVM options for the operator, e.g. -Dsipha.bench.operatorJvm=-XX:TieredStopAtLevel=1
      String extra = System.getProperty("sipha.bench.operatorJvm", "");
      if (!extra.isBlank()) {
        cmd.addAll(List.of(extra.trim().split("\\s+")));
      }
      cmd.addAll(
          List.of(
              "-cp",
              System.getProperty("java.class.path"),
              "io.sipha.cli.Main",
              "operator",
              "--leader-election",
              "false",
              "--http-port",
              "0",
              "--lease-namespace",
              ScaleSite.LEASE_NAMESPACE));
      ProcessBuilder pb =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("operator.log").toFile());
      pb.environment().put("KUBECONFIG", kubeconfig.toString());
      Process operator = pb.start();
      try {
        long converge =
            tracker.awaitAll(s -> s.phase == io.sipha.api.Phase.Active, Duration.ofSeconds(120))
                - ms0(t0);
        Map<String, Long> writes1 = site.writesByResource();
        System.out.printf(
            "scale%s: %d pairs converge from a cold start of the operator process in %d ms%n",
            on, pairs, converge);

        // node-a is lost while it holds half of the primaries
        List<String> onA = tracker.pairsWithVipOn("node-a");
        Instant stop = Instant.now();
        long t1 = System.nanoTime();
        site.stopAgent("node-a");
        var lease =
            site.client()
                .leases()
                .inNamespace(ScaleSite.LEASE_NAMESPACE)
                .withName("sipha-agent-node-a")
                .get();
        Instant detect = lease.getSpec().getRenewTime().toInstant().plusSeconds(3);
        long all =
            tracker.awaitAll(
                    onA,
                    s ->
                        s.transition == null
                            && s.vip != null
                            && "node-b".equals(s.vip.node)
                            && s.vip.state == VipStatus.State.Bound,
                    Duration.ofSeconds(120))
                - ms0(t1);
        long afterDetection = all - Duration.between(stop, detect).toMillis();
        Map<String, Long> writes2 = site.writesByResource();
        System.out.printf(
            "scale%s: node-a lost holding %d primaries: all failed over to node-b %d ms after the agent stopped,"
                + " %d ms after the node-loss deadline%n",
            on, onA.size(), all, afterDetection);

        long heap = heapAfterGc(operator.pid());
        System.out.printf(
            "scale%s: operator heap after GC with %d pairs: %d MiB%n", on, pairs, heap);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("api", site.name());
        r.put("pairs", pairs);
        r.put("coldStartConvergeMs", converge);
        r.put("nodeLossPrimaries", onA.size());
        r.put("nodeLossAllFailedOverAfterAgentStopMs", all);
        r.put("nodeLossAllFailedOverAfterDetectionMs", afterDetection);
        r.put("operatorHeapAfterGcMiB", heap);
        if (!writes0.isEmpty()) {
          Map<String, Long> up = delta(writes0, writes1);
          Map<String, Long> failover = delta(writes1, writes2);
          r.put("apiWritesDuringColdStart", up);
          r.put("apiWritesDuringNodeLoss", failover);
          System.out.printf(
              "scale%s: API writes (all clients) during the cold start %s; during the node loss %s%n",
              on, up, failover);
        }
        results.put(key, r);
      } finally {
        operator.destroy();
        operator.waitFor(10, TimeUnit.SECONDS);
        tracker.close();
      }
    }
  }

  /** The writes counted between two snapshots, by resource, with the total under "all". */
  static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
    Map<String, Long> d = new java.util.TreeMap<>();
    after.forEach(
        (k, v) -> {
          long n = v - before.getOrDefault(k, 0L);
          if (n > 0) {
            d.put(k, n);
          }
        });
    d.put("all", d.values().stream().mapToLong(Long::longValue).sum());
    return d;
  }

  /** One documentation IPv6 address per pair (recording scripts: nothing reaches a network). */
  static String vip(int i) {
    return "2001:db8:0:1::" + Integer.toHexString(i + 1);
  }

  private static long ms0(long t0) {
    return TimeUnit.NANOSECONDS.toMillis(t0);
  }

  /** jcmd GC.run then GC.heap_info: the used heap in MiB. */
  static long heapAfterGc(long pid) throws IOException, InterruptedException {
    run("jcmd", String.valueOf(pid), "GC.run");
    String info = run("jcmd", String.valueOf(pid), "GC.heap_info");
    Matcher m = Pattern.compile("used (\\d+)K").matcher(info);
    if (!m.find()) {
      throw new IllegalStateException("no heap figure in: " + info);
    }
    return Long.parseLong(m.group(1)) / 1024;
  }

  private static String run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor(30, TimeUnit.SECONDS);
    return out;
  }

  /** Follows every pair's status through an informer. */
  static final class Tracker implements AutoCloseable {
    private final Map<String, SipServerPairStatus> status = new ConcurrentHashMap<>();
    private final SharedIndexInformer<SipServerPair> informer;

    Tracker(io.fabric8.kubernetes.client.KubernetesClient client) {
      informer =
          client
              .resources(SipServerPair.class)
              .inNamespace(Bench.NS)
              .inform(InformerHandlers.onSeen(this::put), 0);
    }

    private void put(SipServerPair p) {
      if (p.getStatus() != null) {
        status.put(p.getMetadata().getName(), p.getStatus());
      }
    }

    List<String> pairsWithVipOn(String node) {
      List<String> out = new ArrayList<>();
      status.forEach(
          (k, s) -> {
            if (s.vip != null && node.equals(s.vip.node)) {
              out.add(k);
            }
          });
      return out;
    }

    long awaitAll(Predicate<SipServerPairStatus> p, Duration limit) throws InterruptedException {
      return awaitAll(null, p, limit);
    }

    /** Waits until every named pair (or all) match; returns System.nanoTime() in ms. */
    long awaitAll(List<String> names, Predicate<SipServerPairStatus> p, Duration limit)
        throws InterruptedException {
      long deadline = System.nanoTime() + limit.toNanos();
      while (true) {
        long matching =
            names == null
                ? status.values().stream().filter(p).count()
                : names.stream().map(status::get).filter(s -> s != null && p.test(s)).count();
        long want = names == null ? (long) informer.getStore().list().size() : names.size();
        if (matching == want && want > 0) {
          return TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              matching + " of " + want + " pairs matched after " + limit);
        }
        Thread.sleep(5);
      }
    }

    @Override
    public void close() {
      informer.close();
    }
  }
}
