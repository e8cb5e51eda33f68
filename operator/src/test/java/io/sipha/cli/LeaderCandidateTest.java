package io.sipha.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LeaderCandidateTest {
  /**
   * One started operator as the candidate sees it: its number, whether it was stopped, its
   * lost-leadership hook.
   */
  static final class Started {
    final int n;
    final Runnable lost;
    volatile boolean stopped;

    Started(int n, Runnable lost) {
      this.n = n;
      this.lost = lost;
    }
  }

  final List<Started> started = new CopyOnWriteArrayList<>();
  final AtomicInteger attempts = new AtomicInteger();

  /** Starts that fail for attempts {@code failing} (counted from 1), and succeed otherwise. */
  LeaderCandidate<Started> candidate(List<Integer> failing) {
    return new LeaderCandidate<>(
        lost -> {
          int n = attempts.incrementAndGet();
          if (failing.contains(n)) {
            throw new IllegalStateException(
                "Couldn't start informer", new RuntimeException("403 Forbidden"));
          }
          Started s = new Started(n, lost);
          started.add(s);
          return s;
        },
        s -> s.stopped = true,
        Duration.ofMillis(20),
        Duration.ofMillis(80));
  }

  @Test
  void aLostLeadershipStopsTheRunningOneAndStartsAFreshOne() {
    var c = candidate(List.of());
    Started first = c.current();
    first.lost.run();
    await().atMost(Duration.ofSeconds(5)).until(() -> c.restarts() == 1);
    assertThat(first.stopped).as("the one that lost leadership is stopped").isTrue();
    assertThat(c.current()).isNotSameAs(first);
    assertThat(c.current().stopped).isFalse();
  }

  @Test
  void aFreshStartThatFailsIsTriedAgainUntilOneRuns() {
    var c = candidate(List.of(2, 3, 4));
    c.current().lost.run();
    await("a fresh one running after three refused starts")
        .atMost(Duration.ofSeconds(5))
        .until(() -> c.restarts() == 1);
    assertThat(c.failedStarts()).isEqualTo(3);
    assertThat(c.current().n).isEqualTo(5);
    assertThat(c.current().stopped).isFalse();
    assertThat(started).extracting(s -> s.stopped).containsExactly(true, false);
  }

  @Test
  void theFirstStartFailingIsTheCallersError() {
    assertThatThrownBy(() -> candidate(List.of(1))).hasMessageContaining("Couldn't start informer");
  }

  @Test
  void stoppedWhileRetryingNothingStartsAfterwards() throws Exception {
    var c = candidate(List.of(2, 3, 4, 5, 6, 7, 8, 9, 10));
    c.current().lost.run();
    await().atMost(Duration.ofSeconds(5)).until(() -> c.failedStarts() >= 1);
    c.stop();
    int tried = attempts.get();
    Thread.sleep(300);
    assertThat(attempts.get()).as("no start after stop").isEqualTo(tried);
    assertThat(started).allMatch(s -> s.stopped);
  }
}
