package io.sipha.cli.sandbox;

import java.io.PrintStream;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * The sandbox's one voice: what happens, a line per step with the time and who did it (the
 * operator's Events, the hosts' scripts, the cluster's and the switchboard's parts). Silent until
 * the intro has been printed, and after the sandbox is closed.
 */
final class Console {
  private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
  private final PrintStream out;
  private volatile boolean talking;
  private volatile boolean closed;
  private int scriptsPrinted;

  Console(PrintStream out) {
    this.out = out;
  }

  /** From now on, each step is printed. */
  void talk() {
    talking = true;
  }

  boolean talking() {
    return talking;
  }

  /** Nothing more is printed. */
  void close() {
    closed = true;
  }

  synchronized void say(String who, String text) {
    if (talking && !closed) {
      out.printf("%s  %-7s  %s%n", CLOCK.format(LocalTime.now()), who, text);
      out.flush();
    }
  }

  /**
   * The hosts' script runs not printed yet, from the site's timeline ("node-a enable 192.0.2.10/24
   * eth0", one run each, oldest first).
   */
  synchronized void scriptsRan(List<String> timeline) {
    for (; scriptsPrinted < timeline.size(); scriptsPrinted++) {
      String[] w = timeline.get(scriptsPrinted).split(" ", 3);
      say("host", w[0] + " ran vip-" + w[1] + " " + (w.length > 2 ? w[2] : ""));
    }
  }

  /** A line outside the timeline (a failure while stopping), printed whether talking or not. */
  void note(String text) {
    out.println("sandbox: " + text);
  }
}
