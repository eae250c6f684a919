package io.tern.sim.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class KvStateMachineTest {
  private long nextIndex = 1;

  private Entry entry(KvCommand c) {
    return new Entry(1, nextIndex, EntryType.NORMAL, 100 + nextIndex++, c.encode());
  }

  private Entry noop() {
    return new Entry(1, nextIndex++, EntryType.NORMAL, 0, null);
  }

  @Test
  void appliesCommandsAndReturnsOneResultPerEntry() {
    KvStateMachine sm = new KvStateMachine();
    assertThat(sm.appliedIndex()).isZero();

    Object[] results =
        sm.apply(
            List.of(
                noop(),
                entry(KvCommand.get("a")),
                entry(KvCommand.put("a", "1")),
                entry(KvCommand.get("a")),
                entry(KvCommand.append("a", "2")),
                entry(KvCommand.append("new", "x")),
                entry(KvCommand.cas("a", "1", "no")),
                entry(KvCommand.cas("a", "12", "3")),
                entry(KvCommand.cas("b", null, "created")),
                entry(KvCommand.cas("b", null, "again")),
                new Entry(1, nextIndex++, EntryType.CONFIG, 0, new byte[] {1, 2, 3})));

    assertThat(results)
        .containsExactly(null, null, null, "1", null, null, false, true, true, false, null);
    assertThat(sm.get("a")).isEqualTo("3");
    assertThat(sm.get("new")).isEqualTo("x");
    assertThat(sm.get("b")).isEqualTo("created");
    assertThat(sm.get("missing")).isNull();
    assertThat(sm.size()).isEqualTo(3);
    assertThat(sm.appliedIndex()).isEqualTo(11);
  }

  @Test
  void emptyBatchReturnsEmptyResults() {
    KvStateMachine sm = new KvStateMachine();
    assertThat(sm.apply(List.of())).isEmpty();
    assertThat(sm.appliedIndex()).isZero();
  }

  @Test
  void recordsWhatWasAppliedAtEachIndex() {
    KvStateMachine sm = new KvStateMachine();
    Entry noop = noop();
    Entry put = entry(KvCommand.put("a", "1"));
    sm.apply(List.of(noop, put));
    Entry later = new Entry(3, nextIndex++, EntryType.NORMAL, 7, KvCommand.get("a").encode());
    sm.apply(List.of(later));

    assertThat(sm.appliedLog()).hasSize(3);
    assertThat(sm.appliedAt(2).index()).isEqualTo(2);
    assertThat(sm.appliedAt(2).requestId()).isEqualTo(put.requestId());
    assertThat(sm.appliedTermAt(3)).isEqualTo(3);
    assertThat(sm.appliedAt(3).requestId()).isEqualTo(7);
    assertThat(sm.appliedAt(0)).isNull();
    assertThat(sm.appliedAt(4)).isNull();
    assertThat(sm.appliedTermAt(4)).isEqualTo(-1);

    // Same index, same term, different command: the content hash tells them apart.
    KvStateMachine other = new KvStateMachine();
    other.apply(
        List.of(
            new Entry(1, 1, EntryType.NORMAL, 0, null),
            new Entry(1, 2, EntryType.NORMAL, put.requestId(), KvCommand.put("a", "2").encode())));
    assertThat(other.appliedAt(2)).isNotEqualTo(sm.appliedAt(2));
    assertThat(other.appliedAt(1)).isEqualTo(sm.appliedAt(1));
  }

  @Test
  void rejectsEntriesOutOfOrder() {
    KvStateMachine sm = new KvStateMachine();
    assertThatThrownBy(() -> sm.apply(List.of(new Entry(1, 2, EntryType.NORMAL, 0, null))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("out of order");
    sm.apply(List.of(noop()));
    assertThatThrownBy(() -> sm.apply(List.of(new Entry(1, 1, EntryType.NORMAL, 0, null))))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void digestDependsOnContentsNotOnHistory() {
    KvStateMachine a = new KvStateMachine();
    KvStateMachine b = new KvStateMachine();
    long empty = a.digest();
    apply(a, KvCommand.put("x", "1"), KvCommand.put("y", "2"));
    apply(b, KvCommand.put("y", "0"), KvCommand.put("x", "1"), KvCommand.cas("y", "0", "2"));
    assertThat(a.digest()).isEqualTo(b.digest()).isNotEqualTo(empty);
    assertThat(a.snapshot()).isEqualTo(b.snapshot());

    KvStateMachine c = new KvStateMachine();
    apply(c, KvCommand.put("x", "12"));
    KvStateMachine d = new KvStateMachine();
    apply(d, KvCommand.put("x1", "2"));
    assertThat(c.digest()).isNotEqualTo(d.digest());
  }

  @Test
  void snapshotIsAnUnmodifiableCopy() {
    KvStateMachine sm = new KvStateMachine();
    apply(sm, KvCommand.put("k", "v"));
    var snap = sm.snapshot();
    apply(sm, KvCommand.put("k", "w"));
    assertThat(snap).containsEntry("k", "v");
    assertThatThrownBy(() -> snap.put("a", "b")).isInstanceOf(UnsupportedOperationException.class);
  }

  private static void apply(KvStateMachine sm, KvCommand... commands) {
    List<Entry> entries = new ArrayList<>();
    long index = sm.appliedIndex();
    for (KvCommand c : commands) {
      entries.add(new Entry(1, ++index, EntryType.NORMAL, 0, c.encode()));
    }
    sm.apply(entries);
  }
}
