package io.tern.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import java.util.random.RandomGenerator;

/**
 * A deterministic discrete-event scheduler: simulated time in nanoseconds, a queue of events
 * ordered by (time, sequence number), a seeded random source and a running trace hash.
 *
 * <p>Everything runs on the thread that created the simulation; scheduling from any other thread
 * throws, because a second thread would make runs irreproducible. The same seed and the same
 * sequence of calls always give the same run, the same {@link #traceHash()} and the same trace.
 *
 * <p>The trace hash folds in the time of every event that runs and every {@code trace(...)} call,
 * whether or not the readable trace log is enabled; enabling the log only keeps the text of the
 * last lines in a bounded buffer.
 */
public final class Simulation {
  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  private final long seed;
  private final SplittableRandom random;
  private final Thread owner;
  private final PriorityQueue<Event> queue = new PriorityQueue<>();

  private long now;
  private long nextSeq;
  private long eventsRun;
  private long eventLimit = Long.MAX_VALUE;
  private long hash = FNV_OFFSET;
  private Runnable afterEachEvent;
  private volatile IllegalStateException foreignThreadUse;

  private Deque<String> traceLog;
  private int traceCapacity;
  private long traceLinesDropped;

  /** A simulation starting at time 0 whose randomness derives only from {@code seed}. */
  public Simulation(long seed) {
    this.seed = seed;
    this.random = new SplittableRandom(seed);
    this.owner = Thread.currentThread();
  }

  public long seed() {
    return seed;
  }

  /** Current simulated time in nanoseconds (starts at 0, never decreases). */
  public long now() {
    return now;
  }

  /** The simulation's random source. Only use it from simulation code, never from a test thread. */
  public RandomGenerator random() {
    return random;
  }

  /**
   * A new independent random stream split off the main one (deterministically). Components that
   * take their own stream at construction keep their draws from shifting when other components
   * change how much randomness they consume.
   */
  public RandomGenerator forkRandom() {
    checkThread();
    return random.split();
  }

  /** Runs {@code r} as an event {@code delayNanos} from now (negative delays count as 0). */
  public Event at(long delayNanos, Runnable r) {
    return atTime(now + Math.max(0, delayNanos), r);
  }

  /** Runs {@code r} as an event at absolute time {@code time} (times in the past mean now). */
  public Event atTime(long time, Runnable r) {
    Objects.requireNonNull(r, "r");
    checkThread();
    Event e = new Event(Math.max(time, now), nextSeq++, r);
    queue.add(e);
    return e;
  }

  /**
   * Runs the next event, advancing time to it.
   *
   * @return false if there was no event to run
   */
  public boolean runNext() {
    checkThread();
    Event e;
    do {
      e = queue.poll();
      if (e == null) {
        return false;
      }
    } while (e.cancelled);
    runEvent(e);
    return true;
  }

  /** Runs every event due at or before {@code time}, then sets the clock to {@code time}. */
  public void runUntil(long time) {
    checkThread();
    while (true) {
      Event e = queue.peek();
      if (e == null || e.time > time) {
        break;
      }
      queue.poll();
      if (!e.cancelled) {
        runEvent(e);
      }
    }
    if (time > now) {
      now = time;
    }
  }

  /** Runs the simulation for {@code nanos} of simulated time. */
  public void runFor(long nanos) {
    runUntil(now + nanos);
  }

  /**
   * Runs events until {@code done} holds (checked before each event) or the clock would pass {@code
   * deadline}.
   *
   * @return whether {@code done} held
   */
  public boolean runUntil(BooleanSupplier done, long deadline) {
    checkThread();
    while (!done.getAsBoolean()) {
      Event e = queue.peek();
      if (e == null || e.time > deadline) {
        if (deadline > now) {
          now = deadline;
        }
        return done.getAsBoolean();
      }
      queue.poll();
      if (!e.cancelled) {
        runEvent(e);
      }
    }
    return true;
  }

  private void runEvent(Event e) {
    if (eventsRun >= eventLimit) {
      throw new IllegalStateException(
          "event limit " + eventLimit + " reached at t=" + now + " (livelock?) seed=" + seed);
    }
    now = e.time;
    eventsRun++;
    fold(now);
    e.cancelled = true; // an event runs at most once; cancelling it afterwards is harmless
    e.task.run();
    if (afterEachEvent != null) {
      afterEachEvent.run();
    }
  }

  /** Number of events run so far (cancelled events are not counted). */
  public long eventsRun() {
    return eventsRun;
  }

  /** Number of events queued, including cancelled ones not yet discarded. */
  public int pendingEvents() {
    return queue.size();
  }

  /** Time of the next queued event, or -1 if none. */
  public long nextEventTime() {
    while (!queue.isEmpty() && queue.peek().cancelled) {
      queue.poll();
    }
    Event head = queue.peek();
    return head == null ? -1 : head.time;
  }

  /** Fails the run (throws from the event loop) after {@code limit} events; a livelock guard. */
  public void setEventLimit(long limit) {
    this.eventLimit = limit;
  }

  /** Runs after every event (e.g. an invariant check); null to remove. */
  public void setAfterEachEvent(Runnable hook) {
    this.afterEachEvent = hook;
  }

  // ---------------------------------------------------------------- tracing

  /** Keeps the text of the last {@code capacity} trace lines (0 disables the log). */
  public void enableTraceLog(int capacity) {
    if (capacity <= 0) {
      traceLog = null;
      traceCapacity = 0;
      return;
    }
    traceCapacity = capacity;
    Deque<String> log = new ArrayDeque<>(Math.min(capacity, 1 << 16));
    if (traceLog != null) {
      log.addAll(traceLog);
      while (log.size() > capacity) {
        log.pollFirst();
      }
    }
    traceLog = log;
  }

  public boolean isTraceLogEnabled() {
    return traceLog != null;
  }

  /** Folds {@code line} into the trace hash and, if the log is enabled, records it. */
  public void trace(String line) {
    fold(now);
    foldString(line);
    if (traceLog != null) {
      log(line);
    }
  }

  /**
   * Folds a tag and three numbers into the trace hash without building a string; if the log is
   * enabled, records {@code tag a b c detail} ({@code detail} may be null and is only rendered when
   * the log is enabled, so it does not influence the hash).
   */
  public void trace(String tag, long a, long b, long c, Object detail) {
    fold(now);
    fold(tag.hashCode());
    fold(a);
    fold(b);
    fold(c);
    if (traceLog != null) {
      log(detail == null ? tag + " " + a + " " + b + " " + c : tag + " " + detail);
    }
  }

  private void log(String line) {
    if (traceLog.size() >= traceCapacity) {
      traceLog.pollFirst();
      traceLinesDropped++;
    }
    traceLog.addLast(formatTime(now) + " " + line);
  }

  /** The running hash of everything traced and every event time so far. */
  public long traceHash() {
    return hash;
  }

  /** The last {@code n} lines of the trace log (empty if the log is disabled). */
  public List<String> traceTail(int n) {
    if (traceLog == null || n <= 0) {
      return List.of();
    }
    List<String> all = new ArrayList<>(traceLog);
    return List.copyOf(all.subList(Math.max(0, all.size() - n), all.size()));
  }

  /** The whole retained trace log, one line per entry, with a header giving seed and state. */
  public String dumpTrace() {
    StringBuilder sb = new StringBuilder();
    sb.append("# seed=")
        .append(seed)
        .append(" t=")
        .append(formatTime(now))
        .append(" events=")
        .append(eventsRun)
        .append(" hash=")
        .append(Long.toHexString(hash));
    if (traceLinesDropped > 0) {
      sb.append(" (").append(traceLinesDropped).append(" earlier lines dropped)");
    }
    sb.append('\n');
    if (traceLog != null) {
      for (String line : traceLog) {
        sb.append(line).append('\n');
      }
    }
    return sb.toString();
  }

  /** Formats a simulated time as seconds with microsecond precision, e.g. {@code 1.000250s}. */
  public static String formatTime(long nanos) {
    long micros = nanos / 1_000;
    return String.format(Locale.ROOT, "%d.%06ds", micros / 1_000_000, Math.abs(micros % 1_000_000));
  }

  private void fold(long v) {
    // FNV-1a over the value's eight bytes, folded a byte at a time.
    long h = hash;
    for (int i = 0; i < 8; i++) {
      h ^= (v >>> (i * 8)) & 0xff;
      h *= FNV_PRIME;
    }
    hash = h;
  }

  private void foldString(String s) {
    long h = hash;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      h ^= c & 0xff;
      h *= FNV_PRIME;
      h ^= c >>> 8;
      h *= FNV_PRIME;
    }
    hash = h;
  }

  private void checkThread() {
    if (Thread.currentThread() != owner) {
      IllegalStateException e =
          new IllegalStateException(
              "simulation used from thread "
                  + Thread.currentThread().getName()
                  + " but owned by "
                  + owner.getName()
                  + "; simulated code must not start threads or use async pools");
      // The foreign thread may swallow the exception (e.g. inside a CompletableFuture), so the
      // owner rethrows it too, the next time it runs the simulation.
      if (foreignThreadUse == null) {
        foreignThreadUse = e;
      }
      throw e;
    }
    IllegalStateException e = foreignThreadUse;
    if (e != null) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  /** A scheduled event; {@link #cancel()} turns it into a no-op. */
  public static final class Event implements Comparable<Event> {
    private final long time;
    private final long seq;
    private final Runnable task;
    private boolean cancelled;

    private Event(long time, long seq, Runnable task) {
      this.time = time;
      this.seq = seq;
      this.task = task;
    }

    public long time() {
      return time;
    }

    /** Prevents the event from running; no effect if it already ran. */
    public void cancel() {
      cancelled = true;
    }

    /** Whether the event has been cancelled or has already run. */
    public boolean isDone() {
      return cancelled;
    }

    @Override
    public int compareTo(Event o) {
      int c = Long.compare(time, o.time);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }
}
