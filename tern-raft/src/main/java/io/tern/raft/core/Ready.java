package io.tern.raft.core;

import java.util.List;

/**
 * Everything the driver must do next, as one value. The ordering contract:
 *
 * <ol>
 *   <li>If {@link #snapshot} is non-null: the log was replaced by that snapshot (received from the
 *       leader and already durable in the snapshot store). Reset the stored log to it, before this
 *       Ready's entries, and restore the state machine from it before applying anything later.
 *   <li>Hand {@link #hardState} (if non-null) and {@link #entries} to storage as one atomic write,
 *       after every earlier Ready's write.
 *   <li>{@link #messages} may be sent at once (leader appends and heartbeats may go out before the
 *       leader's own write is durable, thesis 10.2.1).
 *   <li>{@link #messagesAfterPersist} may be sent only once this Ready's write and every earlier
 *       one are durable: they promise that state (votes, acknowledged entries).
 *   <li>{@link #committedEntries} are committed and durable locally: apply them in order.
 *   <li>{@link #readStates} may be served once the applied index reaches their index.
 * </ol>
 *
 * Then call {@link Raft#advance(Ready)}; report durability with {@link Raft#persisted} and applies
 * with {@link Raft#applied}.
 */
public record Ready(
    HardState hardState,
    List<Entry> entries,
    List<Message> messages,
    List<Message> messagesAfterPersist,
    List<Entry> committedEntries,
    List<ReadState> readStates,
    SoftState softState,
    SnapshotMeta snapshot) {

  /** Whether storage must be written for this Ready. */
  public boolean mustPersist() {
    return hardState != null || !entries.isEmpty() || snapshot != null;
  }

  /** The last entry to persist (its index and term identify the write), or null. */
  public Entry lastEntry() {
    return entries.isEmpty() ? null : entries.get(entries.size() - 1);
  }
}
