package io.tern.bench;

import java.util.Map;
import java.util.SortedMap;

/**
 * The outcome of one run.
 *
 * @param elapsedNanos from the start of measurement to the end of the last measured request
 * @param requests every measured request that succeeded, all kinds together
 * @param kinds per kind ("put", "range", "txn", "watch"), only kinds that occurred, in that order
 * @param errors measured failures by status (watch stream failures prefixed "watch ")
 * @param unsent open-loop requests not sent by the end of the run because it fell behind
 * @param endpoints the endpoints actually used (the leader alone with --target leader)
 * @param measuredFromEpochMillis wall-clock time measurement started (milliseconds since the
 *     epoch), so that samples other tools take of the servers (CPU, disk) can be matched to the
 *     window
 */
public record BenchResult(
    BenchOptions options,
    long elapsedNanos,
    LatencySummary requests,
    Map<String, LatencySummary> kinds,
    SortedMap<String, Long> errors,
    long unsent,
    String endpoints,
    long measuredFromEpochMillis) {

  public long errorCount() {
    return errors.values().stream().mapToLong(Long::longValue).sum();
  }

  public double opsPerSecond() {
    return perSecond(requests.count());
  }

  double perSecond(long count) {
    return elapsedNanos <= 0 ? 0 : count * 1e9 / elapsedNanos;
  }
}
