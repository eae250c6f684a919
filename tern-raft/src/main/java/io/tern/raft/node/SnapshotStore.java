package io.tern.raft.node;

import io.tern.raft.core.SnapshotMeta;
import java.io.IOException;

/**
 * Durable snapshots of the state machine, made here or received from the leader. A store keeps at
 * least the latest committed snapshot; older ones may be deleted once a newer one is committed, but
 * a {@link Snapshot} already handed out stays readable. Thread-safe.
 */
public interface SnapshotStore {
  /** The committed snapshot with the highest index, or null if there is none. */
  Snapshot latest();

  /** Starts writing a snapshot described by {@code meta}. */
  SnapshotSink create(SnapshotMeta meta) throws IOException;
}
