package io.sipha.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.sipha.api.SipServerPairStatus;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Grace periods are measured on the operator's clock from when it saw the pod change, whatever the
 * kubelet wrote.
 */
class ClockTest extends SiteTest {

  /**
   * Acts as a kubelet that writes Ready=False with the given lastTransitionTime (null: none, as the
   * field is optional).
   */
  private void notReady(String pod, String lastTransitionTime) {
    var status =
        new PodStatusBuilder()
            .withPhase("Running")
            .addToConditions(
                new PodConditionBuilder()
                    .withType("Ready")
                    .withStatus("False")
                    .withLastTransitionTime(lastTransitionTime)
                    .build())
            .build();
    site.client()
        .pods()
        .inNamespace(NS)
        .withName(pod)
        .patch(
            PatchContext.of(PatchType.JSON),
            "[{\"op\":\"add\",\"path\":\"/status\",\"value\":"
                + site.client().getKubernetesSerialization().asJson(status)
                + "}]");
  }

  private long failsOverAfterMillis(String lastTransitionTime) {
    activePair();
    long t0 = System.nanoTime();
    notReady("sip-0", lastTransitionTime);
    SipServerPairStatus s =
        awaitStatus("failed over", x -> "sip-1".equals(x.primary) && x.transition == null);
    assertThat(s.history.get(s.history.size() - 1).reason).isEqualTo("PrimaryNotReady");
    return (System.nanoTime() - t0) / 1_000_000;
  }

  @Test
  void aNotReadyConditionWithoutLastTransitionTimeFailsOverAfterTheGrace() {
    assertThat(failsOverAfterMillis(null))
        .as("the 1 s grace, counted by the operator")
        .isBetween(900L, 6_000L);
  }

  @Test
  void aKubeletWhoseClockIsAnHourAheadDoesNotDelayTheFailoverByAnHour() {
    assertThat(failsOverAfterMillis(Instant.now().plusSeconds(3600).toString()))
        .isBetween(900L, 6_000L);
  }

  @Test
  void aKubeletWhoseClockIsAnHourBehindDoesNotSkipTheGrace() {
    activePair();
    long t0 = System.nanoTime();
    notReady("sip-0", Instant.now().minusSeconds(3600).toString());
    awaitStatus("failed over", x -> "sip-1".equals(x.primary) && x.transition == null);
    assertThat((System.nanoTime() - t0) / 1_000_000)
        .as("not at once: the grace still runs")
        .isGreaterThanOrEqualTo(900L);
  }
}
