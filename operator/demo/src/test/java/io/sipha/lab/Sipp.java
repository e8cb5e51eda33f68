package io.sipha.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The lab's SIP client: sipp (Debian package sip-tester) in the client namespace, sending one
 * OPTIONS per call to the VIP with the scenario {@code lab/options-probe.xml}, which logs for every
 * call either {@code OK <call> <host>} (the X-Served-By header of the 200 OK) or {@code TIMEOUT
 * <call>} after 500 ms without an answer.
 */
final class Sipp {
  /** The answer wait of the scenario (its recv timeout). */
  static final long ANSWER_TIMEOUT_MICROS = 500_000;

  private Sipp() {}

  /**
   * One logged call. {@code atMicros} is the time sipp logged it (epoch microseconds): the arrival
   * of the answer, or the end of the 500 ms wait for a call that got none.
   *
   * @param host the X-Served-By of the answer, or null for a timeout
   */
  record Sample(long atMicros, long call, String host) {
    boolean answered() {
      return host != null;
    }

    /** When the probe was sent (about): the answer time, or the timeout minus the wait. */
    long sentAtMicros() {
      return answered() ? atMicros : atMicros - ANSWER_TIMEOUT_MICROS;
    }
  }

  /** A running sipp. */
  static final class Run implements AutoCloseable {
    private final Process process;
    private final Path log;
    private List<Sample> samples;

    Run(Process process, Path log) {
      this.process = process;
      this.log = log;
    }

    /** Stops sipp (SIGINT: it ends the calls in progress and closes its log) and reads its log. */
    List<Sample> stop() {
      if (samples != null) {
        return samples;
      }
      if (process.isAlive()) {
        Sh.run("kill", "-INT", String.valueOf(process.pid()));
      }
      waitFor(5_000);
      samples = parse(log);
      return samples;
    }

    /** Waits for sipp to end by itself (a run with -m), then reads its log. */
    List<Sample> await(long millis) {
      waitFor(millis);
      samples = parse(log);
      return samples;
    }

    private void waitFor(long millis) {
      try {
        if (!process.waitFor(millis, TimeUnit.MILLISECONDS)) {
          Sh.stop(process, 1_000);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        Sh.stop(process, 0);
      }
    }

    @Override
    public void close() {
      if (process.isAlive()) {
        Sh.stop(process, 2_000);
      }
    }
  }

  /**
   * The command line, as lab.md measured it: UDP, one socket, {@code rate} calls per second, no
   * retransmission, no keyboard, the scenario's log messages in {@code log}.
   */
  static List<String> command(
      String clientNs,
      String clientAddress,
      int clientPort,
      String target,
      Path scenario,
      Path log,
      int rate,
      Integer maxCalls) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "ip",
                "netns",
                "exec",
                clientNs,
                "sipp",
                target,
                "-sf",
                scenario.toString(),
                "-i",
                clientAddress,
                "-p",
                String.valueOf(clientPort),
                "-t",
                "u1",
                "-r",
                String.valueOf(rate),
                "-rp",
                "1000",
                "-nr",
                "-nostdin",
                "-trace_logs",
                "-log_file",
                log.toString()));
    if (maxCalls != null) {
      cmd.addAll(List.of("-m", String.valueOf(maxCalls)));
    }
    return cmd;
  }

  static Run start(List<String> command, Path log, Path screen) {
    try {
      Files.deleteIfExists(log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Run(Sh.start(screen, command.toArray(String[]::new)), log);
  }

  /**
   * Reads a log written by the scenario. A line is {@code DATE TIME EPOCH.MICROS OK CALL HOST} or
   * {@code DATE TIME EPOCH.MICROS TIMEOUT CALL} (sipp's [timestamp] is date, time and epoch).
   */
  static List<Sample> parse(Path log) {
    if (!Files.exists(log)) {
      return List.of();
    }
    List<Sample> out = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(log)) {
        String[] w = line.trim().split("\\s+");
        int i = indexOfVerdict(w);
        if (i < 1 || i + 1 >= w.length) {
          continue;
        }
        long at = micros(w[i - 1]);
        long call = Long.parseLong(w[i + 1]);
        String host = "OK".equals(w[i]) ? (i + 2 < w.length ? w[i + 2] : "?") : null;
        out.add(new Sample(at, call, host));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      throw new IllegalStateException("cannot read sipp log " + log + ": " + e.getMessage(), e);
    }
    out.sort(Comparator.comparingLong(Sample::atMicros));
    return out;
  }

  private static int indexOfVerdict(String[] w) {
    for (int i = 0; i < w.length; i++) {
      if ("OK".equals(w[i]) || "TIMEOUT".equals(w[i])) {
        return i;
      }
    }
    return -1;
  }

  /** "1795684953.972683" to epoch microseconds. */
  static long micros(String epoch) {
    int dot = epoch.indexOf('.');
    if (dot < 0) {
      return Long.parseLong(epoch) * 1_000_000;
    }
    String frac = (epoch.substring(dot + 1) + "000000").substring(0, 6);
    return Long.parseLong(epoch.substring(0, dot)) * 1_000_000 + Long.parseLong(frac);
  }
}
