package io.sipha.lab;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the lab's commands (ip, sipp, keepalived...) as processes, never through a shell string. */
final class Sh {
  private Sh() {}

  /** The outcome of a command that ran to its end. */
  record Result(List<String> command, int exitCode, String output) {
    boolean ok() {
      return exitCode == 0;
    }
  }

  /** Runs a command, waits at most 20 s, returns its exit code and output (stdout and stderr). */
  static Result run(String... command) {
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    try {
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(List.of(command), -1, out + "\n(timed out)");
      }
      return new Result(List.of(command), p.exitValue(), out);
    } catch (IOException e) {
      return new Result(List.of(command), -1, String.valueOf(e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
    }
  }

  /** Runs a command that must succeed. */
  static String ok(String... command) {
    Result r = run(command);
    if (!r.ok()) {
      throw new IllegalStateException(
          String.join(" ", command) + " exited " + r.exitCode() + ": " + r.output().strip());
    }
    return r.output();
  }

  /** Starts a long-running command, its output (stdout and stderr) going to a file. */
  static Process start(Path output, String... command) {
    try {
      Files.createDirectories(output.getParent());
      return new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(output.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + String.join(" ", command), e);
    }
  }

  /** Stops a process we started and its children: SIGTERM, then SIGKILL after the grace period. */
  static void stop(Process p, long graceMillis) {
    if (p == null) {
      return;
    }
    List<ProcessHandle> children = p.descendants().toList();
    p.destroy();
    try {
      if (!p.waitFor(graceMillis, TimeUnit.MILLISECONDS)) {
        children.forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    }
    children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
  }

  /**
   * Waits (at most 30 s) until a process we started has written {@code line} to its output file;
   * fails with the end of that output if it exits first or takes longer.
   */
  static void awaitOutput(Process p, Path output, String line, String what) {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (read(output).contains(line)) {
        return;
      }
      if (!p.isAlive()) {
        break;
      }
      sleep(20);
    }
    String text = read(output);
    throw new IllegalStateException(
        what
            + " did not start; its output: "
            + (text.length() > 2000 ? text.substring(text.length() - 2000) : text).strip());
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      return e.toString();
    }
  }

  /** Whether a command is on the PATH. */
  static boolean onPath(String command) {
    String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
