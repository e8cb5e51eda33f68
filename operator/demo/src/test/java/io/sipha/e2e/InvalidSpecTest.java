package io.sipha.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.Phase;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VirtualIp;
import io.sipha.decision.Conditions;
import io.sipha.demo.SimulatedSite;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Invalid pairs are refused with the field named; nothing runs on any host; missing pods are waited
 * for.
 */
class InvalidSpecTest extends SiteTest {

  static Stream<Arguments> invalidSpecs() {
    return Stream.of(
        bad(
            "one server twice",
            "spec.servers",
            p -> p.getSpec().setServers(List.of("sip-0", "sip-0"))),
        bad("primary not in servers", "spec.primary", p -> p.getSpec().setPrimary("sip-7")),
        bad(
            "address not an IP",
            "spec.virtualIP.address",
            p -> p.getSpec().getVirtualIP().setAddress("300.1.2.3")),
        bad(
            "address a host name",
            "spec.virtualIP.address",
            p -> p.getSpec().getVirtualIP().setAddress("example.org")),
        bad(
            "prefix too long for IPv4",
            "spec.virtualIP.prefixLength",
            p -> p.getSpec().getVirtualIP().setPrefixLength(33)),
        bad(
            "prefix zero",
            "spec.virtualIP.prefixLength",
            p -> p.getSpec().getVirtualIP().setPrefixLength(0)),
        bad(
            "interface with shell characters",
            "spec.virtualIP.interface",
            p -> p.getSpec().getVirtualIP().setInterfaceName("eth0; rm -rf /")),
        bad(
            "interface looking like an option",
            "spec.virtualIP.interface",
            p -> p.getSpec().getVirtualIP().setInterfaceName("-all")),
        bad(
            "VIP outside the allowed ranges",
            "spec.virtualIP.address",
            p -> p.getSpec().setVirtualIP(new VirtualIp("198.51.100.10", 24, "eth0"))),
        bad(
            "node loss below 2 s",
            "spec.failover.nodeLossSeconds",
            p -> p.getSpec().getFailover().setNodeLossSeconds(1)));
  }

  private static Arguments bad(String name, String field, Consumer<SipServerPair> breakIt) {
    return Arguments.of(name, field, breakIt);
  }

  @ParameterizedTest(name = "{0} is refused naming {1}")
  @MethodSource("invalidSpecs")
  void invalidSpecIsRefusedAndTouchesNoHost(
      String name, String field, Consumer<SipServerPair> breakIt) {
    createPods();
    SipServerPair p = SimulatedSite.pair(NS, "pair-1", "sip-0", "sip-0", "sip-1");
    breakIt.accept(p);
    createPair(p);

    SipServerPairStatus s = awaitStatus("Invalid", x -> x.phase == Phase.Invalid);
    var ready = condition(s, Conditions.READY);
    assertThat(ready.status).isEqualTo("False");
    assertThat(ready.reason).isEqualTo("InvalidSpec");
    assertThat(ready.message).contains(field);
    // the Event is written just after the status
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(events())
                    .anyMatch(e -> e.startsWith("Warning InvalidSpec") && e.contains(field)));
    assertThat(site.timeline()).as("no script ran anywhere").isEmpty();
    assertThat(pod("sip-0").getMetadata().getAnnotations())
        .doesNotContainKey(SipServerPair.ROLE_ANNOTATION);
    assertThat(s.epoch).isZero();
  }

  @Test
  void aPairIsValidAgainOnceFixed() {
    createPods();
    SipServerPair p = SimulatedSite.pair(NS, "pair-1", "sip-0", "sip-0", "sip-1");
    p.getSpec().getVirtualIP().setPrefixLength(40);
    createPair(p);
    awaitStatus("Invalid", x -> x.phase == Phase.Invalid);

    site.client()
        .resources(SipServerPair.class)
        .inNamespace(NS)
        .withName("pair-1")
        .edit(
            x -> {
              x.getSpec().getVirtualIP().setPrefixLength(24);
              return x;
            });
    awaitStatus("Active", x -> x.phase == Phase.Active);
    assertThat(site.host("node-a").vips()).containsExactly(VIP);
  }

  @Test
  void missingPodsAreWaitedForNotInvalid() {
    createPair(SimulatedSite.pair(NS, "pair-1", "sip-0", "sip-0", "sip-1"));
    SipServerPairStatus s =
        awaitStatus(
            "Pending",
            x ->
                x.phase == Phase.Pending
                    && condition(x, Conditions.READY) != null
                    && condition(x, Conditions.READY).message.contains("sip-1"));
    assertThat(condition(s, Conditions.READY).message)
        .contains("pod sip-0 does not exist")
        .contains("pod sip-1 does not exist");

    createPods();
    awaitStatus("Active", x -> x.phase == Phase.Active && "sip-0".equals(x.primary));
  }

  @Test
  void asecondPairClaimingTheSameVipIsRefusedAndTheFirstKeepsWorking() {
    activePair();
    site.cluster().createServerPod(NS, "sip-2", "pair-2", "node-a", true);
    site.cluster().createServerPod(NS, "sip-3", "pair-2", "node-b", true);
    site.client()
        .resources(SipServerPair.class)
        .inNamespace(NS)
        .resource(SimulatedSite.pair(NS, "pair-2", "sip-2", "sip-2", "sip-3"))
        .create();

    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .until(
            () -> {
              var p2 =
                  site.client()
                      .resources(SipServerPair.class)
                      .inNamespace(NS)
                      .withName("pair-2")
                      .get();
              return p2.getStatus() != null
                  && p2.getStatus().phase == Phase.Invalid
                  && condition(p2.getStatus(), Conditions.READY)
                      .message
                      .contains("already claimed by pair voice/pair-1");
            });
    assertThat(status().phase).isEqualTo(Phase.Active);
    assertThat(site.timeline()).containsExactly("node-a enable " + VIP + " eth0");
  }
}
