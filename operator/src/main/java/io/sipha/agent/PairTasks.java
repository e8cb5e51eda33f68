package io.sipha.agent;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The script pool: the scripts of different pairs run side by side (a node may hold hundreds of
 * VIPs), one task per pair at a time. A pair asked for while its task runs is marked and looked at
 * again as soon as that task ends, so that a status that changed meanwhile is not left to the next
 * periodic pass.
 */
final class PairTasks {
  private final ExecutorService pool;
  private final Runnable afterEach;
  private final Runnable lookAgain;
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private final Set<String> again = ConcurrentHashMap.newKeySet();

  /**
   * @param afterEach run after every task (the reports are written)
   * @param lookAgain run after a task of a pair that was asked for meanwhile (a pass of the loop)
   */
  PairTasks(String node, int workers, Runnable afterEach, Runnable lookAgain) {
    this.pool =
        Executors.newFixedThreadPool(workers, r -> NodeAgent.thread(r, "agent-scripts-" + node));
    this.afterEach = afterEach;
    this.lookAgain = lookAgain;
  }

  /**
   * Runs {@code task} for the pair {@code key} in the pool, unless a task of that pair runs; then,
   * if {@code lookAgainIfBusy}, the pair is looked at again once that one ends.
   */
  void submit(String key, boolean lookAgainIfBusy, Runnable task) {
    if (!inFlight.add(key)) {
      if (lookAgainIfBusy) {
        again.add(key);
      }
      return;
    }
    try {
      pool.execute(
          () -> {
            try {
              task.run();
            } finally {
              inFlight.remove(key);
              afterEach.run();
              if (again.remove(key)) {
                lookAgain.run();
              }
            }
          });
    } catch (RejectedExecutionException e) {
      inFlight.remove(key); // stopping
    }
  }

  void shutdownNow() {
    pool.shutdownNow();
  }

  void awaitTermination(long seconds) throws InterruptedException {
    pool.awaitTermination(seconds, TimeUnit.SECONDS);
  }
}
