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
import io.sipha.demo.EmbeddedCluster;
import io.sipha.demo.SimulatedSite;
import io.sipha.e2e.FaultProxy;
import io.sipha.kube.AgentReports;
import io.sipha.kube.InformerHandlers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

/**
 * sipha on the network lab, as a cluster runs it: the node agents of node-a and node-b are {@code
 * sipha agent} processes inside host-a and host-b, heartbeating each other over the signalling
 * network with a shared key, and reaching the API over the management network; the operator is a
 * {@code sipha operator} process inside ctl, probing the agents over the management network. The
 * API is the embedded one of this JVM (on loopback), reached from ctl's 198.51.100.1:6443 through
 * {@link ApiRelay} and a {@link FaultProxy} that can slow or cut it for everyone. SIP Server pods
 * sip-0 on node-a and sip-1 on node-b, pair-1 with sipha's default timings (unreadyGraceSeconds 2,
 * nodeLossSeconds 3), agents renewing their Lease and resyncing every second.
 *
 * <p>The pair's status is read from an informer (a watch), not polled: the lab's own reads do not
 * load the API the operator works with, and every change of phase, epoch, primary or VIP state is
 * stamped with the time it was seen ({@link #marks}), and so is every change of an agent's report
 * on the pair in its Lease.
 */
final class SiphaOnLab implements AutoCloseable {
  static final String NS = "voice";
  static final String PAIR = "pair-1";
  static final String LEASES = SimulatedSite.LEASE_NAMESPACE;
  static final int NODE_LOSS_SECONDS = 3;
  static final int UNREADY_GRACE_SECONDS = 2;
  static final Duration RENEW_EVERY = Duration.ofSeconds(1);
  static final int API_PORT = 6443;
  static final int AGENT_HTTP_PORT = 9477;
  static final Map<String, String> NODE = Map.of("host-a", "node-a", "host-b", "node-b");
  static final Map<String, String> POD = Map.of("host-a", "sip-0", "host-b", "sip-1");

  private final NetLab lab;
  private final EmbeddedCluster cluster;
  private final FaultProxy api;
  private final ApiRelay relay;
  private final Path kubeconfig;
  private final Path peerKey;
  private final Map<String, Process> agents = new java.util.concurrent.ConcurrentHashMap<>();
  private Process relayEnd;
  private Process operator;
  private final Map<String, Process> hostOperators = new java.util.concurrent.ConcurrentHashMap<>();
  private final List<Timeline.Mark> marks = new CopyOnWriteArrayList<>();
  private volatile SipServerPairStatus status;
  private volatile String statusKey = "";
  private SharedIndexInformer<SipServerPair> informer;
  private SharedIndexInformer<Lease> leases;
  private final Map<String, String> reported = new java.util.concurrent.ConcurrentHashMap<>();
  private final List<Report> reports = new CopyOnWriteArrayList<>();

  /** An agent's report on pair-1, as seen in its Lease at {@code atMicros}. */
  record Report(long atMicros, String node, VipReport.State state, long epoch) {}

  private SiphaOnLab(NetLab lab) throws IOException {
    this.lab = lab;
    this.cluster = new EmbeddedCluster(Clock.systemUTC());
    cluster.nodeAddresses(
        node ->
            NODE.entrySet().stream()
                .filter(e -> e.getValue().equals(node))
                .map(e -> NetLab.managementAddress(e.getKey()))
                .findFirst()
                .orElse(null));
    this.api = new FaultProxy(cluster.port());
    this.relay = ApiRelay.unixToTcp(lab.dir().resolve("api.sock"), api.port());
    this.kubeconfig = lab.dir().resolve("kubeconfig");
    Files.writeString(
        kubeconfig,
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: lab
          cluster:
            server: http://%s:%d
        users:
        - name: lab
          user: {}
        contexts:
        - name: lab
          context: {cluster: lab, user: lab}
        current-context: lab
        """
            .formatted(NetLab.CONTROL_ADDRESS, API_PORT));
    this.peerKey = lab.dir().resolve("peer-key");
    Files.writeString(peerKey, randomKey() + "\n");
    Files.setPosixFilePermissions(peerKey, PosixFilePermissions.fromString("r--------"));
  }

  private static String randomKey() {
    byte[] b = new byte[24];
    new java.security.SecureRandom().nextBytes(b);
    return java.util.HexFormat.of().formatHex(b);
  }

  private void watch() {
    informer =
        cluster
            .client()
            .resources(SipServerPair.class)
            .inNamespace(NS)
            .inform(InformerHandlers.onSeen(this::seen), 0);
  }

  /** Each agent's report on pair-1 as it changes in its Lease: when the operator can know of it. */
  private void watchReports() {
    leases =
        cluster
            .client()
            .leases()
            .inNamespace(LEASES)
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
   * Starts everything and waits until pair-1 is Active with sip-0 primary, the VIP on host-a, and
   * each agent hearing the other over the signalling network.
   */
  static SiphaOnLab start(NetLab lab) {
    SiphaOnLab s;
    try {
      s = new SiphaOnLab(lab);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    try {
      s.cluster.createNamespace(LEASES);
      s.cluster.createNamespace(NS);
      s.startRelayEnd();
      for (String h : NetLab.HOSTS) {
        s.startAgent(h);
      }
      s.startOperator();
      s.watch();
      s.watchReports();
      s.cluster.createServerPod(NS, "sip-0", PAIR, "node-a", true);
      s.cluster.createServerPod(NS, "sip-1", PAIR, "node-b", true);
      SipServerPair p = SimulatedSite.pair(NS, PAIR, "sip-0", "sip-0", "sip-1");
      p.getSpec().getFailover().setNodeLossSeconds(NODE_LOSS_SECONDS);
      p.getSpec().getFailover().setUnreadyGraceSeconds(UNREADY_GRACE_SECONDS);
      s.cluster.client().resources(SipServerPair.class).inNamespace(NS).resource(p).create();
      s.await(
          "election: sip-0 primary, VIP on host-a only",
          Duration.ofSeconds(60),
          () -> s.primaryOn("host-a") && s.phaseIs(Phase.Active) && s.vipOnlyOn("host-a"));
      s.await(
          "the agents hear each other over the signalling network",
          Duration.ofSeconds(30),
          () -> "node-b".equals(s.hears("host-a")) && "node-a".equals(s.hears("host-b")));
      return s;
    } catch (RuntimeException | Error e) {
      s.close();
      throw e;
    }
  }

  /** java with this JVM's class path (the product's classes and the lab's), for a lab process. */
  private static List<String> java(String heap, String main) {
    return List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx" + heap,
        "-XX:+UseSerialGC",
        "-Xss512k",
        "-cp",
        System.getProperty("java.class.path"),
        main);
  }

  private void startRelayEnd() {
    List<String> cmd = new ArrayList<>(java("32m", ApiRelay.class.getName()));
    cmd.addAll(
        List.of(
            NetLab.CONTROL_ADDRESS,
            String.valueOf(API_PORT),
            lab.dir().resolve("api.sock").toString()));
    Path log = lab.dir().resolve("api-relay.log");
    relayEnd = lab.startIn("ctl", log, cmd.toArray(String[]::new));
    Sh.awaitOutput(relayEnd, log, "ready", "the API's relay in ctl");
  }

  /** A sipha command in a namespace of the lab, with the lab's kubeconfig. */
  private Process sipha(String role, Path log, List<String> args) {
    List<String> cmd = new ArrayList<>(List.of("env", "KUBECONFIG=" + kubeconfig));
    cmd.addAll(java("256m", "io.sipha.cli.Main"));
    cmd.addAll(args);
    return lab.startIn(role, log, cmd.toArray(String[]::new));
  }

  /** Starts (or restarts) the host's agent, as the chart runs it, inside the host. */
  void startAgent(String host) {
    stopAgent(host);
    String mgmt = NetLab.managementAddress(host);
    agents.put(
        host,
        sipha(
            host,
            lab.dir().resolve("agent-" + host + ".log"),
            List.of(
                "agent",
                "--node",
                NODE.get(host),
                "--node-ip",
                mgmt,
                "--scripts-dir",
                lab.scriptsDir(host).toString(),
                "--lease-namespace",
                LEASES,
                "--renew-ms",
                String.valueOf(RENEW_EVERY.toMillis()),
                "--resync-ms",
                "1000",
                "--http-port",
                String.valueOf(AGENT_HTTP_PORT),
                "--http-address",
                mgmt,
                "--pod-field-selector",
                "false",
                "--peer-key-file",
                peerKey.toString(),
                "--peer-address",
                NetLab.signallingAddress(host))));
  }

  /** Kills the host's agent (SIGKILL): the host keeps what it holds. */
  void stopAgent(String host) {
    Process p = agents.remove(host);
    if (p != null) {
      p.destroyForcibly();
      try {
        p.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void startOperator() {
    operator = operatorIn("ctl", NetLab.CONTROL_ADDRESS, "sipha-operator-0");
  }

  private Process operatorIn(String role, String address, String identity) {
    return sipha(
        role,
        lab.dir().resolve("operator-" + identity + ".log"),
        List.of(
            "operator",
            "--lease-namespace",
            LEASES,
            "--identity",
            identity,
            "--http-port",
            "8080",
            "--http-address",
            address,
            "--allowed-vip-cidrs",
            "192.0.2.0/24",
            "--peer-key-secret",
            ""));
  }

  /**
   * Moves the operator onto the hosts, as a cluster schedules its two replicas: the one in ctl
   * stops, one starts in {@code leaderHost} and leads, then one in the other host stands by.
   */
  void operatorsOnHosts(String leaderHost) {
    Sh.stop(operator, 5_000);
    operator = null;
    for (String h : List.copyOf(hostOperators.keySet())) {
      Sh.stop(hostOperators.remove(h), 5_000);
    }
    String other = NetLab.HOSTS.stream().filter(h -> !h.equals(leaderHost)).findFirst().get();
    hostOperators.put(
        leaderHost,
        operatorIn(leaderHost, NetLab.managementAddress(leaderHost), "operator-" + leaderHost));
    await(
        "the operator in " + leaderHost + " leads",
        Duration.ofSeconds(60),
        () -> ("operator-" + leaderHost).equals(leader()));
    hostOperators.put(
        other, operatorIn(other, NetLab.managementAddress(other), "operator-" + other));
  }

  /** Back to the one operator in ctl. */
  void operatorInCtl() {
    for (String h : List.copyOf(hostOperators.keySet())) {
      Sh.stop(hostOperators.remove(h), 5_000);
    }
    if (operator == null) {
      startOperator();
    }
    await(
        "the operator in ctl leads",
        Duration.ofSeconds(60),
        () -> "sipha-operator-0".equals(leader()));
  }

  /** The pair and its Events as YAML, for a failure's message. */
  String describe() {
    var c = cluster.client();
    return c.getKubernetesSerialization()
            .asYaml(c.resources(SipServerPair.class).inNamespace(NS).withName(PAIR).get())
        + c.v1().events().inNamespace(NS).list().getItems().stream()
            .map(e -> e.getReason() + ": " + e.getMessage())
            .collect(java.util.stream.Collectors.joining("\n"))
        + "\nLease: "
        + c.getKubernetesSerialization()
            .asYaml(c.leases().inNamespace(LEASES).withName("sipha-operator").get());
  }

  /** Who holds the operator's leader Lease, or null. */
  String leader() {
    Lease l = cluster.client().leases().inNamespace(LEASES).withName("sipha-operator").get();
    return l == null || l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
  }

  /** The heartbeat Lease of the host's agent, or null. */
  private Lease lease(String host) {
    return cluster
        .client()
        .leases()
        .inNamespace(LEASES)
        .withName(AgentReports.leaseName(NODE.get(host)))
        .get();
  }

  /** The peers the host's agent says it hears, from its Lease (null when none). */
  String hears(String host) {
    Lease l = lease(host);
    Map<String, String> a = l == null ? null : l.getMetadata().getAnnotations();
    return a == null ? null : a.get(AgentReports.PEERS_HEARD_ANNOTATION);
  }

  /** The API path of every lab process (agents, operator): slowed or cut here. */
  FaultProxy api() {
    return api;
  }

  EmbeddedCluster cluster() {
    return cluster;
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

  /** The host whose pod the status names primary (host-a when none is named yet). */
  String primaryHost() {
    SipServerPairStatus s = status();
    return POD.entrySet().stream()
        .filter(e -> s != null && e.getValue().equals(s.primary))
        .map(Map.Entry::getKey)
        .findFirst()
        .orElse("host-a");
  }

  /** "epoch 3, primary sip-0": a change of it is a transition. */
  String stateLabel() {
    SipServerPairStatus s = status();
    return s == null ? "no status" : "epoch " + s.epoch + ", primary " + s.primary;
  }

  /** The pair's NodeContact condition: what sipha sees of the nodes, in its own words. */
  String contactLabel() {
    SipServerPairStatus s = status();
    io.sipha.api.Condition c =
        s == null
            ? null
            : io.sipha.decision.Conditions.find(
                    s.conditions, io.sipha.decision.Conditions.NODE_CONTACT)
                .orElse(null);
    return c == null
        ? "no NodeContact condition"
        : "NodeContact " + c.status + " " + c.reason + ": " + c.message;
  }

  /** Both observers see every node: the NodeContact condition is True. */
  boolean inContact() {
    return contactLabel().startsWith("NodeContact True");
  }

  /** The status has accepted a spec.primary that names the host's pod. */
  boolean acceptedPrimaryOn(String host) {
    SipServerPairStatus s = status();
    return s != null && POD.get(host).equals(s.acceptedPrimary);
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
    cluster
        .client()
        .resources(SipServerPair.class)
        .inNamespace(NS)
        .withName(PAIR)
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"spec\":{\"primary\":\"" + POD.get(host) + "\"}}");
  }

  /** kubectl delete pod (the host's SIP Server pod). */
  void deletePod(String host) {
    cluster.client().pods().inNamespace(NS).withName(POD.get(host)).delete();
  }

  /** The pod's StatefulSet recreates it on its node, and it becomes Ready. */
  void recreatePod(String host) {
    cluster.createServerPod(NS, POD.get(host), PAIR, NODE.get(host), true);
  }

  /** When the host's agent last renewed its Lease, or null. */
  Instant lastRenewal(String host) {
    Lease l = lease(host);
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
    Sh.stop(operator, 5_000);
    for (String h : List.copyOf(hostOperators.keySet())) {
      Sh.stop(hostOperators.remove(h), 5_000);
    }
    for (String h : List.copyOf(agents.keySet())) {
      Sh.stop(agents.remove(h), 5_000);
    }
    Sh.stop(relayEnd, 2_000);
    relay.close();
    try {
      api.close();
    } catch (IOException e) {
      // closed
    }
    cluster.close();
  }
}
