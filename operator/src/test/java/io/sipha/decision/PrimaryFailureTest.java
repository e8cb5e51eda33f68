package io.sipha.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.FailoverPolicy;
import io.sipha.api.SipServerPairSpec;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.VipStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Failure detection on its own: what makes a serving primary failed, and the reason it is given.
 */
class PrimaryFailureTest {
  private static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");
  private static final AgentFact NODE_A = new AgentFact("node-a", NOW.minusMillis(200), null);

  private static PodFact primary(
      String node, boolean ready, Instant readySince, String failure, String role, Long epoch) {
    return new PodFact("sip-0", true, node, ready, readySince, failure, role, epoch, true);
  }

  private static final PodFact SERVING =
      primary("node-a", true, NOW.minusSeconds(60), null, "primary", 1L);

  private static Decision decision(PodFact pod, AgentFact agent) {
    SipServerPairSpec spec = new SipServerPairSpec();
    spec.setServers(List.of("sip-0", "sip-1"));
    FailoverPolicy f = new FailoverPolicy();
    f.setUnreadyGraceSeconds(5);
    f.setNodeLossSeconds(3);
    spec.setFailover(f);
    SipServerPairStatus st = new SipServerPairStatus();
    st.primary = "sip-0";
    st.epoch = 1;
    st.vip = new VipStatus("192.0.2.10/24", "eth0", "node-a", VipStatus.State.Bound, 0);
    Map<String, PodFact> pods = pod.exists() ? Map.of("sip-0", pod) : Map.of();
    PairFacts facts =
        new PairFacts(
            "voice", "pair-1", 1, spec, st, pods, Map.of("node-a", agent), null, null, NOW);
    Decision d = new Decision(facts);
    d.spec = spec;
    d.nodeLoss = Duration.ofSeconds(3);
    return d;
  }

  private static PrimaryFailure.Reason reasonOf(PodFact pod, AgentFact agent) {
    PrimaryFailure failure = PrimaryFailure.of(decision(pod, agent), "sip-0");
    return failure == null ? null : failure.reason();
  }

  @Test
  void aServingPrimaryHasNoFailureAndNothingToLookAtLater() {
    Decision d = decision(SERVING, NODE_A);
    assertThat(PrimaryFailure.of(d, "sip-0")).isNull();
    assertThat(d.recheckAfter()).isNull();
  }

  @Test
  void eachWayOfFailingHasItsReason() {
    assertThat(reasonOf(PodFact.missing("sip-0"), NODE_A))
        .isEqualTo(PrimaryFailure.Reason.PrimaryPodDeleted);
    assertThat(
            reasonOf(
                primary("node-a", false, NOW, "container sip exited 137", "primary", 1L), NODE_A))
        .isEqualTo(PrimaryFailure.Reason.PrimaryFailed);
    assertThat(reasonOf(SERVING, new AgentFact("node-a", NOW.minusSeconds(4), null)))
        .isEqualTo(PrimaryFailure.Reason.NodeLost);
    assertThat(reasonOf(primary("node-c", true, NOW, null, "primary", 1L), NODE_A))
        .isEqualTo(PrimaryFailure.Reason.PrimaryRescheduled);
    assertThat(reasonOf(primary("node-a", true, NOW, null, null, null), NODE_A))
        .isEqualTo(PrimaryFailure.Reason.PrimaryPodRecreated);
    assertThat(reasonOf(primary("node-a", false, NOW.minusSeconds(6), null, "primary", 1L), NODE_A))
        .isEqualTo(PrimaryFailure.Reason.PrimaryNotReady);
  }

  @Test
  void onlyAPrimaryThatRunsElsewhereCanMoveWithTheVip() {
    assertThat(PrimaryFailure.Reason.values())
        .filteredOn(PrimaryFailure.Reason::moved)
        .containsExactly(
            PrimaryFailure.Reason.PrimaryRescheduled, PrimaryFailure.Reason.PrimaryPodRecreated);
  }

  @Test
  void aPrimaryNotReadyWithinItsGraceIsNotFailedYetAndIsLookedAtWhenTheGraceEnds() {
    Decision d =
        decision(primary("node-a", false, NOW.minusSeconds(2), null, "primary", 1L), NODE_A);
    assertThat(PrimaryFailure.of(d, "sip-0")).isNull();
    assertThat(d.recheckAfter()).isEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void aHolderWhoseRenewalIsLateIsLookedAtWhenItWouldBeLost() {
    Decision d = decision(SERVING, new AgentFact("node-a", NOW.minusSeconds(2), null));
    assertThat(PrimaryFailure.of(d, "sip-0")).isNull();
    assertThat(d.recheckAfter()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void theMessageNamesTheNodeAndTheSettingThatDecided() {
    PrimaryFailure lost =
        PrimaryFailure.of(
            decision(SERVING, new AgentFact("node-a", NOW.minusSeconds(10), null)), "sip-0");
    assertThat(lost.message())
        .isEqualTo(
            "node node-a is lost: its agent has not renewed its Lease for 3 s"
                + " (spec.failover.nodeLossSeconds)");
  }
}
