package io.tern.storage;

import io.tern.raft.core.Entry;
import io.tern.raft.core.HardState;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.node.PersistentState;
import java.util.ArrayList;
import java.util.List;

/** A naive in-memory reference of what a log store should hold after a sequence of operations. */
final class LogModel {
  HardState hardState = HardState.EMPTY;
  SnapshotMeta base;
  final List<Entry> entries = new ArrayList<>();

  long firstIndex() {
    return base == null ? 1 : base.index() + 1;
  }

  long lastIndex() {
    return firstIndex() - 1 + entries.size();
  }

  long termAt(long index) {
    if (index == 0) {
      return 0;
    }
    if (base != null && index == base.index()) {
      return base.term();
    }
    if (index < firstIndex() || index > lastIndex()) {
      return -1;
    }
    return entries.get((int) (index - firstIndex())).term();
  }

  void write(HardState hs, List<Entry> es) {
    if (!es.isEmpty()) {
      int from = (int) (es.get(0).index() - firstIndex());
      entries.subList(from, entries.size()).clear();
      entries.addAll(es);
    }
    if (hs != null) {
      hardState = hs;
    }
  }

  void reset(HardState hs, SnapshotMeta b) {
    entries.clear();
    base = b;
    if (hs != null) {
      hardState = hs;
    }
  }

  void compact(SnapshotMeta b) {
    if (b.index() < firstIndex()) {
      return;
    }
    entries.subList(0, (int) (b.index() - firstIndex() + 1)).clear();
    base = b;
  }

  PersistentState state() {
    return new PersistentState(hardState, base, entries);
  }

  LogModel copy() {
    LogModel m = new LogModel();
    m.hardState = hardState;
    m.base = base;
    m.entries.addAll(entries);
    return m;
  }
}
