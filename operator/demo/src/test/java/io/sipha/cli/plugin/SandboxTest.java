package io.sipha.cli.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.TransitionKind;
import io.sipha.api.VipStatus;
import io.sipha.cli.PluginMain;
import io.sipha.cli.sandbox.Sandbox;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** `make sandbox` (sipha demo --keep-running): the site a person drives with their own kubectl. */
class SandboxTest {
  @TempDir Path dir;
  Sandbox sandbox;
  final ByteArrayOutputStream log = new ByteArrayOutputStream();

  @AfterEach
  void stop() {
    if (sandbox != null) {
      sandbox.close();
    }
  }

  Sandbox start() {
    sandbox =
        Sandbox.start(
            dir.resolve("target/sandbox.kubeconfig"),
            new PrintStream(log, true, StandardCharsets.UTF_8));
    return sandbox;
  }

  @Test
  void itStartsActiveWritesAKubeconfigAndSaysWhatToType() throws Exception {
    start();
    ByteArrayOutputStream intro = new ByteArrayOutputStream();
    sandbox.printIntro(new PrintStream(intro, true, StandardCharsets.UTF_8));
    String text = intro.toString(StandardCharsets.UTF_8);

    assertThat(sandbox.kubeconfig())
        .isEqualTo(dir.resolve("target/sandbox.kubeconfig").toAbsolutePath());
    String kubeconfig = Files.readString(sandbox.kubeconfig());
    assertThat(kubeconfig)
        .contains("server: " + sandbox.url().replaceAll("/$", ""))
        .contains("namespace: voice")
        .contains("current-context: sipha-sandbox");
    assertThat(text)
        .contains("export KUBECONFIG=" + sandbox.kubeconfig())
        .contains("kubectl get ssp")
        .contains("kubectl patch ssp pair-1 --type merge -p '{\"spec\":{\"primary\":\"sip-0\"}}'")
        .contains("kubectl sipha switchover pair-1 --to sip-1")
        .contains("kubectl delete pod sip-0")
        .contains(Sandbox.control("node-a", "down"))
        .contains("Ctrl-C stops everything");
    SipServerPairStatus s = status();
    assertThat(s.phase).isEqualTo(Phase.Active);
    assertThat(s.primary).isEqualTo("sip-0");
    assertThat(sandbox.site().host("node-a").vips()).containsExactly(Sandbox.VIP);
  }

  @Test
  void aDeletedServerPodComesBackAndTheControlConfigMapCutsAHostOff() {
    start();
    sandbox.printIntro(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    var client = sandbox.site().client();

    client.pods().inNamespace(Sandbox.NS).withName("sip-0").delete();
    awaitStatus(
        "failed over to sip-1",
        s ->
            "sip-1".equals(s.primary)
                && s.transition == null
                && s.vip.state == VipStatus.State.Bound);
    awaitStatus(
        "sip-0 recreated: Active again", s -> s.phase == Phase.Active && "sip-1".equals(s.primary));
    assertThat(
            client.pods().inNamespace(Sandbox.NS).withName("sip-0").get().getSpec().getNodeName())
        .isEqualTo("node-a");

    client
        .configMaps()
        .inNamespace(Sandbox.NS)
        .withName(Sandbox.CONTROL)
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"data\":{\"node-b\":\"down\"}}");
    awaitStatus(
        "node-b lost: sip-0 primary",
        s ->
            "sip-0".equals(s.primary)
                && s.transition == null
                && s.vip.state == VipStatus.State.Bound
                && s.history.get(s.history.size() - 1).reason.equals("NodeLost"));
    assertThat(sandbox.site().host("node-b").vips())
        .as("a cut-off host keeps its VIP")
        .containsExactly(Sandbox.VIP);

    client
        .configMaps()
        .inNamespace(Sandbox.NS)
        .withName(Sandbox.CONTROL)
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"data\":{\"node-b\":\"up\"}}");
    awaitStatus(
        "the stale primary is demoted",
        s ->
            s.phase == Phase.Active
                && s.history.get(s.history.size() - 1).kind == TransitionKind.Demotion);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> sandbox.site().host("node-b").vips().isEmpty());

    assertThat(log.toString(StandardCharsets.UTF_8))
        .contains("kubelet  pod sip-0 is gone; its StatefulSet creates it again on node-a in 2 s")
        .contains("kubelet  pod sip-0 created on node-a, Ready")
        .contains("control  node-b is cut off")
        .contains("control  node-b is back")
        .contains("event    Warning FailoverStarted")
        .contains("host     node-a ran vip-enable 192.0.2.10/24 eth0");
  }

  @Test
  void onAnApiWithoutTheLocalControlPlanesFakeNodesItRefusesAndWritesNothing() throws Exception {
    try (var other = new io.sipha.demo.EmbeddedCluster(java.time.Clock.systemUTC())) {
      Path kubeconfig =
          io.sipha.cli.sandbox.Kubeconfig.write(
              dir.resolve("other.kubeconfig"), other.url(), "default");
      var api =
          io.sipha.demo.ControlPlaneApi.fromKubeconfig(kubeconfig, java.time.Clock.systemUTC());
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () ->
                  Sandbox.start(
                      api,
                      dir,
                      dir.resolve("out.kubeconfig"),
                      new PrintStream(log, true, StandardCharsets.UTF_8)))
          .hasMessageContaining("--control-plane: " + api.url() + " has no fake node node-a")
          .hasMessageContaining("never on a cluster in use");
      assertThat(other.client().namespaces().withName(Sandbox.NS).get()).isNull();
      assertThat(dir.resolve("out.kubeconfig")).doesNotExist();
    }
  }

  @Test
  void aRealKubectlDrivesASwitchover() throws Exception {
    Optional<Path> kubectl = onPath("kubectl");
    Assumptions.assumeTrue(
        kubectl.isPresent(),
        "kubectl is not on PATH: the sandbox is checked with the Fabric8"
            + " client only (install kubectl to run this test)");
    start();
    String k = sandbox.kubeconfig().toString();

    Cmd get = run(kubectl.get().toString(), "--kubeconfig", k, "get", "ssp");
    assertThat(get.code()).as(get.out()).isZero();
    assertThat(get.out()).containsPattern("NAME\\s+AGE").containsPattern("pair-1\\s+\\d+s");

    Cmd patch =
        run(
            kubectl.get().toString(),
            "--kubeconfig",
            k,
            "patch",
            "ssp",
            "pair-1",
            "--type",
            "merge",
            "-p",
            "{\"spec\":{\"primary\":\"sip-1\"}}");
    assertThat(patch.code()).as(patch.out()).isZero();
    assertThat(patch.out()).contains("sipserverpair.sipha.io/pair-1 patched");
    awaitStatus(
        "switched over to sip-1 by kubectl patch",
        s -> s.phase == Phase.Active && "sip-1".equals(s.primary));
    assertThat(sandbox.site().host("node-b").vips()).containsExactly(Sandbox.VIP);

    // the plugin, with the same kubeconfig, back to sip-0
    StringWriter out = new StringWriter();
    CommandLine cl = PluginMain.commandLine();
    cl.setOut(new PrintWriter(out, true));
    int code = cl.execute("switchover", "pair-1", "--to", "sip-0", "--kubeconfig", k);
    assertThat(code).as(out.toString()).isZero();
    assertThat(out.toString())
        .contains("node-b ran vip-disable")
        .contains("node-a ran vip-enable")
        .contains("Done: sip-0 is primary of voice/pair-1 on node-a");

    Cmd delete = run(kubectl.get().toString(), "--kubeconfig", k, "delete", "pod", "sip-0");
    assertThat(delete.code()).as(delete.out()).isZero();
    assertThat(delete.out()).contains("pod \"sip-0\" deleted");
    awaitStatus(
        "failover after kubectl delete pod",
        s ->
            "sip-1".equals(s.primary)
                && s.transition == null
                && s.history.get(s.history.size() - 1).reason.equals("PrimaryPodDeleted"));
    awaitStatus("the pod is back: Active", s -> s.phase == Phase.Active);

    Cmd cut =
        run(
            kubectl.get().toString(),
            "--kubeconfig",
            k,
            "patch",
            "configmap",
            Sandbox.CONTROL,
            "--type",
            "merge",
            "-p",
            "{\"data\":{\"node-b\":\"down\"}}");
    assertThat(cut.code()).as(cut.out()).isZero();
    awaitStatus(
        "node-b lost",
        s ->
            "sip-0".equals(s.primary)
                && s.transition == null
                && s.history.get(s.history.size() - 1).reason.equals("NodeLost"));

    Cmd leases =
        run(kubectl.get().toString(), "--kubeconfig", k, "get", "lease", "-n", "sipha-system");
    assertThat(leases.out()).contains("sipha-agent-node-a").contains("sipha-agent-node-b");
  }

  record Cmd(int code, String out) {}

  static Cmd run(String... args) throws Exception {
    Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
    p.getOutputStream().close();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + String.join(" ", args));
    }
    return new Cmd(
        p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  static Optional<Path> onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    return Stream.of(path.split(File.pathSeparator))
        .filter(d -> !d.isEmpty())
        .map(d -> Path.of(d, command))
        .filter(Files::isExecutable)
        .findFirst();
  }

  SipServerPairStatus status() {
    SipServerPair p =
        sandbox
            .site()
            .client()
            .resources(SipServerPair.class)
            .inNamespace(Sandbox.NS)
            .withName(Sandbox.PAIR)
            .get();
    return p == null ? null : p.getStatus();
  }

  SipServerPairStatus awaitStatus(String what, Predicate<SipServerPairStatus> p) {
    return await(what)
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(50))
        .until(this::status, s -> s != null && p.test(s));
  }
}
