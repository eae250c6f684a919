package io.tern.bench;

import java.util.EnumMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What the clients report, recorded without locks from any thread; {@link #collect} (one thread at
 * a time) folds the latest interval into cumulative histograms.
 */
final class Stats {
  /** The kinds of latency recorded. */
  enum Kind {
    PUT("put"),
    RANGE("range"),
    TXN("txn"),
    /** From a put's send time to the moment a watcher receives its event. */
    WATCH("watch");

    final String label;

    Kind(String label) {
      this.label = label;
    }

    boolean request() {
      return this != WATCH;
    }
  }

  private static final int SIGNIFICANT_DIGITS = 3;

  private final Map<Kind, Recorder> recorders = new EnumMap<>(Kind.class);
  private final Map<Kind, Histogram> cumulative = new EnumMap<>(Kind.class);
  private final Map<Kind, Histogram> recycled = new EnumMap<>(Kind.class);
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final LongAdder completed = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder unsent = new LongAdder();
  private final LongAccumulator lastMeasured = new LongAccumulator(Math::max, Long.MIN_VALUE);

  Stats() {
    for (Kind k : Kind.values()) {
      recorders.put(k, new Recorder(SIGNIFICANT_DIGITS));
      cumulative.put(k, new Histogram(SIGNIFICANT_DIGITS));
    }
  }

  /** A request (or watch event) that succeeded; only measured ones enter the histograms. */
  void success(Kind kind, long startNanos, long endNanos, boolean measured) {
    if (kind.request()) {
      completed.increment();
    }
    if (measured) {
      recorders.get(kind).recordValue(Math.max(0, endNanos - startNanos));
      if (kind.request()) {
        lastMeasured.accumulate(endNanos);
      }
    }
  }

  /**
   * A failure: a request's gRPC status code ("UNAVAILABLE"), or a watch stream's ("watch
   * CANCELLED"); only measured ones are counted in the result.
   */
  void failure(String label, long endNanos, boolean measured) {
    failed.increment();
    if (measured) {
      errors.computeIfAbsent(label, s -> new LongAdder()).increment();
      lastMeasured.accumulate(endNanos);
    }
  }

  /** Open-loop requests whose intended start passed without being sent (the run ended). */
  void unsent(long count) {
    unsent.add(count);
  }

  /** Request completions so far, measured or not, for the progress line. */
  long completed() {
    return completed.sum();
  }

  long failed() {
    return failed.sum();
  }

  long unsent() {
    return unsent.sum();
  }

  /** The end of the last measured request, or Long.MIN_VALUE if none ended. */
  long lastMeasuredEnd() {
    return lastMeasured.get();
  }

  /** Adds what was recorded since the last call to the cumulative histograms. */
  synchronized void collect() {
    for (Kind k : Kind.values()) {
      Histogram interval = recorders.get(k).getIntervalHistogram(recycled.get(k));
      cumulative.get(k).add(interval);
      recycled.put(k, interval);
    }
  }

  /** A copy of everything measured of this kind, as of the last {@link #collect}. */
  synchronized Histogram histogram(Kind kind) {
    return cumulative.get(kind).copy();
  }

  /** Every request kind merged, as of the last {@link #collect}. */
  synchronized Histogram requests() {
    Histogram all = new Histogram(SIGNIFICANT_DIGITS);
    for (Kind k : Kind.values()) {
      if (k.request()) {
        all.add(cumulative.get(k));
      }
    }
    return all;
  }

  /** Measured failures by label and status. */
  SortedMap<String, Long> errors() {
    SortedMap<String, Long> out = new TreeMap<>();
    errors.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }
}
