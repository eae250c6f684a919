package io.tern.raft.core;

import java.util.ArrayList;
import java.util.List;

/**
 * One member of a {@link CoreCluster}: its core, its model disk, and a state machine that records
 * the entries applied to it. The core and the state machine are lost on a crash; the disk is not.
 */
final class CoreMember {
  /** A Ready's write handed to storage but not yet reported durable. */
  record PendingWrite(HardState hardState, List<Entry> entries, List<Message> afterPersist) {}

  final long id;
  final ModelDisk disk;
  Raft raft;
  boolean up = true;
  int restarts;

  /** Entries applied to the state machine since the last (re)start, in order. */
  final List<Entry> applied = new ArrayList<>();

  /** Read states handed out since the last (re)start, in order. */
  final List<ReadState> readStates = new ArrayList<>();

  /**
   * When false, writes are not reported durable until {@link CoreCluster#flush(long)}: the Ready's
   * messagesAfterPersist wait too, and {@link Raft#persisted} is not called.
   */
  boolean syncWrites = true;

  final List<PendingWrite> pendingWrites = new ArrayList<>();

  CoreMember(long id, ModelDisk disk) {
    this.id = id;
    this.disk = disk;
  }

  /** Index of the last entry applied since the last (re)start, or 0. */
  long lastApplied() {
    return applied.isEmpty() ? 0 : applied.get(applied.size() - 1).index();
  }

  /** Applied entries carrying a payload (not the leaders' no-ops). */
  List<Entry> appliedCommands() {
    return applied.stream()
        .filter(e -> e.type() == EntryType.NORMAL && e.data().length > 0)
        .toList();
  }

  @Override
  public String toString() {
    return (up ? "" : "DOWN ") + raft;
  }
}
