package io.tern.raft.node;

import io.tern.raft.core.RaftConfig;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Immutable options of a {@link RaftNode}. Build with {@link #builder(RaftConfig)}; validated on
 * build.
 *
 * @param raft the core's configuration (its id is this member's id)
 * @param initialVoters the voters the cluster was first started with (a member added later passes
 *     the same set, without itself: it learns its place from the configuration entries it receives)
 * @param tickNanos length of one core tick. Default 100 ms (with the core's default of 10 election
 *     ticks: a 1 s election timeout, as etcd's default).
 * @param requestTimeoutNanos how long a proposal or read waits before failing with {@link
 *     io.tern.raft.RequestTimeoutException}. Default 5 s.
 * @param maxProposalBatch proposals handed to the core in one batch. Default 4096.
 * @param snapshotEntries take a snapshot once this many entries were applied since the last one
 *     (etcd's --snapshot-count); 0 disables automatic snapshots. Default 10,000.
 * @param snapshotTrailingEntries entries kept in the log behind a snapshot, so a follower that lags
 *     by fewer still catches up from the log. Default 5,000.
 * @param snapshotChunkBytes size of the chunks a snapshot is sent in. Default 1 MiB.
 * @param snapshotWindowChunks chunks in flight to one follower before it acknowledges. Default 4.
 */
public record NodeOptions(
    RaftConfig raft,
    Set<Long> initialVoters,
    long tickNanos,
    long requestTimeoutNanos,
    int maxProposalBatch,
    long snapshotEntries,
    long snapshotTrailingEntries,
    int snapshotChunkBytes,
    int snapshotWindowChunks) {

  public NodeOptions {
    Objects.requireNonNull(raft, "raft");
    initialVoters = Set.copyOf(new TreeSet<>(initialVoters));
    if (initialVoters.isEmpty()) {
      throw new IllegalArgumentException("initial voters must not be empty");
    }
    if (tickNanos <= 0) {
      throw new IllegalArgumentException("tickNanos must be positive");
    }
    if (requestTimeoutNanos <= 0) {
      throw new IllegalArgumentException("requestTimeoutNanos must be positive");
    }
    if (maxProposalBatch < 1) {
      throw new IllegalArgumentException("maxProposalBatch must be >= 1");
    }
    if (snapshotEntries < 0) {
      throw new IllegalArgumentException("snapshotEntries must be >= 0 (0 disables)");
    }
    if (snapshotTrailingEntries < 0) {
      throw new IllegalArgumentException("snapshotTrailingEntries must be >= 0");
    }
    if (snapshotChunkBytes < 1 || snapshotChunkBytes > (64 << 20)) {
      throw new IllegalArgumentException("snapshotChunkBytes must be in [1, 64 MiB]");
    }
    if (snapshotWindowChunks < 1) {
      throw new IllegalArgumentException("snapshotWindowChunks must be >= 1");
    }
  }

  public static Builder builder(RaftConfig raft) {
    return new Builder(raft);
  }

  /** Builder with the documented defaults. */
  public static final class Builder {
    private final RaftConfig raft;
    private Set<Long> initialVoters = Set.of();
    private long tickNanos = 100_000_000L;
    private long requestTimeoutNanos = 5_000_000_000L;
    private int maxProposalBatch = 4096;
    private long snapshotEntries = 10_000;
    private long snapshotTrailingEntries = 5_000;
    private int snapshotChunkBytes = 1 << 20;
    private int snapshotWindowChunks = 4;

    private Builder(RaftConfig raft) {
      this.raft = raft;
    }

    public Builder initialVoters(Set<Long> v) {
      initialVoters = v;
      return this;
    }

    public Builder tickNanos(long v) {
      tickNanos = v;
      return this;
    }

    public Builder requestTimeoutNanos(long v) {
      requestTimeoutNanos = v;
      return this;
    }

    public Builder maxProposalBatch(int v) {
      maxProposalBatch = v;
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

    public NodeOptions build() {
      return new NodeOptions(
          raft,
          initialVoters,
          tickNanos,
          requestTimeoutNanos,
          maxProposalBatch,
          snapshotEntries,
          snapshotTrailingEntries,
          snapshotChunkBytes,
          snapshotWindowChunks);
    }
  }
}
