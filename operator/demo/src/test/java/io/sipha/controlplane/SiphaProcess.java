package io.sipha.controlplane;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The operator or a node agent as the image runs it: {@code java -jar sipha.jar ...} in a process
 * of its own, with the environment the chart gives its container, its output in a log file.
 */
public final class SiphaProcess implements AutoCloseable {
  private final String name;
  private final Process process;
  private final Path log;

  private SiphaProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  /** The product jar the build made (the failsafe run names it in sipha.jar). */
  static Path jar() {
    String j = System.getProperty("sipha.jar");
    Path p = j == null ? Path.of("target", "sipha.jar") : Path.of(j);
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException(
          p + " is missing: the e2e tier runs after the package phase (make e2e)");
    }
    return p;
  }

  public static SiphaProcess start(
      String name, List<String> args, Map<String, String> env, Path logDir) throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-jar",
                jar().toString()));
    cmd.addAll(args);
    Path log = logDir.resolve(name + ".log");
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("KUBE") || k.startsWith("SIPHA_"));
    pb.environment().putAll(env);
    return new SiphaProcess(name, pb.start(), log);
  }

  public boolean alive() {
    return process.isAlive();
  }

  public String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** SIGKILL: the process is gone at once, nothing it would do on a stop is done (a lost host). */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** SIGTERM, as the kubelet stops a container; SIGKILL after 15 s. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(15, TimeUnit.SECONDS)) {
      kill();
    }
  }

  @Override
  public String toString() {
    return name + (process.isAlive() ? " (running)" : " (exited " + process.exitValue() + ")");
  }
}
