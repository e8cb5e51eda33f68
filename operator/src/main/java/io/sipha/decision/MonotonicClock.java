package io.sipha.decision;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A clock that never jumps: the wall time when it was made, then the monotonic nanosecond counter.
 * Every duration sipha measures (grace periods, node loss, patience, fencing) is measured on it, by
 * the process that observed the fact, so that a step of the wall clock (NTP, a VM resumed) changes
 * no decision. The instants it writes into the API drift from the wall clock by as much as the wall
 * clock was stepped since the process started; they are for people, not compared across machines.
 */
public final class MonotonicClock extends Clock {
  private final Instant base;
  private final long baseNanos;

  private MonotonicClock(Instant base, long baseNanos) {
    this.base = base;
    this.baseNanos = baseNanos;
  }

  public static MonotonicClock startingNow() {
    return new MonotonicClock(Instant.now(), System.nanoTime());
  }

  @Override
  public Instant instant() {
    return base.plusNanos(System.nanoTime() - baseNanos);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
