package io.tern.raft.node;

import io.tern.raft.core.Entry;
import io.tern.raft.core.HardState;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Durable storage of the Raft log and hard state, asynchronous so that one fsync can cover many
 * writes (group commit).
 *
 * <p>Contract: writes become durable in submission order, and their futures complete in that order.
 * A write that includes entries starting at index {@code i} replaces every stored entry at index
 * {@code >= i}. A write's future completes only once the write is durable (fsynced); it completes
 * exceptionally if it can never become durable, after which the store accepts nothing more. Futures
 * may complete on any thread.
 */
public interface LogStore {
  /** Reads what earlier incarnations made durable. Called once, before any {@link #write}. */
  PersistentState load();

  /**
   * Persists {@code hardState} (if non-null) and {@code entries} (possibly empty) atomically.
   *
   * @return completes once durable
   */
  CompletableFuture<Void> write(HardState hardState, List<Entry> entries);

  /** Releases resources. Writes not yet durable may be lost, as in a crash. */
  void close();
}
