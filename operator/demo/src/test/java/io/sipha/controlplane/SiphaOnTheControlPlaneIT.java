package io.sipha.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.readiness.Readiness;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.demo.SimulatedHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * sipha as a platform team first meets it, on a real kube-apiserver with its controllers and
 * scheduler and kwok's fake nodes node-a and node-b: the CRD applied server-side, the chart
 * installed with its real ServiceAccounts and RBAC, the operator and one agent per node running as
 * the image runs them ({@code java -jar sipha.jar}, the chart's arguments and environment,
 * authenticated by tokens of the chart's ServiceAccounts bound to their pods), and the SIP Servers
 * of examples/sip-servers.yaml scheduled by kube-scheduler. The one thing not as in a cluster: each
 * agent's VIP scripts record into a folder instead of running {@code ip} (fake nodes have no
 * network), and each process listens on 127.0.0.1 on a port of its own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SiphaOnTheControlPlaneIT {
  static final String NS = "voice";
  static final String SYSTEM = "sipha-system";
  static final Path REPO = LocalControlPlane.repo();
  final LocalControlPlane cp = LocalControlPlane.fromEnvironment();
  final KubernetesClient admin = cp.adminClient();
  final Map<String, SiphaProcess> processes = new LinkedHashMap<>();
  final Map<String, SimulatedHost> hosts = new LinkedHashMap<>();
  Path work;

  @BeforeAll
  void install() throws Exception {
    work = Files.createTempDirectory("sipha-e2e");
    cp.applyCrds();
    Helm.install(REPO.resolve("helm/sipha").toString())
        .withName("sipha")
        .withNamespace(SYSTEM)
        .createNamespace()
        .set("allowedVipCidrs[0]", "192.0.2.0/24")
        .withKubeConfig(cp.kubeconfig())
        .call();
    for (String node : List.of("node-a", "node-b")) {
      hosts.put(node, SimulatedHost.create(node, work));
    }
    startOperator();
    for (String node : List.of("node-a", "node-b")) {
      startAgent(node);
    }
    cp.kubectl(null, "apply", "-f", REPO.resolve("examples/sip-servers.yaml").toString()).ok();
  }

  @AfterAll
  void uninstall() throws Exception {
    for (SiphaProcess p : processes.values()) {
      p.close();
    }
    if (admin != null) {
      admin.resources(SipServerPair.class).inNamespace(NS).delete();
      cp.kubectl(null, "delete", "namespace", NS, "--wait=false");
      Helm.uninstall("sipha").withNamespace(SYSTEM).withKubeConfig(cp.kubeconfig()).call();
      admin.close();
    }
  }

  /**
   * The pod of the chart's workload whose name starts with {@code prefix} on {@code node} (any node
   * if null).
   */
  Pod podOf(String prefix, String node) {
    return await("a pod " + prefix + "* of the chart" + (node == null ? "" : " on " + node))
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                admin.pods().inNamespace(SYSTEM).list().getItems().stream()
                    .filter(p -> p.getMetadata().getName().startsWith(prefix))
                    .filter(p -> node == null || node.equals(p.getSpec().getNodeName()))
                    .filter(
                        p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase()))
                    .findFirst()
                    .orElse(null),
            p -> p != null);
  }

  /** The environment the kubelet would give this container of this pod (fieldRefs and values). */
  static Map<String, String> containerEnv(Pod pod, Container c) {
    Map<String, String> env = new HashMap<>();
    for (EnvVar e : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
      if (e.getValue() != null) {
        env.put(e.getName(), e.getValue());
      } else if (e.getValueFrom() != null && e.getValueFrom().getFieldRef() != null) {
        String path = e.getValueFrom().getFieldRef().getFieldPath();
        String v =
            switch (path) {
              case "spec.nodeName" -> pod.getSpec().getNodeName();
              case "metadata.name" -> pod.getMetadata().getName();
              case "metadata.namespace" -> pod.getMetadata().getNamespace();
              case "status.hostIPs" ->
                  String.join(
                      ",", pod.getStatus().getHostIPs().stream().map(h -> h.getIp()).toList());
              case "status.podIP" -> pod.getStatus().getPodIP();
              default ->
                  throw new AssertionError(
                      "the chart uses a fieldRef the test does not know: " + path);
            };
        env.put(e.getName(), v);
      }
    }
    return env;
  }

  /**
   * The container's args with $(VAR) expanded as the kubelet does, and these flags' values
   * replaced.
   */
  static List<String> args(Container c, Map<String, String> env, Map<String, String> replace) {
    List<String> out = new ArrayList<>();
    Pattern var = Pattern.compile("\\$\\(([A-Z_][A-Z0-9_]*)\\)");
    List<String> in = c.getArgs();
    for (int i = 0; i < in.size(); i++) {
      Matcher m = var.matcher(in.get(i));
      StringBuilder b = new StringBuilder();
      while (m.find()) {
        m.appendReplacement(b, Matcher.quoteReplacement(env.getOrDefault(m.group(1), m.group(0))));
      }
      m.appendTail(b);
      out.add(b.toString());
      if (replace.containsKey(in.get(i)) && i + 1 < in.size()) {
        out.add(replace.get(in.get(i)));
        i++;
      }
    }
    replace.forEach(
        (flag, value) -> {
          if (!out.contains(flag)) {
            out.add(flag);
            out.add(value);
          }
        });
    return out;
  }

  /** The pod whose name the first operator process runs under (its leader election identity). */
  String operatorPod;

  void startOperator() throws Exception {
    Pod pod = podOf("sipha-operator", null);
    operatorPod = pod.getMetadata().getName();
    startOperator(pod, "operator", "18080");
    await("the first operator leads")
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              var l = admin.leases().inNamespace(SYSTEM).withName("sipha-operator").get();
              return l != null && operatorPod.equals(l.getSpec().getHolderIdentity());
            });
  }

  void startOperator(Pod pod, String name, String port) throws Exception {
    Container c = pod.getSpec().getContainers().get(0);
    String token = cp.token(admin, SYSTEM, pod.getSpec().getServiceAccountName(), pod);
    Map<String, String> env = containerEnv(pod, c);
    env.put("KUBECONFIG", cp.kubeconfigWithToken(work, name, token).toString());
    processes.put(
        name,
        SiphaProcess.start(
            name,
            args(c, env, Map.of("--http-port", port, "--http-address", "127.0.0.1")),
            env,
            work));
  }

  void startAgent(String node) throws Exception {
    Pod pod = podOf("sipha-agent", node);
    Container c = pod.getSpec().getContainers().get(0);
    String token = cp.token(admin, SYSTEM, pod.getSpec().getServiceAccountName(), pod);
    Map<String, String> env = containerEnv(pod, c);
    env.put("KUBECONFIG", cp.kubeconfigWithToken(work, "agent-" + node, token).toString());
    String port = node.equals("node-a") ? "19477" : "19478";
    // the peer channel: each fake node on a loopback address of its own, an ephemeral UDP port
    // (both run on this host), and the key the kubelet would project from the operator's Secret
    String peerAddress = node.equals("node-a") ? "127.0.0.1" : "127.0.0.2";
    processes.put(
        "agent-" + node,
        SiphaProcess.start(
            "agent-" + node,
            args(
                c,
                env,
                Map.of(
                    "--scripts-dir",
                    hosts.get(node).scriptsDir().toString(),
                    "--http-port",
                    port,
                    "--http-address",
                    "127.0.0.1",
                    "--peer-key-file",
                    projectPeerKey(node).toString(),
                    "--peer-address",
                    peerAddress,
                    "--peer-heartbeat-port",
                    "0")),
            env,
            work));
  }

  /**
   * The kubelet's part for the agent's Secret volume: the key of the Secret the operator made
   * (sipha-agent-peer-key), written where the agent reads it, mode 0400.
   */
  java.nio.file.Path projectPeerKey(String node) throws Exception {
    var secret =
        await("the operator's peer key Secret")
            .atMost(Duration.ofSeconds(60))
            .until(
                () -> admin.secrets().inNamespace(SYSTEM).withName("sipha-agent-peer-key").get(),
                x -> x != null && x.getData() != null && x.getData().containsKey("peer-key"));
    java.nio.file.Path dir = work.resolve("peer-" + node);
    java.nio.file.Files.createDirectories(dir);
    java.nio.file.Path file = dir.resolve("peer-key");
    java.nio.file.Files.deleteIfExists(file);
    java.nio.file.Files.write(
        file, java.util.Base64.getDecoder().decode(secret.getData().get("peer-key")));
    java.nio.file.Files.setPosixFilePermissions(
        file, java.nio.file.attribute.PosixFilePermissions.fromString("r--------"));
    return file;
  }

  /**
   * A switchover as an operator asks for it: {@code kubectl patch --type merge} of spec.primary.
   */
  void requestPrimary(String pod) {
    cp.kubectl(
            null,
            "patch",
            "ssp",
            "pair-1",
            "-n",
            NS,
            "--type",
            "merge",
            "-p",
            "{\"spec\":{\"primary\":\"" + pod + "\"}}")
        .ok();
  }

  SipServerPairStatus status() {
    SipServerPair p = admin.resources(SipServerPair.class).inNamespace(NS).withName("pair-1").get();
    return p == null ? null : p.getStatus();
  }

  SipServerPairStatus awaitStatus(
      String what, java.util.function.Predicate<SipServerPairStatus> p) {
    try {
      return await(what)
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .until(this::status, s -> s != null && p.test(s));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      StringBuilder b =
          new StringBuilder(e.getMessage())
              .append("\nstatus: ")
              .append(io.fabric8.kubernetes.client.utils.Serialization.asYaml(status()));
      processes.forEach(
          (n, proc) ->
              b.append("\n---- ")
                  .append(proc)
                  .append(" log (tail):\n")
                  .append(tail(proc.log(), 40)));
      throw new AssertionError(b.toString(), e);
    }
  }

  static String tail(String s, int lines) {
    String[] all = s.split("\n");
    return String.join(
        "\n", java.util.Arrays.copyOfRange(all, Math.max(0, all.length - lines), all.length));
  }

  String nodeOf(String pod) {
    return admin.pods().inNamespace(NS).withName(pod).get().getSpec().getNodeName();
  }

  @Test
  @Order(1)
  void theExamplePairBecomesActiveWithTheVipOnThePrimarysNode() {
    await("sip-0 and sip-1 scheduled and Ready")
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                List.of("sip-0", "sip-1").stream()
                    .allMatch(
                        n -> {
                          Pod p = admin.pods().inNamespace(NS).withName(n).get();
                          return p != null
                              && p.getSpec().getNodeName() != null
                              && Readiness.isPodReady(p);
                        }));
    assertThat(nodeOf("sip-0"))
        .as("the anti-affinity puts them apart")
        .isNotEqualTo(nodeOf("sip-1"));
    cp.kubectl(null, "apply", "-f", REPO.resolve("examples/pair-1.yaml").toString()).ok();

    SipServerPairStatus s =
        awaitStatus("Active", x -> x.phase == Phase.Active && "sip-0".equals(x.primary));
    assertThat(s.vip.node).isEqualTo(nodeOf("sip-0"));
    await("the VIP on sip-0's node")
        .atMost(Duration.ofSeconds(10))
        .until(() -> hosts.get(nodeOf("sip-0")).vips().contains("192.0.2.10/24"));
    assertThat(hosts.get(nodeOf("sip-1")).vips()).isEmpty();
  }

  @Test
  @Order(2)
  void kubectlGetShowsThePrinterColumnsAndExplainShowsTheFieldDocs() {
    String table = cp.kubectl(null, "get", "ssp", "-n", NS).ok().out();
    assertThat(table.lines().findFirst().orElse(""))
        .contains("PRIMARY", "BACKUP", "VIP", "NODE", "PHASE", "EPOCH");
    assertThat(table).contains("pair-1", "sip-0", "sip-1", "192.0.2.10", "Active");
    String explain = cp.kubectl(null, "explain", "ssp.spec.virtualIP").ok().out();
    assertThat(explain).contains("address", "prefixLength", "interface");
  }

  @Test
  @Order(3)
  void aSwitchoverByKubectlPatchMovesTheVipAndThePrimaryRole() {
    long epoch = status().epoch;
    requestPrimary("sip-1");
    SipServerPairStatus s =
        awaitStatus(
            "sip-1 primary",
            x ->
                "sip-1".equals(x.primary)
                    && x.transition == null
                    && x.phase == Phase.Active
                    && x.epoch > epoch);
    assertThat(s.vip.node).isEqualTo(nodeOf("sip-1"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                hosts.get(nodeOf("sip-1")).vips().contains("192.0.2.10/24")
                    && hosts.get(nodeOf("sip-0")).vips().isEmpty());
    assertThat(admin.pods().inNamespace(NS).withName("sip-1").get().getMetadata().getAnnotations())
        .containsEntry(SipServerPair.ROLE_ANNOTATION, "primary");
  }

  @Test
  @Order(4)
  void aSwitchoverByServerSideApplyFromASecondFieldManagerIsFollowed() {
    long epoch = status().epoch;
    // a GitOps tool applies its copy of the pair with spec.primary back on sip-0, as Argo CD does
    String applied =
        """
        apiVersion: sipha.io/v1alpha1
        kind: SipServerPair
        metadata:
          name: pair-1
          namespace: voice
        spec:
          primary: sip-0
        """;
    cp.kubectl(
            applied,
            "apply",
            "--server-side",
            "--field-manager",
            "argocd-controller",
            "--force-conflicts",
            "-f",
            "-")
        .ok();
    SipServerPairStatus s =
        awaitStatus(
            "sip-0 primary again",
            x ->
                "sip-0".equals(x.primary)
                    && x.transition == null
                    && x.phase == Phase.Active
                    && x.epoch > epoch);
    assertThat(s.vip.node).isEqualTo(nodeOf("sip-0"));
    String managers =
        cp.kubectl(
                null,
                "get",
                "ssp",
                "pair-1",
                "-n",
                NS,
                "--show-managed-fields",
                "-o",
                "jsonpath={.metadata.managedFields[*].manager}")
            .ok()
            .out();
    assertThat(managers).contains("argocd-controller");
  }

  @Test
  @Order(5)
  void thePrimaryPodDeletedIsRecreatedByTheStatefulSetAndTheBackupTakesOver() {
    SipServerPairStatus before =
        awaitStatus("sip-0 primary", x -> "sip-0".equals(x.primary) && x.phase == Phase.Active);
    String uid = admin.pods().inNamespace(NS).withName("sip-0").get().getMetadata().getUid();
    cp.kubectl(null, "delete", "pod", "sip-0", "-n", NS, "--wait=false").ok();

    SipServerPairStatus s =
        awaitStatus(
            "sip-1 took over",
            x -> "sip-1".equals(x.primary) && x.transition == null && x.epoch > before.epoch);
    assertThat(s.vip.node).isEqualTo(nodeOf("sip-1"));
    await("sip-0 recreated by the StatefulSet controller and Ready")
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              Pod p = admin.pods().inNamespace(NS).withName("sip-0").get();
              return p != null && !uid.equals(p.getMetadata().getUid()) && Readiness.isPodReady(p);
            });
    s =
        awaitStatus(
            "sip-0 back as backup", x -> "sip-0".equals(x.backup) && x.phase == Phase.Active);
    assertThat(s.primary).as("failback is Manual in the example").isEqualTo("sip-1");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                admin.pods().inNamespace(NS).withName("sip-0").get().getMetadata().getAnnotations()
                        != null
                    && "backup"
                        .equals(
                            admin
                                .pods()
                                .inNamespace(NS)
                                .withName("sip-0")
                                .get()
                                .getMetadata()
                                .getAnnotations()
                                .get(SipServerPair.ROLE_ANNOTATION)));
  }

  /**
   * The host of the primary is disconnected: its agent is killed (SIGKILL, it says nothing). kwok
   * keeps renewing that node's kubelet Lease, so Kubernetes still calls the node Ready and leaves
   * its pods alone: sipha does not look at either, only at its agent's Lease, which stops.
   */
  @Test
  @Order(6)
  void theHostOfThePrimaryDisconnectedFailsOverToTheBackup() throws Exception {
    SipServerPairStatus before =
        awaitStatus("sip-1 primary", x -> "sip-1".equals(x.primary) && x.phase == Phase.Active);
    String lost = nodeOf("sip-1");
    processes.get("agent-" + lost).kill();

    SipServerPairStatus s =
        awaitStatus(
            "sip-0 primary after the node loss",
            x -> "sip-0".equals(x.primary) && x.transition == null && x.epoch > before.epoch);
    assertThat(s.history.get(s.history.size() - 1).reason).isEqualTo("NodeLost");
    assertThat(s.vip.node).isEqualTo(nodeOf("sip-0"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> hosts.get(nodeOf("sip-0")).vips().contains("192.0.2.10/24"));
    assertThat(hosts.get(lost).vips())
        .as("the lost host still has it: nothing ran there")
        .contains("192.0.2.10/24");
    assertThat(
            cp.kubectl(
                    null,
                    "get",
                    "node",
                    lost,
                    "-o",
                    "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")
                .ok()
                .out())
        .as("Kubernetes still calls the node Ready (kwok renews it)")
        .isEqualTo("True");
  }

  @Test
  @Order(7)
  void theReconnectedStalePrimaryIsDemotedAndItsHostRemovesTheVip() throws Exception {
    String stale = nodeOf("sip-1");
    startAgent(stale);
    SipServerPairStatus s =
        awaitStatus(
            "one holder again",
            x -> x.phase == Phase.Active && x.fenced.isEmpty() && "sip-0".equals(x.primary));
    await("the stale host removed the VIP")
        .atMost(Duration.ofSeconds(20))
        .until(() -> hosts.get(stale).vips().isEmpty());
    assertThat(hosts.get(nodeOf("sip-0")).vips()).containsExactly("192.0.2.10/24");
    assertThat(admin.pods().inNamespace(NS).withName("sip-1").get().getMetadata().getAnnotations())
        .containsEntry(SipServerPair.ROLE_ANNOTATION, "backup")
        .containsEntry(SipServerPair.EPOCH_ANNOTATION, String.valueOf(s.epoch));
  }

  /**
   * kubectl's own completion of {@code kubectl sipha <TAB>}: the real kubectl finds
   * kubectl_complete-sipha on the PATH (the launchers as make install-plugin writes them) and shows
   * what the plugin answers.
   */
  @Test
  @Order(99)
  void theRealKubectlCompletesThePluginsVerbsAndOptions(@org.junit.jupiter.api.io.TempDir Path bin)
      throws Exception {
    java.nio.file.Files.writeString(
        bin.resolve("kubectl-sipha"),
        "#!/bin/sh\nexec '"
            + Path.of(System.getProperty("java.home"), "bin", "java")
            + "' -cp '"
            + SiphaProcess.jar().toAbsolutePath()
            + "' io.sipha.cli.PluginMain \"$@\"\n");
    java.nio.file.Files.writeString(
        bin.resolve("kubectl_complete-sipha"),
        "#!/bin/sh\nexec \"$(dirname \"$0\")/kubectl-sipha\" __complete \"$@\"\n");
    for (String f : List.of("kubectl-sipha", "kubectl_complete-sipha")) {
      assertThat(bin.resolve(f).toFile().setExecutable(true)).isTrue();
    }
    assertThat(complete(bin, "sipha", "sw")).containsExactly("switchover", ":4");
    assertThat(complete(bin, "sipha", "switchover", "pair-1", "--t"))
        .containsExactly("--timeout", "--to", ":4");
  }

  private List<String> complete(Path bin, String... words) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(System.getenv("SIPHA_KUBECTL"), "__complete"));
    cmd.addAll(List.of(words));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("PATH", bin + java.io.File.pathSeparator + System.getenv("PATH"));
    Process p = pb.start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    return out.lines().filter(l -> !l.startsWith("Completion ended")).toList();
  }

  /** kubectl sipha as a user runs it: the plugin from the product jar, the admin's kubeconfig. */
  LocalControlPlane.Result plugin(String... args) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                SiphaProcess.jar().toString(),
                "io.sipha.cli.PluginMain"));
    cmd.addAll(List.of(args));
    cmd.addAll(List.of("--kubeconfig", cp.kubeconfig().toString()));
    return LocalControlPlane.run(cmd, null, Duration.ofSeconds(90));
  }

  @Test
  @Order(8)
  void kubectlSiphaStatusHistoryPlanAndSwitchoverWorkAgainstTheRealServer() {
    String status = plugin("status", "pair-1", "-n", NS).ok().out();
    assertThat(status).contains("pair-1", "sip-0", "192.0.2.10", "Active");
    String history = plugin("history", "pair-1", "-n", NS).ok().out();
    assertThat(history).contains("Election", "Switchover", "Failover", "NodeLost");
    plugin("plan", "pair-1", "-n", NS).ok();
    long epoch = status().epoch;
    String sw =
        plugin("switchover", "pair-1", "-n", NS, "--to", "sip-1", "--timeout", "60s").ok().out();
    assertThat(sw).contains("sip-1");
    SipServerPairStatus s =
        awaitStatus(
            "sip-1 primary",
            x -> "sip-1".equals(x.primary) && x.transition == null && x.epoch > epoch);
    assertThat(s.phase).isEqualTo(Phase.Active);
  }

  /**
   * One node cannot speak for another: with a token bound to node-a's agent pod (as the kubelet
   * gives it), the chart's ValidatingAdmissionPolicy lets it write node-a's Leases and nothing
   * else, though RBAC grants every agent the same verbs on all Leases of the namespace.
   */
  @Test
  @Order(9)
  void anAgentsTokenCannotWriteAnotherNodesLease() {
    Pod agentA = podOf("sipha-agent", "node-a");
    String sa = agentA.getSpec().getServiceAccountName();
    try (KubernetesClient asA = cp.clientWithToken(cp.token(admin, SYSTEM, sa, agentA))) {
      var leases = asA.leases().inNamespace(SYSTEM);
      // a forged renewal, an update with no resourceVersion (node-b's agent renews every second,
      // and
      // an update locked on a read of before could be answered 409 before admission is asked)
      var forgedBeat = leases.withName(io.sipha.kube.AgentReports.leaseName("node-b")).get();
      forgedBeat.getSpec().setRenewTime(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC));
      forgedBeat.getMetadata().setResourceVersion(null);
      assertThat(refusal(() -> leases.resource(forgedBeat).update()))
          .contains("may write only its own Leases", "sipha-agent-node-b");
      assertThat(
              refusal(
                  () ->
                      leases
                          .resource(lease(io.sipha.kube.AgentReports.shardName("node-b", 0)))
                          .create()))
          .contains("may write only its own Leases");
      // its own names pass (a report Lease number the agent does not use, removed after)
      leases.resource(lease(io.sipha.kube.AgentReports.shardName("node-a", 99))).create();
      admin
          .leases()
          .inNamespace(SYSTEM)
          .withName(io.sipha.kube.AgentReports.shardName("node-a", 99))
          .delete();
    }
    // a token of the same ServiceAccount not bound to a pod carries no node name
    try (KubernetesClient unbound = cp.clientWithToken(cp.token(admin, SYSTEM, sa, null))) {
      assertThat(
              refusal(
                  () ->
                      unbound
                          .leases()
                          .inNamespace(SYSTEM)
                          .resource(lease(io.sipha.kube.AgentReports.shardName("node-a", 98)))
                          .create()))
          .contains("bound to its pod");
    }
  }

  static io.fabric8.kubernetes.api.model.coordination.v1.Lease lease(String name) {
    return new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(SYSTEM)
        .endMetadata()
        .withNewSpec()
        .withHolderIdentity("node-a")
        .endSpec()
        .build();
  }

  /** The API's refusal of a write (403), as its message. */
  static String refusal(Runnable write) {
    try {
      write.run();
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      assertThat(e.getCode()).as(e.getMessage()).isEqualTo(403);
      return e.getMessage();
    }
    throw new AssertionError("the write was allowed");
  }

  /**
   * The chart's two operator replicas, each a process with its pod's token: the leader (the holder
   * of the Lease sipha-operator) is killed as soon as it has started a switchover; the other takes
   * the Lease and finishes it, one primary at every look.
   */
  @Test
  @Order(10)
  void theLeaderKilledInTheMiddleOfASwitchoverIsReplacedAndTheSwitchoverCompletes()
      throws Exception {
    String first = operatorPod;
    Pod other =
        await("the second operator pod")
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    admin.pods().inNamespace(SYSTEM).list().getItems().stream()
                        .filter(
                            p ->
                                p.getMetadata().getName().startsWith("sipha-operator")
                                    && !p.getMetadata().getName().equals(first))
                        .filter(
                            p ->
                                p.getStatus() != null && "Running".equals(p.getStatus().getPhase()))
                        .findFirst()
                        .orElse(null),
                p -> p != null);
    startOperator(other, "operator-2", "18081");
    var leaseOps = admin.leases().inNamespace(SYSTEM).withName("sipha-operator");
    assertThat(leaseOps.get().getSpec().getHolderIdentity()).isEqualTo(first);
    awaitStatus("sip-1 primary", x -> "sip-1".equals(x.primary) && x.phase == Phase.Active);
    long epoch = status().epoch;

    requestPrimary("sip-0");
    await("the switchover started")
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(10))
        .until(
            () -> {
              SipServerPairStatus x = status();
              return x.transition != null || x.epoch > epoch;
            });
    processes.remove("operator").kill();

    SipServerPairStatus s =
        awaitStatus(
            "sip-0 primary under the new leader",
            x ->
                "sip-0".equals(x.primary)
                    && x.transition == null
                    && x.phase == Phase.Active
                    && x.epoch > epoch);
    assertThat(leaseOps.get().getSpec().getHolderIdentity())
        .isEqualTo(other.getMetadata().getName());
    assertThat(s.vip.node).isEqualTo(nodeOf("sip-0"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                hosts.get(nodeOf("sip-0")).vips().contains("192.0.2.10/24")
                    && hosts.get(nodeOf("sip-1")).vips().isEmpty());
    long primaries =
        admin.pods().inNamespace(NS).list().getItems().stream()
            .filter(
                p ->
                    p.getMetadata().getAnnotations() != null
                        && "primary"
                            .equals(
                                p.getMetadata()
                                    .getAnnotations()
                                    .get(SipServerPair.ROLE_ANNOTATION)))
            .count();
    assertThat(primaries).isEqualTo(1);
  }

  /**
   * The lines of "is forbidden" this class caused on purpose, by process: a permission taken away,
   * and the requests a restarted kube-apiserver answered before its RBAC caches were filled (it
   * serves before it is ready, and refuses what it cannot yet find a binding for).
   */
  final Map<String, List<String>> deliberateDenials = new HashMap<>();

  Map<String, Integer> logLengths() {
    Map<String, Integer> at = new HashMap<>();
    processes.forEach((n, p) -> at.put(n, p.log().length()));
    return at;
  }

  void denialsSince(
      Map<String, Integer> from, java.util.function.Predicate<String> of, String why) {
    processes.forEach(
        (n, p) -> {
          if (!of.test(n)) {
            return;
          }
          List<String> lines =
              p.log()
                  .substring(from.getOrDefault(n, 0))
                  .lines()
                  .filter(l -> l.contains("is forbidden"))
                  .toList();
          if (!lines.isEmpty()) {
            System.out.printf(
                "%s: %d request(s) refused %s:%n  %s%n",
                n, lines.size(), why, String.join("\n  ", lines));
            deliberateDenials.computeIfAbsent(n, k -> new java.util.ArrayList<>()).addAll(lines);
          }
        });
  }

  /**
   * The chart's ClusterRole loses "patch pods" (a cluster admin's mistake, a chart that lacks it):
   * a switchover cannot demote the primary, the operator says why with the API's own message, and
   * nothing is half done (the primary keeps its role and its VIP). Given back, the switchover
   * completes on the next retry, with no one's help.
   */
  @Test
  @Order(11)
  void
      aPermissionTakenFromTheOperatorIsReportedWithTheApisMessageAndTheSwitchoverCompletesOnceItIsBack() {
    var roles = admin.rbac().clusterRoles().withName("sipha-operator");
    io.fabric8.kubernetes.api.model.rbac.ClusterRole granted = roles.get();
    assertThat(granted).as("the chart's operator ClusterRole").isNotNull();
    SipServerPairStatus before =
        awaitStatus("sip-0 primary", x -> "sip-0".equals(x.primary) && x.transition == null);
    String operator =
        processes.keySet().stream().filter(n -> n.startsWith("operator")).findFirst().orElseThrow();
    Map<String, Integer> logs = logLengths();
    int from = logs.get(operator);
    roles.edit(
        r -> {
          r.getRules().stream()
              .filter(rule -> rule.getResources().contains("pods"))
              .forEach(rule -> rule.setVerbs(List.of("get", "list", "watch")));
          return r;
        });
    try {
      requestPrimary("sip-1");
      String denial =
          await("the operator reports the denial")
              .atMost(Duration.ofSeconds(30))
              .until(
                  () ->
                      processes
                          .get(operator)
                          .log()
                          .substring(from)
                          .lines()
                          .filter(l -> l.contains("is forbidden"))
                          .findFirst()
                          .orElse(null),
                  l -> l != null);
      assertThat(denial)
          .contains(
              "pods \"sip-0\" is forbidden",
              "User \"system:serviceaccount:" + SYSTEM + ":sipha-operator\"",
              "cannot patch resource \"pods\"");
      SipServerPairStatus during = status();
      assertThat(during.primary).as("nothing half done").isEqualTo("sip-0");
      assertThat(
              admin.pods().inNamespace(NS).withName("sip-0").get().getMetadata().getAnnotations())
          .containsEntry(SipServerPair.ROLE_ANNOTATION, "primary");
      assertThat(hosts.get(nodeOf("sip-0")).vips()).contains("192.0.2.10/24");
    } finally {
      roles.edit(
          r -> {
            r.setRules(granted.getRules());
            return r;
          });
      denialsSince(logs, operator::equals, "while \"patch pods\" was taken away");
    }
    SipServerPairStatus s =
        awaitStatus(
            "sip-1 primary once the permission is back",
            x ->
                "sip-1".equals(x.primary)
                    && x.transition == null
                    && x.phase == Phase.Active
                    && x.epoch > before.epoch);
    assertThat(s.vip.node).isEqualTo(nodeOf("sip-1"));
  }

  /**
   * kube-apiserver restarted (SIGTERM, as an upgrade does): every watch of every process ends, and
   * one resumed from a resourceVersion of before is answered 410 Gone (its new watch cache starts
   * after it), as the test's own watch shows. The processes relist and go on: afterwards one pod is
   * primary, the VIP is on its node alone, and a switchover requested then completes.
   */
  @Test
  @Order(12)
  void afterTheApiServerRestartsEveryWatchIsResumedOrRelistedAndASwitchoverCompletes()
      throws Exception {
    awaitStatus("Active", x -> x.transition == null && x.phase == Phase.Active);
    String before = admin.pods().inNamespace(NS).list().getMetadata().getResourceVersion();
    Map<String, Integer> logs = logLengths();
    java.time.Instant restartBegan = java.time.Instant.now();
    var restart =
        LocalControlPlane.run(
            List.of(
                "bash",
                REPO.resolve("e2e/control-plane/cluster.sh").toString(),
                "restart-apiserver"),
            null,
            Duration.ofSeconds(180));
    assertThat(restart.exitCode()).as("cluster.sh restart-apiserver: " + restart.err()).isZero();

    java.util.concurrent.CompletableFuture<io.fabric8.kubernetes.client.WatcherException> ended =
        new java.util.concurrent.CompletableFuture<>();
    try (var w =
        admin
            .pods()
            .inNamespace(NS)
            .withResourceVersion(before)
            .watch(
                new io.fabric8.kubernetes.client.Watcher<Pod>() {
                  @Override
                  public void eventReceived(Action action, Pod resource) {}

                  @Override
                  public void onClose(io.fabric8.kubernetes.client.WatcherException cause) {
                    ended.complete(cause);
                  }
                })) {
      io.fabric8.kubernetes.client.WatcherException gone =
          ended.get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(gone.isHttpGone())
          .as("a watch from before the restart: " + gone.getMessage())
          .isTrue();
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      assertThat(e.getCode())
          .as("a watch from before the restart: " + e.getMessage())
          .isEqualTo(410);
    }
    // the node lifecycle controller marks a node's pods NotReady if it looks before the (fake)
    // kubelet renewed its node Lease after the gap: a real failover, but not this test's subject
    java.time.Instant restarted = java.time.Instant.now();
    await("both nodes' Leases renewed after the restart")
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                List.of("node-a", "node-b").stream()
                    .allMatch(
                        n -> {
                          var lease =
                              admin.leases().inNamespace("kube-node-lease").withName(n).get();
                          return lease != null
                              && lease.getSpec().getRenewTime() != null
                              && lease.getSpec().getRenewTime().toInstant().isAfter(restarted);
                        }));
    // ... and when it did, kwok (v0.8) leaves those pods NotReady once their node is Ready again,
    // where a real kubelet's next status update makes them Ready: the test plays that update
    // the controller marks them no later than its grace (40 s, cluster.sh) after the last renewal
    // it saw before the restart: looked at once that has passed, so none is marked after the look
    long settle =
        Duration.between(java.time.Instant.now(), restartBegan.plusSeconds(45)).toMillis();
    if (settle > 0) {
      Thread.sleep(settle);
    }
    List<String> madeReady = new ArrayList<>();
    await("both server pods Ready again after the restart")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> serversReadyAgain(madeReady));
    if (!madeReady.isEmpty()) {
      System.out.println(
          "after the restart the node lifecycle controller had marked NotReady, and the test's"
              + " kubelet update made Ready again: "
              + madeReady);
    }

    SipServerPairStatus s =
        awaitStatus(
            "Active after the restart", x -> x.transition == null && x.phase == Phase.Active);
    // a failover the restart cost (those NotReady pods, PrimaryNotReady) leaves spec.primary
    // naming the old primary with failback Manual: acknowledged first, as a user would, since a
    // request for the pod spec.primary already names changes nothing
    if (!s.primary.equals(s.acceptedPrimary)) {
      System.out.println(
          "after the restart " + s.primary + " became primary by a failover: acknowledged");
      requestPrimary(s.primary);
      SipServerPairStatus failedOver = s;
      s =
          awaitStatus(
              "the failover acknowledged",
              x ->
                  failedOver.primary.equals(x.acceptedPrimary)
                      && x.transition == null
                      && x.phase == Phase.Active);
    }
    SipServerPairStatus settled = s;
    String primary = settled.primary;
    String other = primary.equals("sip-0") ? "sip-1" : "sip-0";
    requestPrimary(other);
    SipServerPairStatus after =
        awaitStatus(
            other + " primary after the restart",
            x ->
                other.equals(x.primary)
                    && x.transition == null
                    && x.phase == Phase.Active
                    && x.epoch > settled.epoch);
    assertThat(after.vip.node).isEqualTo(nodeOf(other));
    await("the VIP on " + other + "'s node alone")
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                hosts.get(nodeOf(other)).vips().contains("192.0.2.10/24")
                    && hosts.get(nodeOf(primary)).vips().isEmpty());
    // a restarted server has refused requests for a while after it came back (once the operator's
    // fresh start, "list sipserverpairs", which it then tried again): set apart here, at the end,
    // since the switchover that has just completed needed every one of those permissions
    denialsSince(logs, n -> true, "by the restarted API server while its authorizer caught up");
  }

  /**
   * Whether both server pods are Ready; one that is not while its node is Ready is given the Ready
   * condition back (a kubelet's status update) and named in {@code madeReady}.
   */
  boolean serversReadyAgain(List<String> madeReady) {
    boolean all = true;
    for (String name : List.of("sip-0", "sip-1")) {
      Pod p = admin.pods().inNamespace(NS).withName(name).get();
      if (p == null || Readiness.isPodReady(p)) {
        continue;
      }
      all = false;
      var node = admin.nodes().withName(p.getSpec().getNodeName()).get();
      if (node != null && Readiness.isNodeReady(node)) {
        admin
            .pods()
            .inNamespace(NS)
            .withName(name)
            .subresource("status")
            .patch(
                io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                    io.fabric8.kubernetes.client.dsl.base.PatchType.STRATEGIC_MERGE),
                "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},"
                    + "{\"type\":\"ContainersReady\",\"status\":\"True\"}]}}");
        madeReady.add(name);
      }
    }
    return all;
  }

  /** The pair deleted: its finalizer clears its pods' roles and removes the VIP before it goes. */
  @Test
  @Order(13)
  void aDeletedPairClearsItsPodsRolesAndRemovesItsVipBeforeItIsGone() {
    cp.kubectl(null, "delete", "ssp", "pair-1", "-n", NS, "--wait=false").ok();
    await("pair-1 gone")
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                status() == null
                    && admin.resources(SipServerPair.class).inNamespace(NS).withName("pair-1").get()
                        == null);
    for (String name : List.of("sip-0", "sip-1")) {
      Map<String, String> ann =
          admin.pods().inNamespace(NS).withName(name).get().getMetadata().getAnnotations();
      assertThat(ann == null ? Map.<String, String>of() : ann)
          .as("no role left on " + name)
          .doesNotContainKey(SipServerPair.ROLE_ANNOTATION);
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> hosts.values().stream().allMatch(h -> h.vips().isEmpty()));
  }

  /**
   * Every request the operator and the agents made was allowed by the chart's RBAC: the real server
   * answers 403 with "is forbidden" and the request's verb and resource, which sipha logs.
   */
  @Test
  @Order(100)
  void everyPermissionTheProcessesUsedIsGrantedByTheChart() {
    processes.forEach(
        (name, p) ->
            assertThat(
                    p.log()
                        .lines()
                        .filter(l -> l.contains("is forbidden"))
                        .filter(l -> !deliberateDenials.getOrDefault(name, List.of()).contains(l))
                        .findFirst())
                .as("%s was refused a request", name)
                .isEmpty());
  }

  /** Every step is visible: each Event the operator wrote was taken by the real server. */
  @Test
  @Order(101)
  void everyEventTheOperatorWroteWasRecorded() {
    processes.forEach(
        (name, p) ->
            assertThat(
                    p.log().lines().filter(l -> l.contains("could not record event")).findFirst())
                .as("%s could not record an Event", name)
                .isEmpty());
    String reasons =
        cp.kubectl(null, "get", "events", "-n", NS, "-o", "jsonpath={.items[*].reason}").ok().out();
    assertThat(reasons)
        .contains(
            "ElectionCompleted", "SwitchoverStarted", "SwitchoverCompleted", "FailoverCompleted");
  }
}
