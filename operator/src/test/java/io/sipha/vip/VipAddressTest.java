package io.sipha.vip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

@DisplayName("VipAddress and AllowedCidrs")
class VipAddressTest {

  static VipAddress.Result parse(String address, Integer prefix, String iface) {
    return VipAddress.parse(address, prefix, iface);
  }

  static VipAddress ok(String address, int prefix) {
    VipAddress.Result r = parse(address, prefix, "eth0");
    assertThat(r.ok()).as("%s/%d should be valid: %s", address, prefix, r.problem()).isTrue();
    return r.vip();
  }

  static InetAddress ip(String literal) {
    InetAddress a = VipAddress.literal(literal);
    assertThat(a).as("test literal %s", literal).isNotNull();
    return a;
  }

  @Nested
  @DisplayName("addresses")
  class Addresses {

    @Test
    @DisplayName("a valid IPv4 address gives its cidr, host, family and script form")
    void validIpv4() {
      VipAddress v = ok("192.0.2.10", 24);
      assertThat(v.host()).isEqualTo("192.0.2.10");
      assertThat(v.cidr()).isEqualTo("192.0.2.10/24");
      assertThat(v.prefixLength()).isEqualTo(24);
      assertThat(v.interfaceName()).isEqualTo("eth0");
      assertThat(v.isIpv6()).isFalse();
      assertThat(v.toString()).isEqualTo("192.0.2.10/24 dev eth0");
      assertThat(VipAddress.parse("192.0.2.10", 24, "eth0").problem()).isNull();
      assertThat(VipAddress.parse("192.0.2.10", 24, "eth0").value()).contains(v);
    }

    @Test
    @DisplayName(
        "surrounding blanks, even a trailing newline, are refused rather than silently trimmed")
    void blanksAreRefused() {
      for (String a : new String[] {" 198.51.100.7 ", "192.0.2.10\n", "\t192.0.2.10"}) {
        VipAddress.Result r = VipAddress.parse(a, 24, "eth0");
        assertThat(r.ok()).as(a).isFalse();
        assertThat(r.problem().field()).isEqualTo("address");
        assertThat(r.problem().message()).doesNotContain("\n");
      }
    }

    @ParameterizedTest(name = "\"{0}\" is a valid IPv4 VIP")
    @ValueSource(strings = {"192.0.2.1", "192.0.2.254", "198.51.100.0", "203.0.113.255"})
    void moreIpv4(String address) {
      assertThat(ok(address, 24).host()).isEqualTo(address);
    }

    @Test
    @DisplayName("a valid IPv6 address is parsed, flagged IPv6 and keeps its prefix")
    void validIpv6() {
      VipAddress v = ok("2001:db8::10", 64);
      assertThat(v.isIpv6()).isTrue();
      assertThat(v.prefixLength()).isEqualTo(64);
      assertThat(v.address()).isEqualTo(ip("2001:db8:0:0:0:0:0:10"));
      assertThat(v.cidr()).endsWith("/64");
      assertThat(VipAddress.parseCidr(v.cidr(), "eth0").vip()).isEqualTo(v);
    }

    @ParameterizedTest(name = "\"{0}\" is a valid IPv6 VIP")
    @ValueSource(
        strings = {
          "2001:db8::1",
          "2001:DB8::A",
          "2001:db8:0:0:1:0:0:1",
          "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"
        })
    void moreIpv6(String address) {
      assertThat(ok(address, 128).isIpv6()).isTrue();
    }

    @ParameterizedTest(name = "\"{0}\" is not an address literal")
    @ValueSource(
        strings = {
          "300.1.1.1",
          "192.0.2",
          "192.0.2.10.1",
          "192.0.2.010",
          "192.0.2.-1",
          "192.0.2.10/24",
          "192.0.2.1a",
          "3221225994",
          "0xC0.0.2.10",
          "2001:db8::g",
          "2001:db8:::1",
          "[2001:db8::1]",
          "2001:db8::1%eth0",
          "192.0.2\n.10",
          "1.2.3.4 5",
          "localhost",
          "example.invalid",
          "sip-0.example.invalid",
          ":"
        })
    void invalidLiterals(String address) {
      VipAddress.Result r = parse(address, 24, "eth0");
      assertThat(r.ok()).isFalse();
      assertThat(r.vip()).isNull();
      assertThat(r.value()).isEmpty();
      assertThat(r.problem().field()).isEqualTo("address");
      assertThat(r.problem().message()).contains("is not an IPv4 or IPv6 address literal");
      assertThat(r.problem().message()).doesNotContain("\n");
      assertThat(r.problem().toString()).startsWith("address: ");
    }

    @ParameterizedTest(name = "a blank or missing address is required")
    @NullAndEmptySource
    @ValueSource(strings = {"   "})
    void missingAddress(String address) {
      VipAddress.Result r = parse(address, 24, "eth0");
      assertThat(r.ok()).isFalse();
      assertThat(r.problem().field()).isEqualTo("address");
      assertThat(r.problem().message()).contains("is required");
    }

    @ParameterizedTest(name = "host name \"{0}\" is refused without ever being resolved")
    @ValueSource(strings = {"localhost", "example.invalid", "vip.example.invalid", "LOCALHOST"})
    void hostNamesNeverResolve(String name) {
      assertThat(VipAddress.literal(name)).isNull();
      VipAddress.Result r = parse(name, 24, "eth0");
      assertThat(r.ok()).isFalse();
      assertThat(r.problem().message())
          .contains("\"" + name + "\"")
          .contains("not an IPv4 or IPv6 address literal");
    }

    @ParameterizedTest(name = "\"{0}\" cannot be a virtual IP")
    @ValueSource(
        strings = {
          "0.0.0.0",
          "127.0.0.1",
          "224.0.0.1",
          "169.254.1.1",
          "255.255.255.255",
          "::",
          "::1",
          "ff02::1",
          "fe80::1"
        })
    void specialAddressesAreRefused(String address) {
      VipAddress.Result r = parse(address, 24, "eth0");
      assertThat(r.ok()).isFalse();
      assertThat(r.problem().field()).isEqualTo("address");
      assertThat(r.problem().message()).contains("cannot be a virtual IP");
    }

    @Test
    @DisplayName("control characters are shown escaped in the problem and long values are cut")
    void problemIsPrintable() {
      VipAddress.Result r = parse("192.0.2.1\u001b[2J", 24, "eth0");
      assertThat(r.problem().message()).contains("\\x1b").doesNotContain("\u001b");
      VipAddress.Result longOne = parse("9".repeat(200), 24, "eth0");
      assertThat(longOne.problem().message()).contains("...").hasSizeLessThan(150);
    }
  }

  @Nested
  @DisplayName("prefix lengths")
  class Prefixes {

    @ParameterizedTest(name = "IPv4 /{0} is accepted")
    @ValueSource(ints = {1, 8, 24, 31, 32})
    void ipv4InRange(int prefix) {
      assertThat(ok("192.0.2.10", prefix).prefixLength()).isEqualTo(prefix);
    }

    @ParameterizedTest(name = "IPv4 /{0} is refused")
    @ValueSource(ints = {0, -1, 33, 64, 128})
    void ipv4OutOfRange(int prefix) {
      VipAddress.Result r = parse("192.0.2.10", prefix, "eth0");
      assertThat(r.ok()).isFalse();
      assertThat(r.problem().field()).isEqualTo("prefixLength");
      assertThat(r.problem().message())
          .contains(prefix + " is out of range")
          .contains("1-32")
          .contains("IPv4");
    }

    @ParameterizedTest(name = "IPv6 /{0} is accepted")
    @ValueSource(ints = {1, 32, 64, 127, 128})
    void ipv6InRange(int prefix) {
      assertThat(ok("2001:db8::10", prefix).prefixLength()).isEqualTo(prefix);
    }

    @ParameterizedTest(name = "IPv6 /{0} is refused")
    @ValueSource(ints = {0, -5, 129, 256})
    void ipv6OutOfRange(int prefix) {
      VipAddress.Result r = parse("2001:db8::10", prefix, "eth0");
      assertThat(r.ok()).isFalse();
      assertThat(r.problem().field()).isEqualTo("prefixLength");
      assertThat(r.problem().message()).contains("1-128").contains("IPv6");
    }

    @Test
    @DisplayName("a missing prefix length is required")
    void missingPrefix() {
      VipAddress.Result r = parse("192.0.2.10", null, "eth0");
      assertThat(r.problem().field()).isEqualTo("prefixLength");
      assertThat(r.problem().message()).contains("is required");
    }
  }

  @Nested
  @DisplayName("interface names")
  class Interfaces {

    @ParameterizedTest(name = "\"{0}\" is an interface name")
    @ValueSource(
        strings = {"eth0", "bond0.100", "enp0s31f6", "br-lan", "veth_a1", "a", "abcdefghijklmno"})
    void valid(String name) {
      VipAddress.Result r = parse("192.0.2.10", 24, name);
      assertThat(r.ok()).as("%s", r.problem()).isTrue();
      assertThat(r.vip().interfaceName()).isEqualTo(name);
    }

    @ParameterizedTest(name = "\"{0}\" is refused as an interface name")
    @ValueSource(
        strings = {
          "-x",
          "--help",
          "eth0;",
          "eth0; rm -rf /",
          "abcdefghijklmnop",
          "eth0\n",
          "eth\n0",
          "eth 0",
          "eth0/1",
          "../x",
          ".hidden",
          "eth0$(id)",
          "eth0`id`",
          "eth0|x",
          "eth0&",
          "éth0",
          ""
        })
    void invalid(String name) {
      VipAddress.Result r = parse("192.0.2.10", 24, name);
      assertThat(r.ok()).isFalse();
      assertThat(r.problem().field()).isEqualTo("interface");
      assertThat(r.problem().message())
          .contains("is not a Linux interface name")
          .doesNotContain("\n");
    }

    @Test
    @DisplayName("a newline in an interface name is shown escaped")
    void newlineIsEscaped() {
      VipAddress.Result r = parse("192.0.2.10", 24, "eth0\nip addr flush");
      assertThat(r.problem().message()).contains("eth0\\x0aip addr flush");
    }

    @Test
    @DisplayName("a missing interface is required")
    void missing() {
      VipAddress.Result r = parse("192.0.2.10", 24, null);
      assertThat(r.problem().field()).isEqualTo("interface");
      assertThat(r.problem().message()).contains("is required");
    }
  }

  @Nested
  @DisplayName("parseCidr (the form kept in status)")
  class ParseCidr {

    @Test
    @DisplayName("address/prefix round-trips")
    void roundTrip() {
      VipAddress v = VipAddress.parseCidr("203.0.113.5/28", "eth1").vip();
      assertThat(v.cidr()).isEqualTo("203.0.113.5/28");
      assertThat(v.interfaceName()).isEqualTo("eth1");
    }

    @ParameterizedTest(name = "\"{0}\" is refused on field {1}")
    @CsvSource(
        delimiter = '|',
        value = {
          "192.0.2.10 | address",
          "192.0.2.10/ | prefixLength",
          "192.0.2.10/x | prefixLength",
          "192.0.2.10/33 | prefixLength",
          "example.invalid/24 | address",
          "300.1.1.1/24 | address"
        })
    void refused(String cidr, String field) {
      VipAddress.Result r = VipAddress.parseCidr(cidr, "eth0");
      assertThat(r.ok()).isFalse();
      assertThat(r.problem().field()).isEqualTo(field);
    }

    @Test
    @DisplayName("a null cidr is refused, not thrown")
    void nullCidr() {
      assertThat(VipAddress.parseCidr(null, "eth0").ok()).isFalse();
    }
  }

  @Nested
  @DisplayName("AllowedCidrs")
  class Allowed {

    @Test
    @DisplayName("any() allows every address and says so")
    void anyAllowsAll() {
      AllowedCidrs any = AllowedCidrs.any();
      assertThat(any.isAny()).isTrue();
      assertThat(any.allows(ip("192.0.2.10"))).isTrue();
      assertThat(any.allows(ip("2001:db8::10"))).isTrue();
      assertThat(any.toString()).isEqualTo("any");
    }

    @Test
    @DisplayName("an empty or blank list means any")
    void emptyIsAny() {
      assertThat(AllowedCidrs.parse(List.of()).isAny()).isTrue();
      assertThat(AllowedCidrs.parse(List.of("", "  ")).isAny()).isTrue();
    }

    @Test
    @DisplayName("contains addresses in the ranges and rejects the others, per family")
    void containsAndRejects() {
      AllowedCidrs a = AllowedCidrs.parse(List.of("192.0.2.0/24", " 2001:db8:1::/48 "));
      assertThat(a.isAny()).isFalse();
      assertThat(a.allows(ip("192.0.2.0"))).isTrue();
      assertThat(a.allows(ip("192.0.2.10"))).isTrue();
      assertThat(a.allows(ip("192.0.2.255"))).isTrue();
      assertThat(a.allows(ip("198.51.100.10"))).isFalse();
      assertThat(a.allows(ip("203.0.113.10"))).isFalse();
      assertThat(a.allows(ip("2001:db8:1::10"))).isTrue();
      assertThat(a.allows(ip("2001:db8:1:ffff::1"))).isTrue();
      assertThat(a.allows(ip("2001:db8:2::10"))).isFalse();
      assertThat(a.toString()).isEqualTo("192.0.2.0/24, 2001:db8:1::/48");
    }

    @Test
    @DisplayName("a prefix that is not a multiple of 8 masks the partial byte")
    void partialByte() {
      AllowedCidrs a = AllowedCidrs.parse(List.of("192.0.2.0/25", "203.0.113.16/28"));
      assertThat(a.allows(ip("192.0.2.127"))).isTrue();
      assertThat(a.allows(ip("192.0.2.128"))).isFalse();
      assertThat(a.allows(ip("203.0.113.16"))).isTrue();
      assertThat(a.allows(ip("203.0.113.31"))).isTrue();
      assertThat(a.allows(ip("203.0.113.15"))).isFalse();
      assertThat(a.allows(ip("203.0.113.32"))).isFalse();
    }

    @Test
    @DisplayName("a /32 allows exactly one address")
    void single() {
      AllowedCidrs a = AllowedCidrs.parse(List.of("198.51.100.7/32"));
      assertThat(a.allows(ip("198.51.100.7"))).isTrue();
      assertThat(a.allows(ip("198.51.100.6"))).isFalse();
    }

    @Test
    @DisplayName("an IPv4 range never contains an IPv6 address and vice versa")
    void familiesDoNotMix() {
      assertThat(AllowedCidrs.parse(List.of("192.0.2.0/24")).allows(ip("2001:db8::1"))).isFalse();
      assertThat(AllowedCidrs.parse(List.of("2001:db8::/32")).allows(ip("192.0.2.1"))).isFalse();
    }

    @ParameterizedTest(name = "bad entry \"{0}\" is refused with a message naming it")
    @ValueSource(
        strings = {
          "192.0.2.0",
          "192.0.2.0/33",
          "192.0.2.0/-1",
          "192.0.2.0/x",
          "300.0.2.0/24",
          "2001:db8::/129",
          "example.invalid/24",
          "localhost/8",
          "/24"
        })
    void badEntry(String entry) {
      assertThatThrownBy(() -> AllowedCidrs.parse(List.of("198.51.100.0/24", entry)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("\"" + entry + "\"")
          .hasMessageContaining("is not a CIDR");
    }
  }
}
