package io.tern.storage;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Writes RocksDB's serialized write-batch format, the bytes {@code WriteBatch.data()} returns and
 * {@code new WriteBatch(byte[])} takes: a header (sequence number as fixed64, left 0 for the write
 * to assign; record count as fixed32; both little-endian), then per record a tag, the column
 * family's id as a varint unless it is the default family (0), the key as a varint length and its
 * bytes, and for a put the value likewise. Building a batch this way hands it to RocksDB in one
 * call instead of one JNI call, with its own key and value arrays, per record.
 *
 * <p>Used by the Raft log's appends ({@link LogCodec#entryPutBatch}) and the KV store's runs of
 * puts; {@code LogCodecTest} and {@code EncodedChangesTest} check the bytes against RocksDB's own.
 */
public final class WriteBatchFormat {
  public static final int HEADER_BYTES = 12;

  /** Record tags: put and deletion in the default column family, and in another one. */
  private static final byte TAG_DELETE = 0x0;

  private static final byte TAG_PUT = 0x1;
  private static final byte TAG_FAMILY_DELETE = 0x4;
  private static final byte TAG_FAMILY_PUT = 0x5;

  private WriteBatchFormat() {}

  /**
   * Bytes of one record in family {@code familyId}: a put of a {@code valueLength}-byte value, or a
   * deletion when {@code valueLength} is negative.
   */
  public static int recordBytes(int familyId, int keyLength, int valueLength) {
    int n = 1 + (familyId == 0 ? 0 : LogCodec.varLongSize(familyId));
    n += LogCodec.varLongSize(keyLength) + keyLength;
    if (valueLength >= 0) {
      n += LogCodec.varLongSize(valueLength) + valueLength;
    }
    return n;
  }

  /** Writes the header of a batch of {@code count} records at {@code b}'s position. */
  public static void putHeader(ByteBuffer b, int count) {
    ByteOrder order = b.order();
    b.order(ByteOrder.LITTLE_ENDIAN).putLong(0).putInt(count).order(order);
  }

  /**
   * Writes the start of a record: its tag, family id and key length; the caller writes the key's
   * bytes next and, for a put, {@link #putLength} of the value and the value.
   */
  public static void putRecordStart(ByteBuffer b, int familyId, boolean put, int keyLength) {
    if (familyId == 0) {
      b.put(put ? TAG_PUT : TAG_DELETE);
    } else {
      b.put(put ? TAG_FAMILY_PUT : TAG_FAMILY_DELETE);
      LogCodec.putVarLong(b, familyId);
    }
    LogCodec.putVarLong(b, keyLength);
  }

  /** Writes a value's length prefix. */
  public static void putLength(ByteBuffer b, int length) {
    LogCodec.putVarLong(b, length);
  }
}
