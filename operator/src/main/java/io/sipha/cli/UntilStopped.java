package io.sipha.cli;

import java.util.concurrent.CountDownLatch;

/** Runs a started process part until the JVM is asked to stop (SIGTERM, Ctrl-C), then closes it. */
final class UntilStopped {
  private UntilStopped() {}

  /** Exit code 2 when it could not start (it said why), 0 after a clean stop. */
  static int serve(AutoCloseable running) throws InterruptedException {
    if (running == null) {
      return 2;
    }
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    running.close();
                  } catch (Exception e) {
                    System.err.println("while stopping: " + e);
                  }
                  stop.countDown();
                }));
    stop.await();
    return 0;
  }
}
