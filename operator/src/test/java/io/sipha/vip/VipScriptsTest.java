package io.sipha.vip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Running scripts as real processes: arguments, exit codes, output, timeouts, unusable scripts. */
class VipScriptsTest {
  @TempDir Path dir;
  final VipAddress vip = VipAddress.parse("192.0.2.10", 24, "eth0").vip();

  void script(String name, String body) throws Exception {
    Path p = dir.resolve(name);
    Files.writeString(p, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  void allScripts(String body) throws Exception {
    for (VipScript s : VipScript.values()) {
      script(s.fileName(), body);
    }
  }

  @Test
  void argumentsArriveSeparatelyAndOutputIsCaptured() throws Exception {
    allScripts("echo \"argc=$# one=$1 two=$2\"");
    ScriptResult r = VipScripts.in(dir, Duration.ofSeconds(5)).run(VipScript.ENABLE, vip);
    assertThat(r.succeeded()).isTrue();
    assertThat(r.outputTail().strip()).isEqualTo("argc=2 one=192.0.2.10/24 two=eth0");
  }

  @Test
  void exitCodeAndErrorOutputAreReported() throws Exception {
    allScripts("echo 'RTNETLINK answers: Operation not permitted' >&2; exit 2");
    ScriptResult r = VipScripts.in(dir, Duration.ofSeconds(5)).run(VipScript.DISABLE, vip);
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.describe())
        .isEqualTo("vip-disable exited 2: RTNETLINK answers: Operation not permitted");
  }

  @Test
  void aHangingScriptIsKilledAtTheTimeout() throws Exception {
    allScripts("sleep 30");
    long start = System.nanoTime();
    ScriptResult r = VipScripts.in(dir, Duration.ofMillis(300)).run(VipScript.ENABLE, vip);
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertThat(r.timedOut()).isTrue();
    assertThat(r.succeeded()).isFalse();
    assertThat(millis).isLessThan(5_000);
    assertThat(r.describe()).startsWith("vip-enable timed out after");
  }

  @Test
  void missingOrNotExecutableScriptsAreRefusedNamingEachAndTheFix() throws Exception {
    script("vip-enable", "exit 0");
    Files.writeString(dir.resolve("vip-disable"), "#!/bin/sh\nexit 0\n");
    assertThatThrownBy(() -> VipScripts.in(dir, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("vip-disable is not executable (chmod +x")
        .hasMessageContaining("vip-status is missing")
        .hasMessageNotContaining("vip-enable");
    assertThatThrownBy(() -> VipScripts.in(dir.resolve("nope"), Duration.ofSeconds(1)))
        .hasMessageContaining("does not exist")
        .hasMessageContaining("--scripts-dir");
  }
}
