package io.sipha.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.Phase;
import io.sipha.api.SipServerPairStatus;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Faults between the real operator and agents and the API, injected during a switchover: errors and
 * conflicts on chosen verbs and paths, a slow and a cut connection. Each time the switchover
 * completes, one pod is primary, the VIP is on the new host only, and the epoch never went back.
 */
class FaultInjectionTest extends SiteTest {
  static final String PAIR_PATH = "/apis/sipha.io/v1alpha1/namespaces/voice/sipserverpairs/pair-1";
  static final String STATUS =
      "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":%d,\"reason\":\"%s\"}";

  static Stream<Arguments> apiFaults() {
    return Stream.of(
        fault(
            "500 on three status writes",
            c ->
                c.expect()
                    .put()
                    .withPath(PAIR_PATH + "/status")
                    .andReturn(500, STATUS.formatted(500, "InternalError"))
                    .times(3)),
        fault(
            "409 on two status writes",
            c ->
                c.expect()
                    .put()
                    .withPath(PAIR_PATH + "/status")
                    .andReturn(409, STATUS.formatted(409, "Conflict"))
                    .times(2)),
        fault(
            "500 on two role patches of the new primary",
            c ->
                c.expect()
                    .patch()
                    .withPath("/api/v1/namespaces/voice/pods/sip-1")
                    .andReturn(500, STATUS.formatted(500, "InternalError"))
                    .times(2)),
        fault(
            "500 on two role patches of the old primary",
            c ->
                c.expect()
                    .patch()
                    .withPath("/api/v1/namespaces/voice/pods/sip-0")
                    .andReturn(500, STATUS.formatted(500, "InternalError"))
                    .times(2)),
        fault(
            "500 on every Event for a while",
            c ->
                c.expect()
                    .post()
                    .withPath("/api/v1/namespaces/voice/events")
                    .andReturn(500, STATUS.formatted(500, "InternalError"))
                    .times(5)),
        fault(
            "500 on two Lease renewals of node-b",
            c ->
                c.expect()
                    .put()
                    .withPath(
                        "/apis/coordination.k8s.io/v1/namespaces/sipha-system/leases/sipha-agent-node-b")
                    .andReturn(500, STATUS.formatted(500, "InternalError"))
                    .times(2)));
  }

  private static Arguments fault(String name, Consumer<io.sipha.demo.EmbeddedCluster> inject) {
    return Arguments.of(name, inject);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("apiFaults")
  void aSwitchoverSurvivesAnApiFault(String name, Consumer<io.sipha.demo.EmbeddedCluster> inject) {
    activePair();
    inject.accept(site.cluster());
    switchOverTo("sip-1");
    assertSwitched();
  }

  @Test
  void aSwitchoverSurvivesASlowLinkToTheOperator() throws Exception {
    try (FaultProxy proxy = new FaultProxy(site.cluster().port())) {
      site.startOperator(site.cluster().newClient(proxy.url()));
      activePair();
      proxy.delay(300);
      switchOverTo("sip-1");
      assertSwitched();
    }
  }

  @Test
  void aSwitchoverRequestedWhileTheOperatorIsCutOffIsCarriedOutWhenItIsBack() throws Exception {
    try (FaultProxy proxy = new FaultProxy(site.cluster().port())) {
      site.startOperator(site.cluster().newClient(proxy.url()));
      activePair();
      proxy.cut();
      switchOverTo("sip-1");
      // nothing may move while the operator cannot see the API
      org.awaitility.Awaitility.await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(3))
          .until(
              () ->
                  site.host("node-a").vips().contains(VIP) && site.host("node-b").vips().isEmpty());
      proxy.heal();
      assertSwitched();
    }
  }

  private void assertSwitched() {
    SipServerPairStatus s =
        awaitStatus("switched", x -> x.phase == Phase.Active && "sip-1".equals(x.primary));
    assertThat(s.epoch).isGreaterThanOrEqualTo(2);
    assertThat(role("sip-1")).isEqualTo("primary@" + s.epoch);
    assertThat(role("sip-0")).isEqualTo("backup@" + s.epoch);
    assertThat(site.host("node-a").vips()).isEmpty();
    assertThat(site.host("node-b").vips()).containsExactly(VIP);
  }
}
