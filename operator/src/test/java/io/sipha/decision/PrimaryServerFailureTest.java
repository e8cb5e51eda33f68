package io.sipha.decision;

import static io.sipha.decision.OnePair.*;
import static io.sipha.decision.PlanReaders.*;
import static org.assertj.core.api.Assertions.assertThat;

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
 * Seed workflow 2: the primary server fails. Each step runs {@link PairDecider#decide} in {@link
 * OnePair}, whose safety check runs after every step.
 */
@DisplayName("PairDecider: primary server failure (workflow 2)")
class PrimaryServerFailureTest {
  @Test
  @DisplayName("a deleted primary pod fails over at once with reason PrimaryPodDeleted")
  void deletedPodFailsOverAtOnce() {
    OnePair w = OnePair.active();
    w.pod("sip-0").exists = false;

    Plan p = w.step();
    assertThat(p.status().transition).isNotNull();
    assertThat(p.status().transition.kind).isEqualTo(TransitionKind.Failover);
    assertThat(p.status().transition.reason).isEqualTo("PrimaryPodDeleted");
    assertThat(p.status().epoch).isEqualTo(2);
    assertThat(p.status().phase).isEqualTo(Phase.FailingOver);
    assertThat(event(p, "FailoverStarted").warning()).isTrue();
    assertThat(p.roles()).extracting(RoleAssignment::pod).doesNotContain("sip-0");

    Plan done = w.settle();
    assertThat(done.status().primary).isEqualTo("sip-1");
    assertThat(done.status().vip.node).isEqualTo("node-b");
    assertThat(done.status().vip.state).isEqualTo(VipStatus.State.Bound);
    HistoryEntry h = lastHistory(done);
    assertThat(h.kind).isEqualTo(TransitionKind.Failover);
    assertThat(h.reason).isEqualTo("PrimaryPodDeleted");
    assertThat(h.from).isEqualTo("sip-0");
    assertThat(h.to).isEqualTo("sip-1");
    assertThat(eventReasons(done)).contains("FailoverCompleted");
  }

  @Test
  @DisplayName(
      "a terminated primary container fails over at once with reason PrimaryFailed, VIP released on its live node first")
  void terminatedContainerFailsOverAtOnce() {
    OnePair w = OnePair.active();
    w.hold("node-a");
    w.pod("sip-0").failure = "container sip terminated (Error, exit code 137)";

    Plan p = w.step();
    assertThat(p.status().transition.kind).isEqualTo(TransitionKind.Failover);
    assertThat(p.status().transition.reason).isEqualTo("PrimaryFailed");
    assertThat(p.status().vip.node)
        .as("node-a's agent is alive: it must disable the VIP first")
        .isEqualTo("node-a");
    assertThat(p.status().vip.state).isEqualTo(VipStatus.State.Releasing);
    assertThat(p.roles())
        .containsExactly(
            new RoleAssignment("sip-0", BACKUP, 2), new RoleAssignment("sip-1", BACKUP, 2));

    w.follow("node-a");
    Plan grant = w.step();
    assertThat(grant.status().vip.node).isEqualTo("node-b");
    assertThat(grant.roles()).containsExactly(new RoleAssignment("sip-1", PRIMARY, 2));
    assertThat(lastHistory(w.settle()).reason).isEqualTo("PrimaryFailed");
  }

  @Test
  @DisplayName(
      "a NotReady primary is kept for unreadyGraceSeconds (recheckAfter points at the deadline), then fails over")
  void notReadyWaitsForGrace() {
    OnePair w = OnePair.active();
    Instant since = w.now;
    w.pod("sip-0").ready = false;
    w.pod("sip-0").readySince = since;

    Plan early = w.stepAt(since.plusSeconds(1));
    assertThat(early.status().transition).isNull();
    assertThat(early.status().primary).isEqualTo("sip-0");
    assertThat(early.status().epoch).isEqualTo(1);
    assertThat(early.roles()).isEmpty();
    assertThat(early.status().phase).isEqualTo(Phase.Degraded);
    assertThat(early.recheckAfter()).isEqualTo(Duration.ofSeconds(1));

    Plan justBefore = w.stepAt(since.plusMillis(1999));
    assertThat(justBefore.status().transition).isNull();
    assertThat(justBefore.recheckAfter()).isEqualTo(Duration.ofMillis(1));

    Plan atDeadline = w.stepAt(since.plusSeconds(2));
    assertThat(atDeadline.status().transition.kind).isEqualTo(TransitionKind.Failover);
    assertThat(atDeadline.status().transition.reason).isEqualTo("PrimaryNotReady");
    assertThat(atDeadline.status().epoch).isEqualTo(2);

    Plan done = w.settle();
    assertThat(done.status().primary).isEqualTo("sip-1");
    assertThat(lastHistory(done).reason).isEqualTo("PrimaryNotReady");
  }

  @Test
  @DisplayName("a primary that becomes Ready again within the grace keeps its role")
  void readyAgainWithinGrace() {
    OnePair w = OnePair.active();
    Instant since = w.now;
    w.pod("sip-0").ready = false;
    w.pod("sip-0").readySince = since;
    w.stepAt(since.plusSeconds(1));
    w.pod("sip-0").ready = true;
    w.pod("sip-0").readySince = since.plusMillis(1500);
    Plan p = w.stepAt(since.plusSeconds(5));
    assertThat(p.status().primary).isEqualTo("sip-0");
    assertThat(p.status().epoch).isEqualTo(1);
    assertThat(p.status().phase).isEqualTo(Phase.Active);
  }

  @Test
  @DisplayName("with failover disabled a failed primary is reported Degraded and nothing moves")
  void failoverDisabled() {
    OnePair w = OnePair.activeWith(s -> s.getFailover().setEnabled(false));
    w.pod("sip-0").exists = false;
    Plan p = w.step();
    assertThat(p.status().phase).isEqualTo(Phase.Degraded);
    assertThat(p.status().epoch).isEqualTo(1);
    assertThat(p.status().primary).isEqualTo("sip-0");
    assertThat(requireCondition(p, Conditions.READY).message).contains("failover is disabled");
  }
}
