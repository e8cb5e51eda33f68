package io.sipha.lab;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import io.sipha.decision.VipReport;
import io.sipha.demo.SimulatedSite;
import io.sipha.kube.AgentReports;
import io.sipha.kube.InformerHandlers;
import io.sipha.operator.OperatorMetrics;
import io.sipha.vip.AllowedCidrs;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

/**
 * sipha on the network lab: the embedded API, the real operator, and the real node agents of node-a
 * and node-b running in this JVM (root namespace) whose VIP scripts are sipha's default ones run
 * inside host-a and host-b. SIP Server pods sip-0 on node-a and sip-1 on node-b, pair-1 with
 * sipha's default timings (unreadyGraceSeconds 2, nodeLossSeconds 3), agents renewing their Lease
 * and resyncing every second.
 *
 * <p>The pair's status is read from an informer (a watch), not polled: the lab's own reads do not
 * load the API the operator works with, and every change of phase, epoch, primary or VIP state is
 * stamped with the time it was seen ({@link #marks}), and so is every change of an agent's report
 * on the pair in its Lease.
 */
final class SiphaOnLab implements AutoCloseable {
  static final String NS = "voice";
  static final String PAIR = "pair-1";
  static final int NODE_LOSS_SECONDS = 3;
  static final int UNREADY_GRACE_SECONDS = 2;
  static final Duration RENEW_EVERY = Duration.ofSeconds(1);
  static final Map<String, String> NODE = Map.of("host-a", "node-a", "host-b", "node-b");
  static final Map<String, String> POD = Map.of("host-a", "sip-0", "host-b", "sip-1");

  private final NetLab lab;
  private final SimulatedSite site;
  private final List<Timeline.Mark> marks = new CopyOnWriteArrayList<>();
  private volatile SipServerPairStatus status;
  private volatile String statusKey = "";
  private SharedIndexInformer<SipServerPair> informer;
  private SharedIndexInformer<Lease> leases;
  private final Map<String, String> reported = new java.util.concurrent.ConcurrentHashMap<>();
  private final List<Report> reports = new CopyOnWriteArrayList<>();

  /** An agent's report on pair-1, as seen in its Lease at {@code atMicros}. */
  record Report(long atMicros, String node, VipReport.State state, long epoch) {}

  private SiphaOnLab(NetLab lab, SimulatedSite site) {
    this.lab = lab;
    this.site = site;
  }

  private void watch() {
    informer =
        site.client()
            .resources(SipServerPair.class)
            .inNamespace(NS)
            .inform(InformerHandlers.onSeen(this::seen), 0);
  }

  /** Each agent's report on pair-1 as it changes in its Lease: when the operator can know of it. */
  private void watchReports() {
    leases =
        site.client()
            .leases()
            .inNamespace(SimulatedSite.LEASE_NAMESPACE)
            .inform(InformerHandlers.onSeen(this::seen), 0);
  }

  private void seen(Lease l) {
    Map<String, String> ann = l.getMetadata().getAnnotations();
    if (ann == null || ann.get(AgentReports.ANNOTATION) == null || l.getSpec() == null) {
      return;
    }
    VipReport r = AgentReports.parse(ann.get(AgentReports.ANNOTATION)).get(NS + "/" + PAIR);
    String node = l.getSpec().getHolderIdentity();
    if (r == null || node == null) {
      return;
    }
    String key = r.state() + " at epoch " + r.epoch();
    if (!key.equals(reported.put(node, key))) {
      long now = LabMain.nowMicros();
      reports.add(new Report(now, node, r.state(), r.epoch()));
      marks.add(new Timeline.Mark(now, node + " reports " + key + " (Lease)"));
    }
  }

  private void seen(SipServerPair p) {
    if (!PAIR.equals(p.getMetadata().getName())) {
      return;
    }
    SipServerPairStatus s = p.getStatus();
    status = s;
    String key =
        s == null
            ? ""
            : s.phase + "/" + s.epoch + "/" + s.primary + "/" + (s.vip == null ? "" : s.vip.state);
    if (!Objects.equals(key, statusKey)) {
      statusKey = key;
      marks.add(new Timeline.Mark(LabMain.nowMicros(), label(s)));
    }
  }

  /** The agents' reports on pair-1 seen between two instants (epoch µs). */
  List<Report> reports(long fromMicros, long toMicros) {
    return reports.stream()
        .filter(r -> r.atMicros() >= fromMicros && r.atMicros() <= toMicros)
        .toList();
  }

  /** The status changes seen between two instants (epoch µs), as timeline marks. */
  List<Timeline.Mark> marks(long fromMicros, long toMicros) {
    return marks.stream()
        .filter(m -> m.atMicros() >= fromMicros && m.atMicros() <= toMicros)
        .toList();
  }

  /**
   * Starts everything and waits until pair-1 is Active with sip-0 primary and the VIP on host-a.
   */
  static SiphaOnLab start(NetLab lab) {
    SimulatedSite site =
        SimulatedSite.withScripts(
            Map.of("node-a", lab.scriptsDir("host-a"), "node-b", lab.scriptsDir("host-b")),
            new SimulatedSite.AgentTiming(
                RENEW_EVERY, Duration.ofSeconds(1), Duration.ofSeconds(5)),
            AllowedCidrs.parse(List.of("192.0.2.0/24")),
            OperatorMetrics.none());
    SiphaOnLab s = new SiphaOnLab(lab, site);
    try {
      site.cluster().createNamespace(NS);
      site.startAgents();
      site.startOperator();
      s.watch();
      s.watchReports();
      site.cluster().createServerPod(NS, "sip-0", PAIR, "node-a", true);
      site.cluster().createServerPod(NS, "sip-1", PAIR, "node-b", true);
      SipServerPair p = SimulatedSite.pair(NS, PAIR, "sip-0", "sip-0", "sip-1");
      p.getSpec().getFailover().setNodeLossSeconds(NODE_LOSS_SECONDS);
      p.getSpec().getFailover().setUnreadyGraceSeconds(UNREADY_GRACE_SECONDS);
      site.client().resources(SipServerPair.class).inNamespace(NS).resource(p).create();
      s.await(
          "election: sip-0 primary, VIP on host-a only",
          Duration.ofSeconds(30),
          () -> s.primaryOn("host-a") && s.phaseIs(Phase.Active) && s.vipOnlyOn("host-a"));
      return s;
    } catch (RuntimeException | Error e) {
      site.close();
      throw e;
    }
  }

  SimulatedSite site() {
    return site;
  }

  /** The pair's status as last seen by the watch. */
  SipServerPairStatus status() {
    return status;
  }

  /**
   * The status names the host's pod primary, the VIP Bound on its node, and no transition is under
   * way.
   */
  boolean primaryOn(String host) {
    SipServerPairStatus s = status();
    return s != null
        && POD.get(host).equals(s.primary)
        && s.transition == null
        && s.vip != null
        && NODE.get(host).equals(s.vip.node)
        && s.vip.state == VipStatus.State.Bound
        && (s.phase == Phase.Active || s.phase == Phase.Degraded);
  }

  boolean phaseIs(Phase phase) {
    SipServerPairStatus s = status();
    return s != null && s.phase == phase;
  }

  boolean noFencedHolder() {
    SipServerPairStatus s = status();
    return s != null && s.fenced.isEmpty();
  }

  /** The VIP is on this host's interface and on no other. */
  boolean vipOnlyOn(String host) {
    return lab.vipHolders().equals(List.of(host));
  }

  /** "status SwitchingOver, epoch 2, primary sip-1, VIP Binding on node-b" (for the timeline). */
  String statusLabel() {
    return label(status());
  }

  private static String label(SipServerPairStatus s) {
    if (s == null || s.phase == null) {
      return "no status";
    }
    return "status "
        + s.phase
        + ", epoch "
        + s.epoch
        + ", primary "
        + (s.primary == null ? "none" : s.primary)
        + (s.vip == null
            ? ""
            : ", VIP " + s.vip.state + (s.vip.node == null ? "" : " on " + s.vip.node));
  }

  /** kubectl patch ssp pair-1 --type merge -p '{"spec":{"primary":"POD"}}' */
  void switchTo(String host) {
    site.client()
        .resources(SipServerPair.class)
        .inNamespace(NS)
        .withName(PAIR)
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"spec\":{\"primary\":\"" + POD.get(host) + "\"}}");
  }

  /** kubectl delete pod (the host's SIP Server pod). */
  void deletePod(String host) {
    site.client().pods().inNamespace(NS).withName(POD.get(host)).delete();
  }

  /** The pod's StatefulSet recreates it on its node, and it becomes Ready. */
  void recreatePod(String host) {
    site.cluster().createServerPod(NS, POD.get(host), PAIR, NODE.get(host), true);
  }

  void stopAgent(String host) {
    site.stopAgent(NODE.get(host));
  }

  void startAgent(String host) {
    site.startAgent(NODE.get(host));
  }

  /** When the host's agent last renewed its Lease, or null. */
  Instant lastRenewal(String host) {
    Lease l =
        site.client()
            .leases()
            .inNamespace(SimulatedSite.LEASE_NAMESPACE)
            .withName(AgentReports.leaseName(NODE.get(host)))
            .get();
    return l == null || l.getSpec() == null || l.getSpec().getRenewTime() == null
        ? null
        : l.getSpec().getRenewTime().toInstant();
  }

  void await(String what, Duration limit, BooleanSupplier condition) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "timed out after "
                + limit.toSeconds()
                + " s waiting for "
                + what
                + "; status: "
                + statusLabel()
                + "; VIP on "
                + lab.vipHolders());
      }
      Sh.sleep(20);
    }
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
    if (leases != null) {
      leases.close();
    }
    site.close();
  }
}
