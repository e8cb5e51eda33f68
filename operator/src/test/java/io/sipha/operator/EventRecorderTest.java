package io.sipha.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Events as kube-apiserver accepts them (the mock accepted anything). */
class EventRecorderTest {
  /**
   * kube-apiserver parses an Event's eventTime (a MicroTime) with the layout
   * 2006-01-02T15:04:05.000000Z07:00: six fractional digits, no more, no fewer. Seen on the real
   * server: "parsing time "2026-12-02T01:25:00.468953350Z" ... cannot parse "350Z" as "Z07:00"",
   * 400.
   */
  @Test
  void theEventTimeHasExactlySixFractionalDigits() {
    assertThat(EventRecorder.microTime(Instant.parse("2026-12-02T01:25:00.468953350Z")))
        .isEqualTo("2026-12-02T01:25:00.468953Z");
    assertThat(EventRecorder.microTime(Instant.parse("2026-12-02T01:25:00Z")))
        .isEqualTo("2026-12-02T01:25:00.000000Z");
    assertThat(EventRecorder.microTime(Instant.parse("2026-12-02T01:25:00.5Z")))
        .isEqualTo("2026-12-02T01:25:00.500000Z");
  }
}
