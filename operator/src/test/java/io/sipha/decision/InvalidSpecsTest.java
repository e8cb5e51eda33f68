package io.sipha.decision;

import static io.sipha.decision.OnePair.*;
import static io.sipha.decision.PlanReaders.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.Condition;
import io.sipha.api.Phase;
import io.sipha.api.SipServerPairStatus;
import io.sipha.decision.Plan.Note;
import io.sipha.vip.AllowedCidrs;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Invalid specs: refused with a condition naming the field; the pair serves on its last valid spec.
 * Each step runs {@link PairDecider#decide} in {@link OnePair}, whose safety check runs after every
 * step.
 */
@DisplayName("PairDecider: invalid specs")
class InvalidSpecsTest {
  record InvalidCase(Consumer<OnePair> breakIt, String fieldPath, String alsoMentions) {}

  static Stream<Arguments> invalidSpecs() {
    return Stream.of(
        invalid(
            "the same server twice",
            w -> w.spec.setServers(new ArrayList<>(List.of("sip-0", "sip-0"))),
            "spec.servers",
            "same pod twice"),
        invalid(
            "spec.primary not in spec.servers",
            w -> w.spec.setPrimary("sip-2"),
            "spec.primary",
            "sip-2"),
        invalid(
            "an address that is not an IP literal (300.1.1.1)",
            w -> w.spec.getVirtualIP().setAddress("300.1.1.1"),
            "spec.virtualIP.address",
            "300.1.1.1"),
        invalid(
            "prefixLength 33 for an IPv4 address",
            w -> w.spec.getVirtualIP().setPrefixLength(33),
            "spec.virtualIP.prefixLength",
            "1-32"),
        invalid(
            "an interface name carrying a shell command",
            w -> w.spec.getVirtualIP().setInterfaceName("eth0; rm -rf /"),
            "spec.virtualIP.interface",
            "eth0; rm -rf /"),
        invalid(
            "a VIP outside the admin's allowed CIDRs",
            w -> w.allowed = AllowedCidrs.parse(List.of("198.51.100.0/24")),
            "spec.virtualIP.address",
            "198.51.100.0/24"),
        invalid(
            "a VIP already claimed by another pair",
            w -> w.vipClaimedBy = "voice/pair-2",
            "spec.virtualIP.address",
            "voice/pair-2"));
  }

  /**
   * The invalid specs a user writes (not the admin's narrowing of the allowed ranges, which makes
   * the last valid spec invalid too: the pair then changes nothing at all).
   */
  static Stream<Arguments> invalidSpecChanges() {
    return invalidSpecs().filter(a -> !((Named<?>) a.get()[0]).getName().contains("allowed CIDRs"));
  }

  static Arguments invalid(
      String name, Consumer<OnePair> breakIt, String fieldPath, String alsoMentions) {
    return Arguments.of(Named.of(name, new InvalidCase(breakIt, fieldPath, alsoMentions)));
  }

  @ParameterizedTest(name = "{0} is Invalid: Ready False/InvalidSpec naming the field, no roles")
  @MethodSource("io.sipha.decision.InvalidSpecsTest#invalidSpecs")
  void invalidOnANewPair(InvalidCase c) {
    OnePair w = new OnePair();
    c.breakIt().accept(w);
    Plan p = w.step();

    assertThat(p.status().phase).isEqualTo(Phase.Invalid);
    Condition ready = requireCondition(p, Conditions.READY);
    assertThat(ready.status).isEqualTo("False");
    assertThat(ready.reason).isEqualTo("InvalidSpec");
    assertThat(ready.message).contains(c.fieldPath()).contains(c.alsoMentions());
    assertThat(p.roles()).isEmpty();
    assertThat(p.podsToLabel()).isEmpty();
    assertThat(p.status().epoch).isZero();
    assertThat(p.status().primary).isNull();
    Note e = event(p, "InvalidSpec");
    assertThat(e.warning()).isTrue();
    assertThat(e.message()).contains(c.fieldPath());
  }

  @ParameterizedTest(
      name =
          "{0} on an Active pair: the pair keeps serving on its last valid spec and fails over when its primary fails")
  @MethodSource("io.sipha.decision.InvalidSpecsTest#invalidSpecChanges")
  void anInvalidPairKeepsServingOnItsLastValidSpec(InvalidCase c) {
    OnePair w = OnePair.active();
    w.generation++;
    c.breakIt().accept(w);
    Plan invalid = w.step();
    assertThat(invalid.status().phase).isEqualTo(Phase.Invalid);
    assertThat(event(invalid, "InvalidSpec").warning()).isTrue();

    w.pod("sip-0").exists = false; // the primary fails while the spec is invalid
    Plan p = w.settle();
    assertThat(p.status().primary).as("failed over on the last valid spec").isEqualTo("sip-1");
    assertThat(p.status().vip.node).isEqualTo("node-b");
    assertThat(p.status().vip.address).as("the VIP of the last valid spec").isEqualTo(VIP_CIDR);
    assertThat(p.status().phase).as("and it still says Invalid").isEqualTo(Phase.Invalid);
    Condition ready = requireCondition(p, Conditions.READY);
    assertThat(ready.reason).isEqualTo("InvalidSpec");
    assertThat(ready.message).contains(c.fieldPath()).contains("last valid spec");
    assertThat(p.events().stream().filter(e -> e.reason().equals("InvalidSpec")))
        .as("said once")
        .isEmpty();
  }

  @ParameterizedTest(name = "{0} on an Active pair changes no role, no epoch and no VIP grant")
  @MethodSource("io.sipha.decision.InvalidSpecsTest#invalidSpecs")
  void invalidOnAnActivePair(InvalidCase c) {
    OnePair w = OnePair.active();
    SipServerPairStatus before = w.status;
    w.generation++;
    c.breakIt().accept(w);
    Plan p = w.step();

    assertThat(p.status().phase).isEqualTo(Phase.Invalid);
    assertThat(requireCondition(p, Conditions.READY).message).contains(c.fieldPath());
    assertThat(p.roles()).isEmpty();
    assertThat(p.status().epoch).isEqualTo(before.epoch);
    assertThat(p.status().primary).isEqualTo(before.primary);
    assertThat(p.status().vip.node).isEqualTo(before.vip.node);
    assertThat(p.status().vip.state).isEqualTo(before.vip.state);
    assertThat(p.status().vip.address).isEqualTo(before.vip.address);
    assertThat(p.status().observedGeneration).isEqualTo(w.generation);
  }
}
