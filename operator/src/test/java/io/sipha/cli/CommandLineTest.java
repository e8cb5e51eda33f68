package io.sipha.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The executable's sub-commands as a user types them. */
class CommandLineTest {
  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void helpListsTheSubCommands() {
    Run r = run("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("operator").contains("agent");
  }

  @Test
  void eachSubCommandHasHelp() {
    assertThat(run("operator", "--help").out())
        .contains("--namespace")
        .contains("--allowed-vip-cidrs")
        .contains("--lease-namespace")
        .contains("leader-election");
    assertThat(run("agent", "--help").out())
        .contains("--node")
        .contains("--scripts-dir")
        .contains("--script-timeout-ms");
  }

  @Test
  void agentRefusesToStartWithoutItsScripts(@TempDir Path empty) {
    Run r = run("agent", "--node", "node-a", "--scripts-dir", empty.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .contains("vip-enable is missing")
        .contains("vip-disable is missing")
        .contains("vip-status is missing");
  }

  @Test
  void operatorRefusesABadAllowedRange() {
    Run r = run("operator", "--allowed-vip-cidrs", "192.0.2.0/33");
    assertThat(r.code()).isNotZero();
    assertThat(r.err()).contains("192.0.2.0/33").contains("CIDR");
  }
}
