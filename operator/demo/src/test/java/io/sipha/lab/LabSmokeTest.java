package io.sipha.lab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sipha.api.SipServerPairStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The network lab in {@code make test}: sipha's operator and agents, each a {@code sipha} process
 * inside its namespace, move the VIP between two hosts with sipha's default scripts, and a real SIP
 * client (sipp, in a third namespace) checks from the X-Served-By header of the 200 OK to OPTIONS
 * sent to the VIP which host answers: after a switchover, and after the primary's host has both its
 * cables pulled, a loss seen through the peer path (its peer hears nothing, the operator's probe
 * gets no answer) seconds before its Lease would have run out. Root, Linux, sipp and arping only;
 * skipped with the reason elsewhere. No timing is asserted beyond generous limits: the figures are
 * {@code make lab}'s.
 */
class LabSmokeTest {
  @TempDir static Path dir;

  @BeforeAll
  static void needsTheLab() {
    Optional<String> why = NetLab.unavailable();
    assumeTrue(why.isEmpty(), () -> "network lab skipped: " + why.orElse(""));
  }

  @Test
  @Timeout(180)
  void theVipAnswersFromTheRightHostAfterASwitchoverAndAHostLossSeenThroughThePeerPath() {
    try (NetLab lab = NetLab.create(dir.resolve("lab"))) {
      lab.startResponder("host-a");
      lab.startResponder("host-b");
      try (SiphaOnLab sipha = SiphaOnLab.start(lab)) {
        lab.flushClientArp();
        await("the VIP answers from host-a after the election")
            .atMost(Duration.ofSeconds(10))
            .pollInterval(Duration.ofMillis(200))
            .until(lab::answeredBy, "host-a"::equals);

        // manual switchover: spec.primary sip-0 -> sip-1
        sipha.switchTo("host-b");
        await("the VIP answers from host-b after the switchover")
            .atMost(Duration.ofSeconds(15))
            .pollInterval(Duration.ofMillis(200))
            .until(lab::answeredBy, "host-b"::equals);
        sipha.await(
            "sip-1 primary with the VIP on host-b only",
            Duration.ofSeconds(15),
            () -> sipha.primaryOn("host-b") && sipha.vipOnlyOn("host-b"));
        sipha.await(
            "the peers hear each other again after the switchover",
            Duration.ofSeconds(15),
            () -> "node-b".equals(sipha.hears("host-a")) && "node-a".equals(sipha.hears("host-b")));

        // host loss: both of host-b's cables are pulled; its agent keeps running, cut off
        lab.linkDown("host-b");
        sipha.await(
            "sip-0 primary with the VIP on host-a",
            Duration.ofSeconds(20),
            () -> sipha.primaryOn("host-a") && lab.holdsVip("host-a"));
        SipServerPairStatus s = sipha.status();
        assertThat(s.history.get(s.history.size() - 1).reason).isEqualTo("NodeLost");
        assertThat(
                sipha.cluster().client().v1().events().inNamespace(SiphaOnLab.NS).list().getItems())
            .as("an Event says both observers agreed")
            .anySatisfy(
                e ->
                    assertThat(e.getMessage())
                        .contains(
                            "node node-b is lost: node-a hears nothing from its agent over the"
                                + " peer channel"));
        await("the VIP answers from host-a after host-b is lost")
            .atMost(Duration.ofSeconds(20))
            .pollInterval(Duration.ofMillis(250))
            .until(lab::answeredBy, "host-a"::equals);
        assertThat(lab.clientArpEntry())
            .as("the client's ARP entry for the VIP")
            .contains(lab.mac("host-a"));
      }
    }
  }
}
