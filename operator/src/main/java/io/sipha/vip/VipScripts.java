package io.sipha.vip;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the admin's VIP scripts as processes: {@code vip-enable ADDRESS/PREFIX INTERFACE} (and the
 * same arguments for vip-disable and vip-status), no shell in between, a timeout after which the
 * process is killed, exit code and output tail captured. vip-status exits 0 when the address is on
 * the interface and 1 when it is not; anything else is an error.
 */
public final class VipScripts {
  private static final int TAIL_CHARS = 400;

  private final Path dir;
  private final Duration timeout;

  private VipScripts(Path dir, Duration timeout) {
    this.dir = dir;
    this.timeout = timeout;
  }

  /**
   * Checks that the three scripts exist and are executable files.
   *
   * @throws IllegalStateException naming each missing or unusable script and the fix
   */
  public static VipScripts in(Path dir, Duration timeout) {
    List<String> problems = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException(
          "scripts directory "
              + dir
              + " does not exist; pass --scripts-dir with the directory"
              + " holding vip-enable, vip-disable and vip-status");
    }
    for (VipScript s : VipScript.values()) {
      Path p = dir.resolve(s.fileName());
      if (!Files.isRegularFile(p)) {
        problems.add(s.fileName() + " is missing");
      } else if (!Files.isExecutable(p)) {
        problems.add(s.fileName() + " is not executable (chmod +x " + p + ")");
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException(
          "VIP scripts in " + dir + " are not usable: " + String.join("; ", problems));
    }
    return new VipScripts(dir, timeout);
  }

  public Path dir() {
    return dir;
  }

  public Duration timeout() {
    return timeout;
  }

  /** Runs one script for one VIP and waits for it, at most the timeout. */
  public ScriptResult run(VipScript script, VipAddress vip) {
    long start = System.nanoTime();
    ProcessBuilder pb =
        new ProcessBuilder(
                dir.resolve(script.fileName()).toString(), vip.cidr(), vip.interfaceName())
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      return new ScriptResult(script, -1, false, String.valueOf(e.getMessage()), elapsed(start));
    }
    OutputTail tail = new OutputTail(p.getInputStream());
    Thread reader = new Thread(tail, "vip-script-output");
    reader.setDaemon(true);
    reader.start();
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(2, TimeUnit.SECONDS);
        return new ScriptResult(script, -1, true, tail.text(), elapsed(start));
      }
      // the script may leave a child holding stdout (an arping in the background): don't wait long
      reader.join(200);
      return new ScriptResult(script, p.exitValue(), false, tail.text(), elapsed(start));
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      return new ScriptResult(script, -1, false, "interrupted", elapsed(start));
    }
  }

  private static long elapsed(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  /** Keeps the last characters a process printed. */
  private static final class OutputTail implements Runnable {
    private final InputStream in;
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

    OutputTail(InputStream in) {
      this.in = in;
    }

    @Override
    public void run() {
      byte[] chunk = new byte[1024];
      try (in) {
        int n;
        while ((n = in.read(chunk)) > 0) {
          synchronized (buf) {
            buf.write(chunk, 0, n);
            if (buf.size() > 8 * TAIL_CHARS) {
              byte[] keep = buf.toByteArray();
              buf.reset();
              buf.write(keep, keep.length - TAIL_CHARS, TAIL_CHARS);
            }
          }
        }
      } catch (IOException ignored) {
        // the process was killed or closed its output
      }
    }

    String text() {
      String s;
      synchronized (buf) {
        s = buf.toString(StandardCharsets.UTF_8);
      }
      return s.length() > TAIL_CHARS ? s.substring(s.length() - TAIL_CHARS) : s;
    }
  }
}
