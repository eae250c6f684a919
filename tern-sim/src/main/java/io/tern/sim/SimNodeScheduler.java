package io.tern.sim;

import io.tern.raft.node.Scheduler;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.random.RandomGenerator;

/**
 * The {@link Scheduler} of one node incarnation inside a {@link Simulation}.
 *
 * <p>{@link #loop()}, {@link #applier()} and {@link #background()} are serial executors: their
 * tasks run one at a time in submission order, each as its own simulation event. The loop runs a
 * task as soon as it reaches the head of its queue (zero delay, but still a separate event so other
 * events due at the same instant interleave deterministically); the applier waits a random latency,
 * drawn per task from {@code [minApplyLatency, maxApplyLatency]}, before each task (a task on the
 * applier is one apply batch); the background executor likewise waits a random latency drawn from
 * its own range ({@link #backgroundLatency}) before each task (a task there is, say, writing one
 * snapshot, so its latency stands for the whole write).
 *
 * <p>{@link #kill()} models a crash: every task and timer not yet run becomes a no-op, and later
 * submissions are silently dropped (a dead process does nothing; throwing would only break the
 * component that submitted it, such as a disk completing a write).
 *
 * <p>{@link #nanoTime()} is the simulation time plus a constant per-node offset, so that code
 * cannot assume clocks of different nodes agree or start at zero.
 */
public final class SimNodeScheduler implements Scheduler {
  /** Default bounds of the applier's per-batch latency. */
  public static final long DEFAULT_MIN_APPLY_LATENCY = 0;

  public static final long DEFAULT_MAX_APPLY_LATENCY = 50_000;

  /** Default bounds of the background executor's per-task latency. */
  public static final long DEFAULT_MIN_BACKGROUND_LATENCY = 0;

  public static final long DEFAULT_MAX_BACKGROUND_LATENCY = 200_000;

  private final Simulation sim;
  private final long nodeId;
  private final long clockOffset;
  private final RandomGenerator random;
  private final SerialExecutor loop;
  private final SerialExecutor applier;
  private final SerialExecutor background;
  private boolean alive = true;
  private long droppedAfterKill;
  private long pausedUntil = Long.MIN_VALUE;

  /** A scheduler with no clock offset and the default apply latency. */
  public SimNodeScheduler(Simulation sim, long nodeId) {
    this(sim, nodeId, 0, DEFAULT_MIN_APPLY_LATENCY, DEFAULT_MAX_APPLY_LATENCY);
  }

  /**
   * @param clockOffsetNanos added to the simulation time in {@link #nanoTime()}
   * @param minApplyLatency lower bound of the delay before each applier task, in nanoseconds
   * @param maxApplyLatency upper bound (inclusive) of that delay
   */
  public SimNodeScheduler(
      Simulation sim,
      long nodeId,
      long clockOffsetNanos,
      long minApplyLatency,
      long maxApplyLatency) {
    if (minApplyLatency < 0 || maxApplyLatency < minApplyLatency) {
      throw new IllegalArgumentException(
          "bad apply latency [" + minApplyLatency + ", " + maxApplyLatency + "]");
    }
    this.sim = Objects.requireNonNull(sim, "sim");
    this.nodeId = nodeId;
    this.clockOffset = clockOffsetNanos;
    this.random = sim.forkRandom();
    this.loop = new SerialExecutor("loop", 0, 0);
    this.applier = new SerialExecutor("apply", minApplyLatency, maxApplyLatency);
    this.background =
        new SerialExecutor(
            "background", DEFAULT_MIN_BACKGROUND_LATENCY, DEFAULT_MAX_BACKGROUND_LATENCY);
  }

  /**
   * Sets the bounds of the delay before each background task, in nanoseconds (inclusive); applies
   * to tasks scheduled from now on.
   */
  public SimNodeScheduler backgroundLatency(long minNanos, long maxNanos) {
    if (minNanos < 0 || maxNanos < minNanos) {
      throw new IllegalArgumentException(
          "bad background latency [" + minNanos + ", " + maxNanos + "]");
    }
    background.minLatency = minNanos;
    background.maxLatency = maxNanos;
    return this;
  }

  public long nodeId() {
    return nodeId;
  }

  @Override
  public long nanoTime() {
    return sim.now() + clockOffset;
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
    Objects.requireNonNull(task, "task");
    Timer timer = new Timer(task);
    if (!alive) {
      droppedAfterKill++;
      timer.cancelled = true;
      return timer;
    }
    timer.event = sim.at(delayNanos, timer::fire);
    return timer;
  }

  /**
   * Crashes this incarnation: queued tasks, pending timers and anything submitted later never run.
   * A task that is running when kill() is called (e.g. a task that kills its own node) finishes
   * normally.
   */
  public void kill() {
    if (!alive) {
      return;
    }
    alive = false;
    sim.trace("node.kill", nodeId, loop.queue.size(), applier.queue.size(), null);
    loop.kill();
    applier.kill();
    background.kill();
  }

  /**
   * Models a stopped process (SIGSTOP, a long GC pause): for {@code nanos} of simulated time no
   * task or timer of this node runs; what arrives meanwhile queues, and everything resumes in order
   * when the pause ends. The clock ({@link #nanoTime()}) goes on.
   */
  public void pause(long nanos) {
    if (nanos < 0) {
      throw new IllegalArgumentException("negative pause " + nanos);
    }
    pausedUntil = Math.max(pausedUntil, sim.now() + nanos);
    sim.trace("node.pause", nodeId, nanos, 0, null);
  }

  /** Nanoseconds left of the current pause, 0 if not paused. */
  private long pauseLeft() {
    return pausedUntil == Long.MIN_VALUE ? 0 : Math.max(0, pausedUntil - sim.now());
  }

  public boolean isAlive() {
    return alive;
  }

  /** Tasks run so far on the loop (timers count once they run there). */
  public long loopTasksRun() {
    return loop.tasksRun;
  }

  /** Tasks run so far on the applier. */
  public long applierTasksRun() {
    return applier.tasksRun;
  }

  /** Tasks run so far on the background executor. */
  public long backgroundTasksRun() {
    return background.tasksRun;
  }

  /** Tasks and timers discarded because of {@link #kill()}. */
  public long droppedAfterKill() {
    return droppedAfterKill;
  }

  /** Number of tasks queued on the loop and not yet run. */
  public int loopBacklog() {
    return loop.queue.size();
  }

  /** Number of tasks queued on the applier and not yet run. */
  public int applierBacklog() {
    return applier.queue.size();
  }

  /** Number of tasks queued on the background executor and not yet run. */
  public int backgroundBacklog() {
    return background.queue.size();
  }

  private final class Timer implements Cancellable {
    private final Runnable task;
    private Simulation.Event event;
    private boolean cancelled;

    Timer(Runnable task) {
      this.task = task;
    }

    void fire() {
      if (cancelled || !alive) {
        return;
      }
      long left = pauseLeft();
      if (left > 0) {
        event = sim.at(left, this::fire); // the timer thread is stopped too
        return;
      }
      // Like a timer thread posting to the loop: the task runs after tasks already queued.
      loop.execute(
          () -> {
            if (!cancelled) {
              task.run();
            }
          });
    }

    @Override
    public void cancel() {
      cancelled = true;
      if (event != null) {
        event.cancel();
      }
    }
  }

  /** Runs tasks one at a time, in order, each as a separate simulation event. */
  private final class SerialExecutor implements Executor {
    private final String name;
    private long minLatency;
    private long maxLatency;
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    private Simulation.Event next;
    private long tasksRun;

    SerialExecutor(String name, long minLatency, long maxLatency) {
      this.name = name;
      this.minLatency = minLatency;
      this.maxLatency = maxLatency;
    }

    @Override
    public void execute(Runnable task) {
      Objects.requireNonNull(task, "task");
      if (!alive) {
        droppedAfterKill++;
        return;
      }
      queue.addLast(task);
      if (next == null) {
        scheduleNext();
      }
    }

    private void scheduleNext() {
      long delay =
          maxLatency == minLatency ? minLatency : random.nextLong(minLatency, maxLatency + 1);
      next = sim.at(Math.max(delay, pauseLeft()), this::runOne);
    }

    private void runOne() {
      next = null;
      if (!alive) {
        return;
      }
      long left = pauseLeft();
      if (left > 0) {
        next = sim.at(left, this::runOne);
        return;
      }
      Runnable task = queue.pollFirst();
      if (task == null) {
        return;
      }
      tasksRun++;
      task.run();
      if (alive && next == null && !queue.isEmpty()) {
        scheduleNext();
      }
    }

    void kill() {
      droppedAfterKill += queue.size();
      queue.clear();
      if (next != null) {
        next.cancel();
        next = null;
      }
    }

    @Override
    public String toString() {
      return "SimNodeScheduler[" + nodeId + "]." + name;
    }
  }
}
