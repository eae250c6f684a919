package io.tern.example.map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.quorum.JointConfig;
import io.tern.raft.core.quorum.MajorityConfig;
import io.tern.raft.core.tracker.Membership;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MapStateMachineTest {
  private static final Membership ONE =
      new Membership(new JointConfig(MajorityConfig.of(1), MajorityConfig.EMPTY), Set.of());

  private long index;

  private Entry entry(byte[] command) {
    return new Entry(1, ++index, EntryType.NORMAL, 0, command);
  }

  private Entry noop() {
    return new Entry(1, ++index, EntryType.NORMAL, 0, new byte[0]);
  }

  private static byte[] write(MapStateMachine sm) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    sm.snapshot().writeTo(out);
    return out.toByteArray();
  }

  @Test
  void appliesPutsAndDeletesReturningThePreviousValue() {
    MapStateMachine sm = new MapStateMachine();
    Object[] r =
        sm.apply(
            List.of(
                noop(),
                entry(MapStateMachine.put("a", "1")),
                entry(MapStateMachine.put("a", "two words")),
                entry(MapStateMachine.put("b", "")),
                entry(MapStateMachine.delete("a")),
                entry(MapStateMachine.delete("missing"))));
    assertThat(r).containsExactly(null, null, "1", null, "two words", null);
    assertThat(sm.get("a")).isNull();
    assertThat(sm.get("b")).isEmpty();
    assertThat(sm.size()).isEqualTo(1);
    assertThat(sm.appliedIndex()).isEqualTo(6);
  }

  @Test
  void configurationEntriesOnlyAdvanceTheIndex() {
    MapStateMachine sm = new MapStateMachine();
    Object[] r = sm.apply(List.of(new Entry(1, 1, EntryType.CONFIG, 0, new byte[] {1, 2, 3})));
    assertThat(r).containsExactly((Object) null);
    assertThat(sm.appliedIndex()).isEqualTo(1);
    assertThat(sm.size()).isZero();
  }

  @Test
  void malformedCommandsChangeNothing() {
    MapStateMachine sm = new MapStateMachine();
    byte[] del = MapStateMachine.delete("k");
    byte[] trailing = new byte[del.length + 1];
    System.arraycopy(del, 0, trailing, 0, del.length);
    Object[] r =
        sm.apply(
            List.of(
                entry(new byte[] {9, 0}),
                entry(new byte[] {MapStateMachine.OP_PUT, 5, 'a'}),
                entry(new byte[] {MapStateMachine.OP_PUT, (byte) 0x80}),
                entry(trailing)));
    assertThat(r).allSatisfy(o -> assertThat(o).isInstanceOf(MapStateMachine.InvalidCommand.class));
    assertThat(sm.size()).isZero();
    assertThat(sm.appliedIndex()).isEqualTo(4);
  }

  @Test
  void longKeysAndUnicodeRoundTrip() {
    MapStateMachine sm = new MapStateMachine();
    String key = "k".repeat(300) + "é";
    sm.apply(List.of(entry(MapStateMachine.put(key, "välue ☃"))));
    assertThat(sm.get(key)).isEqualTo("välue ☃");
  }

  @Test
  void digestDependsOnContentOnly() {
    MapStateMachine a = new MapStateMachine();
    MapStateMachine b = new MapStateMachine();
    a.apply(List.of(entry(MapStateMachine.put("x", "1")), entry(MapStateMachine.put("y", "2"))));
    index = 0;
    b.apply(List.of(entry(MapStateMachine.put("y", "2")), entry(MapStateMachine.put("x", "1"))));
    assertThat(a.digest()).isEqualTo(b.digest());
    assertThat(a.digest().appliedIndex()).isEqualTo(2);
    // Key/value boundaries count: "ab"="c" differs from "a"="bc".
    MapStateMachine c = new MapStateMachine();
    MapStateMachine d = new MapStateMachine();
    c.apply(List.of(new Entry(1, 1, EntryType.NORMAL, 0, MapStateMachine.put("ab", "c"))));
    d.apply(List.of(new Entry(1, 1, EntryType.NORMAL, 0, MapStateMachine.put("a", "bc"))));
    assertThat(c.digest().hash()).isNotEqualTo(d.digest().hash());
  }

  @Test
  void snapshotCapturesTheStateAtTheCallAndRestoresIt() throws IOException {
    MapStateMachine sm = new MapStateMachine();
    List<Entry> batch = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      batch.add(entry(MapStateMachine.put("k" + i, "v" + i)));
    }
    sm.apply(batch);
    MapStateMachine.Digest before = sm.digest();
    var writer = sm.snapshot();
    sm.apply(
        List.of(entry(MapStateMachine.put("later", "x")), entry(MapStateMachine.delete("k1"))));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writer.writeTo(out); // written after later applies: must not see them

    MapStateMachine restored = new MapStateMachine();
    restored.apply(
        List.of(new Entry(1, 1, EntryType.NORMAL, 0, MapStateMachine.put("old", "gone"))));
    restored.restore(new SnapshotMeta(100, 1, ONE), new ByteArrayInputStream(out.toByteArray()));
    assertThat(restored.digest()).isEqualTo(before);
    assertThat(restored.get("old")).isNull();
    assertThat(restored.get("k1")).isEqualTo("v1");
    assertThat(restored.appliedIndex()).isEqualTo(100);
  }

  @Test
  void restoreRejectsForeignOrDamagedSnapshots() throws IOException {
    MapStateMachine sm = new MapStateMachine();
    sm.apply(List.of(entry(MapStateMachine.put("a", "1"))));
    byte[] good = write(sm);
    MapStateMachine target = new MapStateMachine();
    assertThatThrownBy(
            () -> target.restore(new SnapshotMeta(2, 1, ONE), new ByteArrayInputStream(good)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("index 1");
    byte[] bad = good.clone();
    bad[0] ^= 1;
    assertThatThrownBy(
            () -> target.restore(new SnapshotMeta(1, 1, ONE), new ByteArrayInputStream(bad)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("magic");
    byte[] truncated = java.util.Arrays.copyOf(good, good.length - 1);
    assertThatThrownBy(
            () -> target.restore(new SnapshotMeta(1, 1, ONE), new ByteArrayInputStream(truncated)))
        .isInstanceOf(IOException.class);
    byte[] longer = java.util.Arrays.copyOf(good, good.length + 1);
    assertThatThrownBy(
            () -> target.restore(new SnapshotMeta(1, 1, ONE), new ByteArrayInputStream(longer)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("trailing");
    assertThat(target.size()).isZero();
  }
}
