package io.sipha.lab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The network lab in {@code make test}: sipha's real operator and agents move the VIP between two
 * network namespaces with sipha's default scripts, and a real SIP client (sipp, in a third
 * namespace) checks from the X-Served-By header of the 200 OK to OPTIONS sent to the VIP which host
 * answers: after a switchover, and after the primary's host is cut off. Root, Linux, sipp and
 * arping only; skipped with the reason elsewhere. No timing is asserted beyond generous limits: the
 * figures are {@code make lab}'s.
 */
class LabSmokeTest {
  @TempDir static Path dir;

  @BeforeAll
  static void needsTheLab() {
    Optional<String> why = NetLab.unavailable();
    assumeTrue(why.isEmpty(), () -> "network lab skipped: " + why.orElse(""));
  }

  @Test
  @Timeout(120)
  void theVipAnswersFromTheRightHostAfterASwitchoverAndAHostLoss() {
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

        // host loss: host-b's cable is pulled and its agent stops at the same instant
        lab.linkDown("host-b");
        sipha.stopAgent("host-b");
        await("the VIP answers from host-a after host-b is lost")
            .atMost(Duration.ofSeconds(20))
            .pollInterval(Duration.ofMillis(250))
            .until(lab::answeredBy, "host-a"::equals);
        sipha.await(
            "sip-0 primary with the VIP on host-a",
            Duration.ofSeconds(15),
            () -> sipha.primaryOn("host-a"));
        assertThat(lab.holdsVip("host-a")).isTrue();
        assertThat(lab.holdsVip("host-b"))
            .as("host-b was cut off: nothing could remove its copy")
            .isTrue();
        assertThat(lab.clientArpEntry())
            .as("the client's ARP entry for the VIP")
            .contains(lab.mac("host-a"));
      }
    }
  }
}
