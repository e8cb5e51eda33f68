package io.sipha.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The decision's working copy of a status is a deep copy written by hand (no JSON round trip in the
 * pure core): it must hold every field, and share nothing with the status it was taken from.
 */
class StatusCopyTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aCopyHoldsEveryFieldOfTheStatus() throws Exception {
    SipServerPairStatus s = full();
    everyFieldSet(s);
    assertThat(JSON.writeValueAsString(s.copy())).isEqualTo(JSON.writeValueAsString(s));
  }

  @Test
  void aCopySharesNothingWithTheStatus() throws Exception {
    SipServerPairStatus s = full();
    String before = JSON.writeValueAsString(s);
    SipServerPairStatus c = s.copy();
    c.vip.node = "node-z";
    c.transition.step = Transition.Step.Bind;
    c.fenced.get(0).splitBrainSeen = false;
    c.fenced.add(new FencedHolder("node-y", "sip-9", 1));
    c.conditions.get(0).status = "False";
    c.history.get(0).durationMillis = 1;
    c.history.clear();
    assertThat(JSON.writeValueAsString(s)).isEqualTo(before);
  }

  @Test
  void missingListsAreCopiedAsEmptyOnesAsTheyAreReadFromTheApi() {
    SipServerPairStatus s = new SipServerPairStatus();
    s.fenced = null;
    s.conditions = null;
    s.history = null;
    SipServerPairStatus c = s.copy();
    assertThat(c.fenced).isEmpty();
    assertThat(c.conditions).isEmpty();
    assertThat(c.history).isEmpty();
  }

  /** A status with every field of every class in it set to a value other than its default. */
  private static SipServerPairStatus full() {
    SipServerPairStatus s = new SipServerPairStatus();
    s.observedGeneration = 7L;
    s.phase = Phase.SwitchingOver;
    s.primary = "sip-0";
    s.backup = "sip-1";
    s.epoch = 4;
    s.acceptedPrimary = "sip-1";
    s.vip = new VipStatus("192.0.2.10/24", "eth0", "node-a", VipStatus.State.Releasing, 2);
    Transition t = new Transition();
    t.kind = TransitionKind.Switchover;
    t.from = "sip-0";
    t.to = "sip-1";
    t.fromNode = "node-a";
    t.toNode = "node-b";
    t.epoch = 4;
    t.step = Transition.Step.Release;
    t.reason = "SwitchoverRequested";
    t.startedAt = "2026-12-02T10:00:00Z";
    t.stepStartedAt = "2026-12-02T10:00:01Z";
    s.transition = t;
    FencedHolder f = new FencedHolder("node-c", "sip-2", 3);
    f.splitBrainSeen = true;
    s.fenced.add(f);
    Condition c = new Condition("Ready", "True", "Active", "sip-0 is primary");
    c.lastTransitionTime = "2026-12-02T09:00:00Z";
    c.observedGeneration = 6L;
    s.conditions.add(c);
    s.lastValidSpec = "{\"servers\":[\"sip-0\",\"sip-1\"]}";
    HistoryEntry h = new HistoryEntry();
    h.epoch = 3;
    h.kind = TransitionKind.Failover;
    h.from = "sip-1";
    h.to = "sip-0";
    h.reason = "NodeLost";
    h.startedAt = "2026-12-02T08:00:00Z";
    h.durationMillis = 2300;
    s.history.add(h);
    return s;
  }

  /**
   * Fails naming a field left at its default, so that a field added later is added to copy() and
   * here.
   */
  private static void everyFieldSet(Object o) throws IllegalAccessException {
    List<Object> todo = new ArrayList<>(List.of(o));
    while (!todo.isEmpty()) {
      Object x = todo.remove(0);
      for (Field field : x.getClass().getDeclaredFields()) {
        if (Modifier.isStatic(field.getModifiers())) {
          continue;
        }
        Object v = field.get(x);
        String name = x.getClass().getSimpleName() + "." + field.getName();
        assertThat(v).as(name).isNotNull();
        assertThat(v).as(name).isNotIn(0L, 0, false, "");
        if (v instanceof List<?> list) {
          assertThat(list).as(name).isNotEmpty();
          todo.addAll(list);
        } else if (v.getClass().getPackageName().equals("io.sipha.api") && !v.getClass().isEnum()) {
          todo.add(v);
        }
      }
    }
  }
}
