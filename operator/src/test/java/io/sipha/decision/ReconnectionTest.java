package io.sipha.decision;

import static io.sipha.decision.OnePair.*;
import static io.sipha.decision.PlanReaders.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.Condition;
import io.sipha.api.HistoryEntry;
import io.sipha.api.Phase;
import io.sipha.api.TransitionKind;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Seed workflow 4: a stale primary reconnects and is demoted. Each step runs {@link
 * PairDecider#decide} in {@link OnePair}, whose safety check runs after every step.
 */
@DisplayName("PairDecider: reconnection of a stale primary (workflow 4)")
class ReconnectionTest {
  /**
   * node-a comes back after it was declared lost, still holding the VIP at epoch 1 (its first
   * report is what it held): split brain, seen, then resolved once node-a removes it. One step per
   * test.
   */
  @Nested
  @DisplayName("a stale primary's node back with the VIP")
  class StaleHolderBack {
    final OnePair w = afterNodeLoss();
    final long announce = w.status.vip.announce;

    Plan seen() {
      w.hold("node-a"); // back on the network, first report is what it held: Bound at epoch 1
      return w.step();
    }

    Plan resolved() {
      seen();
      w.follow(
          "node-a"); // it sees the API: not granted, so it removes the VIP and reports Unbound at
      // epoch 2
      return w.step();
    }

    @Test
    @DisplayName(
        "seen: phase SplitBrain, condition SplitBrain True naming node-a and epoch 1, a Warning Event")
    void itIsSeen() {
      Plan seen = seen();
      Condition sb = requireCondition(seen, Conditions.SPLIT_BRAIN);
      assertThat(sb.status).isEqualTo("True");
      assertThat(sb.message).contains("node-a").contains("epoch 1");
      assertThat(seen.status().phase).isEqualTo(Phase.SplitBrain);
      assertThat(event(seen, "SplitBrainDetected").warning()).isTrue();
    }

    @Test
    @DisplayName(
        "seen: sip-1 stays primary on node-b at epoch 2 and the stale pod carries backup at epoch 2")
    void theCurrentPrimaryStaysAndTheStaleOneIsDemoted() {
      Plan seen = seen();
      assertThat(seen.status().primary).isEqualTo("sip-1");
      assertThat(seen.status().epoch).isEqualTo(2);
      assertThat(seen.status().vip.node).isEqualTo("node-b");
      assertThat(w.pod("sip-0").role)
          .as("the stale pod carries backup at the current epoch")
          .isEqualTo(BACKUP);
      assertThat(w.pod("sip-0").epoch).isEqualTo(2L);
    }

    @Test
    @DisplayName(
        "resolved once node-a removed it: Active, SplitBrain False, nobody fenced, a Demotion in the history")
    void itIsResolved() {
      Plan resolved = resolved();
      assertThat(requireCondition(resolved, Conditions.SPLIT_BRAIN).status).isEqualTo("False");
      assertThat(resolved.status().phase).isEqualTo(Phase.Active);
      assertThat(resolved.status().fenced).isEmpty();
      assertThat(resolved.status().epoch).isEqualTo(2);
      HistoryEntry h = lastHistory(resolved);
      assertThat(h.kind).isEqualTo(TransitionKind.Demotion);
      assertThat(h.from).isEqualTo("sip-0");
      assertThat(h.to).isEqualTo("sip-1");
      assertThat(h.epoch).isEqualTo(2);
      assertThat(event(resolved, "SplitBrainResolved").message()).contains("node-a");
    }

    @Test
    @DisplayName("resolved: node-b announces the VIP again, once")
    void theHolderAnnouncesOnce() {
      assertThat(resolved().status().vip.announce).isEqualTo(announce + 1);
      Plan later = w.step();
      assertThat(later.status().vip.announce).as("announced once").isEqualTo(announce + 1);
      assertThat(eventReasons(later)).doesNotContain("SplitBrainResolved");
    }
  }

  @Test
  @DisplayName(
      "a returned agent that already removed the stale VIP resolves the fence without a SplitBrain and the holder re-announces")
  void returnedAgentAlreadyRemovedIt() {
    OnePair w = afterNodeLoss();
    long announce = w.status.vip.announce;
    w.follow("node-a");
    assertThat(w.agent("node-a").report.removedStaleEpoch()).isEqualTo(1L);

    Plan p = w.step();
    assertThat(Conditions.isTrue(p.status().conditions, Conditions.SPLIT_BRAIN)).isFalse();
    assertThat(p.status().fenced).isEmpty();
    assertThat(p.status().vip.announce).isEqualTo(announce + 1);
    assertThat(eventReasons(p)).contains("SplitBrainResolved").doesNotContain("SplitBrainDetected");
    assertThat(p.status().phase).isEqualTo(Phase.Active);
  }

  /**
   * A self-fenced primary comes back: its first renewal reaches the operator by the heartbeat watch
   * before the report that says it removed the VIP reaches it by the reports watch (seen in CI
   * under load: a SplitBrainDetected Warning and a demotion for a node that held nothing).
   */
  @Test
  @DisplayName(
      "a returned node whose heartbeat is ahead of its reports is not taken for a split brain; its reports then resolve the fence")
  void aHeartbeatAheadOfItsReportsIsNoSplitBrain() {
    OnePair w = afterNodeLoss();
    w.hold("node-a"); // its last report the operator has: Bound at epoch 1
    w.agent("node-a").reportsBehind = true;
    w.agent("node-a").renewedAt = w.now;

    Plan early = w.step();
    assertThat(eventReasons(early)).doesNotContain("SplitBrainDetected");
    assertThat(early.status().phase).isNotEqualTo(Phase.SplitBrain);
    assertThat(early.status().fenced).as("still fenced until its release is seen").isNotEmpty();
    assertThat(early.status().vip.node).isEqualTo("node-b");

    w.agent("node-a").reportsBehind = false;
    w.follow("node-a");
    Plan resolved = w.step();
    assertThat(eventReasons(resolved)).doesNotContain("SplitBrainDetected");
    assertThat(resolved.status().fenced).isEmpty();
    assertThat(resolved.status().phase).isEqualTo(Phase.Active);
  }

  @Test
  @DisplayName(
      "while the stale node holds the VIP the true holder stays granted and the stale node is never granted")
  void trueHolderStaysGranted() {
    OnePair w = afterNodeLoss();
    w.hold("node-a");
    for (int i = 0; i < 5; i++) {
      Plan p = w.step();
      assertThat(p.status().vip.node).isEqualTo("node-b");
      assertThat(p.status().primary).isEqualTo("sip-1");
      assertThat(p.status().phase).isEqualTo(Phase.SplitBrain);
    }
  }
}
