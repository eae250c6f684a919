package io.tern.bench;

import org.HdrHistogram.Histogram;

/** Count and percentiles of one latency histogram, in nanoseconds. */
public record LatencySummary(
    long count, long p50, long p90, long p99, long p999, long max, double mean) {

  static final LatencySummary EMPTY = new LatencySummary(0, 0, 0, 0, 0, 0, 0);

  static LatencySummary of(Histogram h) {
    if (h.getTotalCount() == 0) {
      return EMPTY;
    }
    return new LatencySummary(
        h.getTotalCount(),
        h.getValueAtPercentile(50),
        h.getValueAtPercentile(90),
        h.getValueAtPercentile(99),
        h.getValueAtPercentile(99.9),
        h.getMaxValue(),
        h.getMean());
  }
}
