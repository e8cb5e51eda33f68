package io.sipha.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.sipha.decision.VipReport;
import io.sipha.demo.EmbeddedCluster;
import io.sipha.e2e.FaultProxy;
import io.sipha.kube.AgentReports;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The report Leases end with what the agent reports last, whatever waited for what. */
class ReportWriterTest {
  static final String NS = "sipha-system";
  static final String KEY = "voice/pair-1";

  static VipReport unbound(long epoch) {
    return new VipReport(
        VipReport.State.Unbound,
        epoch,
        "192.0.2.10/24",
        null,
        null,
        null,
        "2030-01-01T00:00:00Z",
        null,
        "eth0");
  }

  /**
   * Seen in CI: a self-fenced agent whose link came back wrote its report "Unbound at epoch 2", and
   * then the heartbeat's write-before-renewal, which had taken its copy of the reports during the
   * cut and waited for the lock meanwhile, put "Unbound at epoch 1" back over it and counted it as
   * written: the operator waited for good for a release at the current epoch.
   */
  @Test
  void aWriteThatWaitedForAnotherWritesTheReportsAsTheyAreWhenItsTurnComes() throws Exception {
    try (EmbeddedCluster cluster = new EmbeddedCluster(Clock.systemUTC());
        FaultProxy proxy = new FaultProxy(cluster.port())) {
      cluster.createNamespace(NS);
      KubernetesClient client = cluster.newClient(proxy.url());
      ReportWriter writer = new ReportWriter(client, NS, "node-a");
      Map<String, VipReport> reports = new ConcurrentHashMap<>(Map.of(KEY, unbound(0)));
      writer.writeNow(() -> Map.copyOf(reports));

      proxy.cut();
      reports.put(KEY, unbound(1));
      writer.flush(() -> Map.copyOf(reports)); // hangs on the writer's thread while the link is cut
      Thread.sleep(300);
      // the heartbeat's write before its renewal: asked now, it waits for the one that hangs
      CompletableFuture<Boolean> beforeRenewal =
          CompletableFuture.supplyAsync(() -> writer.writeNow(() -> Map.copyOf(reports)));
      Thread.sleep(300);
      reports.put(KEY, unbound(2)); // the agent's next pass, once the API is read again
      proxy.heal();
      writer.flush(() -> Map.copyOf(reports));
      beforeRenewal.get(60, TimeUnit.SECONDS);

      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                var l =
                    cluster
                        .client()
                        .leases()
                        .inNamespace(NS)
                        .withName(AgentReports.shardName("node-a", KEY))
                        .get();
                assertThat(
                        AgentReports.parse(
                                l.getMetadata().getAnnotations().get(AgentReports.ANNOTATION))
                            .get(KEY)
                            .epoch())
                    .as("the report Lease ends with the last report")
                    .isEqualTo(2);
              });
      writer.close();
      client.close();
    }
  }
}
