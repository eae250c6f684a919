package io.tern.storage;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.HardState;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.quorum.JointConfig;
import io.tern.raft.core.quorum.MajorityConfig;
import io.tern.raft.core.tracker.Membership;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

class LogCodecTest {
  @Test
  void anEntryPutBatchIsByteForByteWhatRocksDbBuildsAndWritesTheEntries(@TempDir Path dir)
      throws RocksDBException {
    RocksDB.loadLibrary();
    SplittableRandom random = new SplittableRandom(11);
    List<List<Entry>> runs = new ArrayList<>();
    long index = 126; // keys and terms cross varint byte boundaries
    for (int run = 0; run < 4; run++) {
      List<Entry> entries = new ArrayList<>();
      for (int i = 0; i < 1 + run * 3; i++) {
        // value lengths of one, two and three varint bytes
        byte[] data = new byte[i == 2 ? 20_000 : random.nextInt(300)];
        random.nextBytes(data);
        long term = run == 3 ? 1L << 40 : 127 + i;
        entries.add(new Entry(term, index++, EntryType.values()[i % 2], random.nextLong(), data));
      }
      runs.add(entries);
    }
    try (Options options = new Options().setCreateIfMissing(true);
        RocksDB db = RocksDB.open(options, dir.toString());
        ColumnFamilyOptions cfOptions = new ColumnFamilyOptions();
        ColumnFamilyHandle family =
            db.createColumnFamily(new ColumnFamilyDescriptor("log".getBytes(UTF_8), cfOptions));
        WriteBatch defaultFamily = new WriteBatch();
        WriteBatch otherFamily = new WriteBatch();
        WriteOptions write = new WriteOptions()) {
      for (List<Entry> run : runs) {
        for (Entry e : run) {
          defaultFamily.put(LogCodec.indexKey(e.index()), LogCodec.encodeEntry(e));
          otherFamily.put(family, LogCodec.indexKey(e.index()), LogCodec.encodeEntry(e));
        }
      }
      assertThat(LogCodec.entryPutBatch(0, runs)).isEqualTo(defaultFamily.data());
      assertThat(family.getID()).isNotZero();
      byte[] ours = LogCodec.entryPutBatch(family.getID(), runs);
      assertThat(ours).isEqualTo(otherFamily.data());
      try (WriteBatch batch = new WriteBatch(ours)) {
        assertThat(batch.count()).isEqualTo(index - 126);
        db.write(write, batch);
      }
      for (List<Entry> run : runs) {
        for (Entry e : run) {
          byte[] stored = db.get(family, LogCodec.indexKey(e.index()));
          assertThat(LogCodec.decodeEntry(e.index(), stored)).isEqualTo(e);
        }
      }
    }
  }

  @Test
  void entriesRoundTrip() {
    SplittableRandom random = new SplittableRandom(7);
    long[] terms = {0, 1, 127, 128, 16_383, 16_384, 1L << 40, Long.MAX_VALUE};
    for (long term : terms) {
      for (EntryType type : EntryType.values()) {
        byte[] data = new byte[random.nextInt(300)];
        random.nextBytes(data);
        long index = random.nextLong(0, Long.MAX_VALUE);
        Entry e = new Entry(term, index, type, random.nextLong(), data);
        byte[] encoded = LogCodec.encodeEntry(e);
        assertThat(encoded).hasSize(1 + 1 + LogCodec.varLongSize(term) + 8 + 4 + data.length);
        assertThat(LogCodec.decodeEntry(index, encoded)).isEqualTo(e);
      }
    }
    Entry noop = new Entry(3, 9, EntryType.NORMAL, 0, null);
    assertThat(LogCodec.decodeEntry(9, LogCodec.encodeEntry(noop))).isEqualTo(noop);
    assertThat(LogCodec.encodeEntry(noop)).hasSize(15);
  }

  @Test
  void everySingleBitFlipInAnEntryIsDetected() {
    Entry e = new Entry(300, 42, EntryType.CONFIG, -5, new byte[] {1, 2, 3, 4, 5, 6, 7});
    byte[] encoded = LogCodec.encodeEntry(e);
    for (int i = 0; i < encoded.length; i++) {
      for (int bit = 0; bit < 8; bit++) {
        byte[] damaged = encoded.clone();
        damaged[i] ^= (byte) (1 << bit);
        assertThatThrownBy(() -> LogCodec.decodeEntry(42, damaged))
            .as("byte %d bit %d", i, bit)
            .isInstanceOf(StorageCorruptionException.class)
            .hasMessageContaining("index 42");
      }
    }
    assertThatThrownBy(() -> LogCodec.decodeEntry(43, encoded))
        .isInstanceOf(StorageCorruptionException.class)
        .hasMessageContaining("CRC32C mismatch");
    assertThatThrownBy(() -> LogCodec.decodeEntry(42, new byte[] {1, 0, 1}))
        .isInstanceOf(StorageCorruptionException.class)
        .hasMessageContaining("too short");
  }

  @Test
  void keysSortByIndex() {
    assertThat(LogCodec.indexOf(LogCodec.indexKey(123_456_789_012L))).isEqualTo(123_456_789_012L);
    byte[] a = LogCodec.indexKey(255);
    byte[] b = LogCodec.indexKey(256);
    assertThat(java.util.Arrays.compareUnsigned(a, b)).isNegative();
    assertThatThrownBy(() -> LogCodec.indexOf(new byte[] {1, 2, 3}))
        .isInstanceOf(StorageCorruptionException.class)
        .hasMessageContaining("malformed log key 0x010203");
  }

  @Test
  void hardStateAndBaseRoundTripAndDetectDamage() {
    HardState hs = new HardState(7, 3, 99);
    byte[] encodedHs = LogCodec.encodeHardState(hs);
    assertThat(LogCodec.decodeHardState(encodedHs)).isEqualTo(hs);

    Membership joint =
        new Membership(
            new JointConfig(MajorityConfig.of(1, 2, 3), MajorityConfig.of(1, 2, 4)), Set.of(9L));
    SnapshotMeta base = new SnapshotMeta(1000, 6, joint);
    byte[] encodedBase = LogCodec.encodeBase(base);
    assertThat(LogCodec.decodeBase(encodedBase)).isEqualTo(base);

    for (int i = 0; i < encodedHs.length; i++) {
      byte[] damaged = encodedHs.clone();
      damaged[i] ^= 0x40;
      assertThatThrownBy(() -> LogCodec.decodeHardState(damaged))
          .isInstanceOf(StorageCorruptionException.class)
          .hasMessageContaining("hard state");
    }
    for (int i = 0; i < encodedBase.length; i++) {
      byte[] damaged = encodedBase.clone();
      damaged[i] ^= 0x40;
      assertThatThrownBy(() -> LogCodec.decodeBase(damaged))
          .isInstanceOf(StorageCorruptionException.class)
          .hasMessageContaining("log base");
    }
  }
}
