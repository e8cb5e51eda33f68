package io.sipha.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * keepalived (Debian) holding the lab's VIP, for comparison: one instance per host namespace, each
 * with its own configuration and pid files (ip netns exec shares /run), VRRPv3, host-a preferred.
 *
 * <p>Detection budget: a backup declares the master down after Master_Down_Interval = 3 ×
 * advert_int + skew, skew = (256 − priority) × advert_int / 256 (RFC 5798). With {@code advert_int
 * 1} (keepalived's default) and host-b's priority 250 that is 3 + 0.023 s: sipha's nodeLossSeconds
 * (3 s); tuned to {@code advert_int 0.1} (VRRPv3 counts in centiseconds) it is 302 ms. keepalived's
 * usual priority 100 would add 0.61 × advert_int of skew.
 *
 * <p>A notify script stamps every state change (MASTER, BACKUP, FAULT) of each instance in {@link
 * #transitionsLog()}: when host-b became master is when its detection ended.
 */
final class Keepalived implements AutoCloseable {
  /** keepalived's default advert_int (1 s) and the tuned one the issue compares with (0.1 s). */
  static final long DEFAULT_ADVERT_MILLIS = 1000;

  static final long TUNED_ADVERT_MILLIS = 100;
  static final Map<String, Integer> PRIORITY = Map.of("host-a", 254, "host-b", 250);
  static final int VIRTUAL_ROUTER_ID = 51;

  private final NetLab lab;
  private final Path dir;
  private final long advertMillis;
  private final Map<String, Process> instances = new LinkedHashMap<>();

  Keepalived(NetLab lab, Path dir, long advertMillis) {
    this.lab = lab;
    this.dir = dir;
    this.advertMillis = advertMillis;
  }

  /** The system's name in the lab's tables: keepalived, or keepalived-0.1 when tuned. */
  static String system(long advertMillis) {
    return advertMillis == DEFAULT_ADVERT_MILLIS
        ? "keepalived"
        : "keepalived-" + advertInt(advertMillis);
  }

  /** advert_int as keepalived reads it: "1", "0.1". */
  static String advertInt(long advertMillis) {
    return java.math.BigDecimal.valueOf(advertMillis, 3).stripTrailingZeros().toPlainString();
  }

  /** Why keepalived cannot run here, or null. */
  static String unavailable() {
    return Sh.onPath("keepalived") ? null : "needs keepalived (Debian package keepalived)";
  }

  /** The master-down interval of the backup (host-b), in ms. */
  static long detectionMillis(long advertMillis) {
    int p = PRIORITY.get("host-b");
    return advertMillis * 3 + Math.round((256 - p) * advertMillis / 256.0);
  }

  static String version() {
    String out = Sh.run("keepalived", "--version").output().strip();
    return out.isEmpty() ? "?" : out.lines().findFirst().orElse("?");
  }

  /** One line per state change: {@code EPOCH_MICROS HOST STATE}. */
  Path transitionsLog() {
    return dir.resolve("keepalived-transitions.log");
  }

  /** A state change of an instance. */
  record Transition(long atMicros, String host, String state) {}

  List<Transition> transitions(long fromMicros, long toMicros) {
    List<Transition> out = new ArrayList<>();
    try {
      if (!Files.exists(transitionsLog())) {
        return out;
      }
      for (String line : Files.readAllLines(transitionsLog())) {
        String[] w = line.trim().split("\\s+");
        if (w.length >= 3 && w[0].matches("\\d+")) {
          long at = Long.parseLong(w[0]);
          if (at >= fromMicros && at <= toMicros) {
            out.add(new Transition(at, w[1], w[2]));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** "MASTER: host-a": the hosts whose instance last entered MASTER, by its notify script. */
  String masters() {
    Map<String, String> last = new java.util.TreeMap<>();
    for (Transition t : transitions(0, Long.MAX_VALUE)) {
      last.put(t.host(), t.state());
    }
    return "MASTER: "
        + last.entrySet().stream()
            .filter(e -> e.getValue().equals("MASTER"))
            .map(Map.Entry::getKey)
            .collect(java.util.stream.Collectors.joining(", "));
  }

  String config(String host) {
    return """
        # sipha network lab: keepalived on %1$s, holding the lab's VIP
        global_defs {
          router_id %1$s
          vrrp_version 3
          script_user root
        }
        vrrp_instance sipha_lab {
          state BACKUP
          interface eth0
          virtual_router_id %2$d
          priority %3$d
          advert_int %4$s
          virtual_ipaddress {
            %5$s/%6$d dev eth0
          }
          notify %7$s
        }
        """
        .formatted(
            host,
            VIRTUAL_ROUTER_ID,
            PRIORITY.get(host),
            advertInt(advertMillis),
            NetLab.VIP,
            NetLab.VIP_PREFIX,
            dir.resolve("keepalived-notify-" + host));
  }

  /** Starts both instances (they begin as BACKUP: host-a becomes master after about 3 s). */
  void start() {
    for (String host : NetLab.HOSTS) {
      Path conf = dir.resolve("keepalived-" + host + ".conf");
      Path notify = dir.resolve("keepalived-notify-" + host);
      try {
        Files.createDirectories(dir);
        // keepalived calls it with: INSTANCE NAME STATE PRIORITY
        Files.writeString(
            notify,
            "#!/bin/bash\necho \"${EPOCHREALTIME//[!0-9]/} "
                + host
                + " $3\" >> '"
                + transitionsLog()
                + "'\n");
        Files.setPosixFilePermissions(notify, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(conf, config(host));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      instances.put(
          host,
          lab.startIn(
              host,
              dir.resolve("keepalived-" + host + ".log"),
              "keepalived",
              "--dont-fork",
              "--log-console",
              "--log-detail",
              "--vrrp",
              "--use-file",
              conf.toString(),
              "--pid",
              dir.resolve("keepalived-" + host + ".pid").toString(),
              "--vrrp_pid",
              dir.resolve("keepalived-" + host + "-vrrp.pid").toString()));
    }
  }

  boolean running() {
    return instances.values().stream().allMatch(Process::isAlive);
  }

  Path log(String host) {
    return dir.resolve("keepalived-" + host + ".log");
  }

  @Override
  public void close() {
    for (Process p : instances.values()) {
      Sh.stop(p, 5_000);
    }
    instances.clear();
  }
}
