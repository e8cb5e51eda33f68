package io.sipha.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.demo.SimulatedSite;
import io.sipha.kube.AgentReports;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The heartbeat carries no reports: its size does not grow with the pairs, and reports are written
 * on change.
 */
class ReportLeasesTest extends SiteTest {
  static final int PAIRS = 40;

  private Lease lease(String name) {
    return site.client().leases().inNamespace(SimulatedSite.LEASE_NAMESPACE).withName(name).get();
  }

  @Test
  void theHeartbeatLeaseHoldsNoReportsAndEachReportLeaseIsWrittenOnlyWhenItsReportsChange() {
    for (int i = 0; i < PAIRS; i++) {
      String a = "a-" + i;
      String b = "b-" + i;
      site.cluster().createServerPod(NS, a, "p-" + i, "node-a", true);
      site.cluster().createServerPod(NS, b, "p-" + i, "node-b", true);
      SipServerPair p = SimulatedSite.pair(NS, "p-" + i, a, a, b);
      p.getSpec().getVirtualIP().setAddress("192.0.2." + (100 + i));
      createPair(p);
    }
    await("all Active")
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                site
                    .client()
                    .resources(SipServerPair.class)
                    .inNamespace(NS)
                    .list()
                    .getItems()
                    .stream()
                    .allMatch(p -> p.getStatus() != null && p.getStatus().phase == Phase.Active));

    Lease heartbeat = lease(AgentReports.leaseName("node-a"));
    Map<String, String> ann = heartbeat.getMetadata().getAnnotations();
    assertThat(ann == null ? null : ann.get(AgentReports.ANNOTATION))
        .as("no reports in the heartbeat")
        .isNull();
    List<Lease> shards =
        site
            .client()
            .leases()
            .inNamespace(SimulatedSite.LEASE_NAMESPACE)
            .withLabel(AgentReports.LEASE_LABEL, AgentReports.REPORTS_LABEL_VALUE)
            .list()
            .getItems()
            .stream()
            .filter(l -> "node-a".equals(l.getSpec().getHolderIdentity()))
            .toList();
    assertThat(shards).hasSizeBetween(2, AgentReports.SHARDS);
    int reported =
        shards.stream()
            .mapToInt(
                l ->
                    AgentReports.parse(
                            l.getMetadata().getAnnotations().get(AgentReports.ANNOTATION))
                        .size())
            .sum();
    assertThat(reported).isEqualTo(PAIRS);

    // steady state: the heartbeat is renewed every second, the report Leases are not written again
    Map<String, String> versions = new java.util.HashMap<>();
    shards.forEach(
        l -> versions.put(l.getMetadata().getName(), l.getMetadata().getResourceVersion()));
    String beat = heartbeat.getMetadata().getResourceVersion();
    await().pollDelay(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(4)).until(() -> true);
    assertThat(lease(AgentReports.leaseName("node-a")).getMetadata().getResourceVersion())
        .isNotEqualTo(beat);
    versions.forEach(
        (name, v) ->
            assertThat(lease(name).getMetadata().getResourceVersion())
                .as("report Lease %s unchanged", name)
                .isEqualTo(v));
    // the heartbeat says how far the reports go, so that a reader whose report watch lags knows it
    long newest =
        shards.stream()
            .mapToLong(l -> AgentReports.reportsSeq(l.getMetadata().getAnnotations()))
            .max()
            .orElse(0);
    assertThat(newest)
        .as("each report Lease write is numbered")
        .isGreaterThanOrEqualTo(shards.size());
    assertThat(
            AgentReports.reportsSeq(
                lease(AgentReports.leaseName("node-a")).getMetadata().getAnnotations()))
        .isEqualTo(newest);
  }
}
