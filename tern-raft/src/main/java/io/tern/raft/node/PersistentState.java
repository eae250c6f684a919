package io.tern.raft.node;

import io.tern.raft.core.Entry;
import io.tern.raft.core.HardState;
import java.util.List;
import java.util.Objects;

/**
 * What a {@link LogStore} recovered at start: the hard state and the durable log, contiguous from
 * index {@code firstIndex} (1 while the log has never been compacted).
 */
public record PersistentState(HardState hardState, long firstIndex, List<Entry> entries) {
  public PersistentState {
    Objects.requireNonNull(hardState, "hardState");
    entries = List.copyOf(entries);
    for (int i = 0; i < entries.size(); i++) {
      if (entries.get(i).index() != firstIndex + i) {
        throw new IllegalStateException(
            "recovered log not contiguous at " + i + ": " + entries.get(i) + " from " + firstIndex);
      }
    }
  }

  public static final PersistentState EMPTY = new PersistentState(HardState.EMPTY, 1, List.of());
}
