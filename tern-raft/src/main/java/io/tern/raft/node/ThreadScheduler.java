package io.tern.raft.node;

import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The production {@link Scheduler}: a loop thread that owns the core, an apply thread, a background
 * thread for long tasks (writing snapshots), and a timer thread that only hands expired timers to
 * the loop.
 */
public final class ThreadScheduler implements Scheduler, AutoCloseable {
  private final SerialThreadExecutor loop;
  private final SerialThreadExecutor applier;
  private final SerialThreadExecutor background;
  private final ScheduledThreadPoolExecutor timers;

  public ThreadScheduler(String name) {
    loop = new SerialThreadExecutor(name + "-loop");
    applier = new SerialThreadExecutor(name + "-apply");
    background = new SerialThreadExecutor(name + "-bg");
    timers =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, name + "-timer");
              t.setDaemon(true);
              return t;
            });
    timers.setRemoveOnCancelPolicy(true);
  }

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  public Executor loop() {
    return loop;
  }

  @Override
  public Executor applier() {
    return applier;
  }

  @Override
  public Executor background() {
    return background;
  }

  @Override
  public Cancellable scheduleOnLoop(long delayNanos, Runnable task) {
    ScheduledFuture<?> f =
        timers.schedule(() -> loop.execute(task), delayNanos, TimeUnit.NANOSECONDS);
    return () -> f.cancel(false);
  }

  @Override
  public void close() {
    timers.shutdownNow();
    loop.close();
    applier.close();
    background.close();
  }
}
