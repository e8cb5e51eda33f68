package io.sipha.decision;

import static io.sipha.decision.OnePair.*;
import static io.sipha.decision.PlanReaders.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.FencedHolder;
import io.sipha.api.HistoryEntry;
import io.sipha.api.Phase;
import io.sipha.api.TransitionKind;
import io.sipha.api.VipStatus;
import io.sipha.decision.Plan.RoleAssignment;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Seed workflow 3: the primary's host is disconnected. Each step runs {@link PairDecider#decide} in
 * {@link OnePair}, whose safety check runs after every step.
 */
@DisplayName("PairDecider: primary host disconnected (workflow 3)")
class HostDisconnectedTest {
  @Test
  @DisplayName(
      "before nodeLossSeconds nothing moves; once the agent is late, recheckAfter points at the moment the node would be lost")
  void nothingBeforeNodeLoss() {
    OnePair w = OnePair.active();
    w.disconnect("node-a");
    Instant lastSeen = w.agent("node-a").renewedAt;

    Plan onTime = w.stepAt(lastSeen.plusSeconds(1));
    assertThat(onTime.status().transition).isNull();
    assertThat(onTime.recheckAfter()).as("an agent on time needs no timer").isNull();

    Plan p = w.stepAt(lastSeen.plus(AgentFact.LATE));
    assertThat(p.status().transition).isNull();
    assertThat(p.status().primary).isEqualTo("sip-0");
    assertThat(p.status().epoch).isEqualTo(1);
    assertThat(p.recheckAfter()).isEqualTo(Duration.ofSeconds(3).minus(AgentFact.LATE));
  }

  @Test
  @DisplayName(
      "the backup's node lost: a timer at its deadline, then BackupReady False and Degraded, nothing moves")
  void backupNodeLost() {
    OnePair w = OnePair.active();
    w.disconnect("node-b");
    Instant lastSeen = w.agent("node-b").renewedAt;

    Plan late = w.stepAt(lastSeen.plus(AgentFact.LATE));
    assertThat(late.recheckAfter()).isEqualTo(Duration.ofSeconds(3).minus(AgentFact.LATE));
    Plan lost = w.stepAt(lastSeen.plusSeconds(3));
    assertThat(requireCondition(lost, Conditions.BACKUP_READY).status).isEqualTo("False");
    assertThat(lost.status().phase).isEqualTo(Phase.Degraded);
    assertThat(lost.status().transition).isNull();
    assertThat(lost.status().primary).isEqualTo("sip-0");
  }

  @Test
  @DisplayName(
      "after nodeLossSeconds: Failover NodeLost, VIP granted to the backup's node in the same plan, lost node fenced")
  void nodeLostFailsOverInOnePlan() {
    OnePair w = OnePair.active();
    w.disconnect("node-a");
    Instant lastSeen = w.agent("node-a").renewedAt;

    Plan p = w.stepAt(lastSeen.plusSeconds(3));
    assertThat(p.status().epoch).isEqualTo(2);
    assertThat(p.status().transition.kind).isEqualTo(TransitionKind.Failover);
    assertThat(p.status().transition.reason).isEqualTo("NodeLost");
    assertThat(p.status().primary).isEqualTo("sip-1");
    assertThat(p.status().vip.node).isEqualTo("node-b");
    assertThat(p.status().vip.state).isEqualTo(VipStatus.State.Binding);
    assertThat(p.roles())
        .containsExactly(
            new RoleAssignment("sip-0", BACKUP, 2), new RoleAssignment("sip-1", PRIMARY, 2));
    assertThat(p.status().fenced).hasSize(1);
    FencedHolder f = p.status().fenced.get(0);
    assertThat(f.node).isEqualTo("node-a");
    assertThat(f.pod).isEqualTo("sip-0");
    assertThat(f.epoch).isEqualTo(1);
    assertThat(event(p, "VipReleased").message()).contains("node lost");

    Plan done = w.step();
    assertThat(done.status().vip.state).isEqualTo(VipStatus.State.Bound);
    HistoryEntry h = lastHistory(done);
    assertThat(h.kind).isEqualTo(TransitionKind.Failover);
    assertThat(h.reason).isEqualTo("NodeLost");
    assertThat(h.durationMillis).isEqualTo(100);
    assertThat(done.status().fenced).extracting(x -> x.node).containsExactly("node-a");
    assertThat(done.status().phase).as("the backup's node is lost").isEqualTo(Phase.Degraded);
  }

  @Test
  @DisplayName(
      "the VIP is up on the other node within 3.3 s of the last heartbeat with the default nodeLossSeconds")
  void withinDefaultBudget() {
    OnePair w = OnePair.active();
    w.disconnect("node-a");
    Instant lastSeen = w.agent("node-a").renewedAt;
    w.stepAt(lastSeen.plusSeconds(3));
    Plan bound = w.step();
    assertThat(bound.status().vip.state).isEqualTo(VipStatus.State.Bound);
    assertThat(Duration.between(lastSeen, w.now)).isLessThanOrEqualTo(Duration.ofMillis(3300));
  }
}
