package io.sipha.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.sipha.decision.SelfFencing.PeerView;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName(
    "SelfFencing: a primary cut off from the API drops its VIP only when its peer may take over")
class SelfFencingTest {
  static final Duration CUT_2S = Duration.ofSeconds(2);

  @Test
  void notBeforeFenceAfterSeconds() {
    assertThat(SelfFencing.due(1, Duration.ofMillis(900), PeerView.unreachable())).isFalse();
    assertThat(SelfFencing.due(1, Duration.ofMillis(1200), PeerView.unreachable()))
        .as("a healthy agent's contact is up to a second old before each renewal: not a missed one")
        .isFalse();
    assertThat(SelfFencing.due(null, CUT_2S, PeerView.unreachable())).isFalse();
    assertThat(SelfFencing.due(1, null, PeerView.unreachable()))
        .as("never reached the API: holds nothing")
        .isFalse();
  }

  @Test
  void aPeerThatCannotBeReachedOrIsNotKnownCannotVouch() {
    assertThat(SelfFencing.due(1, CUT_2S, PeerView.unreachable())).isTrue();
    assertThat(SelfFencing.due(1, CUT_2S, null)).isTrue();
  }

  @Test
  void anAsymmetricCutFencesThePeerIsUpAndSeesTheApi() {
    assertThat(SelfFencing.due(1, CUT_2S, new PeerView(true, Duration.ofMillis(300)))).isTrue();
  }

  @Test
  void anApiOutageForEveryoneDropsNothing() {
    assertThat(SelfFencing.due(1, CUT_2S, new PeerView(true, Duration.ofSeconds(2)))).isFalse();
    assertThat(SelfFencing.due(1, CUT_2S, new PeerView(true, Duration.ofMillis(1100))))
        .as("the peer renewed up to a period later than this agent before the outage")
        .isFalse();
    assertThat(SelfFencing.due(1, CUT_2S, new PeerView(true, null))).isFalse();
  }

  @Test
  void thePeersAnswerCarriesAnAgeNeverATimestamp() {
    Instant t = Instant.parse("2030-01-01T00:00:00Z");
    assertThat(SelfFencing.answer(t, t.plusMillis(1234))).isEqualTo("api-contact-age-ms 1234");
    assertThat(SelfFencing.parse("api-contact-age-ms 1234\n"))
        .isEqualTo(new PeerView(true, Duration.ofMillis(1234)));
    assertThat(SelfFencing.parse(SelfFencing.answer(null, t))).isEqualTo(new PeerView(true, null));
    assertThat(SelfFencing.parse("<html>garbage</html>").reachable()).isFalse();
    assertThat(SelfFencing.parse("api-contact-age-ms -x").reachable()).isFalse();
  }
}
