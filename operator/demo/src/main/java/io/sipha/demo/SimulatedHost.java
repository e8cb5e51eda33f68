package io.sipha.demo;

import io.sipha.vip.VipScripts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * A host without a network: a folder whose {@code vips/} holds one file per VIP "on the host", and
 * real VIP scripts (shell) that add and remove those files and append every enable and disable call
 * to {@code calls.log}. Faults are files: {@code fail-enable} (its content is the exit code),
 * {@code fail-disable}, {@code hang-enable}, {@code hang-disable}.
 */
public final class SimulatedHost {
  private final String node;
  private final Path dir;

  private SimulatedHost(String node, Path dir) {
    this.node = node;
    this.dir = dir;
  }

  public static SimulatedHost create(String node, Path parent) {
    Path dir = parent.resolve(node);
    try {
      Files.createDirectories(dir.resolve("vips"));
      Files.createDirectories(dir.resolve("scripts"));
      Files.writeString(dir.resolve("calls.log"), "");
      write(
          dir,
          "vip-enable",
          """
          fault enable
          echo "enable $1 $2" >> "$HOST/calls.log"
          echo "$NODE enable $1 $2" >> "$HOST/../timeline.log"
          : > "$HOST/vips/$(vipfile "$1")"
          echo "bound $1 on $2"
          """);
      write(
          dir,
          "vip-disable",
          """
          fault disable
          echo "disable $1 $2" >> "$HOST/calls.log"
          echo "$NODE disable $1 $2" >> "$HOST/../timeline.log"
          rm -f "$HOST/vips/$(vipfile "$1")"
          """);
      write(
          dir,
          "vip-status",
          """
          fault status
          [ -e "$HOST/vips/$(vipfile "$1")" ] && exit 0
          exit 1
          """);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new SimulatedHost(node, dir);
  }

  private static void write(Path dir, String name, String body) throws IOException {
    String script =
        "#!/bin/sh\n"
            + "# simulated VIP script of host "
            + dir.getFileName()
            + ": arguments ADDRESS/PREFIX INTERFACE\n"
            + "set -eu\n"
            + "HOST='"
            + dir.toAbsolutePath()
            + "'\n"
            + "NODE='"
            + dir.getFileName()
            + "'\n"
            + "vipfile() { printf '%s' \"$1\" | tr '/:' '__'; }\n"
            + "fault() {\n"
            + "  if [ -e \"$HOST/hang-$1\" ]; then sleep 300; fi\n"
            + "  if [ -e \"$HOST/fail-$1\" ]; then echo \"simulated $1 failure\" >&2; exit \"$(cat \"$HOST/fail-$1\")\"; fi\n"
            + "}\n"
            + body;
    Path p = dir.resolve("scripts").resolve(name);
    Files.writeString(p, script, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  public String node() {
    return node;
  }

  public Path scriptsDir() {
    return dir.resolve("scripts");
  }

  public VipScripts scripts(Duration timeout) {
    return VipScripts.in(scriptsDir(), timeout);
  }

  /** The enable and disable calls in order, e.g. "enable 192.0.2.10/24 eth0". */
  public List<String> calls() {
    try {
      return Files.readAllLines(dir.resolve("calls.log")).stream()
          .filter(s -> !s.isBlank())
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Every host's enable and disable calls in one order, e.g. "node-a disable 192.0.2.10/24 eth0".
   */
  public static List<String> timeline(Path parent) {
    try {
      Path p = parent.resolve("timeline.log");
      return Files.exists(p)
          ? Files.readAllLines(p).stream().filter(s -> !s.isBlank()).toList()
          : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The VIPs on this host now, as address/prefix. */
  public List<String> vips() {
    try (Stream<Path> s = Files.list(dir.resolve("vips"))) {
      return s.map(
              p -> p.getFileName().toString().replaceFirst("_(\\d+)$", "/$1").replace('_', ':'))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public boolean holds(String cidr) {
    return vips().contains(cidr);
  }

  /** Makes a script fail with this exit code (0 clears the fault). */
  public void failScript(String what, int exitCode) {
    setFault("fail-" + what, exitCode == 0 ? null : String.valueOf(exitCode));
  }

  /** Makes a script hang until killed (false clears the fault). */
  public void hangScript(String what, boolean hang) {
    setFault("hang-" + what, hang ? "" : null);
  }

  /** Puts a VIP on the host behind the agent's back, or takes it away (drift). */
  public void setVipByHand(String cidr, boolean present) {
    setFault("vips/" + cidr.replace('/', '_').replace(':', '_'), present ? "" : null);
  }

  private void setFault(String file, String content) {
    try {
      if (content == null) {
        Files.deleteIfExists(dir.resolve(file));
      } else {
        Files.writeString(dir.resolve(file), content);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
