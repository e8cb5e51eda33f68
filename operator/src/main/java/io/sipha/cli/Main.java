package io.sipha.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The one executable: {@code sipha operator}, {@code sipha agent}; and {@code sipha demo} in the
 * demo's jar (sipha-demo.jar, with the embedded API), which the product jar the image runs does not
 * carry.
 */
@Command(
    name = "sipha",
    mixinStandardHelpOptions = true,
    version = "sipha 0.1.0",
    description = "IP Address Takeover high availability for pairs of SIP Servers on Kubernetes.",
    subcommands = {OperatorCommand.class, AgentCommand.class})
public final class Main {
  /** The demo's command: in sipha-demo.jar only. */
  static final String DEMO_COMMAND = "io.sipha.cli.DemoCommand";

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /**
   * The command line, with {@code demo} when this jar has it and a pointer to the demo's jar when
   * not.
   */
  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    try {
      cl.addSubcommand(Class.forName(DEMO_COMMAND).getDeclaredConstructor().newInstance());
    } catch (ReflectiveOperationException | LinkageError e) {
      cl.addSubcommand("demo", new NoDemo());
    }
    return cl;
  }

  /** {@code sipha demo} in the product jar: where the demo is. */
  @Command(
      name = "demo",
      description = "Not in this jar: the demo and the sandbox are in sipha-demo.jar (make demo).")
  static final class NoDemo implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Unmatched java.util.List<String> ignored;

    @Override
    public Integer call() {
      System.err.println(
          "sipha demo: this is the product jar (the operator and the node agent), which carries no"
              + " embedded API; the demo and the sandbox are in operator/demo/target/sipha-demo.jar: make demo, make sandbox");
      return 2;
    }
  }
}
