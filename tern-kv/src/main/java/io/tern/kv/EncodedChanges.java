package io.tern.kv;

import com.google.protobuf.ByteString;
import io.tern.storage.WriteBatchFormat;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * Changes kept as records in Java and handed to RocksDB as one serialized write batch ({@link
 * WriteBatchFormat}): no JNI call and no index per change, which is most of what an indexed batch
 * costs a put. The step's reads do not see these changes through the database; single keys are
 * found with {@link #newest}, so only operations that read nothing but single keys (puts) may use
 * this form.
 */
final class EncodedChanges implements Changes {
  private final KvDatabase db;
  private int[] families = new int[64];
  private byte[][] keys = new byte[64][];

  /** A record's value, or null for a deletion. */
  private byte[][] values = new byte[64][];

  private int count;
  private int savePoint = -1;
  private final Map<ByteString, MvccView.Version> written = new HashMap<>();

  EncodedChanges(KvDatabase db) {
    this.db = db;
  }

  @Override
  public void put(ColumnFamilyHandle family, byte[] key, byte[] value) {
    add(db.familyId(family), key, value);
  }

  @Override
  public void delete(ColumnFamilyHandle family, byte[] key) {
    add(db.familyId(family), key, null);
  }

  private void add(int family, byte[] key, byte[] value) {
    if (count == keys.length) {
      families = Arrays.copyOf(families, count * 2);
      keys = Arrays.copyOf(keys, count * 2);
      values = Arrays.copyOf(values, count * 2);
    }
    families[count] = family;
    keys[count] = key;
    values[count] = value;
    count++;
  }

  /** Number of records. */
  int count() {
    return count;
  }

  @Override
  public void setSavePoint() {
    if (savePoint >= 0) {
      throw new IllegalStateException("save points do not nest");
    }
    savePoint = count;
  }

  @Override
  public void rollbackToSavePoint() {
    requireSavePoint();
    Arrays.fill(keys, savePoint, count, null);
    Arrays.fill(values, savePoint, count, null);
    count = savePoint;
    savePoint = -1;
  }

  @Override
  public void popSavePoint() {
    requireSavePoint();
    savePoint = -1;
  }

  private void requireSavePoint() {
    if (savePoint < 0) {
      throw new IllegalStateException("no save point");
    }
  }

  @Override
  public Source source(KvDatabase database, ReadOptions options) {
    return Source.of(database, options);
  }

  @Override
  public boolean holds(ByteString key) {
    return written.containsKey(key);
  }

  @Override
  public MvccView.Version newest(ByteString key) {
    return written.get(key);
  }

  @Override
  public void accepted(Map<ByteString, MvccView.Version> changes) {
    written.putAll(changes);
  }

  @Override
  public void write(KvDatabase database) throws RocksDBException {
    try (WriteBatch batch = new WriteBatch(encode())) {
      database.db.write(database.writeOptions, batch);
    }
  }

  /** The records in RocksDB's serialized batch format, in the order they were added. */
  byte[] encode() {
    int size = WriteBatchFormat.HEADER_BYTES;
    for (int i = 0; i < count; i++) {
      size +=
          WriteBatchFormat.recordBytes(
              families[i], keys[i].length, values[i] == null ? -1 : values[i].length);
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    WriteBatchFormat.putHeader(b, count);
    for (int i = 0; i < count; i++) {
      byte[] value = values[i];
      WriteBatchFormat.putRecordStart(b, families[i], value != null, keys[i].length);
      b.put(keys[i]);
      if (value != null) {
        WriteBatchFormat.putLength(b, value.length);
        b.put(value);
      }
    }
    if (b.hasRemaining()) {
      throw new IllegalStateException("write batch size miscounted: " + b.remaining() + " left");
    }
    return b.array();
  }

  @Override
  public void close() {}
}
