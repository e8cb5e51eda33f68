package io.sipha.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.sipha.cli.sandbox.Sandbox;
import io.sipha.decision.MonotonicClock;
import io.sipha.demo.ControlPlaneApi;
import io.sipha.demo.Demo;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sipha demo}: the four workflows on an embedded API, no cluster, no root, no network. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Play the four workflows (switchover, server failure, host disconnected, reconnection) on an"
            + " embedded Kubernetes API with two simulated hosts, and print the timeline.",
    footer = "With --keep-running: a sandbox for your own kubectl instead (make sandbox).")
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--verbose", description = "Show the operator's and agents' logs too.")
  boolean verbose;

  @Option(
      names = "--keep-running",
      description =
          "Do not play the workflows: set up the site (pair-1 Active on"
              + " node-a), write a kubeconfig, print commands to try with your own kubectl, and run until Ctrl-C.")
  boolean keepRunning;

  @Option(
      names = "--kubeconfig-out",
      paramLabel = "FILE",
      defaultValue = "target/sandbox.kubeconfig",
      description =
          "With --keep-running: where to write the kubeconfig (default: ${DEFAULT-VALUE}).")
  Path kubeconfigOut;

  @Option(
      names = "--control-plane",
      paramLabel = "KUBECONFIG",
      description =
          "With --keep-running: run the sandbox on"
              + " the local control plane of this admin kubeconfig (e2e/control-plane: make sandbox passes it once that is"
              + " built) instead of the embedded API; run from the repository's root, whose examples it applies.")
  Path controlPlane;

  @Option(
      names = "--kubectl",
      paramLabel = "PATH",
      description =
          "With --control-plane: the kubectl built with the"
              + " control plane, named in what the sandbox prints.")
  Path kubectl;

  @Override
  public Integer call() throws InterruptedException {
    if (!verbose) {
      var context = (ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory();
      context.getLoggerList().stream()
          .filter(l -> !org.slf4j.Logger.ROOT_LOGGER_NAME.equals(l.getName()))
          .forEach(l -> l.setLevel(null));
      ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.ERROR);
    }
    if (keepRunning) {
      if (!verbose) {
        // what kubectl sends that the mock cannot read makes its HTTP layer log stack traces
        ((Logger) LoggerFactory.getLogger("io.vertx")).setLevel(Level.OFF);
      }
      Sandbox sandbox;
      try {
        sandbox =
            Sandbox.start(
                controlPlane == null
                    ? null
                    : ControlPlaneApi.fromKubeconfig(controlPlane, MonotonicClock.startingNow()),
                Path.of(""),
                kubeconfigOut,
                System.out);
      } catch (RuntimeException e) {
        System.err.println("sipha demo --keep-running: " + e.getMessage());
        return 2;
      }
      sandbox.printIntro(System.out, kubectl);
      return UntilStopped.serve(sandbox);
    }
    if (controlPlane != null) {
      System.err.println(
          "sipha demo: --control-plane goes with --keep-running (the sandbox); the demo runs on the"
              + " embedded API");
      return 2;
    }
    return new Demo(System.out).run();
  }
}
