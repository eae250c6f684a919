package io.tern.bench.compare.tern;

import io.tern.raft.core.Entry;
import io.tern.raft.core.HardState;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.node.LogStore;
import io.tern.raft.node.PersistentState;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Profiling experiment only, NOT durable (TernServer {@code --experiment-no-disk true}): a log
 * store that keeps nothing and reports every write durable at once, so a run shows how long Tern's
 * pipeline (threads, transport, core) takes without any disk. Never use it for the comparison.
 */
final class NoDiskLogStore implements LogStore {
  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  @Override
  public PersistentState load() {
    return PersistentState.EMPTY;
  }

  @Override
  public CompletableFuture<Void> write(HardState hardState, List<Entry> entries) {
    return DONE;
  }

  @Override
  public CompletableFuture<Void> reset(HardState hardState, SnapshotMeta base) {
    return DONE;
  }

  @Override
  public CompletableFuture<Void> compact(SnapshotMeta base) {
    return DONE;
  }

  @Override
  public void close() {}
}
