package io.sipha.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.sipha.api.Phase;
import io.sipha.demo.SimulatedSite;
import io.sipha.kube.AgentReports;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An agent that stops announces a restart only when a successor is coming (its pod is being
 * deleted).
 */
class AgentStopTest extends SiteTest {

  private Lease lease(String node) {
    return site.client()
        .leases()
        .inNamespace(SimulatedSite.LEASE_NAMESPACE)
        .withName(AgentReports.leaseName(node))
        .get();
  }

  private String restartingUntil(String node) {
    Map<String, String> a = lease(node).getMetadata().getAnnotations();
    return a == null ? null : a.get(AgentReports.RESTARTING_ANNOTATION);
  }

  @Test
  void anAgentWhosePodIsBeingDeletedAnnouncesItsRestartAndTheNodeIsNotLost() {
    activePair();
    String pod = SimulatedSite.agentPodName("node-a");
    site.client()
        .pods()
        .inNamespace(SimulatedSite.LEASE_NAMESPACE)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(pod)
                .withNamespace(SimulatedSite.LEASE_NAMESPACE)
                .addToFinalizers("sipha.io/test-keeps-it")
                .endMetadata()
                .withNewSpec()
                .withNodeName("node-a")
                .addNewContainer()
                .withName("agent")
                .withImage("sipha")
                .endContainer()
                .endSpec()
                .build())
        .create();
    site.client()
        .pods()
        .inNamespace(SimulatedSite.LEASE_NAMESPACE)
        .withName(pod)
        .delete(); // a rolling update

    site.agent("node-a").shutdown();
    assertThat(restartingUntil("node-a")).as("the restart is announced").isNotNull();
    await()
        .during(Duration.ofSeconds(4))
        .atMost(Duration.ofSeconds(5))
        .until(() -> status().phase == Phase.Active && "sip-0".equals(status().primary));
  }

  @Test
  void anAgentStoppedWhileItsPodStaysAnnouncesNothingAndThePairFailsOverWithinNodeLoss() {
    activePair();
    long stopped = System.nanoTime();
    site.agent("node-a").shutdown(); // SIGTERM on a node shutdown: nobody deleted the pod
    assertThat(restartingUntil("node-a")).as("no restart grace for a node going down").isNull();
    awaitStatus("failed over to sip-1", s -> "sip-1".equals(s.primary) && s.transition == null);
    assertThat(site.host("node-b").vips()).containsExactly(VIP);
    long millis = (System.nanoTime() - stopped) / 1_000_000;
    assertThat(millis)
        .as("failover within the 2 s node loss, not the 20 s restart grace")
        .isLessThan(8_000);
  }
}
