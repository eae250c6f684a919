package io.tern.kv;

import com.google.protobuf.ByteString;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * Changes kept as records in Java and handed to RocksDB as one serialized write batch: no JNI call
 * and no index per change, which is most of what an indexed batch costs a put. The step's reads do
 * not see these changes through the database; single keys are found with {@link #newest}, so only
 * operations that read nothing but single keys (puts) may use this form.
 */
final class EncodedChanges implements Changes {
  /** RocksDB's record tags: in the default column family, and in a named one (id follows). */
  private static final byte TAG_DELETE = 0x0;

  private static final byte TAG_PUT = 0x1;
  private static final byte TAG_FAMILY_DELETE = 0x4;
  private static final byte TAG_FAMILY_PUT = 0x5;

  /** Header of a serialized batch: sequence number (fixed64, set by the write), count (fixed32). */
  private static final int HEADER_BYTES = 12;

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
    int size = HEADER_BYTES;
    for (int i = 0; i < count; i++) {
      size += 1 + keys[i].length + varintSize(keys[i].length);
      if (families[i] != 0) {
        size += varintSize(families[i]);
      }
      if (values[i] != null) {
        size += values[i].length + varintSize(values[i].length);
      }
    }
    byte[] out = new byte[size];
    int o = 8; // sequence number 0: the write assigns it
    out[o++] = (byte) count;
    out[o++] = (byte) (count >>> 8);
    out[o++] = (byte) (count >>> 16);
    out[o++] = (byte) (count >>> 24);
    for (int r = 0; r < count; r++) {
      int family = families[r];
      byte[] key = keys[r];
      byte[] value = values[r];
      if (family == 0) {
        out[o++] = value == null ? TAG_DELETE : TAG_PUT;
      } else {
        out[o++] = value == null ? TAG_FAMILY_DELETE : TAG_FAMILY_PUT;
        o = putVarint(out, o, family);
      }
      o = putVarint(out, o, key.length);
      System.arraycopy(key, 0, out, o, key.length);
      o += key.length;
      if (value != null) {
        o = putVarint(out, o, value.length);
        System.arraycopy(value, 0, out, o, value.length);
        o += value.length;
      }
    }
    if (o != size) {
      throw new IllegalStateException("encoded " + o + " bytes of a batch sized " + size);
    }
    return out;
  }

  private static int varintSize(int v) {
    int n = 1;
    while ((v & ~0x7F) != 0) {
      v >>>= 7;
      n++;
    }
    return n;
  }

  private static int putVarint(byte[] out, int o, int v) {
    while ((v & ~0x7F) != 0) {
      out[o++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out[o++] = (byte) v;
    return o;
  }

  @Override
  public void close() {}
}
