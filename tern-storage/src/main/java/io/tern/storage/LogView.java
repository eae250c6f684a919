package io.tern.storage;

import io.tern.raft.core.Entry;
import io.tern.raft.core.HardState;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.node.PersistentState;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The shape of the log as it will be once every accepted operation is durable: hard state, base,
 * last index and the terms, kept as runs (first index of each term) so that memory grows with the
 * number of terms, not entries. Used to reject operations that break the log's or Raft's rules, the
 * same rules the simulator's disk enforces; a rejected operation is a bug in the caller and throws
 * {@link IllegalStateException}. Not thread-safe.
 */
final class LogView {
  private final String name;
  private HardState hardState;
  private SnapshotMeta base;
  private long lastIndex;

  /** First index of each run of equal terms in (base, lastIndex] → that term. */
  private final TreeMap<Long, Long> termRuns = new TreeMap<>();

  LogView(String name, PersistentState state) {
    this.name = name;
    this.hardState = state.hardState();
    this.base = state.base();
    this.lastIndex = baseIndex();
    appendRuns(state.entries());
  }

  HardState hardState() {
    return hardState;
  }

  SnapshotMeta base() {
    return base;
  }

  long baseIndex() {
    return base == null ? 0 : base.index();
  }

  long firstIndex() {
    return baseIndex() + 1;
  }

  long lastIndex() {
    return lastIndex;
  }

  /** Term of the entry at {@code index}: 0 at index 0, the base's term at its index, -1 if none. */
  long termAt(long index) {
    if (index == 0) {
      return 0;
    }
    if (base != null && index == base.index()) {
      return base.term();
    }
    if (index < firstIndex() || index > lastIndex) {
      return -1;
    }
    return termRuns.floorEntry(index).getValue();
  }

  // ------------------------------------------------------------ validation

  void validateWrite(HardState hs, List<Entry> es) {
    if (!es.isEmpty()) {
      long first = es.get(0).index();
      if (first < firstIndex()) {
        throw bug("write at index " + first + " before the log's first " + firstIndex());
      }
      if (first > lastIndex + 1) {
        throw bug("write at index " + first + " leaves a gap after " + lastIndex);
      }
      long prevTerm = termAt(first - 1);
      for (int i = 0; i < es.size(); i++) {
        Entry e = es.get(i);
        if (e.index() != first + i) {
          throw bug(
              "entries not contiguous at " + i + ": " + e + " after index " + (first + i - 1));
        }
        if (e.term() < prevTerm) {
          throw bug("log term decreases at " + e + " (previous term " + prevTerm + ")");
        }
        prevTerm = e.term();
      }
      long commit = hardState.commit();
      for (Entry e : es) {
        if (e.index() > commit || e.index() > lastIndex) {
          break;
        }
        if (termAt(e.index()) != e.term()) {
          throw bug(
              "overwrites committed entry "
                  + e.index()
                  + "@"
                  + termAt(e.index())
                  + " (commit "
                  + commit
                  + ") with "
                  + e);
        }
      }
    }
    if (hs != null) {
      long lastAfter = es.isEmpty() ? lastIndex : es.get(es.size() - 1).index();
      validateHardState(hs, lastAfter);
    } else if (!es.isEmpty() && es.get(es.size() - 1).index() < hardState.commit()) {
      throw bug("truncates the log below commit " + hardState.commit() + ": " + es);
    }
  }

  void validateReset(HardState hs, SnapshotMeta b) {
    if (b.index() < hardState.commit()) {
      throw bug("reset to " + b + " below commit " + hardState.commit());
    }
    if (hs != null) {
      validateHardState(hs, b.index());
    }
  }

  /**
   * @return whether the compaction changes anything (false: at or below the current base)
   */
  boolean validateCompact(SnapshotMeta b) {
    if (b.index() < firstIndex()) {
      return false;
    }
    if (b.index() > hardState.commit()) {
      throw bug("compaction to " + b + " beyond commit " + hardState.commit());
    }
    if (b.index() > lastIndex) {
      throw bug("compaction to " + b + " beyond the last log index " + lastIndex);
    }
    if (termAt(b.index()) != b.term()) {
      throw bug("compaction to " + b + " but the log holds " + b.index() + "@" + termAt(b.index()));
    }
    return true;
  }

  private void validateHardState(HardState hs, long lastAfter) {
    HardState old = hardState;
    if (hs.term() < old.term()) {
      throw bug("term decreases: " + old + " -> " + hs);
    }
    if (hs.term() == old.term() && old.vote() != 0 && hs.vote() != old.vote()) {
      throw bug("vote changes within term: " + old + " -> " + hs);
    }
    if (hs.commit() < old.commit()) {
      throw bug("commit decreases: " + old + " -> " + hs);
    }
    if (hs.commit() > lastAfter) {
      throw bug("commit " + hs.commit() + " beyond the last log index " + lastAfter);
    }
  }

  private IllegalStateException bug(String what) {
    return new IllegalStateException("invalid log operation on " + name + ": " + what);
  }

  // ------------------------------------------------------------ applying validated operations

  void applyWrite(HardState hs, List<Entry> es) {
    if (hs != null) {
      hardState = hs;
    }
    if (es.isEmpty()) {
      return;
    }
    long first = es.get(0).index();
    termRuns.tailMap(first, true).clear();
    lastIndex = first - 1;
    appendRuns(es);
  }

  void applyReset(HardState hs, SnapshotMeta b) {
    if (hs != null) {
      hardState = hs;
    }
    termRuns.clear();
    base = b;
    lastIndex = b.index();
  }

  void applyCompact(SnapshotMeta b) {
    if (b.index() < firstIndex()) {
      return;
    }
    long next = b.index() + 1;
    if (next <= lastIndex) {
      long term = termAt(next);
      termRuns.headMap(next, true).clear();
      termRuns.put(next, term);
    } else {
      termRuns.clear();
    }
    base = b;
  }

  private void appendRuns(List<Entry> es) {
    for (Entry e : es) {
      Map.Entry<Long, Long> last = termRuns.lastEntry();
      if (last == null || last.getValue() != e.term()) {
        termRuns.put(e.index(), e.term());
      }
      lastIndex = e.index();
    }
  }
}
