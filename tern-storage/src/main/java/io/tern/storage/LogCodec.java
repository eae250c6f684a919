package io.tern.storage;

import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.HardState;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.tracker.Membership;
import io.tern.raft.core.tracker.MembershipCodec;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The binary records {@link RocksDbLogStore} keeps in RocksDB. All integers are big-endian.
 *
 * <pre>
 * log key    index:int64                      (big-endian, so RocksDB's byte order is index order)
 * log value  format:u8=1  type:u8  term:uvarint  requestId:int64  crc:u32  data:rest
 *            crc = CRC32C(index:int64 term:int64 type:u8 requestId:int64 data)
 * hard state format:u8=1  term:int64  vote:int64  commit:int64  crc:u32   crc = CRC32C(preceding)
 * base       format:u8=1  index:int64  term:int64  membership:MembershipCodec  crc:u32  (same)
 * </pre>
 *
 * <p>The entry's index is not stored in the value (the key holds it) but is covered by the CRC, so
 * a value found under the wrong key fails the check like a flipped bit does. Types are stored as
 * explicit codes, not enum ordinals.
 */
final class LogCodec {
  static final byte FORMAT = 1;
  static final int KEY_BYTES = 8;
  static final int HARD_STATE_BYTES = 1 + 8 + 8 + 8 + 4;

  /** Smallest encoded entry: format, type, one-byte term, request id, crc. */
  private static final int MIN_ENTRY_BYTES = 1 + 1 + 1 + 8 + 4;

  private static final byte TYPE_NORMAL = 0;
  private static final byte TYPE_CONFIG = 1;

  private LogCodec() {}

  // ------------------------------------------------------------ keys

  static byte[] indexKey(long index) {
    return ByteBuffer.allocate(KEY_BYTES).putLong(index).array();
  }

  /** The index a log key encodes. */
  static long indexOf(byte[] key) {
    if (key.length != KEY_BYTES) {
      throw new StorageCorruptionException(
          "malformed log key 0x" + HexFormat.of().formatHex(key) + ": " + key.length + " bytes");
    }
    long index = ByteBuffer.wrap(key).getLong();
    if (index < 0) {
      throw new StorageCorruptionException(
          "malformed log key 0x" + HexFormat.of().formatHex(key) + ": negative index");
    }
    return index;
  }

  // ------------------------------------------------------------ entries

  static byte[] encodeEntry(Entry e) {
    ByteBuffer b = ByteBuffer.allocate(entryBytes(e));
    putEntry(b, e);
    return b.array();
  }

  /** The size of {@link #encodeEntry}'s result. */
  static int entryBytes(Entry e) {
    return 1 + 1 + varLongSize(e.term()) + 8 + 4 + e.data().length;
  }

  /** Writes {@link #encodeEntry}'s bytes at {@code b}'s position. */
  private static void putEntry(ByteBuffer b, Entry e) {
    byte type = typeCode(e.type());
    byte[] data = e.data();
    b.put(FORMAT).put(type);
    putVarLong(b, e.term());
    b.putLong(e.requestId());
    b.putInt((int) entryCrc(e.index(), e.term(), type, e.requestId(), data, 0, data.length));
    b.put(data);
  }

  // ------------------------------------------------------------ RocksDB write batches

  /**
   * The serialized form of a RocksDB {@code WriteBatch} ({@link WriteBatchFormat}) that puts every
   * entry of {@code runs}, in order, under its index key into the column family {@code familyId}:
   * the whole batch crosses into RocksDB in one call, and its values are encoded straight into the
   * one array. {@code LogCodecTest} checks it byte for byte against RocksDB's own.
   */
  static byte[] entryPutBatch(int familyId, List<List<Entry>> runs) {
    int size = WriteBatchFormat.HEADER_BYTES;
    int count = 0;
    for (List<Entry> run : runs) {
      for (Entry e : run) {
        size += WriteBatchFormat.recordBytes(familyId, KEY_BYTES, entryBytes(e));
        count++;
      }
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    WriteBatchFormat.putHeader(b, count);
    for (List<Entry> run : runs) {
      for (Entry e : run) {
        WriteBatchFormat.putRecordStart(b, familyId, true, KEY_BYTES);
        b.putLong(e.index());
        WriteBatchFormat.putLength(b, entryBytes(e));
        putEntry(b, e);
      }
    }
    if (b.hasRemaining()) {
      throw new IllegalStateException("write batch size miscounted: " + b.remaining() + " left");
    }
    return b.array();
  }

  /**
   * Decodes the value stored under {@code index}'s key.
   *
   * @throws StorageCorruptionException naming the index if the value is malformed or its CRC does
   *     not match
   */
  static Entry decodeEntry(long index, byte[] value) {
    if (value.length < MIN_ENTRY_BYTES) {
      throw entryCorrupt(index, "value too short (" + value.length + " bytes)");
    }
    ByteBuffer b = ByteBuffer.wrap(value);
    byte format = b.get();
    if (format != FORMAT) {
      throw entryCorrupt(index, "unknown format " + format);
    }
    byte type = b.get();
    long term = getVarLong(b, index);
    if (b.remaining() < 12) {
      throw entryCorrupt(index, "value truncated after the term");
    }
    long requestId = b.getLong();
    long stored = Integer.toUnsignedLong(b.getInt());
    int dataOffset = b.position();
    int dataLength = b.remaining();
    long actual = entryCrc(index, term, type, requestId, value, dataOffset, dataLength);
    if (actual != stored) {
      throw entryCorrupt(
          index,
          "CRC32C mismatch (stored "
              + Long.toHexString(stored)
              + ", computed "
              + Long.toHexString(actual)
              + ")");
    }
    EntryType entryType =
        switch (type) {
          case TYPE_NORMAL -> EntryType.NORMAL;
          case TYPE_CONFIG -> EntryType.CONFIG;
          default -> throw entryCorrupt(index, "unknown entry type " + type);
        };
    byte[] data = new byte[dataLength];
    System.arraycopy(value, dataOffset, data, 0, dataLength);
    return new Entry(term, index, entryType, requestId, data);
  }

  private static StorageCorruptionException entryCorrupt(long index, String what) {
    return new StorageCorruptionException(
        "log entry at index "
            + index
            + " (key 0x"
            + HexFormat.of().formatHex(indexKey(index))
            + "): "
            + what);
  }

  private static long entryCrc(
      long index, long term, byte type, long requestId, byte[] data, int offset, int length) {
    ByteBuffer header = ByteBuffer.allocate(8 + 8 + 1 + 8);
    header.putLong(index).putLong(term).put(type).putLong(requestId).flip();
    CRC32C crc = new CRC32C();
    crc.update(header);
    crc.update(data, offset, length);
    return crc.getValue();
  }

  private static byte typeCode(EntryType type) {
    return switch (type) {
      case NORMAL -> TYPE_NORMAL;
      case CONFIG -> TYPE_CONFIG;
    };
  }

  // ------------------------------------------------------------ hard state and base

  static byte[] encodeHardState(HardState hs) {
    ByteBuffer b = ByteBuffer.allocate(HARD_STATE_BYTES);
    b.put(FORMAT).putLong(hs.term()).putLong(hs.vote()).putLong(hs.commit());
    return sealed(b);
  }

  static HardState decodeHardState(byte[] value) {
    if (value.length != HARD_STATE_BYTES) {
      throw new StorageCorruptionException(
          "hard state record: " + value.length + " bytes, expected " + HARD_STATE_BYTES);
    }
    ByteBuffer b = unsealed(value, "hard state record");
    long term = b.getLong();
    long vote = b.getLong();
    long commit = b.getLong();
    try {
      return new HardState(term, vote, commit);
    } catch (IllegalArgumentException e) {
      throw new StorageCorruptionException("hard state record: " + e.getMessage(), e);
    }
  }

  static byte[] encodeBase(SnapshotMeta base) {
    byte[] membership = MembershipCodec.encode(base.membership());
    ByteBuffer b = ByteBuffer.allocate(1 + 8 + 8 + membership.length + 4);
    b.put(FORMAT).putLong(base.index()).putLong(base.term()).put(membership);
    return sealed(b);
  }

  static SnapshotMeta decodeBase(byte[] value) {
    if (value.length < 1 + 8 + 8 + 4) {
      throw new StorageCorruptionException("log base record: too short (" + value.length + ")");
    }
    ByteBuffer b = unsealed(value, "log base record");
    long index = b.getLong();
    long term = b.getLong();
    byte[] membership = new byte[b.remaining()];
    b.get(membership);
    try {
      Membership m = MembershipCodec.decode(membership);
      return new SnapshotMeta(index, term, m);
    } catch (IllegalArgumentException e) {
      throw new StorageCorruptionException("log base record: " + e.getMessage(), e);
    }
  }

  /** Writes the CRC32C of everything before the buffer's position after it; returns the array. */
  private static byte[] sealed(ByteBuffer b) {
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    if (b.hasRemaining()) {
      throw new IllegalStateException("record size miscomputed: " + b.remaining() + " spare");
    }
    return b.array();
  }

  /**
   * Checks the format byte and the trailing CRC32C; returns a buffer positioned after the format
   * byte and limited before the CRC.
   */
  private static ByteBuffer unsealed(byte[] value, String what) {
    int body = value.length - 4;
    CRC32C crc = new CRC32C();
    crc.update(value, 0, body);
    long stored = Integer.toUnsignedLong(ByteBuffer.wrap(value, body, 4).getInt());
    if (crc.getValue() != stored) {
      throw new StorageCorruptionException(
          what
              + ": CRC32C mismatch (stored "
              + Long.toHexString(stored)
              + ", computed "
              + Long.toHexString(crc.getValue())
              + ")");
    }
    if (value[0] != FORMAT) {
      throw new StorageCorruptionException(what + ": unknown format " + value[0]);
    }
    return ByteBuffer.wrap(value, 1, body - 1).slice();
  }

  // ------------------------------------------------------------ varints

  static int varLongSize(long v) {
    int n = 1;
    while ((v & ~0x7FL) != 0) {
      v >>>= 7;
      n++;
    }
    return n;
  }

  static void putVarLong(ByteBuffer b, long v) {
    while ((v & ~0x7FL) != 0) {
      b.put((byte) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    b.put((byte) v);
  }

  private static long getVarLong(ByteBuffer b, long index) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!b.hasRemaining()) {
        throw entryCorrupt(index, "term varint truncated");
      }
      byte x = b.get();
      v |= (long) (x & 0x7F) << shift;
      if ((x & 0x80) == 0) {
        if (v < 0) {
          throw entryCorrupt(index, "negative term");
        }
        return v;
      }
    }
    throw entryCorrupt(index, "term varint longer than 10 bytes");
  }
}
