package io.tern.raft.node;

import io.tern.raft.core.Entry;
import io.tern.raft.core.HardState;
import io.tern.raft.core.SnapshotMeta;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Durable storage of the Raft log and hard state, asynchronous so that one fsync can cover many
 * writes (group commit).
 *
 * <p>Contract: writes, resets and compactions take effect in submission order, and their futures
 * complete in that order. A write that includes entries starting at index {@code i} replaces every
 * stored entry at index {@code >= i}. A future completes only once its operation is durable
 * (fsynced), except that a write whose only change is a higher commit index in the hard state may
 * complete before it is (the commit index is not needed for safety: a restarted member starts from
 * at least what its state machine applied and learns the rest from the leader), but never before an
 * earlier operation is durable nor in a way that lets a later durable operation survive a crash
 * without it; it completes exceptionally if it can never become durable, after which the store
 * accepts nothing more. Futures may complete on any thread.
 */
public interface LogStore {
  /** Reads what earlier incarnations made durable. Called once, before anything else. */
  PersistentState load();

  /**
   * Persists {@code hardState} (if non-null) and {@code entries} (possibly empty) atomically.
   *
   * @return completes once durable
   */
  CompletableFuture<Void> write(HardState hardState, List<Entry> entries);

  /**
   * Discards every entry and makes the log begin after {@code base} (a snapshot was installed),
   * atomically with {@code hardState} (if non-null). Later writes append from {@code base.index() +
   * 1}.
   */
  CompletableFuture<Void> reset(HardState hardState, SnapshotMeta base);

  /**
   * Discards entries through {@code base.index()}, which a durable snapshot covers, and records
   * {@code base} as where the log begins. Entries after it are kept. The store may reclaim space
   * lazily; a crash may leave the old entries in place.
   */
  CompletableFuture<Void> compact(SnapshotMeta base);

  /** Releases resources. Writes not yet durable may be lost, as in a crash. */
  void close();
}
