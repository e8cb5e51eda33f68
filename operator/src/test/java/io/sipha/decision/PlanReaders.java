package io.sipha.decision;

import static io.sipha.decision.OnePair.PRIMARY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.sipha.api.Condition;
import io.sipha.api.HistoryEntry;
import io.sipha.decision.Plan.Note;
import java.util.List;
import java.util.Optional;

/** What the decision tests read from a plan: its conditions, Events, history and roles. */
final class PlanReaders {
  private PlanReaders() {}

  static Optional<Condition> condition(Plan p, String type) {
    return Conditions.find(p.status().conditions, type);
  }

  static Condition requireCondition(Plan p, String type) {
    return condition(p, type)
        .orElseGet(() -> fail("no condition %s in %s", type, conditionTypes(p)));
  }

  static List<String> conditionTypes(Plan p) {
    return p.status().conditions.stream()
        .map(c -> c.type + "=" + c.status + "/" + c.reason)
        .toList();
  }

  static List<String> eventReasons(Plan p) {
    return p.events().stream().map(Note::reason).toList();
  }

  static Note event(Plan p, String reason) {
    return p.events().stream()
        .filter(e -> e.reason().equals(reason))
        .findFirst()
        .orElseGet(() -> fail("no event %s among %s", reason, eventReasons(p)));
  }

  static HistoryEntry lastHistory(Plan p) {
    List<HistoryEntry> h = p.status().history;
    assertThat(h).isNotEmpty();
    return h.get(h.size() - 1);
  }

  static boolean promotes(Plan p) {
    return p.roles().stream().anyMatch(r -> r.role().equals(PRIMARY));
  }
}
