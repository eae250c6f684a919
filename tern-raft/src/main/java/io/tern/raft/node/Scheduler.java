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

  /**
   * Queues {@code task} on the loop, in order with {@link #loop()}'s tasks, without waking the loop
   * for it: it runs when the loop next runs a task (a message, a timer tick, anything submitted
   * through {@link #loop()}) or after {@link #wakeLoop()}. Thread-safe.
   */
  void loopLater(Runnable task);

  /** Wakes the loop if it waits with tasks queued by {@link #loopLater}. Thread-safe. */
  void wakeLoop();

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
