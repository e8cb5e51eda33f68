package io.sipha.cli.plugin;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.Transition;
import io.sipha.api.VipStatus;
import io.sipha.decision.VipReport;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** How the plugin writes things for a person (and, with -o, for a program). */
public final class Formats {
  public static final ObjectMapper JSON =
      new ObjectMapper()
          .setSerializationInclusion(JsonInclude.Include.NON_NULL)
          .enable(SerializationFeature.INDENT_OUTPUT);
  public static final ObjectMapper YAML =
      new ObjectMapper(
              new YAMLFactory()
                  .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                  .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES))
          .setSerializationInclusion(JsonInclude.Include.NON_NULL);

  private Formats() {}

  /** -o json|yaml. */
  public enum Format {
    json,
    yaml
  }

  public static String render(Object o, Format f) {
    try {
      return f == Format.json
          ? JSON.writeValueAsString(o)
          : YAML.writeValueAsString(o).stripTrailing();
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String or(Object o, String absent) {
    return o == null || o.toString().isEmpty() ? absent : o.toString();
  }

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

  /** 500ms, 5s, 2m, 1h; anything else is refused, naming {@code what} (the option as given). */
  public static Duration duration(String s, String what) {
    Matcher m = DURATION.matcher(s.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException(what + ": a duration like 500ms, 5s or 2m");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }

  /** 171 ms, 3.2 s, 42 s. */
  public static String millis(long ms) {
    if (ms < 1000) {
      return ms + " ms";
    }
    if (ms < 10_000) {
      return String.format("%.1f s", ms / 1000.0);
    }
    return (ms / 1000) + " s";
  }

  /** 0.4 s, 12 s, 3m, 2h, 5d: how long ago. */
  public static String age(Instant then, Instant now) {
    if (then == null) {
      return "never";
    }
    long ms = Math.max(0, Duration.between(then, now).toMillis());
    if (ms < 60_000) {
      return millis(ms);
    }
    long s = ms / 1000;
    if (s < 3600) {
      return (s / 60) + "m" + (s % 60 == 0 || s >= 600 ? "" : (s % 60) + "s");
    }
    if (s < 86_400) {
      return (s / 3600) + "h" + (s % 3600 / 60 == 0 || s >= 36_000 ? "" : (s % 3600 / 60) + "m");
    }
    return (s / 86_400) + "d";
  }

  /** kubectl's way: 45s, 90s, 5m10s, 42m, 3h20m, 20h, 3d. */
  public static String shortAge(Instant then, Instant now) {
    if (then == null) {
      return "<unknown>";
    }
    long s = Math.max(0, Duration.between(then, now).getSeconds());
    if (s < 120) {
      return s + "s";
    }
    long m = s / 60;
    if (m < 10) {
      return m + "m" + (s % 60 == 0 ? "" : (s % 60) + "s");
    }
    if (m < 180) {
      return m + "m";
    }
    long h = m / 60;
    if (h < 8) {
      return h + "h" + (m % 60 == 0 ? "" : (m % 60) + "m");
    }
    return h < 48 ? h + "h" : (h / 24) + "d";
  }

  public static Instant instant(String text) {
    try {
      return text == null ? null : Instant.parse(text);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /** "192.0.2.10/24 Bound on node-a". */
  public static String vip(VipStatus v) {
    if (v == null) {
      return "-";
    }
    return v.address + " " + or(v.state, "?") + (v.node == null ? "" : " on " + v.node);
  }

  /** "Active: primary sip-0, backup sip-1, epoch 1, VIP 192.0.2.10/24 Bound on node-a". */
  public static String summary(SipServerPairStatus s) {
    if (s == null) {
      return "no status yet (the operator has not seen the pair)";
    }
    return or(s.phase, "(no phase)")
        + ": primary "
        + or(s.primary, "none")
        + ", backup "
        + or(s.backup, "none")
        + ", epoch "
        + s.epoch
        + ", VIP "
        + vip(s.vip);
  }

  /** "Switchover sip-0 -> sip-1 at epoch 2 (SwitchoverRequested), step Release". */
  public static String transition(Transition t) {
    if (t == null) {
      return "none";
    }
    return t.kind
        + (t.from == null ? " of " + t.to : " " + t.from + " -> " + t.to)
        + " at epoch "
        + t.epoch
        + " ("
        + t.reason
        + "), step "
        + t.step
        + (t.step == Transition.Step.Release
            ? ": " + or(t.fromNode, "the old node") + " releases the VIP"
            : ": " + t.toNode + " binds the VIP");
  }

  /** An agent's report for a person: "Bound at epoch 2, 3.1 s ago". */
  public static String report(VipReport r, Instant now) {
    if (r == null) {
      return "no report for this pair";
    }
    StringBuilder b = new StringBuilder();
    b.append(r.state()).append(" at epoch ").append(r.epoch());
    if (r.state() == VipReport.State.Failed) {
      b.append(": ").append(r.script()).append(" exit ").append(r.exitCode());
      if (r.message() != null) {
        b.append(" (").append(firstLine(r.message())).append(')');
      }
    }
    if (r.removedStaleEpoch() != null) {
      b.append(", removed a stale copy from epoch ").append(r.removedStaleEpoch());
    }
    Instant at = instant(r.at());
    if (at != null) {
      b.append(", ").append(age(at, now)).append(" ago");
    }
    return b.toString();
  }

  public static String firstLine(String s) {
    String t = s.strip();
    int nl = t.indexOf('\n');
    return nl < 0 ? t : t.substring(0, nl) + " ...";
  }

  /**
   * Columns separated by three spaces, each as wide as its widest cell; the last one is not padded.
   */
  public static List<String> table(List<String[]> rows) {
    int cols = rows.stream().mapToInt(r -> r.length).max().orElse(0);
    int[] w = new int[cols];
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        w[i] = Math.max(w[i], or(r[i], "").length());
      }
    }
    List<String> out = new ArrayList<>();
    for (String[] r : rows) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < r.length; i++) {
        String cell = or(r[i], "");
        b.append(i == r.length - 1 ? cell : String.format("%-" + w[i] + "s   ", cell));
      }
      out.add(b.toString().stripTrailing());
    }
    return out;
  }
}
