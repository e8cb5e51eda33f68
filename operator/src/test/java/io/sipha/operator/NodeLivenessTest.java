package io.sipha.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Heartbeats on the operator's clock: who is late, and who gets woken. */
class NodeLivenessTest {
  static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

  @Test
  void aNodeThatWasLateBeforeADeafSpellIsWokenAgainWhenItIsLateAfterIt() {
    var h = new Heartbeats();
    h.seen("node-a", T0, T0);
    h.seen("node-b", T0, T0);
    // node-b dies; node-a renews every second
    for (int s = 1; s <= 2; s++) {
      h.seen("node-a", T0.plusSeconds(s), T0.plusSeconds(s));
    }
    assertThat(h.newlyLate(T0.plusSeconds(2))).containsExactly("node-b");
    // the operator hears nothing for 10 s (the API server it watched was on the lost node)
    Instant back = T0.plusSeconds(12);
    h.seen("node-a", back, back);
    assertThat(h.renewedAt("node-b", back)).as("node-b starts afresh").isEqualTo(back);
    h.seen("node-a", back.plusSeconds(1), back.plusSeconds(1));
    assertThat(h.newlyLate(back.plusSeconds(2)))
        .as("node-b's pairs are woken again")
        .containsExactly("node-b");
  }

  @Test
  void anAnnouncedRestartCountsOnTheOperatorsClockFromWhenItWasSeen() {
    var h = new Heartbeats();
    Instant agentClock = T0.plusSeconds(3600); // the node's clock is an hour ahead
    h.seen("node-a", agentClock, java.time.Duration.ofSeconds(20), T0);
    h.seen(
        "node-a", agentClock.plusSeconds(1), java.time.Duration.ofSeconds(20), T0.plusSeconds(1));
    assertThat(h.restartingUntil("node-a")).isEqualTo(T0.plusSeconds(20));
    h.seen("node-a", agentClock.plusSeconds(2), null, T0.plusSeconds(2));
    assertThat(h.restartingUntil("node-a")).as("the new agent runs: no restart any more").isNull();
  }

  @Test
  void aNodeIsWokenOncePerLateSpell() {
    var h = new Heartbeats();
    h.seen("node-b", T0, T0);
    h.seen("node-a", T0.plusSeconds(1), T0.plusSeconds(1));
    h.seen("node-a", T0.plusSeconds(2), T0.plusSeconds(2));
    assertThat(h.newlyLate(T0.plusSeconds(2))).containsExactly("node-b");
    assertThat(h.newlyLate(T0.plusMillis(2100))).isEmpty();
    h.seen("node-b", T0.plusSeconds(3), T0.plusSeconds(3));
    h.seen("node-a", T0.plusSeconds(4), T0.plusSeconds(4));
    h.seen("node-a", T0.plusSeconds(5), T0.plusSeconds(5));
    assertThat(h.newlyLate(T0.plusSeconds(5))).containsExactly("node-b");
  }

  /**
   * A node that comes back wakes its pairs from the bookkeeping that judges it alive: a fenced
   * holder's release counts only from a live node, and the Lease update that another informer
   * carries to the reconciler may come before this one has seen the renewal (seen in CI: a pair
   * stayed with its fenced list for good after the cut was healed).
   */
  @Test
  void aLateNodeThatRenewsAgainWakesItsPairsOnceWhenItCountsAsAliveAgain() {
    var h = new Heartbeats();
    assertThat(h.seen("node-a", T0, T0)).isEmpty();
    assertThat(h.seen("node-b", T0, T0)).isEmpty();
    h.seen("node-b", T0.plusSeconds(1), T0.plusSeconds(1));
    h.seen("node-b", T0.plusSeconds(2), T0.plusSeconds(2));
    assertThat(h.newlyLate(T0.plusSeconds(2))).containsExactly("node-a");
    assertThat(h.seen("node-b", T0.plusSeconds(3), T0.plusSeconds(3)))
        .as("a node on time wakes nothing")
        .isEmpty();
    assertThat(h.seen("node-a", T0.plusSeconds(3), T0.plusSeconds(3)))
        .as("node-a is back")
        .containsExactly("node-a");
    assertThat(h.seen("node-a", T0.plusSeconds(4), T0.plusSeconds(4))).as("once").isEmpty();
  }
}
