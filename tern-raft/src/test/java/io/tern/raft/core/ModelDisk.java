package io.tern.raft.core;

import io.tern.raft.core.tracker.Membership;
import java.util.ArrayList;
import java.util.List;

/**
 * What one member's storage holds: the hard state and log entries every Ready asked it to write,
 * applied in order. Writes are atomic and survive a crash, which is exactly what the Ready contract
 * demands of a real disk once the write is acknowledged with {@link Raft#persisted}.
 *
 * <p>Invariant: entries are contiguous from index 1, and the durable commit index never points past
 * them (a restart must be able to rebuild its log from this).
 */
final class ModelDisk {
  private HardState hardState;
  private final List<Entry> entries = new ArrayList<>();

  ModelDisk() {
    this(HardState.EMPTY, List.of());
  }

  ModelDisk(HardState hardState, List<Entry> log) {
    this.hardState = hardState;
    save(null, log);
    checkCommit();
  }

  /** One atomic write: replaces every entry from the first given index on. */
  void save(HardState hs, List<Entry> ents) {
    if (!ents.isEmpty()) {
      long first = ents.get(0).index();
      if (first < 1 || first > entries.size() + 1) {
        throw new AssertionError("write at " + first + " leaves a gap after " + entries.size());
      }
      entries.subList((int) (first - 1), entries.size()).clear();
      for (Entry e : ents) {
        if (e.index() != entries.size() + 1) {
          throw new AssertionError("non-contiguous write of " + e);
        }
        entries.add(e);
      }
    }
    if (hs != null) {
      hardState = hs;
    }
    checkCommit();
  }

  private void checkCommit() {
    if (hardState.commit() > entries.size()) {
      throw new AssertionError(
          "durable commit " + hardState.commit() + " beyond durable log " + entries.size());
    }
  }

  HardState hardState() {
    return hardState;
  }

  List<Entry> entries() {
    return List.copyOf(entries);
  }

  long lastIndex() {
    return entries.size();
  }

  /** What a member restarting from this disk starts with; its state machine is empty. */
  InitialState initialState(Membership membership) {
    return new InitialState(hardState, 0, 0, entries, membership, 0);
  }
}
