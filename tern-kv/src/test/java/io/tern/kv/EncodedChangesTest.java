package io.tern.kv;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.WriteBatch;

class EncodedChangesTest {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  private static byte[] bytes(int n, int fill) {
    byte[] out = new byte[n];
    Arrays.fill(out, (byte) fill);
    return out;
  }

  /**
   * The encoding is RocksDB's own serialized batch of the same records: puts and deletions, named
   * and default families, lengths on both sides of a varint boundary.
   */
  @Test
  void encodesRocksDbsBatchFormat() throws Exception {
    try (KvDatabase db = KvDatabase.open(dir.resolve("db"), KvOptions.DEFAULT_MEMTABLE_BYTES);
        EncodedChanges changes = new EncodedChanges(db);
        WriteBatch expected = new WriteBatch()) {
      ColumnFamilyHandle dflt = db.defaultFamily();
      byte[] long127 = bytes(127, 7);
      byte[] long128 = bytes(128, 8);
      changes.put(db.revs, b("r2"), long128);
      expected.put(db.revs, b("r2"), long128);
      changes.put(db.keys, b("k"), b("v"));
      expected.put(db.keys, b("k"), b("v"));
      changes.delete(db.meta, b("gone"));
      expected.delete(db.meta, b("gone"));
      changes.put(db.keys, long127, long127);
      expected.put(db.keys, long127, long127);
      changes.put(dflt, b("d"), b("default"));
      expected.put(dflt, b("d"), b("default"));
      changes.put(db.leases, long128, bytes(300, 3));
      expected.put(db.leases, long128, bytes(300, 3));
      changes.delete(dflt, b("d0"));
      expected.delete(dflt, b("d0"));
      changes.put(db.revs, b("r1"), b(""));
      expected.put(db.revs, b("r1"), b(""));
      assertThat(changes.encode()).isEqualTo(expected.data());
    }
  }

  /** Of a key written twice in one batch, the later write wins. */
  @Test
  void theLaterWriteOfAKeyWins() throws Exception {
    try (KvDatabase db = KvDatabase.open(dir.resolve("db"), KvOptions.DEFAULT_MEMTABLE_BYTES)) {
      try (EncodedChanges changes = new EncodedChanges(db)) {
        changes.put(db.leases, b("k"), b("first"));
        changes.put(db.leases, b("a"), b("other"));
        changes.delete(db.leases, b("k"));
        changes.put(db.leases, b("j"), b("one"));
        changes.put(db.leases, b("j"), b("two"));
        changes.write(db);
      }
      assertThat(db.db.get(db.leases, b("k"))).isNull();
      assertThat(db.db.get(db.leases, b("j"))).isEqualTo(b("two"));
      assertThat(db.db.get(db.leases, b("a"))).isEqualTo(b("other"));
    }
  }

  @Test
  void rollingBackDropsOnlyWhatCameAfterTheSavePoint() throws Exception {
    try (KvDatabase db = KvDatabase.open(dir.resolve("db"), KvOptions.DEFAULT_MEMTABLE_BYTES)) {
      try (EncodedChanges changes = new EncodedChanges(db)) {
        changes.put(db.keys, b("kept"), b("1"));
        changes.setSavePoint();
        changes.put(db.keys, b("dropped"), b("2"));
        changes.delete(db.keys, b("kept"));
        changes.rollbackToSavePoint();
        assertThat(changes.count()).isEqualTo(1);
        changes.setSavePoint();
        changes.put(db.keys, b("also kept"), b("3"));
        changes.popSavePoint();
        assertThatThrownBy(changes::popSavePoint).isInstanceOf(IllegalStateException.class);
        changes.setSavePoint();
        assertThatThrownBy(changes::setSavePoint).isInstanceOf(IllegalStateException.class);
        changes.write(db);
      }
      assertThat(db.db.get(db.keys, b("kept"))).isEqualTo(b("1"));
      assertThat(db.db.get(db.keys, b("also kept"))).isEqualTo(b("3"));
      assertThat(db.db.get(db.keys, b("dropped"))).isNull();
    }
  }

  @Test
  void aHandleOfAnotherDatabaseIsRefused() throws Exception {
    try (KvDatabase db = KvDatabase.open(dir.resolve("a"), KvOptions.DEFAULT_MEMTABLE_BYTES);
        KvDatabase other = KvDatabase.open(dir.resolve("b"), KvOptions.DEFAULT_MEMTABLE_BYTES);
        EncodedChanges changes = new EncodedChanges(db)) {
      assertThatThrownBy(() -> changes.put(other.keys, b("k"), b("v")))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
