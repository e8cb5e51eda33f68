package io.sipha.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import io.sipha.demo.SimulatedSite;
import io.sipha.demo.SimulatedSite.AgentTiming;
import io.sipha.kube.AgentReports;
import io.sipha.kube.InformerHandlers;
import io.sipha.operator.OperatorMetrics;
import io.sipha.vip.AllowedCidrs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * {@code make bench}: the control path measured on the embedded API with recording scripts. Prints
 * a table and writes {@code operator/target/bench/results.json} (milliseconds, MiB). Run with
 * {@code quick} as argument for a short smoke run, {@code scale-only} for the scale part alone,
 * {@code real} to run the scale part on the local control plane too (after the embedded API, in the
 * same run; {@code real-only}: there alone), {@code pairs=N} for another number of pairs.
 */
public final class Bench {
  static final String NS = "voice";
  static final String VIP = "192.0.2.10/24";
  private final Map<String, Object> results = new LinkedHashMap<>();
  private final boolean quick;

  Bench(boolean quick) {
    this.quick = quick;
  }

  public static void main(String[] args) throws Exception {
    boolean quick = args.length > 0 && args[0].equals("quick");
    ((ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
        .setLevel(ch.qos.logback.classic.Level.WARN);
    Bench b = new Bench(quick);
    b.results.put(
        "machine",
        Map.of(
            "cores",
            Runtime.getRuntime().availableProcessors(),
            "java",
            System.getProperty("java.version"),
            "when",
            Instant.now().toString()));
    int pairs = quick ? 100 : 1000;
    boolean scaleOnly = false;
    boolean real = false;
    boolean embedded = true;
    for (String a : args) {
      if (a.startsWith("pairs=")) {
        pairs = Integer.parseInt(a.substring(6));
      }
      scaleOnly |= a.equals("scale-only");
      real |= a.equals("real") || a.equals("real-only");
      embedded &= !a.equals("real-only");
    }
    if (!scaleOnly) {
      b.pairWorkflows();
    }
    if (embedded) {
      new ScaleBench(pairs, b.results, "scale", EmbeddedScaleSite::new).run();
    }
    if (real) {
      // the same bench in the same run on the local control plane (make bench BENCH_ARGS=real
      // starts it)
      new ScaleBench(pairs, b.results, "scaleControlPlane", ControlPlaneScaleSite::new).run();
    }
    b.write();
    System.exit(0);
  }

  // ------------------------------------------------------------------ one pair

  void pairWorkflows() throws Exception {
    Path dir = Files.createTempDirectory("sipha-bench-");
    try (SimulatedSite site =
        new SimulatedSite(
            dir,
            List.of("node-a", "node-b"),
            new AgentTiming(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(5)),
            AllowedCidrs.any(),
            OperatorMetrics.none())) {
      site.cluster().createNamespace(NS);
      site.startAgents();
      site.startOperator();
      site.cluster().createServerPod(NS, "sip-0", "pair-1", "node-a", true);
      site.cluster().createServerPod(NS, "sip-1", "pair-1", "node-b", true);
      SipServerPair pair = SimulatedSite.pair(NS, "pair-1", "sip-0", "sip-0", "sip-1");
      pair.getSpec().getFailover().setUnreadyGraceSeconds(2);
      pair.getSpec().getFailover().setNodeLossSeconds(3);
      site.client().resources(SipServerPair.class).inNamespace(NS).resource(pair).create();
      PairWatch watch = new PairWatch(site);
      watch.await(s -> s.phase == Phase.Active, Duration.ofSeconds(20));

      switchovers(site, watch, quick ? 20 : 200);
      notReadyFailovers(site, watch, quick ? 3 : 10);
      nodeLossFailovers(site, watch, quick ? 2 : 5);
      watch.close();
    }
  }

  private void switchovers(SimulatedSite site, PairWatch watch, int n) throws Exception {
    List<Long> bound = new ArrayList<>();
    List<Long> active = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String from = watch.status().primary;
      String to = from.equals("sip-0") ? "sip-1" : "sip-0";
      String toNode = to.equals("sip-0") ? "node-a" : "node-b";
      long t0 = System.nanoTime();
      site.client()
          .resources(SipServerPair.class)
          .inNamespace(NS)
          .withName("pair-1")
          .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"primary\":\"" + to + "\"}}");
      bound.add(waitHost(site, toNode, t0));
      active.add(
          watch.await(s -> s.phase == Phase.Active && to.equals(s.primary), Duration.ofSeconds(20))
              - TimeUnit.NANOSECONDS.toMillis(t0));
    }
    results.put(
        "switchover",
        Map.of(
            "count", n, "requestToVipBoundMs", stats(bound), "requestToActiveMs", stats(active)));
    System.out.printf(
        "switchover x%d: request -> VIP bound on new host p50 %d p90 %d p99 %d ms; -> status Active p50 %d p90 %d p99 %d ms%n",
        n,
        pct(bound, 50),
        pct(bound, 90),
        pct(bound, 99),
        pct(active, 50),
        pct(active, 90),
        pct(active, 99));
  }

  private void notReadyFailovers(SimulatedSite site, PairWatch watch, int n) throws Exception {
    List<Long> beyond = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String from = watch.status().primary;
      String to = from.equals("sip-0") ? "sip-1" : "sip-0";
      String toNode = to.equals("sip-0") ? "node-a" : "node-b";
      long t0 = System.nanoTime();
      site.cluster().setReady(NS, from, false);
      beyond.add(waitHost(site, toNode, t0) - 2000);
      watch.await(s -> to.equals(s.primary) && s.transition == null, Duration.ofSeconds(20));
      site.cluster().setReady(NS, from, true);
      // acknowledge the failover (failback is Manual) so that the next round starts from Active
      site.client()
          .resources(SipServerPair.class)
          .inNamespace(NS)
          .withName("pair-1")
          .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"primary\":\"" + to + "\"}}");
      watch.await(s -> s.phase == Phase.Active, Duration.ofSeconds(20));
    }
    results.put(
        "failoverNotReady",
        Map.of("count", n, "unreadyGraceSeconds", 2, "beyondGraceToVipBoundMs", stats(beyond)));
    System.out.printf(
        "failover after NotReady x%d: VIP bound on the backup's host p50 %d ms (max %d ms) beyond unreadyGraceSeconds (2 s)%n",
        n, pct(beyond, 50), Collections.max(beyond));
  }

  private void nodeLossFailovers(SimulatedSite site, PairWatch watch, int n) throws Exception {
    List<Long> fromStop = new ArrayList<>();
    List<Long> beyondDeadline = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      SipServerPairStatus s0 = watch.status();
      String lostNode = s0.vip.node;
      String to = s0.backup;
      String toNode = lostNode.equals("node-a") ? "node-b" : "node-a";
      Lease lease =
          site.client()
              .leases()
              .inNamespace(SimulatedSite.LEASE_NAMESPACE)
              .withName(AgentReports.leaseName(lostNode))
              .get();
      long t0 = System.nanoTime();
      Instant stopAt = Instant.now();
      site.stopAgent(lostNode);
      long boundMs = waitHost(site, toNode, t0);
      Lease last =
          site.client()
              .leases()
              .inNamespace(SimulatedSite.LEASE_NAMESPACE)
              .withName(AgentReports.leaseName(lostNode))
              .get();
      Instant lastRenew = last.getSpec().getRenewTime().toInstant();
      long deadlineMs = Duration.between(stopAt, lastRenew.plusSeconds(3)).toMillis();
      fromStop.add(boundMs);
      beyondDeadline.add(boundMs - deadlineMs);
      watch.await(s -> to.equals(s.primary) && s.transition == null, Duration.ofSeconds(20));
      site.startAgent(lostNode);
      site.client()
          .resources(SipServerPair.class)
          .inNamespace(NS)
          .withName("pair-1")
          .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"primary\":\"" + to + "\"}}");
      watch.await(s -> s.phase == Phase.Active && s.fenced.isEmpty(), Duration.ofSeconds(20));
      if (lease == null) {
        throw new IllegalStateException("no lease for " + lostNode);
      }
    }
    results.put(
        "failoverNodeLoss",
        Map.of(
            "count",
            n,
            "nodeLossSeconds",
            3,
            "agentStopToVipBoundMs",
            stats(fromStop),
            "beyondLeaseDeadlineToVipBoundMs",
            stats(beyondDeadline)));
    System.out.printf(
        "failover after node loss x%d: agent stopped -> VIP bound elsewhere p50 %d ms (max %d); beyond last renewal + nodeLossSeconds p50 %d ms (max %d)%n",
        n,
        pct(fromStop, 50),
        Collections.max(fromStop),
        pct(beyondDeadline, 50),
        Collections.max(beyondDeadline));
  }

  /** Milliseconds from t0 until the VIP is on the host (polled every millisecond). */
  static long waitHost(SimulatedSite site, String node, long t0) throws InterruptedException {
    long deadline = t0 + TimeUnit.SECONDS.toNanos(30);
    while (!site.host(node).holds(VIP)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("VIP never bound on " + node);
      }
      Thread.sleep(1);
    }
    return ms(t0);
  }

  static long ms(long t0) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }

  static long pct(List<Long> values, int p) {
    List<Long> s = new ArrayList<>(values);
    Collections.sort(s);
    int idx = (int) Math.ceil(p / 100.0 * s.size()) - 1;
    return s.get(Math.max(0, Math.min(s.size() - 1, idx)));
  }

  static Map<String, Long> stats(List<Long> v) {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put("p50", pct(v, 50));
    m.put("p90", pct(v, 90));
    m.put("p99", pct(v, 99));
    m.put("max", Collections.max(v));
    m.put("min", Collections.min(v));
    return m;
  }

  void write() throws IOException {
    Path out = Path.of("target", "bench", "results.json");
    Files.createDirectories(out.getParent());
    Files.writeString(
        out,
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(results),
        StandardCharsets.UTF_8);
    System.out.println("wrote " + out.toAbsolutePath());
    Path table = out.resolveSibling("results.md");
    Files.writeString(table, markdown(), StandardCharsets.UTF_8);
    System.out.println("wrote " + table.toAbsolutePath());
  }

  /** The figures as a Markdown table, with the targets of the issue beside them. */
  @SuppressWarnings("unchecked")
  String markdown() {
    StringBuilder b = new StringBuilder("| figure | measured | target |\n|---|---|---|\n");
    Map<String, Object> sw = (Map<String, Object>) results.get("switchover");
    if (sw != null) {
      Map<String, Long> bound = (Map<String, Long>) sw.get("requestToVipBoundMs");
      Map<String, Long> active = (Map<String, Long>) sw.get("requestToActiveMs");
      b.append("| switchover, request → VIP bound on the new host (")
          .append(sw.get("count"))
          .append(" runs) | p50 ")
          .append(bound.get("p50"))
          .append(" ms, p90 ")
          .append(bound.get("p90"))
          .append(" ms, p99 ")
          .append(bound.get("p99"))
          .append(" ms | p99 ≤ 300 ms |\n");
      b.append("| switchover, request → status Active | p50 ")
          .append(active.get("p50"))
          .append(" ms, p90 ")
          .append(active.get("p90"))
          .append(" ms, p99 ")
          .append(active.get("p99"))
          .append(" ms | |\n");
    }
    Map<String, Object> nr = (Map<String, Object>) results.get("failoverNotReady");
    if (nr != null) {
      Map<String, Long> v = (Map<String, Long>) nr.get("beyondGraceToVipBoundMs");
      b.append("| failover after NotReady: VIP bound beyond unreadyGraceSeconds (")
          .append(nr.get("count"))
          .append(" runs) | p50 ")
          .append(v.get("p50"))
          .append(" ms, max ")
          .append(v.get("max"))
          .append(" ms | |\n");
    }
    Map<String, Object> nl = (Map<String, Object>) results.get("failoverNodeLoss");
    if (nl != null) {
      Map<String, Long> stop = (Map<String, Long>) nl.get("agentStopToVipBoundMs");
      Map<String, Long> beyond = (Map<String, Long>) nl.get("beyondLeaseDeadlineToVipBoundMs");
      b.append("| node loss: agent stopped → VIP bound on the other host (")
          .append(nl.get("count"))
          .append(" runs) | p50 ")
          .append(stop.get("p50"))
          .append(" ms, max ")
          .append(stop.get("max"))
          .append(" ms | ≤ 3,300 ms with the defaults |\n");
      b.append("| node loss: VIP bound beyond last renewal + nodeLossSeconds | p50 ")
          .append(beyond.get("p50"))
          .append(" ms, max ")
          .append(beyond.get("max"))
          .append(" ms | |\n");
    }
    for (String key : List.of("scale", "scaleControlPlane")) {
      Map<String, Object> sc = (Map<String, Object>) results.get(key);
      if (sc == null) {
        continue;
      }
      String on = ", " + sc.get("api");
      b.append("| ")
          .append(sc.get("pairs"))
          .append(" pairs: cold start of the operator → all Active")
          .append(on)
          .append(" | ")
          .append(sc.get("coldStartConvergeMs"))
          .append(" ms | ≤ 10,000 ms |\n");
      b.append("| node lost holding ")
          .append(sc.get("nodeLossPrimaries"))
          .append(" primaries: all failed over, after the node-loss deadline")
          .append(on)
          .append(" | ")
          .append(sc.get("nodeLossAllFailedOverAfterDetectionMs"))
          .append(" ms | ≤ 3,000 ms |\n");
      b.append("| operator heap after GC with ")
          .append(sc.get("pairs"))
          .append(" pairs")
          .append(on)
          .append(" | ")
          .append(sc.get("operatorHeapAfterGcMiB"))
          .append(" MiB | ≤ 256 MiB |\n");
    }
    return b.toString();
  }

  /** The pair's status as the informer last saw it, and when each predicate first held. */
  static final class PairWatch implements AutoCloseable {
    private final SharedIndexInformer<SipServerPair> informer;
    private final Map<Predicate<SipServerPairStatus>, Long> seen = new ConcurrentHashMap<>();
    private volatile SipServerPairStatus status;

    PairWatch(SimulatedSite site) {
      informer =
          site.client()
              .resources(SipServerPair.class)
              .inNamespace(NS)
              .inform(InformerHandlers.onSeen(p -> status = p.getStatus()), 0);
    }

    SipServerPairStatus status() {
      return status;
    }

    /** Waits until the status matches; returns the System.nanoTime() in ms at which it was seen. */
    long await(Predicate<SipServerPairStatus> p, Duration limit) throws InterruptedException {
      long deadline = System.nanoTime() + limit.toNanos();
      while (true) {
        SipServerPairStatus s = status;
        if (s != null && p.test(s)) {
          return TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "status never matched; last: phase " + (s == null ? null : s.phase));
        }
        Thread.sleep(1);
      }
    }

    @Override
    public void close() {
      informer.close();
    }
  }

  static boolean bound(SipServerPairStatus s) {
    return s != null
        && s.transition == null
        && s.vip != null
        && s.vip.state == VipStatus.State.Bound;
  }
}
