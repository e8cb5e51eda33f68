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

  /** The agent's peer settings as these options give them. */
  static io.sipha.agent.AgentSettings.Peer peer(String... args) {
    AgentCommand cmd = new AgentCommand();
    new CommandLine(cmd).parseArgs(args);
    return cmd.peerSettings();
  }

  @Test
  void theProbeEndpointIsWhereHealthzListens(@TempDir Path dir) throws Exception {
    Path key = dir.resolve("peer-key");
    java.nio.file.Files.writeString(key, "a-shared-key-of-the-two-agents-0123456789\n");
    String[] base = {
      "--node", "node-a", "--scripts-dir", dir.toString(), "--peer-key-file", key.toString()
    };
    // on every address: the node's own (the operator reaches it there)
    assertThat(peer(concat(base, "--node-ip", "198.51.100.11")).probeEndpoint())
        .isEqualTo("198.51.100.11:9477");
    // on one address: that one, not the node's first (nothing listens there)
    assertThat(
            peer(concat(
                    base,
                    "--node-ip",
                    "198.51.100.11",
                    "--http-address",
                    "127.0.0.1",
                    "--http-port",
                    "19477"))
                .probeEndpoint())
        .isEqualTo("127.0.0.1:19477");
    // the node's addresses unknown, /healthz on one address: still probed there
    assertThat(
            peer(concat(base, "--peer-address", "127.0.0.2", "--http-address", "127.0.0.1"))
                .probeEndpoint())
        .isEqualTo("127.0.0.1:9477");
    assertThat(peer(concat(base, "--node-ip", "2001:db8::11")).probeEndpoint())
        .isEqualTo("[2001:db8::11]:9477");
    assertThat(peer(concat(base, "--node-ip", "198.51.100.11", "--http-port", "0")).probeEndpoint())
        .as("no /healthz: no probe")
        .isNull();
  }

  static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
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
