package io.sipha.cli;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The operator of this process, as a candidate for leadership. When it loses leadership while it
 * runs (another replica leads now, or a blip of the API let its Lease expire) it is stopped at
 * once, so that it never goes on writing, and a fresh one is started in the same process: no exit,
 * so repeated API blips do not put the pod in CrashLoopBackOff.
 *
 * <p>A fresh start can fail where the first one did not: an API server that has just restarted
 * answers 403 for a few seconds while its authorizer catches up, and the informers' first list
 * fails. It is tried again, after {@code firstRetry} and then twice as long each time up to {@code
 * maxRetry}, until one starts: the process never stays alive without an operator in it.
 *
 * @param <T> what is started (JOSDK's {@code Operator}; anything with a stop in a test)
 */
final class LeaderCandidate<T> {
  private final Function<Runnable, T> start;
  private final Consumer<T> stop;
  private final Duration firstRetry;
  private final Duration maxRetry;
  private final ScheduledExecutorService restarter =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "operator-candidate");
            t.setDaemon(true);
            return t;
          });
  private volatile T current;
  private volatile boolean stopping;
  private final AtomicInteger restarts = new AtomicInteger();
  private final AtomicInteger failedStarts = new AtomicInteger();

  /**
   * Starts the first one here: if that fails the exception is the caller's (the process exits with
   * it, as for a wrong option).
   *
   * @param start starts one, given what it must run when it loses leadership
   */
  LeaderCandidate(
      Function<Runnable, T> start, Consumer<T> stop, Duration firstRetry, Duration maxRetry) {
    this.start = start;
    this.stop = stop;
    this.firstRetry = firstRetry;
    this.maxRetry = maxRetry;
    this.current = start.apply(this::lostLeadership);
  }

  /** The one running now, or the last one stopped while a fresh start is being retried. */
  T current() {
    return current;
  }

  /** How many times this process lost leadership and a fresh one started. */
  int restarts() {
    return restarts.get();
  }

  /** How many fresh starts failed (and were tried again). */
  int failedStarts() {
    return failedStarts.get();
  }

  private void lostLeadership() {
    if (stopping) {
      return;
    }
    System.err.println(
        "sipha operator: lost leadership; stopping and standing again as a candidate");
    restarter.execute(
        () -> {
          try {
            stop.accept(current);
          } catch (RuntimeException e) {
            System.err.println(
                "sipha operator: stopping the operator that lost leadership failed ("
                    + rootMessage(e)
                    + "); starting a fresh one anyway");
          }
          startAgain(firstRetry);
        });
  }

  private void startAgain(Duration wait) {
    if (stopping) {
      return;
    }
    try {
      T started = start.apply(this::lostLeadership);
      current = started;
      restarts.incrementAndGet();
      if (stopping) {
        stop.accept(started);
      }
    } catch (RuntimeException e) {
      failedStarts.incrementAndGet();
      System.err.println(
          "sipha operator: could not stand again as a candidate ("
              + rootMessage(e)
              + "); trying again in "
              + wait.toMillis()
              + " ms");
      Duration next =
          wait.multipliedBy(2).compareTo(maxRetry) > 0 ? maxRetry : wait.multipliedBy(2);
      if (!stopping) {
        restarter.schedule(() -> startAgain(next), wait.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + ": " + t.getMessage();
  }

  void stop() {
    stopping = true;
    restarter.shutdownNow();
    stop.accept(current);
  }
}
