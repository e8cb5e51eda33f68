package io.sipha.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The one executable: {@code sipha operator}, {@code sipha agent}, {@code sipha demo}. */
@Command(
    name = "sipha",
    mixinStandardHelpOptions = true,
    version = "sipha 0.1.0",
    description = "IP Address Takeover high availability for pairs of SIP Servers on Kubernetes.",
    subcommands = {OperatorCommand.class, AgentCommand.class, DemoCommand.class})
public final class Main {
  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }
}
