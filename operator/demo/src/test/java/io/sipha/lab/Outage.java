package io.sipha.lab;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the client saw during one workflow: the outage (the longest gap between two consecutive 200
 * OK answers inside the window), who answered before and after, and the answers as runs.
 *
 * <p>The gaps counted are those from the last answer before the action (so the gap in progress when
 * the action starts counts whole) to the end of the window, a moment before sipp was stopped; when
 * the answers stop before the window ends, the gap to its end counts too ({@link
 * #endedUnanswered}). A gap that ended before the action is not the workflow's: it is reported
 * apart as {@code baselineGapMicros} (the longest gap in the second before the action).
 *
 * @param outageMicros the longest gap between consecutive answers in the window
 * @param gapStartMicros the last answer before that gap (epoch µs)
 * @param gapEndMicros the first answer after it, or the end of the window
 * @param before who answered last at the time of the action ("none" if nobody)
 * @param after who answered last in the window ("none" if nobody)
 * @param switchMicros from the action to the first answer of the final run of {@code after}'s
 *     answers (0 when {@code after} was already answering before the action and never stopped)
 * @param answersAfterAction answers per host from the action to the end of the window
 * @param timeouts probes in the window that got no answer within 500 ms
 * @param runs the answers and timeouts of the window as runs of one kind
 */
record Outage(
    long fromMicros,
    long actionMicros,
    long toMicros,
    long outageMicros,
    long gapStartMicros,
    long gapEndMicros,
    boolean endedUnanswered,
    String before,
    String after,
    long switchMicros,
    Map<String, Integer> answersAfterAction,
    int timeouts,
    int probes,
    long baselineGapMicros,
    List<Run> runs) {

  /**
   * Consecutive samples of one kind: answers of one host, or timeouts ({@code who} = "timeout").
   */
  record Run(String who, long fromMicros, long toMicros, int count) {}

  static Outage of(List<Sipp.Sample> samples, long fromMicros, long actionMicros, long toMicros) {
    List<Sipp.Sample> in =
        samples.stream()
            .filter(s -> s.sentAtMicros() >= fromMicros && s.sentAtMicros() <= toMicros)
            .toList();
    List<Sipp.Sample> ok = in.stream().filter(Sipp.Sample::answered).toList();
    int lastBefore = 0;
    long baselineGap = 0;
    for (int i = 0; i < ok.size() && ok.get(i).atMicros() <= actionMicros; i++) {
      lastBefore = i;
      if (i > 0) {
        baselineGap = Math.max(baselineGap, ok.get(i).atMicros() - ok.get(i - 1).atMicros());
      }
    }
    long gap = 0;
    long gapStart = fromMicros;
    long gapEnd = fromMicros;
    for (int i = lastBefore + 1; i < ok.size(); i++) {
      long g = ok.get(i).atMicros() - ok.get(i - 1).atMicros();
      if (g > gap) {
        gap = g;
        gapStart = ok.get(i - 1).atMicros();
        gapEnd = ok.get(i).atMicros();
      }
    }
    boolean endedUnanswered = false;
    long lastOk = ok.isEmpty() ? fromMicros : ok.get(ok.size() - 1).atMicros();
    if (toMicros - lastOk > gap) {
      gap = toMicros - lastOk;
      gapStart = lastOk;
      gapEnd = toMicros;
      endedUnanswered = true;
    }
    String before = "none";
    String after = "none";
    for (Sipp.Sample s : ok) {
      if (s.atMicros() <= actionMicros) {
        before = s.host();
      }
      after = s.host();
    }
    long switchAt = actionMicros;
    for (Sipp.Sample s : ok) {
      if (!Objects.equals(s.host(), after)) {
        switchAt = -1;
      } else if (switchAt < 0) {
        switchAt = s.atMicros();
      }
    }
    Map<String, Integer> answersAfter = new LinkedHashMap<>();
    for (String h : NetLab.HOSTS) {
      answersAfter.put(h, 0);
    }
    for (Sipp.Sample s : ok) {
      if (s.atMicros() > actionMicros) {
        answersAfter.merge(s.host(), 1, Integer::sum);
      }
    }
    int timeouts = (int) in.stream().filter(s -> !s.answered()).count();
    List<Run> runs = new ArrayList<>();
    for (Sipp.Sample s :
        in.stream()
            .sorted(java.util.Comparator.comparingLong(Sipp.Sample::sentAtMicros))
            .toList()) {
      String who = s.answered() ? s.host() : "timeout";
      Run last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
      if (last != null && last.who().equals(who)) {
        runs.set(
            runs.size() - 1, new Run(who, last.fromMicros(), s.sentAtMicros(), last.count() + 1));
      } else {
        runs.add(new Run(who, s.sentAtMicros(), s.sentAtMicros(), 1));
      }
    }
    return new Outage(
        fromMicros,
        actionMicros,
        toMicros,
        gap,
        gapStart,
        gapEnd,
        endedUnanswered,
        before,
        after,
        Math.max(0, switchAt - actionMicros),
        answersAfter,
        timeouts,
        in.size(),
        baselineGap,
        runs);
  }

  long outageMillis() {
    return Math.round(outageMicros / 1000.0);
  }
}
