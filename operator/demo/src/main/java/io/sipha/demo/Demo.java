package io.sipha.demo;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairSpec;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
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
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * {@code sipha demo}: the four workflows of IP Address Takeover on an embedded API with two
 * simulated hosts, their real agents and the real operator. Prints a live timeline (each step,
 * which host ran which script, elapsed ms) and a closing table.
 */
public final class Demo {
  static final String NS = "voice";
  static final String VIP = "192.0.2.10/24";
  private static final Duration WORKFLOW_LIMIT = Duration.ofSeconds(15);

  private final PrintStream out;
  private final List<Row> rows = new ArrayList<>();
  private SimulatedSite site;
  private volatile long t0 = System.nanoTime();
  private final List<String> printedTimeline = new ArrayList<>();
  private final java.util.Set<String> reasonsSeen =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** One line of the closing table. */
  public record Row(
      String workflow, boolean ok, long vipBoundMillis, long activeMillis, String note) {}

  public Demo(PrintStream out) {
    this.out = out;
  }

  public List<Row> rows() {
    return rows;
  }

  /** Runs the demo; returns 0 when every workflow succeeded. */
  public int run() {
    Path dir;
    try {
      dir = Files.createTempDirectory("sipha-demo-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.println(
        "sipha demo: embedded Kubernetes API, hosts node-a and node-b (simulated, scripts in "
            + dir
            + "),");
    out.println(
        "            one node agent per host, the operator, SIP Server pods sip-0 (node-a) and sip-1 (node-b).");
    out.println();
    SharedIndexInformer<Event> events = null;
    try {
      site =
          new SimulatedSite(
              dir,
              List.of("node-a", "node-b"),
              Duration.ofSeconds(5),
              AllowedCidrs.parse(List.of("192.0.2.0/24")),
              OperatorMetrics.none());
      site.cluster().createNamespace(NS);
      site.startAgents();
      site.startOperator();
      events =
          site.client()
              .v1()
              .events()
              .inNamespace(NS)
              .inform(
                  InformerHandlers.onSeen(
                      e -> {
                        line("event  " + e.getType() + " " + e.getReason() + ": " + e.getMessage());
                        reasonsSeen.add(e.getReason());
                      }),
                  0);
      site.cluster().createServerPod(NS, "sip-0", "pair-1", "node-a", true);
      site.cluster().createServerPod(NS, "sip-1", "pair-1", "node-b", true);

      workflow(
          "Election (setup)",
          "kubectl apply -f pair-1.yaml  (spec.primary: sip-0)",
          () -> {
            SipServerPair p = SimulatedSite.pair(NS, "pair-1", "sip-0", "sip-0", "sip-1");
            SipServerPairSpec spec = p.getSpec();
            spec.getFailover().setUnreadyGraceSeconds(2);
            spec.getFailover().setNodeLossSeconds(3);
            site.client().resources(SipServerPair.class).inNamespace(NS).resource(p).create();
          },
          "node-a",
          "sip-0",
          "ElectionCompleted");
      workflow(
          "1. Manual switchover",
          "kubectl patch ssp pair-1 --type merge -p '{\"spec\":{\"primary\":\"sip-1\"}}'",
          () ->
              site.client()
                  .resources(SipServerPair.class)
                  .inNamespace(NS)
                  .withName("pair-1")
                  .patch(
                      PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"primary\":\"sip-1\"}}"),
          "node-b",
          "sip-1",
          "SwitchoverCompleted");
      workflow(
          "2. Primary server failure",
          "kubectl delete pod sip-1  (the primary)",
          () -> site.client().pods().inNamespace(NS).withName("sip-1").delete(),
          "node-a",
          "sip-0",
          "FailoverCompleted");
      step(
          "its StatefulSet recreates sip-1 on node-b; it becomes Ready",
          () -> {
            site.cluster().createServerPod(NS, "sip-1", "pair-1", "node-b", true);
          },
          () -> phase() == Phase.Active);
      workflow(
          "3. Primary host disconnected",
          "node-a loses the network: its agent stops, its host keeps the VIP",
          () -> site.stopAgent("node-a"),
          "node-b",
          "sip-1",
          "FailoverCompleted");
      reconnection();
    } catch (RuntimeException e) {
      out.println();
      out.println("demo failed: " + e.getMessage());
      rows.add(new Row("(aborted)", false, -1, -1, String.valueOf(e.getMessage())));
    } finally {
      if (events != null) {
        events.close();
      }
      if (site != null) {
        site.close();
      }
    }
    table();
    boolean ok = rows.stream().allMatch(Row::ok);
    out.println(ok ? "All workflows succeeded." : "Some workflows FAILED.");
    return ok ? 0 : 1;
  }

  /**
   * Runs one workflow and measures until the VIP is on the new host, and until status is Active.
   */
  private void workflow(
      String name, String action, Runnable act, String newHost, String newPrimary, String done) {
    header(name);
    long vipAt = -1;
    long activeAt = -1;
    line("action " + action);
    act.run();
    long deadline = System.nanoTime() + WORKFLOW_LIMIT.toNanos();
    String other = newHost.equals("node-a") ? "node-b" : "node-a";
    while (System.nanoTime() < deadline
        && (vipAt < 0 || activeAt < 0 || !reasonsSeen.contains(done))) {
      pollTimeline();
      SipServerPairStatus s = status();
      boolean vipOnNewHostOnly =
          site.host(newHost).holds(VIP) && (!site.host(other).holds(VIP) || name.startsWith("3."));
      if (vipAt < 0 && vipOnNewHostOnly && s != null && newPrimary.equals(s.primary)) {
        vipAt = elapsed();
        pollTimeline();
        line("host   " + VIP + " is up on " + newHost);
      }
      if (activeAt < 0
          && s != null
          && newPrimary.equals(s.primary)
          && s.transition == null
          && s.vip != null
          && s.vip.state == VipStatus.State.Bound
          && (s.phase == Phase.Active || s.phase == Phase.Degraded)) {
        activeAt = elapsed();
        line(
            "status "
                + s.phase
                + ": primary "
                + s.primary
                + ", backup "
                + s.backup
                + ", epoch "
                + s.epoch
                + ", VIP on "
                + s.vip.node);
      }
      pause();
    }
    pollTimeline();
    boolean ok = vipAt >= 0 && activeAt >= 0;
    rows.add(
        new Row(
            name,
            ok,
            vipAt,
            activeAt,
            ok ? "" : "did not complete within " + WORKFLOW_LIMIT.toSeconds() + " s"));
  }

  private void reconnection() {
    String name = "4. Reconnection (stale primary)";
    header(name);
    line(
        "action node-a is back: its agent starts; its host still holds "
            + VIP
            + " at the old epoch");
    site.startAgent("node-a");
    long deadline = System.nanoTime() + WORKFLOW_LIMIT.toNanos();
    long cleared = -1;
    long active = -1;
    while (System.nanoTime() < deadline
        && (cleared < 0 || active < 0 || !reasonsSeen.contains("SplitBrainResolved"))) {
      pollTimeline();
      SipServerPairStatus s = status();
      if (cleared < 0 && !site.host("node-a").holds(VIP) && site.host("node-b").holds(VIP)) {
        cleared = elapsed();
        pollTimeline();
        line("host   " + VIP + " is on node-b only");
      }
      if (active < 0
          && cleared >= 0
          && s != null
          && s.phase == Phase.Active
          && s.fenced.isEmpty()) {
        active = elapsed();
        line(
            "status Active: primary "
                + s.primary
                + " (epoch "
                + s.epoch
                + "), stale primary demoted, "
                + "VIP announced again "
                + s.vip.announce
                + " time(s)");
      }
      pause();
    }
    pollTimeline();
    boolean ok = cleared >= 0 && active >= 0;
    rows.add(
        new Row(
            name, ok, cleared, active, ok ? "VIP column: stale copy removed" : "did not complete"));
  }

  private void step(String what, Runnable act, BooleanSupplier until) {
    line("action " + what);
    act.run();
    long deadline = System.nanoTime() + WORKFLOW_LIMIT.toNanos();
    while (System.nanoTime() < deadline && !until.getAsBoolean()) {
      pollTimeline();
      pause();
    }
    pollTimeline();
  }

  private void header(String name) {
    out.println();
    out.println("== " + name);
    reasonsSeen.clear();
    t0 = System.nanoTime();
  }

  private void pollTimeline() {
    List<String> all = site.timeline();
    for (int i = printedTimeline.size(); i < all.size(); i++) {
      String l = all.get(i);
      printedTimeline.add(l);
      String[] w = l.split(" ", 3);
      line("host   " + w[0] + " ran vip-" + w[1] + " " + w[2]);
    }
  }

  private synchronized void line(String text) {
    out.printf("  +%6d ms  %s%n", elapsed(), text);
  }

  private long elapsed() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }

  private SipServerPairStatus status() {
    SipServerPair p =
        site.client().resources(SipServerPair.class).inNamespace(NS).withName("pair-1").get();
    return p == null ? null : p.getStatus();
  }

  private Phase phase() {
    SipServerPairStatus s = status();
    return s == null ? null : s.phase;
  }

  private static void pause() {
    try {
      Thread.sleep(5);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  private void table() {
    out.println();
    int w =
        Stream.concat(Stream.of("workflow"), rows.stream().map(Row::workflow))
            .map(String::length)
            .max(Comparator.naturalOrder())
            .orElse(10);
    String fmt = "%-" + w + "s  %-7s  %18s  %16s  %s%n";
    out.printf(fmt, "workflow", "outcome", "VIP on new host ms", "status Active ms", "");
    for (Row r : rows) {
      out.printf(
          fmt,
          r.workflow(),
          r.ok() ? "OK" : "FAILED",
          r.vipBoundMillis() < 0 ? "-" : r.vipBoundMillis(),
          r.activeMillis() < 0 ? "-" : r.activeMillis(),
          r.note());
    }
    out.println();
  }
}
