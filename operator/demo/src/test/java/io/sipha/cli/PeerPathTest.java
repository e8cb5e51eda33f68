package io.sipha.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.sipha.api.Condition;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.decision.Conditions;
import io.sipha.demo.EmbeddedCluster;
import io.sipha.demo.SimulatedHost;
import io.sipha.demo.SimulatedSite;
import io.sipha.e2e.FaultProxy;
import io.sipha.kube.AgentReports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The peer path as the shipped commands run it: two agents started by {@code sipha agent
 * --peer-key-file}, on 127.0.0.1 and 127.0.0.2, heartbeat each other over UDP; the operator probes
 * each agent's /healthz. A lost host is taken over on the word of both observers long before its
 * Lease would run out; a node cut from the API only, which its peer still hears, keeps its VIP.
 */
class PeerPathTest {
  static final String LEASES = "sipha-system";
  static final String NS = "voice";
  @TempDir Path hosts;
  final EmbeddedCluster cluster = new EmbeddedCluster(Clock.systemUTC());
  final List<AutoCloseable> running = new ArrayList<>();
  final Map<String, SimulatedHost> hostOf = new java.util.HashMap<>();
  Path key;

  @BeforeEach
  void namespaces() throws Exception {
    cluster.createNamespace(LEASES);
    cluster.createNamespace(NS);
    key = hosts.resolve("peer-key");
    Files.writeString(key, "a-shared-key-of-the-two-agents-0123456789\n");
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = running.size() - 1; i >= 0; i--) {
      running.get(i).close();
    }
    cluster.close();
  }

  AgentCommand.Running agent(
      String node, String address, Supplier<io.fabric8.kubernetes.client.KubernetesClient> clients)
      throws Exception {
    SimulatedHost host = SimulatedHost.create(node, hosts);
    hostOf.put(node, host);
    AgentCommand cmd = new AgentCommand();
    new CommandLine(cmd)
        .parseArgs(
            "--node",
            node,
            "--node-ip",
            address,
            "--scripts-dir",
            host.scriptsDir().toString(),
            "--lease-namespace",
            LEASES,
            "--http-port",
            String.valueOf(CliRuntimeTest.freePort()),
            "--http-address",
            address,
            "--pod-field-selector",
            "false",
            "--peer-key-file",
            key.toString(),
            "--peer-heartbeat-port",
            "0");
    cmd.clients = clients;
    AgentCommand.Running r = cmd.start();
    running.add(r);
    return r;
  }

  void operator() throws Exception {
    OperatorCommand cmd = new OperatorCommand();
    new CommandLine(cmd)
        .parseArgs(
            "--lease-namespace",
            LEASES,
            "--identity",
            "op-a",
            "--http-port",
            "0",
            "--allowed-vip-cidrs",
            "192.0.2.0/24");
    cmd.clients = cluster::newClient;
    running.add(cmd.start());
  }

  SipServerPairStatus status() {
    SipServerPair p =
        cluster.client().resources(SipServerPair.class).inNamespace(NS).withName("pair-1").get();
    return p == null ? null : p.getStatus();
  }

  SipServerPairStatus awaitStatus(
      String what, Duration within, Predicate<SipServerPairStatus> until) {
    try {
      await(what)
          .atMost(within)
          .pollInterval(Duration.ofMillis(50))
          .until(
              () -> {
                SipServerPairStatus s = status();
                return s != null && until.test(s);
              });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(
          e.getMessage()
              + "; the status: "
              + io.fabric8.kubernetes.client.utils.Serialization.asYaml(status()),
          e);
    }
    return status();
  }

  static Condition contact(SipServerPairStatus s) {
    return Conditions.find(s.conditions, Conditions.NODE_CONTACT).orElse(null);
  }

  String hears(String node) {
    Lease l =
        cluster.client().leases().inNamespace(LEASES).withName(AgentReports.leaseName(node)).get();
    var a = l == null ? null : l.getMetadata().getAnnotations();
    return a == null ? null : a.get(AgentReports.PEERS_HEARD_ANNOTATION);
  }

  /** sip-0 primary on node-a, the two agents hearing each other, the operator seeing both. */
  void activePairWithPeers(
      int nodeLossSeconds, Supplier<io.fabric8.kubernetes.client.KubernetesClient> nodeAClients)
      throws Exception {
    agent("node-a", "127.0.0.1", nodeAClients);
    agent("node-b", "127.0.0.2", cluster::newClient);
    operator();
    cluster.createServerPod(NS, "sip-0", "pair-1", "node-a", true);
    cluster.createServerPod(NS, "sip-1", "pair-1", "node-b", true);
    SipServerPair pair = SimulatedSite.pair(NS, "pair-1", "sip-0", "sip-0", "sip-1");
    pair.getSpec().getFailover().setNodeLossSeconds(nodeLossSeconds);
    cluster.client().resources(SipServerPair.class).inNamespace(NS).resource(pair).create();
    awaitStatus(
        "Active on node-a",
        Duration.ofSeconds(20),
        s -> s.phase == Phase.Active && "sip-0".equals(s.primary));
    await("the agents hear each other")
        .atMost(Duration.ofSeconds(20))
        .until(() -> "node-b".equals(hears("node-a")) && "node-a".equals(hears("node-b")));
    SipServerPairStatus s =
        awaitStatus(
            "both observers see node-a",
            Duration.ofSeconds(20),
            x -> contact(x) != null && "InContact".equals(contact(x).reason));
    assertThat(contact(s).message)
        .isEqualTo(
            "node node-a's agent renews its Lease and node-b hears it over the peer channel");
    assertThat(hostOf.get("node-a").vips()).containsExactly("192.0.2.10/24");
  }

  @Test
  void aLostHostIsTakenOverOnTheWordOfItsPeerAndTheOperatorsProbeLongBeforeItsLeaseRunsOut()
      throws Exception {
    activePairWithPeers(60, cluster::newClient);
    AgentCommand.Running a = (AgentCommand.Running) running.get(0);
    // the host goes: its agent, its peer channel and its /healthz all at once
    a.close();
    running.remove(a);

    SipServerPairStatus s =
        awaitStatus(
            "sip-1 primary on node-b",
            Duration.ofSeconds(20),
            x -> "sip-1".equals(x.primary) && x.transition == null && x.phase != Phase.FailingOver);
    assertThat(s.history.get(s.history.size() - 1).reason).isEqualTo("NodeLost");
    assertThat(s.vip.node).isEqualTo("node-b");
    assertThat(hostOf.get("node-b").vips()).containsExactly("192.0.2.10/24");
    List<Event> events = cluster.client().v1().events().inNamespace(NS).list().getItems();
    assertThat(events)
        .as("the Event says both observers agreed (its Lease had %s s to go)", 60)
        .anySatisfy(
            e ->
                assertThat(e.getMessage())
                    .contains(
                        "node node-a is lost: node-b hears nothing from its agent over the peer"
                            + " channel, and the agent has not answered the operator's probe for"));
  }

  @Test
  void aNodeCutFromTheApiOnlyKeepsItsVipWhileItsPeerHearsIt() throws Exception {
    FaultProxy proxy = new FaultProxy(cluster.port());
    running.add(proxy);
    activePairWithPeers(2, () -> cluster.newClient(proxy.url()));
    proxy.cut();

    SipServerPairStatus s =
        awaitStatus(
            "the operator sees node-a cut from the API",
            Duration.ofSeconds(20),
            x -> contact(x) != null && "ApiContactLost".equals(contact(x).reason));
    assertThat(contact(s).message)
        .isEqualTo(
            "node node-a is not lost although its agent has not renewed its Lease for 2 s"
                + " (spec.failover.nodeLossSeconds): node-b hears it over the peer channel");
    Thread.sleep(3000); // past the Lease's budget once more: still nothing moves
    s = status();
    assertThat(s.primary).isEqualTo("sip-0");
    assertThat(s.transition).isNull();
    assertThat(s.history).noneMatch(h -> "NodeLost".equals(h.reason));
    assertThat(hostOf.get("node-a").vips()).containsExactly("192.0.2.10/24");
    assertThat(hostOf.get("node-b").vips()).isEmpty();

    proxy.heal();
    awaitStatus(
        "in contact again",
        Duration.ofSeconds(20),
        x -> contact(x) != null && "InContact".equals(contact(x).reason));
  }
}
