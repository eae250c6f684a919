package io.tern.embed;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.node.StateMachine;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/** Test state machine: appends each command (UTF-8) to a list; the result is the new size. */
final class ListStateMachine implements StateMachine {
  private final List<String> items = new ArrayList<>();
  private volatile long applied;

  @Override
  public synchronized Object[] apply(List<Entry> entries) {
    Object[] results = new Object[entries.size()];
    for (int i = 0; i < entries.size(); i++) {
      Entry e = entries.get(i);
      if (e.type() == EntryType.NORMAL && e.data().length > 0) {
        items.add(new String(e.data(), UTF_8));
        results[i] = items.size();
      }
      applied = e.index();
    }
    return results;
  }

  @Override
  public long appliedIndex() {
    return applied;
  }

  /** From any thread (lease reads run on the caller's). */
  synchronized List<String> items() {
    return List.copyOf(items);
  }

  @Override
  public synchronized SnapshotWriter snapshot() {
    List<String> copy = List.copyOf(items);
    return out -> {
      DataOutputStream d = new DataOutputStream(out);
      d.writeInt(copy.size());
      for (String s : copy) {
        d.writeUTF(s);
      }
      d.flush();
    };
  }

  @Override
  public synchronized void restore(SnapshotMeta meta, InputStream data) throws IOException {
    DataInputStream d = new DataInputStream(data);
    int n = d.readInt();
    items.clear();
    for (int i = 0; i < n; i++) {
      items.add(d.readUTF());
    }
    applied = meta.index();
  }
}
