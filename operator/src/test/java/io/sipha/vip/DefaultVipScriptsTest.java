package io.sipha.vip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default VIP scripts shipped with sipha, run for real with ip(8) inside a network namespace of
 * the test's own (root only; skipped elsewhere with the reason). Documentation addresses only.
 */
class DefaultVipScriptsTest {
  static final String NS = "sipha-test-" + ProcessHandle.current().pid();

  /** The scripts the Helm chart installs by default (its ConfigMap is made from these files). */
  static final Path DEFAULT_SCRIPTS = Path.of("..", "helm", "sipha", "files");

  @TempDir static Path dir;
  static VipScripts scripts;
  static boolean created;

  @BeforeAll
  static void namespace() throws Exception {
    assumeTrue(
        "root".equals(System.getProperty("user.name")), "needs root to create a network namespace");
    assumeTrue(
        Files.isExecutable(Path.of("/usr/sbin/ip")) || Files.isExecutable(Path.of("/sbin/ip")),
        "needs iproute2 (ip)");
    sh("ip", "netns", "add", NS);
    created = true;
    sh("ip", "-n", NS, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1");
    sh("ip", "-n", NS, "link", "set", "eth1", "up");
    sh("ip", "-n", NS, "link", "set", "eth0", "up");
    for (VipScript s : VipScript.values()) {
      Path real = dir.resolve("real-" + s.fileName());
      Files.copy(DEFAULT_SCRIPTS.resolve(s.fileName()), real);
      Path wrapper = dir.resolve(s.fileName());
      Files.writeString(
          wrapper,
          "#!/bin/sh\nexec ip netns exec " + NS + " " + real + " \"$@\"\n",
          StandardCharsets.UTF_8);
      for (Path p : List.of(real, wrapper)) {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
    }
    scripts = VipScripts.in(dir, Duration.ofSeconds(10));
  }

  @AfterAll
  static void removeNamespace() throws Exception {
    if (created) {
      sh("ip", "netns", "del", NS);
    }
  }

  static String sh(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
    return out;
  }

  static String addresses() throws Exception {
    return sh("ip", "-n", NS, "-o", "addr", "show", "dev", "eth0");
  }

  void cycle(VipAddress vip, String shown) throws Exception {
    assertThat(scripts.run(VipScript.STATUS, vip).exitCode()).as("absent before").isEqualTo(1);
    ScriptResult enabled = scripts.run(VipScript.ENABLE, vip);
    assertThat(enabled.succeeded()).as(enabled.describe()).isTrue();
    assertThat(addresses()).contains(shown);
    assertThat(scripts.run(VipScript.ENABLE, vip).succeeded()).as("enable is idempotent").isTrue();
    assertThat(scripts.run(VipScript.STATUS, vip).exitCode()).as("present").isZero();
    ScriptResult disabled = scripts.run(VipScript.DISABLE, vip);
    assertThat(disabled.succeeded()).as(disabled.describe()).isTrue();
    assertThat(addresses()).doesNotContain(shown);
    assertThat(scripts.run(VipScript.DISABLE, vip).succeeded())
        .as("disable is idempotent")
        .isTrue();
    assertThat(scripts.run(VipScript.STATUS, vip).exitCode()).as("absent after").isEqualTo(1);
  }

  @Test
  void ipv4AddressIsAddedAnnouncedAndRemoved() throws Exception {
    cycle(VipAddress.parse("192.0.2.10", 24, "eth0").vip(), "inet 192.0.2.10/24");
  }

  @Test
  void ipv6AddressIsAddedAndRemovedInTheFormIpPrintsIt() throws Exception {
    cycle(VipAddress.parse("2001:DB8:0:0::10", 64, "eth0").vip(), "inet6 2001:db8::10/64");
  }

  @Test
  void aMissingInterfaceFailsWithTheErrorCaptured() {
    ScriptResult r =
        scripts.run(VipScript.ENABLE, VipAddress.parse("192.0.2.10", 24, "eth9").vip());
    assertThat(r.succeeded()).isFalse();
    assertThat(r.exitCode()).isPositive();
    assertThat(r.describe()).contains("vip-enable exited").contains("eth9");
  }
}
