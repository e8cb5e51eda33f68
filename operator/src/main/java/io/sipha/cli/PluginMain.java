package io.sipha.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.sipha.cli.plugin.KubeOptions;
import io.sipha.cli.plugin.completion.CompletionCommand;
import io.sipha.cli.plugin.history.HistoryCommand;
import io.sipha.cli.plugin.plan.PlanCommand;
import io.sipha.cli.plugin.status.StatusCommand;
import io.sipha.cli.plugin.switchover.SwitchoverCommand;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code kubectl sipha}: the kubectl plugin. The launcher {@code kubectl-sipha} that {@code make
 * install-plugin} puts on the PATH runs {@code java -cp sipha.jar io.sipha.cli.PluginMain "$@"}.
 */
@Command(
    name = "kubectl sipha",
    mixinStandardHelpOptions = true,
    version = "kubectl-sipha 0.1.0",
    description = {
      "Drive and read SipServerPairs: switch over and follow it live, show status and history, and ask what"
          + " the operator would do next.",
      "Each command takes the usual --kubeconfig, --context and -n/--namespace."
    },
    subcommands = {
      SwitchoverCommand.class,
      StatusCommand.class,
      HistoryCommand.class,
      PlanCommand.class,
      CompletionCommand.class,
      CompletionCommand.Candidates.class,
      CommandLine.HelpCommand.class
    })
public final class PluginMain {
  public static void main(String[] args) {
    // the client libraries' own logs are not for the user of a command-line tool
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.ERROR);
    ((Logger) LoggerFactory.getLogger("io.fabric8")).setLevel(Level.OFF);
    System.exit(commandLine().execute(args));
  }

  /** The command tree with kubectl-like error reporting: "error: ..." and exit code 1. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new PluginMain());
    // the words to complete are taken as they are, options and all
    cl.getSubcommands()
        .get("__complete")
        .setUnmatchedOptionsArePositionalParams(true)
        .setStopAtPositional(true);
    cl.setExecutionExceptionHandler(
        (e, line, parsed) -> {
          line.getErr().println("error: " + describe(e, serverOf(line)));
          line.getErr().flush();
          return 1;
        });
    return cl;
  }

  /**
   * The API server the failing command's client was made for (its {@link KubeOptions}), or null.
   */
  static String serverOf(CommandLine line) {
    return line.getCommandSpec().mixins().values().stream()
        .map(CommandLine.Model.CommandSpec::userObject)
        .filter(KubeOptions.class::isInstance)
        .map(o -> ((KubeOptions) o).server())
        .filter(java.util.Objects::nonNull)
        .findFirst()
        .orElse(null);
  }

  static String describe(Throwable e, String server) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (e instanceof KubernetesClientException
        && (root instanceof java.net.ConnectException
            || root instanceof java.nio.channels.UnresolvedAddressException
            || root instanceof java.net.UnknownHostException
            || root instanceof java.net.http.HttpConnectTimeoutException
            // the JDK client's answer to a refused connection
            || root instanceof java.nio.channels.ClosedChannelException)) {
      return "cannot reach the Kubernetes API"
          + (server == null ? "" : " at " + server)
          + " ("
          + root
          + "); check --kubeconfig or $KUBECONFIG, and --context";
    }
    if (e instanceof KubernetesClientException k) {
      if (k.getStatus() != null && k.getStatus().getMessage() != null) {
        return k.getStatus().getMessage();
      }
      Throwable cause = k.getCause();
      while (cause != null && cause.getCause() != null) {
        cause = cause.getCause();
      }
      return k.getMessage() + (cause == null ? "" : " (" + cause + ")");
    }
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }
}
