package io.sipha.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.demo.EmbeddedCluster;
import io.sipha.demo.SimulatedHost;
import io.sipha.demo.SimulatedSite;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The sub-commands as they run in the cluster: two operator replicas with leader election and their
 * /healthz, /readyz and /metrics, and agents started by `sipha agent`.
 */
class CliRuntimeTest {
  static final String LEASES = "sipha-system";
  @TempDir Path hosts;
  final EmbeddedCluster cluster = new EmbeddedCluster(Clock.systemUTC());
  final List<AutoCloseable> running = new ArrayList<>();
  final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void stop() throws Exception {
    for (int i = running.size() - 1; i >= 0; i--) {
      running.get(i).close();
    }
    cluster.close();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  OperatorCommand.Running operator(String identity, int port) throws Exception {
    OperatorCommand cmd = new OperatorCommand();
    new CommandLine(cmd)
        .parseArgs(
            "--lease-namespace",
            LEASES,
            "--identity",
            identity,
            "--http-port",
            String.valueOf(port),
            "--http-address",
            "127.0.0.1",
            "--allowed-vip-cidrs",
            "192.0.2.0/24");
    cmd.clients = cluster::newClient;
    OperatorCommand.Running r = cmd.start();
    running.add(r);
    return r;
  }

  AgentCommand.Running agent(String node, int port) throws Exception {
    SimulatedHost host = SimulatedHost.create(node, hosts);
    AgentCommand cmd = new AgentCommand();
    new CommandLine(cmd)
        .parseArgs(
            "--node",
            node,
            "--scripts-dir",
            host.scriptsDir().toString(),
            "--lease-namespace",
            LEASES,
            "--http-port",
            String.valueOf(port),
            "--http-address",
            "127.0.0.1",
            "--pod-field-selector",
            "false");
    cmd.clients = cluster::newClient;
    AgentCommand.Running r = cmd.start();
    running.add(r);
    return r;
  }

  HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  Phase phase() {
    SipServerPair p =
        cluster
            .client()
            .resources(SipServerPair.class)
            .inNamespace("voice")
            .withName("pair-1")
            .get();
    return p == null || p.getStatus() == null ? null : p.getStatus().phase;
  }

  String leader() {
    Lease l = cluster.client().leases().inNamespace(LEASES).withName("sipha-operator").get();
    return l == null || l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
  }

  /**
   * A leader that loses its Lease stops acting and stands again as a candidate in the same process;
   * the fresh start's first lists are refused (403, as a kube-apiserver that has just restarted
   * answers while its authorizer catches up): it tries again until it starts, leads again and
   * carries out the next switchover. (On the real control plane a refused fresh start left the
   * process up with no operator in it, and no switchover was ever carried out again.)
   */
  @Test
  void aLeaderThatLosesItsLeaseStaysUpStopsActingAndStandsAgainAsACandidate() throws Exception {
    cluster.createNamespace(LEASES);
    cluster.createNamespace("voice");
    agent("node-a", freePort());
    agent("node-b", freePort());
    int port = freePort();
    var op = operator("op-a", port);
    cluster.createServerPod("voice", "sip-0", "pair-1", "node-a", true);
    cluster.createServerPod("voice", "sip-1", "pair-1", "node-b", true);
    cluster
        .client()
        .resources(SipServerPair.class)
        .inNamespace("voice")
        .resource(SimulatedSite.pair("voice", "pair-1", "sip-0", "sip-0", "sip-1"))
        .create();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> phase() == Phase.Active && "op-a".equals(leader()));
    // the fresh operator's first two lists of the pairs are refused
    cluster
        .expect()
        .get()
        .withPath("/apis/sipha.io/v1alpha1/sipserverpairs?resourceVersion=0")
        .andReturn(
            403,
            new io.fabric8.kubernetes.api.model.StatusBuilder()
                .withCode(403)
                .withReason("Forbidden")
                .withMessage(
                    "sipserverpairs.sipha.io is forbidden: User \"system:serviceaccount:sipha-system:sipha-operator\""
                        + " cannot list resource \"sipserverpairs\" in API group \"sipha.io\" at the cluster scope")
                .build())
        .times(2);

    // another holder takes the leader Lease (as a standby does after an API blip) and keeps it for
    // a while
    java.util.concurrent.atomic.AtomicBoolean intruding =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    Thread intruder =
        new Thread(
            () -> {
              while (intruding.get()) {
                try {
                  cluster
                      .client()
                      .leases()
                      .inNamespace(LEASES)
                      .withName("sipha-operator")
                      .edit(
                          l -> {
                            l.getSpec().setHolderIdentity("intruder");
                            l.getSpec()
                                .setRenewTime(
                                    java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC));
                            return l;
                          });
                  Thread.sleep(500);
                } catch (InterruptedException e) {
                  return;
                } catch (RuntimeException e) {
                  // a conflict with op-a's own renewal: try again
                }
              }
            });
    intruder.start();
    try {
      await("op-a stands again as a candidate")
          .atMost(Duration.ofSeconds(20))
          .until(() -> op.restarts() >= 1);
      assertThat(op.failedStarts()).as("fresh starts refused and tried again").isEqualTo(2);
      assertThat(get(port, "/healthz").statusCode()).as("the process is still up").isEqualTo(200);
    } finally {
      intruding.set(false);
      intruder.join();
    }
    // the intruder is gone: op-a leads again and carries out the next switchover
    await("op-a leads again").atMost(Duration.ofSeconds(20)).until(() -> "op-a".equals(leader()));
    cluster
        .client()
        .resources(SipServerPair.class)
        .inNamespace("voice")
        .withName("pair-1")
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"primary\":\"sip-1\"}}");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              SipServerPair p =
                  cluster
                      .client()
                      .resources(SipServerPair.class)
                      .inNamespace("voice")
                      .withName("pair-1")
                      .get();
              return p.getStatus().phase == Phase.Active && "sip-1".equals(p.getStatus().primary);
            });
  }

  @Test
  void twoReplicasElectOneLeaderThatServesProbesAndMetricsAndTheOtherTakesOver() throws Exception {
    cluster.createNamespace(LEASES);
    cluster.createNamespace("voice");
    int agentPort = freePort();
    agent("node-a", agentPort);
    agent("node-b", freePort());
    int portA = freePort();
    int portB = freePort();
    var opA = operator("op-a", portA);
    var opB = operator("op-b", portB);
    cluster.createServerPod("voice", "sip-0", "pair-1", "node-a", true);
    cluster.createServerPod("voice", "sip-1", "pair-1", "node-b", true);
    cluster
        .client()
        .resources(SipServerPair.class)
        .inNamespace("voice")
        .resource(SimulatedSite.pair("voice", "pair-1", "sip-0", "sip-0", "sip-1"))
        .create();

    await().atMost(Duration.ofSeconds(20)).until(() -> phase() == Phase.Active);
    String leader = leader();
    assertThat(leader).isIn("op-a", "op-b");
    int leaderPort = leader.equals("op-a") ? portA : portB;
    for (int port : List.of(portA, portB)) {
      assertThat(get(port, "/healthz").statusCode()).isEqualTo(200);
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> get(leaderPort, "/readyz").statusCode() == 200);
    String metrics = get(leaderPort, "/metrics").body();
    assertThat(metrics)
        .contains("sipha_transitions_total{kind=\"Election\"} 1.0")
        .contains("sipha_pairs{phase=\"Active\"} 1.0")
        .contains("sipha_transition_duration_seconds_bucket")
        .contains("sipha_agent_heartbeat_age_seconds{node=\"node-a\"}");
    assertThat(get(agentPort, "/healthz").statusCode()).isEqualTo(200);
    assertThat(get(agentPort, "/metrics").body())
        .contains(
            "sipha_agent_script_duration_seconds_count{node=\"node-a\",outcome=\"ok\",script=\"vip-enable\"} 1");

    // the leader goes away; the standby takes the Lease and carries out the next switchover
    (leader.equals("op-a") ? opA : opB).close();
    running.remove(leader.equals("op-a") ? opA : opB);
    cluster
        .client()
        .resources(SipServerPair.class)
        .inNamespace("voice")
        .withName("pair-1")
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"primary\":\"sip-1\"}}");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              SipServerPair p =
                  cluster
                      .client()
                      .resources(SipServerPair.class)
                      .inNamespace("voice")
                      .withName("pair-1")
                      .get();
              return p.getStatus().phase == Phase.Active && "sip-1".equals(p.getStatus().primary);
            });
    assertThat(leader()).isNotEqualTo(leader);
  }
}
