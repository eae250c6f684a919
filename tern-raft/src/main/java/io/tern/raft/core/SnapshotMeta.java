package io.tern.raft.core;

import io.tern.raft.core.tracker.Membership;
import java.util.Objects;

/**
 * Where a snapshot, or a compacted log, begins: the last index it covers, the term of the entry at
 * that index, and the membership in force there (the last configuration entry at or before it).
 */
public record SnapshotMeta(long index, long term, Membership membership) {
  public SnapshotMeta {
    if (index < 0 || term < 0) {
      throw new IllegalArgumentException("bad snapshot position " + index + "@" + term);
    }
    Objects.requireNonNull(membership, "membership");
  }

  @Override
  public String toString() {
    return index + "@" + term + " " + membership;
  }
}
