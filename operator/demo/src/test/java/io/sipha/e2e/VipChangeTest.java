package io.sipha.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A change of spec.virtualIP never leaves the primary's host without an address. */
class VipChangeTest extends SiteTest {
  static final String VIP_11 = "192.0.2.11/24";

  @Test
  void aNewVipThatFailsToBindLeavesTheOldOneServingAndTheMoveCompletesOnceItBinds() {
    activePair();
    site.host("node-a").failScript("enable", 2);
    site.client()
        .resources(SipServerPair.class)
        .inNamespace(NS)
        .withName("pair-1")
        .edit(
            p -> {
              p.getSpec().getVirtualIP().setAddress("192.0.2.11");
              return p;
            });
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(4))
        .untilAsserted(
            () ->
                assertThat(site.host("node-a").vips())
                    .as("the old VIP still serves")
                    .containsExactly(VIP));

    site.host("node-a").failScript("enable", 0);
    awaitStatus(
        "Active on the new VIP", s -> s.phase == Phase.Active && VIP_11.equals(s.vip.address));
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(site.host("node-a").vips())
                    .as("the new one bound, then the old one removed")
                    .containsExactly(VIP_11));
    assertThat(site.timeline())
        .containsSubsequence(
            "node-a enable " + VIP_11 + " eth0", "node-a disable " + VIP + " eth0");
  }
}
