package io.tern.raft.node;

import java.util.concurrent.Executor;

/**
 * Time and threads for a {@link RaftNode}: a real clock and threads in production, simulated time
 * in the simulator. Everything the node does runs through this interface, so the simulator executes
 * exactly the production driver.
 */
public interface Scheduler {
  /** Monotonic time in nanoseconds. */
  long nanoTime();

  /**
   * Runs tasks one at a time in submission order on the node's loop; the loop owns the core.
   * Thread-safe.
   */
  Executor loop();

  /** Runs tasks one at a time in submission order on the apply thread. Thread-safe. */
  Executor applier();

  /**
   * Runs long tasks (writing snapshots) one at a time in submission order, off the loop and the
   * apply thread. Thread-safe.
   */
  Executor background();

  /** Runs {@code task} on the loop after {@code delayNanos}; the handle cancels it. */
  Cancellable scheduleOnLoop(long delayNanos, Runnable task);

  /** A scheduled task that can be cancelled. */
  interface Cancellable {
    void cancel();
  }
}
