package io.sipha.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sipha.api.Phase;
import io.sipha.decision.Conditions;
import io.sipha.demo.SimulatedSite;
import io.sipha.kube.AgentReports;
import io.sipha.operator.OperatorMetrics;
import io.sipha.vip.AllowedCidrs;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** An agent that renews its Lease but does not work is not alive, and says why. */
class AgentWorkTest extends SiteTest {

  @BeforeEach
  void slowScriptTimeout() {
    // scripts are killed after 10 s here, so that a hanging one holds the agent up for that long
    site.close();
    site =
        new SimulatedSite(
            hostsDir,
            List.of("node-a", "node-b"),
            Duration.ofSeconds(10),
            AllowedCidrs.parse(List.of("192.0.2.0/24")),
            OperatorMetrics.none());
    site.cluster().createNamespace(NS);
    site.startAgents();
    site.startOperator();
  }

  private String notWorking(String node) {
    var l =
        site.client()
            .leases()
            .inNamespace(SimulatedSite.LEASE_NAMESPACE)
            .withName(AgentReports.leaseName(node))
            .get();
    Map<String, String> a = l == null ? null : l.getMetadata().getAnnotations();
    return a == null ? null : a.get(AgentReports.NOT_WORKING_ANNOTATION);
  }

  @Test
  void anAgentStuckInItsStartUpCheckSaysSoAndIsNotACandidateUntilItWorksAgain() {
    activePair();
    site.host("node-b").hangScript("status", true);
    var agent = site.startAgent("node-b"); // its start-up check hangs in vip-status

    await("node-b says it does not work")
        .atMost(Duration.ofSeconds(6))
        .until(() -> notWorking("node-b") != null);
    assertThat(notWorking("node-b")).contains("start-up check");
    assertThat(agent.notWorking()).as("what its /healthz and /readyz answer with").isNotNull();
    awaitStatus(
        "BackupReady False",
        s ->
            conditionIs(s, Conditions.BACKUP_READY, "False")
                && condition(s, Conditions.BACKUP_READY).message.contains("does not work"));

    switchOverTo("sip-1");
    awaitStatus(
        "refused",
        s ->
            conditionIs(s, Conditions.SWITCHOVER_REFUSED, "True")
                && condition(s, Conditions.SWITCHOVER_REFUSED).message.contains("does not work"));
    assertThat(status().primary).isEqualTo("sip-0");

    site.host("node-b").hangScript("status", false); // the hung vip-status is killed at its timeout
    awaitStatus(
        "switched over once node-b works",
        s -> "sip-1".equals(s.primary) && s.phase == Phase.Active);
    assertThat(notWorking("node-b")).isNull();
    assertThat(agent.notWorking()).isNull();
  }
}
