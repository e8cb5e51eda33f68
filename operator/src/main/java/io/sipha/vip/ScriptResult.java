package io.sipha.vip;

/**
 * How one run of a VIP script ended. {@code exitCode} is -1 when the script timed out or could not
 * start; {@code outputTail} holds the last lines it printed (stdout and stderr).
 */
public record ScriptResult(
    VipScript script, int exitCode, boolean timedOut, String outputTail, long durationMillis) {

  public boolean succeeded() {
    return exitCode == 0 && !timedOut;
  }

  /**
   * "vip-enable exited 3: RTNETLINK answers: File exists" or "vip-disable timed out after 5000 ms".
   */
  public String describe() {
    String what =
        timedOut
            ? script.fileName() + " timed out after " + durationMillis + " ms"
            : exitCode < 0
                ? script.fileName() + " could not run"
                : script.fileName() + " exited " + exitCode;
    return outputTail.isBlank() ? what : what + ": " + outputTail.strip();
  }
}
