package io.sipha.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import io.sipha.decision.Conditions;
import io.sipha.demo.SimulatedSite;
import io.sipha.kube.AgentReports;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A VIP equal to a node's own address would take the node off the network when released. */
class NodeAddressTest extends SiteTest {

  @Test
  void aVipEqualToANodesOwnAddressIsRefusedNamingTheNodeAndNothingRuns() {
    createPods();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () -> {
              var l =
                  site.client()
                      .leases()
                      .inNamespace(SimulatedSite.LEASE_NAMESPACE)
                      .withName(AgentReports.leaseName("node-b"))
                      .get();
              return l != null
                  && l.getMetadata().getAnnotations() != null
                  && "198.51.100.2"
                      .equals(
                          l.getMetadata()
                              .getAnnotations()
                              .get(AgentReports.NODE_ADDRESSES_ANNOTATION));
            });
    SipServerPair p = SimulatedSite.pair(NS, "pair-1", "sip-0", "sip-0", "sip-1");
    p.getSpec().getVirtualIP().setAddress("198.51.100.2");
    createPair(p);

    SipServerPairStatus s = awaitStatus("Invalid", x -> x.phase == Phase.Invalid);
    assertThat(condition(s, Conditions.READY).message)
        .contains("spec.virtualIP.address")
        .contains("198.51.100.2")
        .contains("node node-b");
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(events())
                    .anyMatch(e -> e.startsWith("Warning InvalidSpec") && e.contains("node-b")));
    assertThat(site.timeline()).as("no script ran anywhere").isEmpty();
  }

  @Test
  void anAgentNeverAddsOrRemovesItsNodesOwnAddressWhateverAStatusSays() {
    createPods();
    site.stopOperator();
    // a status as a broken or older operator might have written it: node-a's own address granted to
    // node-a
    SipServerPair p = SimulatedSite.pair(NS, "pair-1", "sip-0", "sip-0", "sip-1");
    createPair(p);
    for (String[] r : new String[][] {{"sip-0", "primary"}, {"sip-1", "backup"}}) {
      site.client()
          .pods()
          .inNamespace(NS)
          .withName(r[0])
          .patch(
              PatchContext.of(PatchType.JSON_MERGE),
              "{\"metadata\":{\"annotations\":{\"sipha.io/role\":\""
                  + r[1]
                  + "\",\"sipha.io/epoch\":\"1\"}}}");
    }
    SipServerPair current = pair();
    SipServerPairStatus st = new SipServerPairStatus();
    st.epoch = 1;
    st.primary = "sip-0";
    st.backup = "sip-1";
    st.phase = Phase.Active;
    st.vip = new VipStatus("198.51.100.1/24", "eth0", "node-a", VipStatus.State.Bound, 0);
    current.setStatus(st);
    site.client().resource(current).updateStatus();

    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () -> {
              var l =
                  site.client()
                      .leases()
                      .inNamespace(SimulatedSite.LEASE_NAMESPACE)
                      .withName(AgentReports.shardName("node-a", NS + "/pair-1"))
                      .get();
              var r =
                  l == null
                      ? null
                      : AgentReports.parse(
                              l.getMetadata().getAnnotations().get(AgentReports.ANNOTATION))
                          .get(NS + "/pair-1");
              return r != null && r.message() != null && r.message().contains("own address");
            });
    assertThat(site.timeline())
        .as("vip-enable never ran for the node's own address")
        .noneMatch(l -> l.contains("enable") || l.contains("disable"));
  }
}
