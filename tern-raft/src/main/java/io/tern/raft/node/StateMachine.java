package io.tern.raft.node;

import io.tern.raft.core.Entry;
import io.tern.raft.core.SnapshotMeta;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/**
 * The replicated state machine. Called on the apply thread only, with committed entries in log
 * order, each exactly once per incarnation.
 */
public interface StateMachine {
  /**
   * Applies a batch of committed entries in log order. No-op and configuration entries are included
   * (they have empty data) so the machine can track its applied index.
   *
   * @return one result per entry, aligned with {@code entries}; the result of entry {@code i}
   *     completes the proposal that created it (null where there is nothing to report)
   */
  Object[] apply(List<Entry> entries);

  /** The last index whose effects the machine already holds at start; 0 for an empty machine. */
  long appliedIndex();

  /**
   * Captures the state as of {@link #appliedIndex()} for a snapshot. Called on the apply thread; it
   * should be quick (take a consistent view, a checkpoint, a copy-on-write reference): the returned
   * writer runs on a background thread while apply goes on, so it must not read state that later
   * applies change.
   */
  SnapshotWriter snapshot();

  /**
   * Replaces the whole state with a snapshot's, taken at {@code meta.index()}; afterwards {@link
   * #appliedIndex()} is {@code meta.index()}. Called on the apply thread (or before the node
   * starts).
   */
  void restore(SnapshotMeta meta, InputStream data) throws IOException;

  /** Writes a captured state; runs off the apply thread. */
  @FunctionalInterface
  interface SnapshotWriter {
    void writeTo(OutputStream out) throws IOException;
  }
}
