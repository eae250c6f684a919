package io.tern.sim;

/**
 * Settings of one simulated cluster. Times in simulated nanoseconds. Immutable; {@link #defaults()}
 * then the {@code with...} methods.
 */
public record SimOptions(
    int size,
    long tickNanos,
    int electionTicks,
    int heartbeatTicks,
    boolean preVote,
    boolean checkQuorum,
    boolean leaseRead,
    int leaseDriftTicks,
    int maxInflightMessages,
    int maxEntriesPerMessage,
    long maxBytesPerMessage,
    long requestTimeoutNanos,
    long minLatencyNanos,
    long maxLatencyNanos,
    double dropProbability,
    double duplicateProbability,
    long minFsyncNanos,
    long maxFsyncNanos,
    long minApplyLatencyNanos,
    long maxApplyLatencyNanos) {

  public SimOptions {
    if (size < 1) {
      throw new IllegalArgumentException("size must be >= 1");
    }
  }

  /** 3 members, 10 ms ticks, 10-tick election timeout, reliable 0.1-1 ms network. */
  public static SimOptions defaults() {
    return new SimOptions(
        3,
        10_000_000L,
        10,
        1,
        true,
        true,
        false,
        2,
        64,
        256,
        256 * 1024,
        2_000_000_000L,
        100_000,
        1_000_000,
        0,
        0,
        100_000,
        1_000_000,
        0,
        50_000);
  }

  public SimOptions withSize(int v) {
    return new SimOptions(
        v,
        tickNanos,
        electionTicks,
        heartbeatTicks,
        preVote,
        checkQuorum,
        leaseRead,
        leaseDriftTicks,
        maxInflightMessages,
        maxEntriesPerMessage,
        maxBytesPerMessage,
        requestTimeoutNanos,
        minLatencyNanos,
        maxLatencyNanos,
        dropProbability,
        duplicateProbability,
        minFsyncNanos,
        maxFsyncNanos,
        minApplyLatencyNanos,
        maxApplyLatencyNanos);
  }

  public SimOptions withProtocol(boolean preVote, boolean checkQuorum, boolean leaseRead) {
    return new SimOptions(
        size,
        tickNanos,
        electionTicks,
        heartbeatTicks,
        preVote,
        checkQuorum,
        leaseRead,
        leaseDriftTicks,
        maxInflightMessages,
        maxEntriesPerMessage,
        maxBytesPerMessage,
        requestTimeoutNanos,
        minLatencyNanos,
        maxLatencyNanos,
        dropProbability,
        duplicateProbability,
        minFsyncNanos,
        maxFsyncNanos,
        minApplyLatencyNanos,
        maxApplyLatencyNanos);
  }

  public SimOptions withNetwork(
      long minLatency, long maxLatency, double dropProbability, double duplicateProbability) {
    return new SimOptions(
        size,
        tickNanos,
        electionTicks,
        heartbeatTicks,
        preVote,
        checkQuorum,
        leaseRead,
        leaseDriftTicks,
        maxInflightMessages,
        maxEntriesPerMessage,
        maxBytesPerMessage,
        requestTimeoutNanos,
        minLatency,
        maxLatency,
        dropProbability,
        duplicateProbability,
        minFsyncNanos,
        maxFsyncNanos,
        minApplyLatencyNanos,
        maxApplyLatencyNanos);
  }

  public SimOptions withBatching(int maxInflight, int maxEntries, long maxBytes) {
    return new SimOptions(
        size,
        tickNanos,
        electionTicks,
        heartbeatTicks,
        preVote,
        checkQuorum,
        leaseRead,
        leaseDriftTicks,
        maxInflight,
        maxEntries,
        maxBytes,
        requestTimeoutNanos,
        minLatencyNanos,
        maxLatencyNanos,
        dropProbability,
        duplicateProbability,
        minFsyncNanos,
        maxFsyncNanos,
        minApplyLatencyNanos,
        maxApplyLatencyNanos);
  }

  public SimOptions withFsync(long minNanos, long maxNanos) {
    return new SimOptions(
        size,
        tickNanos,
        electionTicks,
        heartbeatTicks,
        preVote,
        checkQuorum,
        leaseRead,
        leaseDriftTicks,
        maxInflightMessages,
        maxEntriesPerMessage,
        maxBytesPerMessage,
        requestTimeoutNanos,
        minLatencyNanos,
        maxLatencyNanos,
        dropProbability,
        duplicateProbability,
        minNanos,
        maxNanos,
        minApplyLatencyNanos,
        maxApplyLatencyNanos);
  }

  /** Whether the network loses or duplicates messages. */
  public boolean unreliable() {
    return dropProbability > 0 || duplicateProbability > 0;
  }
}
