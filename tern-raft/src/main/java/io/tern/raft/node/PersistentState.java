package io.tern.raft.node;

import io.tern.raft.core.Entry;
import io.tern.raft.core.HardState;
import io.tern.raft.core.SnapshotMeta;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link LogStore} recovered at start: the hard state, where the log begins ({@code base}:
 * the position and membership its first entry follows, null while the log has never been compacted
 * or reset to a snapshot), and the durable entries, contiguous from {@link #firstIndex()}.
 */
public record PersistentState(HardState hardState, SnapshotMeta base, List<Entry> entries) {
  public PersistentState {
    Objects.requireNonNull(hardState, "hardState");
    entries = List.copyOf(entries);
    long first = base == null ? 1 : base.index() + 1;
    for (int i = 0; i < entries.size(); i++) {
      if (entries.get(i).index() != first + i) {
        throw new IllegalStateException(
            "recovered log not contiguous at " + i + ": " + entries.get(i) + " from " + first);
      }
    }
  }

  public static final PersistentState EMPTY = new PersistentState(HardState.EMPTY, null, List.of());

  /** Index of the first entry the log can hold. */
  public long firstIndex() {
    return base == null ? 1 : base.index() + 1;
  }
}
