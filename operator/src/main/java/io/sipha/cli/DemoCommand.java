package io.sipha.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.sipha.demo.Demo;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sipha demo}: the four workflows on an embedded API, no cluster, no root, no network. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Play the four workflows (switchover, server failure, host disconnected, reconnection) on an"
        + " embedded Kubernetes API with two simulated hosts, and print the timeline.")
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--verbose", description = "Show the operator's and agents' logs too.")
  boolean verbose;

  @Override
  public Integer call() {
    if (!verbose) {
      var context = (ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory();
      context.getLoggerList().forEach(l -> l.setLevel(null));
      ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.ERROR);
    }
    return new Demo(System.out).run();
  }
}
