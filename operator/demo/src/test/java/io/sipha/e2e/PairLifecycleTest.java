package io.sipha.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A pod that leaves a pair is demoted first; a deleted pair takes its VIP and its pods' roles with
 * it.
 */
class PairLifecycleTest extends SiteTest {

  @Test
  void deletingAPairReleasesItsVipAndClearsItsPodsRolesBeforeItGoes() {
    activePair();
    assertThat(pair().getMetadata().getFinalizers()).as("a finalizer holds the pair").isNotEmpty();
    site.client().resources(SipServerPair.class).inNamespace(NS).withName("pair-1").delete();

    await("pair-1 gone").atMost(Duration.ofSeconds(15)).until(() -> pair() == null);
    assertThat(site.host("node-a").vips()).isEmpty();
    assertThat(site.timeline())
        .containsExactly("node-a enable " + VIP + " eth0", "node-a disable " + VIP + " eth0");
    for (String pod : List.of("sip-0", "sip-1")) {
      assertThat(pod(pod).getMetadata().getAnnotations())
          .as("%s carries no role any more", pod)
          .doesNotContainKeys(SipServerPair.ROLE_ANNOTATION, SipServerPair.EPOCH_ANNOTATION);
    }
    awaitEventReasons("DeletionStarted", "DeletionCompleted");
  }

  @Test
  void aPrimaryTakenOutOfSpecServersIsDemotedFirstAndTheVipMovesToAServerOfThePair() {
    activePair();
    site.cluster().createServerPod(NS, "sip-2", "pair-1", "node-a", true);
    site.client()
        .resources(SipServerPair.class)
        .inNamespace(NS)
        .withName("pair-1")
        .edit(
            p -> {
              p.getSpec().setServers(List.of("sip-1", "sip-2"));
              p.getSpec().setPrimary("sip-1");
              return p;
            });

    SipServerPairStatus s =
        awaitStatus("sip-1 primary", x -> "sip-1".equals(x.primary) && x.phase == Phase.Active);
    assertThat(s.backup).isEqualTo("sip-2");
    assertThat(role("sip-0")).as("the pod that left is demoted").isEqualTo("backup@" + s.epoch);
    assertThat(role("sip-1")).isEqualTo("primary@" + s.epoch);
    assertThat(s.history.get(s.history.size() - 1).reason).isEqualTo("PrimaryLeftPair");
    assertThat(site.timeline())
        .as("released on node-a before node-b binds")
        .containsExactly(
            "node-a enable " + VIP + " eth0",
            "node-a disable " + VIP + " eth0",
            "node-b enable " + VIP + " eth0");
  }
}
