package io.tern.sim.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.tracker.Membership;
import io.tern.raft.node.StateMachine.SnapshotWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
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
    assertThat(a.contents()).isEqualTo(b.contents());

    KvStateMachine c = new KvStateMachine();
    apply(c, KvCommand.put("x", "12"));
    KvStateMachine d = new KvStateMachine();
    apply(d, KvCommand.put("x1", "2"));
    assertThat(c.digest()).isNotEqualTo(d.digest());
  }

  @Test
  void contentsIsAnUnmodifiableCopy() {
    KvStateMachine sm = new KvStateMachine();
    apply(sm, KvCommand.put("k", "v"));
    var snap = sm.contents();
    apply(sm, KvCommand.put("k", "w"));
    assertThat(snap).containsEntry("k", "v");
    assertThatThrownBy(() -> snap.put("a", "b")).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void snapshotRestoresTheStateAndHistoryAsOfTheCapture() throws IOException {
    KvStateMachine sm = new KvStateMachine();
    String longValue = "x".repeat(70_000); // beyond what writeUTF could hold
    sm.apply(
        List.of(
            noop(),
            entry(KvCommand.put("a", "1")),
            entry(KvCommand.put("ключ", "значение ✓")),
            entry(KvCommand.append("long", longValue)),
            entry(KvCommand.append("long", "y")),
            entry(KvCommand.put("", "")),
            new Entry(1, nextIndex++, EntryType.CONFIG, 0, new byte[] {1, 2, 3}),
            entry(KvCommand.get("a"))));
    long index = sm.appliedIndex();
    long digest = sm.digest();
    List<KvStateMachine.Applied> log = List.copyOf(sm.appliedLog());
    var contents = sm.contents();

    SnapshotWriter writer = sm.snapshot();
    List<Entry> later =
        List.of(
            entry(KvCommand.put("a", "changed")),
            entry(KvCommand.append("long", "z")),
            entry(KvCommand.put("new", "v")));
    sm.apply(later);
    byte[] data = write(writer); // written after later applies, as on the background thread

    KvStateMachine restored = new KvStateMachine();
    restored.restore(meta(index), new ByteArrayInputStream(data));

    assertThat(restored.appliedIndex()).isEqualTo(index).isEqualTo(8);
    assertThat(restored.digest()).isEqualTo(digest).isNotEqualTo(sm.digest());
    assertThat(restored.appliedLog()).isEqualTo(log);
    assertThat(restored.contents()).isEqualTo(contents);
    assertThat(restored.get("long")).isEqualTo(longValue + "y");
    assertThat(restored.get("ключ")).isEqualTo("значение ✓");
    assertThat(restored.appliedAt(7).type()).isEqualTo(EntryType.CONFIG);
    assertThat(restored.appliedAt(8)).isEqualTo(sm.appliedAt(8));
    assertThat(restored.appliedAt(9)).isNull();

    // Replaying the log after the snapshot catches up with the original.
    restored.apply(later);
    assertThat(restored.digest()).isEqualTo(sm.digest());
    assertThat(restored.appliedLog()).isEqualTo(sm.appliedLog());
    assertThat(restored.contents()).isEqualTo(sm.contents());
  }

  @Test
  void snapshotContentIsDeterministic() throws IOException {
    KvStateMachine a = new KvStateMachine();
    KvStateMachine b = new KvStateMachine();
    for (KvStateMachine sm : List.of(a, b)) {
      apply(sm, KvCommand.put("z", "1"), KvCommand.put("a", "2"), KvCommand.append("m", "3"));
    }
    SnapshotWriter writer = a.snapshot();
    assertThat(write(writer)).isEqualTo(write(writer)).isEqualTo(write(b.snapshot()));

    KvStateMachine c = new KvStateMachine();
    apply(c, KvCommand.put("a", "2"), KvCommand.put("z", "1"), KvCommand.append("m", "3"));
    assertThat(c.digest()).isEqualTo(a.digest());
    assertThat(write(c.snapshot()))
        .as("same map, different history")
        .isNotEqualTo(write(a.snapshot()));
  }

  @Test
  void restoreReplacesTheWholeState() throws IOException {
    KvStateMachine source = new KvStateMachine();
    apply(source, KvCommand.put("kept", "1"));
    byte[] data = write(source.snapshot());

    KvStateMachine target = new KvStateMachine();
    apply(target, KvCommand.put("gone", "x"), KvCommand.put("kept", "2"), KvCommand.get("x"));
    target.restore(meta(1), new ByteArrayInputStream(data));

    assertThat(target.appliedIndex()).isEqualTo(1);
    assertThat(target.contents()).containsExactlyEntriesOf(source.contents());
    assertThat(target.appliedLog()).isEqualTo(source.appliedLog());
    assertThat(target.appliedAt(2)).isNull();
    apply(target, KvCommand.append("kept", "+"));
    assertThat(target.get("kept")).isEqualTo("1+");
  }

  @Test
  void emptyMachineRoundTrips() throws IOException {
    KvStateMachine restored = new KvStateMachine();
    apply(restored, KvCommand.put("k", "v"));
    restored.restore(meta(0), new ByteArrayInputStream(write(new KvStateMachine().snapshot())));
    assertThat(restored.appliedIndex()).isZero();
    assertThat(restored.size()).isZero();
    assertThat(restored.appliedLog()).isEmpty();
    assertThat(restored.digest()).isEqualTo(new KvStateMachine().digest());
  }

  @Test
  void restoreRejectsAMismatchedIndexOrMalformedContentAndKeepsTheState() throws IOException {
    KvStateMachine source = new KvStateMachine();
    apply(source, KvCommand.put("a", "1"), KvCommand.put("b", "2"));
    byte[] data = write(source.snapshot());

    KvStateMachine target = new KvStateMachine();
    apply(target, KvCommand.put("mine", "x"));
    long digest = target.digest();

    assertThatThrownBy(() -> target.restore(meta(3), new ByteArrayInputStream(data)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("taken at index 2");
    byte[] truncated = Arrays.copyOf(data, data.length - 1);
    assertThatThrownBy(() -> target.restore(meta(2), new ByteArrayInputStream(truncated)))
        .isInstanceOf(IOException.class);
    byte[] trailing = Arrays.copyOf(data, data.length + 1);
    assertThatThrownBy(() -> target.restore(meta(2), new ByteArrayInputStream(trailing)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("trailing");
    byte[] badVersion = data.clone();
    badVersion[3] = 99;
    assertThatThrownBy(() -> target.restore(meta(2), new ByteArrayInputStream(badVersion)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("format");

    assertThat(target.appliedIndex()).isEqualTo(1);
    assertThat(target.digest()).isEqualTo(digest);
    assertThat(target.get("mine")).isEqualTo("x");
  }

  private static SnapshotMeta meta(long index) {
    return new SnapshotMeta(index, index == 0 ? 0 : 1, Membership.ofVoters(1));
  }

  private static byte[] write(SnapshotWriter writer) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writer.writeTo(out);
    return out.toByteArray();
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
