package io.tern.kv;

import com.google.protobuf.ByteString;
import io.tern.api.KeyValue;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Byte layouts of the MVCC store's RocksDB records.
 *
 * <p><b>Key family</b> ({@code key}): one record per revision of a key, keyed by {@code enc(key) ++
 * ~mainRevision} (8 bytes, big-endian). {@code enc} escapes each {@code 0x00} byte as {@code 00 FF}
 * and ends with the terminator {@code 00 01}, so it preserves the order of keys and no encoded key
 * is a prefix of another: all revisions of a key are adjacent, newest first, and the keys sort like
 * etcd's (bytewise). A main revision writes a key at most once (a transaction may not write one key
 * twice), so {@code (key, main)} is unique. The value is a {@link #record}.
 *
 * <p><b>Revision family</b> ({@code rev}): {@code main ++ sub} (8 + 8 bytes, big-endian) → the key.
 * It orders every change by revision, for watch history and compaction.
 */
final class Codec {
  static final byte PUT = 0;
  static final byte TOMBSTONE = 1;

  /** Header of a record: kind, sub revision; a put adds create revision, version and lease. */
  private static final int TOMBSTONE_BYTES = 1 + 8;

  private static final int PUT_HEADER_BYTES = TOMBSTONE_BYTES + 24;

  private Codec() {}

  /** The escaped key with its terminator; a prefix of every record of that key. */
  static byte[] encodeKey(ByteString key) {
    int zeros = 0;
    for (int i = 0; i < key.size(); i++) {
      if (key.byteAt(i) == 0) {
        zeros++;
      }
    }
    byte[] out = new byte[key.size() + zeros + 2];
    int o = 0;
    for (int i = 0; i < key.size(); i++) {
      byte b = key.byteAt(i);
      out[o++] = b;
      if (b == 0) {
        out[o++] = (byte) 0xFF;
      }
    }
    out[o++] = 0;
    out[o] = 1;
    return out;
  }

  /** Length of the encoded key (through its terminator) at the start of a key-family key. */
  static int encodedKeyLength(byte[] recordKey) {
    for (int i = 0; i + 1 < recordKey.length; i++) {
      if (recordKey[i] == 0) {
        if (recordKey[i + 1] == 1) {
          return i + 2;
        }
        i++; // skip the escape byte
      }
    }
    throw new IllegalStateException("corrupt key-family key " + Arrays.toString(recordKey));
  }

  static ByteString decodeKey(byte[] recordKey, int encodedLength) {
    byte[] out = new byte[encodedLength - 2];
    int o = 0;
    for (int i = 0; i < encodedLength - 2; i++) {
      out[o++] = recordKey[i];
      if (recordKey[i] == 0) {
        i++;
      }
    }
    return ByteString.copyFrom(out, 0, o);
  }

  /** {@code encodedKey ++ ~main}: the record of that key at revision {@code main}. */
  static byte[] versionKey(byte[] encodedKey, long main) {
    byte[] out = Arrays.copyOf(encodedKey, encodedKey.length + 8);
    putLong(out, encodedKey.length, ~main);
    return out;
  }

  /**
   * Where to seek for the newest record of the key (prefix {@code encodedLength} bytes of {@code
   * source}) at or below {@code main}.
   */
  static byte[] versionKey(byte[] source, int encodedLength, long main) {
    byte[] out = Arrays.copyOf(source, encodedLength + 8);
    putLong(out, encodedLength, ~main);
    return out;
  }

  /**
   * Sorts after every record of the key whose encoding is the first {@code encodedLength} bytes.
   */
  static byte[] afterKey(byte[] source, int encodedLength) {
    byte[] out = Arrays.copyOf(source, encodedLength + 8);
    Arrays.fill(out, encodedLength, out.length, (byte) 0xFF);
    return out;
  }

  static long versionMain(byte[] recordKey, int encodedLength) {
    return ~getLong(recordKey, encodedLength);
  }

  static boolean sameKey(byte[] a, byte[] b, int encodedLength) {
    return b.length >= encodedLength && Arrays.equals(a, 0, encodedLength, b, 0, encodedLength);
  }

  static byte[] revisionKey(long main, long sub) {
    byte[] out = new byte[16];
    putLong(out, 0, main);
    putLong(out, 8, sub);
    return out;
  }

  static long revisionMain(byte[] revisionKey) {
    return getLong(revisionKey, 0);
  }

  static long revisionSub(byte[] revisionKey) {
    return getLong(revisionKey, 8);
  }

  static byte[] putRecord(long sub, long create, long version, long lease, ByteString value) {
    byte[] out = new byte[PUT_HEADER_BYTES + value.size()];
    out[0] = PUT;
    putLong(out, 1, sub);
    putLong(out, 9, create);
    putLong(out, 17, version);
    putLong(out, 25, lease);
    value.copyTo(out, PUT_HEADER_BYTES);
    return out;
  }

  static byte[] tombstoneRecord(long sub) {
    byte[] out = new byte[TOMBSTONE_BYTES];
    out[0] = TOMBSTONE;
    putLong(out, 1, sub);
    return out;
  }

  static boolean isTombstone(byte[] record) {
    return record[0] == TOMBSTONE;
  }

  static long recordSub(byte[] record) {
    return getLong(record, 1);
  }

  static long recordCreate(byte[] record) {
    return getLong(record, 9);
  }

  static long recordVersion(byte[] record) {
    return getLong(record, 17);
  }

  static long recordLease(byte[] record) {
    return getLong(record, 25);
  }

  /** The key-value of a put record. */
  static KeyValue keyValue(ByteString key, long main, byte[] record, boolean keysOnly) {
    KeyValue.Builder kv =
        KeyValue.newBuilder()
            .setKey(key)
            .setModRevision(main)
            .setCreateRevision(recordCreate(record))
            .setVersion(recordVersion(record))
            .setLease(recordLease(record));
    if (!keysOnly) {
      kv.setValue(ByteString.copyFrom(record, PUT_HEADER_BYTES, record.length - PUT_HEADER_BYTES));
    }
    return kv.build();
  }

  static byte[] longBytes(long v) {
    byte[] out = new byte[8];
    putLong(out, 0, v);
    return out;
  }

  static void putLong(byte[] b, int off, long v) {
    ByteBuffer.wrap(b, off, 8).putLong(v);
  }

  static long getLong(byte[] b, int off) {
    return ByteBuffer.wrap(b, off, 8).getLong();
  }
}
