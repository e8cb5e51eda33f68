package io.sipha.cli.plugin.history;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.sipha.api.HistoryEntry;
import io.sipha.api.SipServerPair;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.Transition;
import io.sipha.cli.plugin.Formats;
import io.sipha.cli.plugin.KubeOptions;
import io.sipha.cli.plugin.PairReader;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kubectl sipha history PAIR}. */
@Command(
    name = "history",
    mixinStandardHelpOptions = true,
    description = {
      "The pair's recorded transitions, with their durations and reasons.",
      "status.history (the last ten), oldest first: epoch, kind, from, to, reason, when it started and how long"
          + " it took until the VIP was bound on the new node; and the transition in progress, if any."
    })
public final class HistoryCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin KubeOptions kube;

  @Parameters(paramLabel = "PAIR", description = "The SipServerPair.")
  String pairName;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "json|yaml",
      description = "Print structured output instead of text.")
  Formats.Format output;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (KubernetesClient client = kube.client()) {
      SipServerPair pair = PairReader.pair(client, kube.namespace(client), pairName);
      SipServerPairStatus s =
          pair.getStatus() == null ? new SipServerPairStatus() : pair.getStatus();
      if (output != null) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("pair", pair.key());
        doc.put("history", s.history);
        doc.put("transition", s.transition);
        out.println(Formats.render(doc, output));
      } else {
        lines(pair.key(), s, Instant.now()).forEach(out::println);
      }
    }
    out.flush();
    return 0;
  }

  public static List<String> lines(String key, SipServerPairStatus s, Instant now) {
    List<String> out = new ArrayList<>();
    if (s.history.isEmpty()) {
      out.add("No transitions recorded for " + key + " yet.");
    } else {
      List<String[]> rows = new ArrayList<>();
      rows.add(
          new String[] {"EPOCH", "KIND", "FROM", "TO", "REASON", "STARTED", "AGO", "DURATION"});
      for (HistoryEntry h : s.history) {
        Instant at = Formats.instant(h.startedAt);
        rows.add(
            new String[] {
              String.valueOf(h.epoch),
              String.valueOf(h.kind),
              Formats.or(h.from, "-"),
              Formats.or(h.to, "-"),
              Formats.or(h.reason, "-"),
              at == null
                  ? Formats.or(h.startedAt, "-")
                  : at.truncatedTo(ChronoUnit.MILLIS).toString(),
              Formats.age(at, now),
              h.kind == io.sipha.api.TransitionKind.Demotion
                  ? "-"
                  : Formats.millis(h.durationMillis)
            });
      }
      out.addAll(Formats.table(rows));
    }
    Transition t = s.transition;
    if (t != null) {
      out.add(
          "In progress: "
              + Formats.transition(t)
              + ", started "
              + Formats.age(Formats.instant(t.startedAt), now)
              + " ago");
    }
    return out;
  }

  /** "Switchover sip-0 -> sip-1 at epoch 2 (SwitchoverRequested), 171 ms, 2m ago". */
  public static String line(HistoryEntry h, Instant now) {
    return h.kind
        + (h.from == null ? " of " + h.to : " " + h.from + " -> " + h.to)
        + " at epoch "
        + h.epoch
        + " ("
        + h.reason
        + ")"
        + (h.kind == io.sipha.api.TransitionKind.Demotion
            ? ""
            : ", " + Formats.millis(h.durationMillis))
        + ", "
        + Formats.age(Formats.instant(h.startedAt), now)
        + " ago";
  }
}
