package io.tern.sim;

/**
 * Settings of one simulated cluster. Times in simulated nanoseconds. Immutable: start from {@link
 * #defaults()} and change it with {@link #toBuilder()} or the {@code with...} shortcuts.
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
    long maxApplyLatencyNanos,
    boolean partialPersistOnCrash,
    long snapshotEntries,
    long snapshotTrailingEntries,
    int snapshotChunkBytes,
    int snapshotWindowChunks) {

  public SimOptions {
    if (size < 1) {
      throw new IllegalArgumentException("size must be >= 1");
    }
    if (minLatencyNanos < 0 || maxLatencyNanos < minLatencyNanos) {
      throw new IllegalArgumentException("bad latency bounds");
    }
    if (minFsyncNanos < 0 || maxFsyncNanos < minFsyncNanos) {
      throw new IllegalArgumentException("bad fsync bounds");
    }
  }

  /** 3 members, 10 ms ticks, 10-tick election timeout, reliable 0.1-1 ms network. */
  public static SimOptions defaults() {
    return new Builder().build();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.size = size;
    b.tickNanos = tickNanos;
    b.electionTicks = electionTicks;
    b.heartbeatTicks = heartbeatTicks;
    b.preVote = preVote;
    b.checkQuorum = checkQuorum;
    b.leaseRead = leaseRead;
    b.leaseDriftTicks = leaseDriftTicks;
    b.maxInflightMessages = maxInflightMessages;
    b.maxEntriesPerMessage = maxEntriesPerMessage;
    b.maxBytesPerMessage = maxBytesPerMessage;
    b.requestTimeoutNanos = requestTimeoutNanos;
    b.minLatencyNanos = minLatencyNanos;
    b.maxLatencyNanos = maxLatencyNanos;
    b.dropProbability = dropProbability;
    b.duplicateProbability = duplicateProbability;
    b.minFsyncNanos = minFsyncNanos;
    b.maxFsyncNanos = maxFsyncNanos;
    b.minApplyLatencyNanos = minApplyLatencyNanos;
    b.maxApplyLatencyNanos = maxApplyLatencyNanos;
    b.partialPersistOnCrash = partialPersistOnCrash;
    b.snapshotEntries = snapshotEntries;
    b.snapshotTrailingEntries = snapshotTrailingEntries;
    b.snapshotChunkBytes = snapshotChunkBytes;
    b.snapshotWindowChunks = snapshotWindowChunks;
    return b;
  }

  public SimOptions withSize(int v) {
    return toBuilder().size(v).build();
  }

  public SimOptions withProtocol(boolean preVote, boolean checkQuorum, boolean leaseRead) {
    return toBuilder().preVote(preVote).checkQuorum(checkQuorum).leaseRead(leaseRead).build();
  }

  public SimOptions withNetwork(
      long minLatency, long maxLatency, double dropProbability, double duplicateProbability) {
    return toBuilder()
        .minLatencyNanos(minLatency)
        .maxLatencyNanos(maxLatency)
        .dropProbability(dropProbability)
        .duplicateProbability(duplicateProbability)
        .build();
  }

  public SimOptions withBatching(int maxInflight, int maxEntries, long maxBytes) {
    return toBuilder()
        .maxInflightMessages(maxInflight)
        .maxEntriesPerMessage(maxEntries)
        .maxBytesPerMessage(maxBytes)
        .build();
  }

  public SimOptions withFsync(long minNanos, long maxNanos) {
    return toBuilder().minFsyncNanos(minNanos).maxFsyncNanos(maxNanos).build();
  }

  /**
   * Automatic snapshots every {@code entries} applied entries (0: none), keeping {@code trailing}
   * entries behind each, sent in chunks of {@code chunkBytes}.
   */
  public SimOptions withSnapshots(long entries, long trailing, int chunkBytes) {
    return toBuilder()
        .snapshotEntries(entries)
        .snapshotTrailingEntries(trailing)
        .snapshotChunkBytes(chunkBytes)
        .build();
  }

  /** Whether the network loses or duplicates messages. */
  public boolean unreliable() {
    return dropProbability > 0 || duplicateProbability > 0;
  }

  /** Builds {@link SimOptions}; starts from the defaults. */
  public static final class Builder {
    private int size = 3;
    private long tickNanos = 10_000_000L;
    private int electionTicks = 10;
    private int heartbeatTicks = 1;
    private boolean preVote = true;
    private boolean checkQuorum = true;
    private boolean leaseRead = false;
    private int leaseDriftTicks = 2;
    private int maxInflightMessages = 64;
    private int maxEntriesPerMessage = 256;
    private long maxBytesPerMessage = 256 * 1024;
    private long requestTimeoutNanos = 2_000_000_000L;
    private long minLatencyNanos = 100_000;
    private long maxLatencyNanos = 1_000_000;
    private double dropProbability = 0;
    private double duplicateProbability = 0;
    private long minFsyncNanos = 100_000;
    private long maxFsyncNanos = 1_000_000;
    private long minApplyLatencyNanos = 0;
    private long maxApplyLatencyNanos = 50_000;
    private boolean partialPersistOnCrash = false;
    private long snapshotEntries = 0;
    private long snapshotTrailingEntries = 5;
    private int snapshotChunkBytes = 1024;
    private int snapshotWindowChunks = 4;

    public Builder size(int v) {
      size = v;
      return this;
    }

    public Builder tickNanos(long v) {
      tickNanos = v;
      return this;
    }

    public Builder electionTicks(int v) {
      electionTicks = v;
      return this;
    }

    public Builder heartbeatTicks(int v) {
      heartbeatTicks = v;
      return this;
    }

    public Builder preVote(boolean v) {
      preVote = v;
      return this;
    }

    public Builder checkQuorum(boolean v) {
      checkQuorum = v;
      return this;
    }

    public Builder leaseRead(boolean v) {
      leaseRead = v;
      return this;
    }

    public Builder leaseDriftTicks(int v) {
      leaseDriftTicks = v;
      return this;
    }

    public Builder maxInflightMessages(int v) {
      maxInflightMessages = v;
      return this;
    }

    public Builder maxEntriesPerMessage(int v) {
      maxEntriesPerMessage = v;
      return this;
    }

    public Builder maxBytesPerMessage(long v) {
      maxBytesPerMessage = v;
      return this;
    }

    public Builder requestTimeoutNanos(long v) {
      requestTimeoutNanos = v;
      return this;
    }

    public Builder minLatencyNanos(long v) {
      minLatencyNanos = v;
      return this;
    }

    public Builder maxLatencyNanos(long v) {
      maxLatencyNanos = v;
      return this;
    }

    public Builder dropProbability(double v) {
      dropProbability = v;
      return this;
    }

    public Builder duplicateProbability(double v) {
      duplicateProbability = v;
      return this;
    }

    public Builder minFsyncNanos(long v) {
      minFsyncNanos = v;
      return this;
    }

    public Builder maxFsyncNanos(long v) {
      maxFsyncNanos = v;
      return this;
    }

    public Builder minApplyLatencyNanos(long v) {
      minApplyLatencyNanos = v;
      return this;
    }

    public Builder maxApplyLatencyNanos(long v) {
      maxApplyLatencyNanos = v;
      return this;
    }

    /** A crash keeps a random prefix of the unsynced writes instead of none (torn tail). */
    public Builder partialPersistOnCrash(boolean v) {
      partialPersistOnCrash = v;
      return this;
    }

    public Builder snapshotEntries(long v) {
      snapshotEntries = v;
      return this;
    }

    public Builder snapshotTrailingEntries(long v) {
      snapshotTrailingEntries = v;
      return this;
    }

    public Builder snapshotChunkBytes(int v) {
      snapshotChunkBytes = v;
      return this;
    }

    public Builder snapshotWindowChunks(int v) {
      snapshotWindowChunks = v;
      return this;
    }

    public SimOptions build() {
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
          maxApplyLatencyNanos,
          partialPersistOnCrash,
          snapshotEntries,
          snapshotTrailingEntries,
          snapshotChunkBytes,
          snapshotWindowChunks);
    }
  }
}
