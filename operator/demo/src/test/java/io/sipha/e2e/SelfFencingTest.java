package io.sipha.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sipha.agent.PeerProbe;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.decision.SelfFencing;
import io.sipha.demo.SimulatedSite;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Opt-in self-fencing, with each agent and the operator reaching the API through a proxy that can
 * be cut: a primary cut off from the API and from its peer drops the VIP before the backup takes
 * it; an outage of the API alone (peers reachable) drops nothing and moves nothing.
 */
class SelfFencingTest extends SiteTest {
  final Map<String, FaultProxy> proxies = new ConcurrentHashMap<>();

  /** Nodes cut off from the network: their agent reaches no peer, and no peer reaches them. */
  final Set<String> isolated = ConcurrentHashMap.newKeySet();

  @BeforeEach
  void throughProxies() throws Exception {
    for (String name : List.of("operator", "node-a", "node-b")) {
      proxies.put(name, new FaultProxy(site.cluster().port()));
    }
    site.startOperator(site.cluster().newClient(proxies.get("operator").url()));
    for (String node : List.of("node-a", "node-b")) {
      // the peer answers over the "host network" unless one of the two is isolated; it says how
      // long
      // ago it reached the API, as its own agent knows it
      PeerProbe probe =
          (peerNode, address) -> {
            if (isolated.contains(node)
                || isolated.contains(peerNode)
                || address == null
                || !address.equals(site.nodeAddress(peerNode))
                || site.agent(peerNode) == null) {
              return SelfFencing.PeerView.unreachable();
            }
            return SelfFencing.parse(site.agent(peerNode).peerAnswer());
          };
      site.startAgent(node, site.cluster().newClient(proxies.get(node).url()), probe);
    }
  }

  @AfterEach
  void closeProxies() throws Exception {
    for (FaultProxy p : proxies.values()) {
      p.close();
    }
  }

  void activePairWithFencing() {
    createPods();
    SipServerPair p = SimulatedSite.pair(NS, "pair-1", "sip-0", "sip-0", "sip-1");
    p.getSpec().getFailover().setNodeLossSeconds(3);
    p.getSpec().getFailover().setFenceAfterSeconds(1);
    createPair(p);
    awaitStatus("Active", s -> s.phase == Phase.Active && "sip-0".equals(s.primary));
  }

  /** node-b takes over after node-a's loss, and node-a removed the VIP before node-b added it. */
  void awaitFencedThenFailedOver() {
    SipServerPairStatus s =
        awaitStatus(
            "failed over",
            x ->
                "sip-1".equals(x.primary)
                    && x.transition == null
                    && x.vip.state == io.sipha.api.VipStatus.State.Bound);
    assertThat(s.history.get(s.history.size() - 1).reason).isEqualTo("NodeLost");
    assertThat(site.host("node-a").vips()).as("self-fenced").isEmpty();
    assertRemovedOnNodeABeforeNodeBAddedIt();
  }

  /**
   * node-a added the VIP once and removed it once, before node-b first added it; node-b may add it
   * again later (an announce after the operator saw node-a's return: with a renewal that was in
   * flight during the cut, it may see node-a back with its report from before it self-fenced).
   */
  void assertRemovedOnNodeABeforeNodeBAddedIt() {
    List<String> t = site.timeline();
    assertThat(t)
        .as("never on two hosts")
        .startsWith(
            "node-a enable " + VIP + " eth0",
            "node-a disable " + VIP + " eth0",
            "node-b enable " + VIP + " eth0");
    assertThat(t.subList(3, t.size()))
        .as("after that, node-b announcing again only")
        .allMatch(e -> e.equals("node-b enable " + VIP + " eth0"));
  }

  @Test
  void aPrimaryCutOffFromTheApiAndItsPeerDropsTheVipBeforeTheBackupTakesIt() {
    activePairWithFencing();
    proxies.get("node-a").cut();
    isolated.add("node-a");

    awaitFencedThenFailedOver();
    SipServerPairStatus s;

    proxies.get("node-a").heal();
    isolated.remove("node-a");
    s = awaitStatus("Active again", x -> x.phase == Phase.Active && x.fenced.isEmpty());
    assertThat(s.primary).isEqualTo("sip-1");
    assertThat(site.host("node-a").vips()).isEmpty();
  }

  @Test
  void aPrimaryCutOffFromTheApiOnlyDropsTheVipBeforeItsPeerWhichStillSeesTheApiTakesIt() {
    activePairWithFencing();
    proxies
        .get("node-a")
        .cut(); // an asymmetric cut: node-a and node-b still talk on the host network

    awaitFencedThenFailedOver();
  }

  @Test
  void aFencedPrimaryWhoseLinkComesBackDoesNotActOnItsStaleCacheBeforeItHasReadTheApiAgain() {
    activePairWithFencing();
    proxies.get("node-a").cut();
    isolated.add("node-a");
    awaitStatus(
        "failed over",
        x ->
            "sip-1".equals(x.primary)
                && x.transition == null
                && x.vip.state == io.sipha.api.VipStatus.State.Bound);
    assertThat(site.host("node-a").vips()).isEmpty();
    // a longer cut: the watches' reconnect backoff grows (1 s, doubling)
    await().pollDelay(Duration.ofSeconds(8)).atMost(Duration.ofSeconds(9)).until(() -> true);

    // the link comes back: Lease renewals succeed at once, the watches only after their backoff;
    // node-a's cache still says it holds the VIP at epoch 1
    proxies.get("node-a").heal();
    isolated.remove("node-a");
    await()
        .during(Duration.ofSeconds(4))
        .atMost(Duration.ofSeconds(6))
        .untilAsserted(
            () -> {
              assertThat(site.host("node-a").vips())
                  .as("node-a never adds the VIP back on its old grant")
                  .isEmpty();
              assertThat(site.host("node-b").vips()).containsExactly(VIP);
            });
    assertRemovedOnNodeABeforeNodeBAddedIt();
  }

  @Test
  void anApiOutageAloneWithThePeerReachableDropsNothingAndMovesNothing() {
    activePairWithFencing();
    proxies.values().forEach(FaultProxy::cut);

    // longer than nodeLossSeconds (3 s): nobody can renew, nobody can decide; the VIP stays put
    await()
        .during(Duration.ofSeconds(4))
        .atMost(Duration.ofSeconds(5))
        .until(
            () -> site.host("node-a").vips().contains(VIP) && site.host("node-b").vips().isEmpty());
    proxies.values().forEach(FaultProxy::heal);

    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              SipServerPairStatus s = status();
              return s.phase == Phase.Active && s.epoch == 1 && "sip-0".equals(s.primary);
            });
    assertThat(site.timeline()).containsExactly("node-a enable " + VIP + " eth0");
  }
}
