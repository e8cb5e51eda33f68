package io.sipha.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.api.Condition;
import io.sipha.api.SipServerPairStatus;
import io.sipha.api.TransitionKind;
import io.sipha.api.VipStatus;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The loss of the VIP holder's node on the two observers' word: node-b's agent, which hears
 * node-a's directly over the peer channel, and the operator's own evidence of node-a (its probe of
 * the agent, or the Lease).
 */
class NodeLossTest {
  private static final PeerHearing HEARS_A = new PeerHearing(Set.of("node-a"), Set.of());
  private static final PeerHearing SILENT_A = new PeerHearing(Set.of(), Set.of("node-a"));

  private static OnePair withPeers() {
    OnePair w = OnePair.active();
    w.agent("node-a").hearing = new PeerHearing(Set.of("node-b"), Set.of());
    w.agent("node-b").hearing = HEARS_A;
    w.agent("node-a").probe = AgentProbe.ANSWERS;
    w.agent("node-b").probe = AgentProbe.ANSWERS;
    return w;
  }

  private static Condition contact(SipServerPairStatus st) {
    return Conditions.find(st.conditions, Conditions.NODE_CONTACT).orElse(null);
  }

  @Test
  void aSilentPeerAndAnUnansweredProbeFailOverAtOnceWhileTheLeaseIsStillFresh() {
    OnePair w = withPeers();
    w.disconnect("node-a");
    w.agent("node-b").hearing = SILENT_A;
    w.agent("node-a").probe = AgentProbe.gone(310);
    Plan p = w.step(); // 100 ms after node-a's last renewal: its Lease says nothing yet
    assertThat(p.status().transition).isNotNull();
    assertThat(p.status().transition.kind).isEqualTo(TransitionKind.Failover);
    assertThat(p.status().transition.reason).isEqualTo("NodeLost");
    assertThat(p.events())
        .as("the release is taken as done: nothing can run on a lost node")
        .anySatisfy(e -> assertThat(e.what()).isEqualTo(EventReason.VipReleased));
    assertThat(p.events())
        .anySatisfy(
            e ->
                assertThat(e.message())
                    .contains(
                        "node node-a is lost: node-b hears nothing from its agent over the peer"
                            + " channel, and the agent has not answered the operator's probe for"
                            + " 310 ms"));
    Plan done = w.settle();
    assertThat(done.status().primary).isEqualTo("sip-1");
    assertThat(done.status().vip.node).isEqualTo("node-b");
    assertThat(done.status().vip.state).isEqualTo(VipStatus.State.Bound);
  }

  @Test
  void aLeaseThatRunsOutWhileThePeerHearsTheHolderMovesNothingAndSaysSo() {
    OnePair w = withPeers();
    w.disconnect("node-a"); // cut from the API only: node-b still hears it
    w.agent("node-a").probe = AgentProbe.gone(4000);
    Plan p = w.stepAt(w.agent("node-a").renewedAt.plusSeconds(4));
    assertThat(p.status().transition).isNull();
    assertThat(p.status().primary).isEqualTo("sip-0");
    assertThat(p.status().vip.node).isEqualTo("node-a");
    Condition c = contact(p.status());
    assertThat(c.status).isEqualTo("False");
    assertThat(c.reason).isEqualTo("ApiContactLost");
    assertThat(c.message)
        .isEqualTo(
            "node node-a is not lost although its agent has not renewed its Lease for 3 s"
                + " (spec.failover.nodeLossSeconds): node-b hears it over the peer channel");
    assertThat(p.recheckAfter()).isNotNull();

    // then node-b stops hearing it too: both observers agree
    w.agent("node-b").hearing = SILENT_A;
    Plan lost = w.step();
    assertThat(lost.status().transition).isNotNull();
    assertThat(lost.status().transition.reason).isEqualTo("NodeLost");
  }

  @Test
  void aSilentPeerWhileTheProbeAnswersMovesNothingAndSaysWhatIsSeen() {
    OnePair w = withPeers();
    w.agent("node-b").hearing = SILENT_A; // the signalling network between them is cut
    Plan p = w.step();
    assertThat(p.status().transition).isNull();
    Condition c = contact(p.status());
    assertThat(c.status).isEqualTo("False");
    assertThat(c.reason).isEqualTo("PeerSilent");
    assertThat(c.message)
        .isEqualTo(
            "node-b hears nothing from node node-a over the peer channel, but its agent answers"
                + " the operator's probe and renews its Lease: not lost");
    Plan later = w.stepAt(w.now.plusSeconds(30));
    assertThat(later.status().transition).isNull();
    assertThat(later.status().primary).isEqualTo("sip-0");
  }

  @Test
  void aSilentPeerWithNoProbeWaitsForTheLease() {
    OnePair w = withPeers();
    w.disconnect("node-a");
    w.agent("node-b").hearing = SILENT_A;
    w.agent("node-a").probe = AgentProbe.UNKNOWN;
    Plan p = w.step();
    assertThat(p.status().transition).isNull();
    Plan lost = w.stepAt(w.agent("node-a").renewedAt.plusSeconds(3));
    assertThat(lost.status().transition.reason).isEqualTo("NodeLost");
    assertThat(lost.events())
        .anySatisfy(
            e ->
                assertThat(e.message())
                    .contains(
                        "(spec.failover.nodeLossSeconds), and node-b hears nothing from it over"
                            + " the peer channel"));
  }

  @Test
  void aPeerThatIsItselfLostIsNoObserver() {
    OnePair w = withPeers();
    w.disconnect("node-b"); // its word is as old as its Lease
    w.agent("node-b").hearing = SILENT_A;
    w.agent("node-a").probe = AgentProbe.gone(500);
    Plan p = w.stepAt(w.agent("node-b").renewedAt.plusSeconds(4));
    assertThat(p.status().transition).isNull();
    assertThat(p.status().primary).isEqualTo("sip-0");
  }

  @Test
  void inContactTheConditionSaysBothObserversSeeTheHolder() {
    OnePair w = withPeers();
    Condition c = contact(w.step().status());
    assertThat(c.status).isEqualTo("True");
    assertThat(c.reason).isEqualTo("InContact");
  }

  @Test
  void withoutAPeerChannelThereIsNoConditionAndTheLeaseDecidesAsBefore() {
    OnePair w = OnePair.active();
    assertThat(contact(w.step().status())).isNull();
    w.disconnect("node-a");
    Plan lost = w.stepAt(w.agent("node-a").renewedAt.plusSeconds(3));
    assertThat(lost.status().transition.reason).isEqualTo("NodeLost");
  }

  /**
   * A holder whose Lease ran out while its peer hears it is not taken for lost anywhere: a
   * switchover asked meanwhile waits for its release instead of granting the VIP to node-b (where
   * the Lease alone would have put it on two live hosts).
   */
  @Test
  void aHolderVouchedForByItsPeerMustConfirmItsReleaseBeforeTheVipMoves() {
    OnePair w = withPeers();
    w.disconnect("node-a");
    w.stepAt(w.agent("node-a").renewedAt.plusSeconds(4));
    w.editSpec(s -> s.setPrimary("sip-1"));
    for (int i = 0; i < 20; i++) {
      Plan p = w.step();
      assertThat(p.status().vip.node).as("still waiting for node-a's release").isEqualTo("node-a");
      assertThat(p.status().vip.state).isNotEqualTo(VipStatus.State.Binding);
    }
  }
}
