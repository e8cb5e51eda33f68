package io.sipha.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.TransitionKind;
import io.sipha.api.VipStatus;
import io.sipha.cli.sandbox.Sandbox;
import io.sipha.decision.MonotonicClock;
import io.sipha.demo.ControlPlaneApi;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@code make sandbox} on the local control plane: the repository's examples applied, the
 * StatefulSet controller making the pods and kube-scheduler placing them, and a person's kubectl
 * (the one built with the control plane, through the kubeconfig the sandbox writes) seeing the
 * printer columns and driving it with {@code kubectl edit} and {@code kubectl delete pod}, which
 * the embedded API cannot serve or does not do.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SandboxOnTheControlPlaneIT {
  final LocalControlPlane cp = LocalControlPlane.fromEnvironment();
  final KubernetesClient admin = cp.adminClient();
  final ByteArrayOutputStream log = new ByteArrayOutputStream();
  Sandbox sandbox;
  Path work;

  @BeforeAll
  void start() throws Exception {
    work = Files.createTempDirectory("sipha-sandbox-it");
    cp.applyCrds();
    sandbox =
        Sandbox.start(
            ControlPlaneApi.fromKubeconfig(cp.kubeconfig(), MonotonicClock.startingNow()),
            LocalControlPlane.repo(),
            work.resolve("sandbox.kubeconfig"),
            new PrintStream(log, true, StandardCharsets.UTF_8));
    sandbox.printIntro(new PrintStream(log, true, StandardCharsets.UTF_8), null);
  }

  @AfterAll
  void stop() {
    if (sandbox != null) {
      sandbox.close();
    }
    // what a person would have seen in the sandbox's terminal, in the failsafe report
    System.out.println(log.toString(StandardCharsets.UTF_8));
    // the namespace gone before another class of the tier uses it
    await("namespace voice removed")
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> admin.namespaces().withName(Sandbox.NS).get() == null);
    admin.close();
  }

  SipServerPairStatus status() {
    SipServerPair p =
        admin.resources(SipServerPair.class).inNamespace(Sandbox.NS).withName(Sandbox.PAIR).get();
    return p == null ? null : p.getStatus();
  }

  void awaitStatus(String what, Predicate<SipServerPairStatus> done) {
    await(what)
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              SipServerPairStatus s = status();
              return s != null && done.test(s);
            });
  }

  /** The control plane's kubectl with the kubeconfig the sandbox wrote (a person's own). */
  LocalControlPlane.Result kubectl(Map<String, String> env, String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                System.getenv("SIPHA_KUBECTL"), "--kubeconfig", sandbox.kubeconfig().toString()));
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(work, "kubectl", ".out");
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(String.join(" ", cmd) + " ended").isTrue();
    return new LocalControlPlane.Result(p.exitValue(), Files.readString(out), "");
  }

  String nodeOf(String pod) {
    Pod p = admin.pods().inNamespace(Sandbox.NS).withName(pod).get();
    return p == null ? null : p.getSpec().getNodeName();
  }

  @Test
  @Order(1)
  void theExamplesRunThePairActiveOnTheNodeKubeSchedulerChoseAndKubectlGetShowsTheColumns()
      throws Exception {
    Map<String, String> home = sandbox.home();
    assertThat(home.keySet()).containsExactlyInAnyOrder("sip-0", "sip-1");
    assertThat(home.get("sip-0"))
        .as("the anti-affinity of examples/sip-servers.yaml")
        .isNotEqualTo(home.get("sip-1"));
    assertThat(sandbox.site().host(home.get("sip-0")).vips()).containsExactly(Sandbox.VIP);
    assertThat(admin.apps().statefulSets().inNamespace(Sandbox.NS).withName("sip").get())
        .as("the StatefulSet of examples/sip-servers.yaml")
        .isNotNull();

    String kubeconfig = Files.readString(sandbox.kubeconfig());
    assertThat(kubeconfig)
        .contains("server: " + sandbox.url().replaceAll("/$", ""))
        .contains("namespace: voice")
        .contains("client-certificate: ")
        .doesNotContain("token:");
    var get = kubectl(Map.of(), "get", "ssp").ok();
    assertThat(get.out())
        .containsPattern("NAME\\s+PRIMARY\\s+BACKUP\\s+VIP\\s+NODE\\s+PHASE\\s+EPOCH\\s+AGE")
        .containsPattern(
            "pair-1\\s+sip-0\\s+sip-1\\s+192\\.0\\.2\\.10/24\\s+"
                + home.get("sip-0")
                + "\\s+Active");
    assertThat(log.toString(StandardCharsets.UTF_8))
        .contains("on the local control plane at " + sandbox.url().replaceAll("/$", ""))
        .contains("kubectl edit ssp pair-1");
  }

  @Test
  @Order(2)
  void kubectlEditOfSpecPrimaryIsASwitchover() throws Exception {
    // the editor kubectl edit opens: it sets spec.primary (status lines are not the editor's to
    // change)
    var edit =
        kubectl(
                Map.of(
                    "KUBE_EDITOR",
                    "sed -i -e '/^spec:/,/^status:/s/^  primary: sip-0$/  primary: sip-1/'"),
                "edit",
                "ssp",
                Sandbox.PAIR)
            .ok();
    assertThat(edit.out()).contains("sipserverpair.sipha.io/pair-1 edited");
    awaitStatus(
        "switched over to sip-1 by kubectl edit",
        s -> s.phase == Phase.Active && "sip-1".equals(s.primary));
    assertThat(sandbox.site().host(nodeOf("sip-1")).vips()).containsExactly(Sandbox.VIP);
    assertThat(sandbox.site().host(nodeOf("sip-0")).vips()).isEmpty();
  }

  @Test
  @Order(3)
  void thePrimaryPodDeletedIsMadeAgainByTheStatefulSetControllerAndComesBackAsBackup()
      throws Exception {
    String uid =
        admin.pods().inNamespace(Sandbox.NS).withName("sip-1").get().getMetadata().getUid();
    kubectl(Map.of(), "delete", "pod", "sip-1", "--wait=false").ok();
    awaitStatus(
        "failed over to sip-0",
        s ->
            "sip-0".equals(s.primary)
                && s.transition == null
                && s.vip.state == VipStatus.State.Bound);
    await("sip-1 made again by the StatefulSet controller")
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              Pod p = admin.pods().inNamespace(Sandbox.NS).withName("sip-1").get();
              return p != null
                  && !uid.equals(p.getMetadata().getUid())
                  && p.getSpec().getNodeName() != null;
            });
    awaitStatus(
        "Active with the new sip-1 as backup",
        s -> s.phase == Phase.Active && "sip-0".equals(s.primary) && "sip-1".equals(s.backup));
    assertThat(log.toString(StandardCharsets.UTF_8))
        .contains("cluster  pod sip-1 is gone; its StatefulSet controller creates it again")
        .contains("cluster  pod sip-1 created by its StatefulSet");
  }

  @Test
  @Order(4)
  void thePrimarysNodeCutOffFailsOverAndBackIsDemotedByTheControlConfigMap() {
    String primaryNode = nodeOf("sip-0");
    var control = admin.configMaps().inNamespace(Sandbox.NS).withName(Sandbox.CONTROL);
    control.patch(
        PatchContext.of(PatchType.JSON_MERGE), "{\"data\":{\"" + primaryNode + "\":\"down\"}}");
    awaitStatus(
        "node lost: sip-1 primary",
        s ->
            "sip-1".equals(s.primary)
                && s.transition == null
                && s.vip.state == VipStatus.State.Bound
                && s.history.get(s.history.size() - 1).reason.equals("NodeLost"));
    control.patch(
        PatchContext.of(PatchType.JSON_MERGE), "{\"data\":{\"" + primaryNode + "\":\"up\"}}");
    awaitStatus(
        "the stale primary demoted",
        s ->
            s.phase == Phase.Active
                && s.history.get(s.history.size() - 1).kind == TransitionKind.Demotion);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> sandbox.site().host(primaryNode).vips().isEmpty());
    assertThat(sandbox.site().host(nodeOf("sip-1")).vips()).containsExactly(Sandbox.VIP);
  }

  @Test
  @Order(5)
  void aPrimaryTurnedNotReadyThroughTheStatusSubresourceFailsOverAndKwokLeavesItSo() {
    var control = admin.configMaps().inNamespace(Sandbox.NS).withName(Sandbox.CONTROL);
    control.patch(PatchContext.of(PatchType.JSON_MERGE), "{\"data\":{\"sip-1\":\"notready\"}}");
    awaitStatus(
        "sip-1 NotReady past the grace: sip-0 primary",
        s ->
            "sip-0".equals(s.primary)
                && s.transition == null
                && s.history.get(s.history.size() - 1).reason.equals("PrimaryNotReady"));
    assertThat(
            io.fabric8.kubernetes.client.readiness.Readiness.isPodReady(
                admin.pods().inNamespace(Sandbox.NS).withName("sip-1").get()))
        .as("kwok did not make it Ready again")
        .isFalse();
    control.patch(PatchContext.of(PatchType.JSON_MERGE), "{\"data\":{\"sip-1\":\"ready\"}}");
    awaitStatus(
        "Active again with sip-1 as backup",
        s -> s.phase == Phase.Active && "sip-1".equals(s.backup));
    assertThat(sandbox.site().host(nodeOf("sip-0")).vips()).containsExactly(Sandbox.VIP);
  }

  @Test
  @Order(6)
  void kubectlDeleteOfThePairClearsItsVipAndClosedTheSandboxRemovesWhatItMade() throws Exception {
    String holder = nodeOf("sip-0");
    kubectl(Map.of(), "delete", "ssp", Sandbox.PAIR, "--timeout", "30s").ok();
    assertThat(
            admin
                .resources(SipServerPair.class)
                .inNamespace(Sandbox.NS)
                .withName(Sandbox.PAIR)
                .get())
        .isNull();
    assertThat(sandbox.site().host(holder).vips()).as("the finalizer released the VIP").isEmpty();
    sandbox.close();
    assertThat(admin.leases().inNamespace("sipha-system").list().getItems())
        .noneMatch(
            l ->
                l.getMetadata().getName().startsWith("sipha-agent-node-")
                    || l.getMetadata().getName().startsWith("sipha-reports-node-"));
    var ns = admin.namespaces().withName(Sandbox.NS).get();
    assertThat(ns == null || ns.getMetadata().getDeletionTimestamp() != null)
        .as("namespace voice deleted")
        .isTrue();
    sandbox = null;
  }
}
