package io.sipha.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.decision.Conditions;
import io.sipha.demo.SimulatedSite;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A VIP belongs to the pair that holds it, whatever the age of a later claimant. */
class VipOwnershipTest extends SiteTest {
  private static final String VIP_20 = "192.0.2.20/24";

  private SipServerPairStatus statusOf(String name) {
    SipServerPair p =
        site.client().resources(SipServerPair.class).inNamespace(NS).withName(name).get();
    return p == null ? null : p.getStatus();
  }

  /** pair-2: sip-2 (node-b) primary, sip-3 (node-a) backup, asking for this address. */
  private void secondPair(String address) {
    site.cluster().createServerPod(NS, "sip-2", "pair-2", "node-b", true);
    site.cluster().createServerPod(NS, "sip-3", "pair-2", "node-a", true);
    SipServerPair second = SimulatedSite.pair(NS, "pair-2", "sip-2", "sip-2", "sip-3");
    second.getSpec().getVirtualIP().setAddress(address);
    createPair(second);
  }

  @Test
  void anOlderPairThatAsksForAVipAYoungerPairHoldsIsRefusedAndNeitherHostLosesItsVip() {
    activePair(); // pair-1, the older one: 192.0.2.10 on node-a
    secondPair("192.0.2.20");
    await("pair-2 Active with 192.0.2.20 on node-b")
        .atMost(Duration.ofSeconds(20))
        .until(() -> statusOf("pair-2"), s -> s != null && s.phase == Phase.Active);
    assertThat(site.host("node-b").vips()).containsExactly(VIP_20);

    // someone points the older pair at the younger pair's VIP
    site.client()
        .resources(SipServerPair.class)
        .inNamespace(NS)
        .withName("pair-1")
        .edit(
            p -> {
              p.getSpec().getVirtualIP().setAddress("192.0.2.20");
              return p;
            });

    SipServerPairStatus s = awaitStatus("pair-1 Invalid", x -> x.phase == Phase.Invalid);
    assertThat(condition(s, Conditions.READY).message)
        .contains("spec.virtualIP.address")
        .contains("voice/pair-2");
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(eventReasons()).contains("InvalidSpec"));
    // pair-1 keeps serving on its last valid state; pair-2 keeps its VIP; node-a never takes
    // 192.0.2.20
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(4))
        .untilAsserted(
            () -> {
              assertThat(site.host("node-a").vips()).containsExactly(VIP);
              assertThat(site.host("node-b").vips()).containsExactly(VIP_20);
            });
    assertThat(statusOf("pair-2").phase).isEqualTo(Phase.Active);
    assertThat(status().vip.address).isEqualTo(VIP);
    assertThat(site.timeline()).noneMatch(l -> l.startsWith("node-a enable " + VIP_20));
  }

  /**
   * A deleted pair leaves no claim behind, even when someone strips its finalizer first: once its
   * node has removed the address, another pair may take it. (The operator puts a stripped finalizer
   * back at its next look, so the cleanup runs here; {@code VipClaimsTest} covers a pair gone
   * without it.)
   */
  @Test
  void theVipOfADeletedPairCanBeTakenOnceItsNodeRemovedIt() {
    activePair();
    secondPair("192.0.2.20");
    await("pair-2 Active with 192.0.2.20 on node-b")
        .atMost(Duration.ofSeconds(20))
        .until(() -> statusOf("pair-2"), s -> s != null && s.phase == Phase.Active);

    var pair2 = site.client().resources(SipServerPair.class).inNamespace(NS).withName("pair-2");
    pair2.edit(
        p -> {
          p.getMetadata().setFinalizers(java.util.List.of());
          return p;
        });
    pair2.delete();
    await("pair-2 gone and its VIP removed by node-b's agent")
        .atMost(Duration.ofSeconds(20))
        .until(() -> pair2.get() == null && site.host("node-b").vips().isEmpty());

    site.client()
        .resources(SipServerPair.class)
        .inNamespace(NS)
        .withName("pair-1")
        .edit(
            p -> {
              p.getSpec().getVirtualIP().setAddress("192.0.2.20");
              return p;
            });
    SipServerPairStatus s =
        awaitStatus(
            "pair-1 Active with 192.0.2.20",
            x ->
                x.phase == Phase.Active
                    && x.vip != null
                    && VIP_20.equals(x.vip.address)
                    && x.vip.state == io.sipha.api.VipStatus.State.Bound);
    assertThat(s.vip.node).isEqualTo("node-a");
    assertThat(site.host("node-a").vips()).containsExactly(VIP_20);
    assertThat(site.host("node-b").vips()).isEmpty();
  }

  /**
   * A pair refused because another holds its VIP takes it as soon as the holder is gone, not at the
   * operator's periodic resync (30 s): the holder's release wakes it. Found on the local control
   * plane, where a sandbox's pair waited half a minute behind a pair of a namespace being deleted.
   */
  @Test
  void aPairWaitingForAVipAnotherHoldsTakesItAsSoonAsTheHolderIsDeleted() {
    activePair(); // pair-1: 192.0.2.10 on node-a
    secondPair("192.0.2.10"); // the VIP pair-1 holds
    await("pair-2 Invalid: pair-1 holds its VIP")
        .atMost(Duration.ofSeconds(10))
        .until(() -> statusOf("pair-2"), s -> s != null && s.phase == Phase.Invalid);

    site.client().resources(SipServerPair.class).inNamespace(NS).withName("pair-1").delete();
    await("pair-1 gone")
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                site.client()
                        .resources(SipServerPair.class)
                        .inNamespace(NS)
                        .withName("pair-1")
                        .get()
                    == null);
    long gone = System.nanoTime();
    await("pair-2 Active with 192.0.2.10 on node-b, well before the periodic resync")
        .atMost(Duration.ofSeconds(5))
        .until(
            () -> statusOf("pair-2"),
            s ->
                s != null
                    && s.phase == Phase.Active
                    && s.vip.state == io.sipha.api.VipStatus.State.Bound);
    System.out.printf(
        "pair-2 Active %d ms after pair-1 was gone%n", (System.nanoTime() - gone) / 1_000_000);
    assertThat(site.host("node-b").vips()).containsExactly(VIP);
    assertThat(site.host("node-a").vips()).isEmpty();
  }
}
