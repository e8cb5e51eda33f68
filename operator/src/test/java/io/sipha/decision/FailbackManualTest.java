package io.sipha.decision;

import static io.sipha.decision.OnePair.*;
import static io.sipha.decision.PlanReaders.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.Condition;
import io.sipha.api.Phase;
import io.sipha.api.TransitionKind;
import io.sipha.decision.Plan.RoleAssignment;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Failback Manual: pending until spec.primary acknowledges the failover. Each step runs {@link
 * PairDecider#decide} in {@link OnePair}, whose safety check runs after every step.
 */
@DisplayName("PairDecider: failback Manual")
class FailbackManualTest {
  @Test
  @DisplayName(
      "the failed server comes back Ready: no switch back, FailbackPending True with reason FailbackManual")
  void noAutomaticSwitchBack() {
    OnePair w = OnePair.active();
    Instant back = failoverThenRecreate(w);

    Plan p = w.stepAt(back);
    assertThat(p.roles()).containsExactly(new RoleAssignment("sip-0", BACKUP, 2));
    Condition c = requireCondition(p, Conditions.FAILBACK_PENDING);
    assertThat(c.status).isEqualTo("True");
    assertThat(c.reason).isEqualTo("FailbackManual");
    assertThat(c.message).contains("sip-1").contains("sip-0");
    assertThat(p.status().primary).isEqualTo("sip-1");

    Plan muchLater = w.stepAt(back.plusSeconds(3600));
    assertThat(muchLater.status().primary).isEqualTo("sip-1");
    assertThat(muchLater.status().epoch).isEqualTo(2);
    assertThat(muchLater.status().transition).isNull();
    assertThat(muchLater.status().phase).isEqualTo(Phase.Active);
    assertThat(requireCondition(muchLater, Conditions.FAILBACK_PENDING).reason)
        .isEqualTo("FailbackManual");
  }

  @Test
  @DisplayName(
      "setting spec.primary to the current primary acknowledges; changing it again switches over")
  void acknowledgeThenSwitchOver() {
    OnePair w = OnePair.active();
    Instant back = failoverThenRecreate(w);
    w.stepAt(back);

    w.editSpec(s -> s.setPrimary("sip-1"));
    Plan ack = w.step();
    assertThat(condition(ack, Conditions.FAILBACK_PENDING)).isEmpty();
    assertThat(ack.status().acceptedPrimary).isEqualTo("sip-1");
    assertThat(ack.status().epoch).isEqualTo(2);
    assertThat(ack.status().transition).isNull();
    assertThat(ack.roles()).isEmpty();

    w.editSpec(s -> s.setPrimary("sip-0"));
    Plan sw = w.step();
    assertThat(sw.status().transition.kind).isEqualTo(TransitionKind.Switchover);
    assertThat(sw.status().transition.to).isEqualTo("sip-0");
    assertThat(sw.status().epoch).isEqualTo(3);

    Plan done = w.settle();
    assertThat(done.status().primary).isEqualTo("sip-0");
    assertThat(done.status().vip.node).isEqualTo("node-a");
    assertThat(done.status().phase).isEqualTo(Phase.Active);
    assertThat(lastHistory(done).kind).isEqualTo(TransitionKind.Switchover);
  }

  @Test
  @DisplayName(
      "the acknowledgement and the request between two decisions (the spec looks unchanged) still switch over")
  void acknowledgementAndRequestBetweenTwoDecisions() {
    OnePair w = OnePair.active();
    Instant back = failoverThenRecreate(w);
    w.stepAt(back);
    w.editSpec(s -> s.setPrimary("sip-1"));
    w.editSpec(s -> s.setPrimary("sip-0"));
    w.primariesSeen =
        Set.of("sip-1", "sip-0"); // the informer saw both edits go by: set to sip-1, then to sip-0
    Plan sw = w.step();
    assertThat(sw.status().transition).as("a request, not FailbackPending").isNotNull();
    assertThat(sw.status().transition.kind).isEqualTo(TransitionKind.Switchover);
    assertThat(sw.status().transition.to).isEqualTo("sip-0");
  }

  @Test
  @DisplayName("an edit of another field while FailbackPending is no request")
  void anotherEditIsNoRequest() {
    OnePair w = OnePair.active();
    Instant back = failoverThenRecreate(w);
    w.stepAt(back);
    w.editSpec(
        s -> s.setFailback(io.sipha.api.FailbackMode.Manual)); // spelled out: generation grows
    Plan p = w.step();
    assertThat(p.status().transition).isNull();
    assertThat(p.status().primary).isEqualTo("sip-1");
    assertThat(requireCondition(p, Conditions.FAILBACK_PENDING).reason).isEqualTo("FailbackManual");
  }
}
