package io.tern.example.map;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.node.StateMachine;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A sorted string map replicated by Raft. Commands are {@link #put} and {@link #delete}, encoded
 * compactly: one operation byte, the key's length as an unsigned varint, the key, and for a put the
 * value (all UTF-8). Applying a command returns the key's previous value (null if none); a command
 * that does not decode changes nothing and returns an {@link InvalidCommand}, the same on every
 * member.
 *
 * <p>Apply, reads and {@link #digest()} synchronize on the machine, so the digest and its applied
 * index always describe the same state.
 */
public final class MapStateMachine implements StateMachine {
  static final byte OP_PUT = 1;
  static final byte OP_DELETE = 2;

  private static final int SNAPSHOT_MAGIC = 0x544d4150; // "TMAP"
  private static final byte SNAPSHOT_FORMAT = 1;

  /** The result of a command that does not decode; the state is unchanged. */
  public record InvalidCommand(String reason) {}

  /** A fingerprint of the whole map and the index it was taken at. */
  public record Digest(long appliedIndex, String hash) {}

  private TreeMap<String, String> map = new TreeMap<>();
  private volatile long appliedIndex;

  // ---------------------------------------------------------------- commands

  /** The command setting {@code key} to {@code value}. */
  public static byte[] put(String key, String value) {
    return encode(OP_PUT, key, value.getBytes(UTF_8));
  }

  /** The command removing {@code key}. */
  public static byte[] delete(String key) {
    return encode(OP_DELETE, key, new byte[0]);
  }

  private static byte[] encode(byte op, String key, byte[] value) {
    byte[] k = key.getBytes(UTF_8);
    ByteBuffer b = ByteBuffer.allocate(1 + 5 + k.length + value.length);
    b.put(op);
    int n = k.length;
    while ((n & ~0x7f) != 0) {
      b.put((byte) ((n & 0x7f) | 0x80));
      n >>>= 7;
    }
    b.put((byte) n);
    b.put(k).put(value);
    byte[] out = new byte[b.position()];
    b.flip().get(out);
    return out;
  }

  // ---------------------------------------------------------------- StateMachine

  @Override
  public synchronized Object[] apply(List<Entry> entries) {
    Object[] results = new Object[entries.size()];
    for (int i = 0; i < entries.size(); i++) {
      Entry e = entries.get(i);
      if (e.type() == EntryType.NORMAL && e.data().length > 0) {
        results[i] = execute(e.data());
      }
      appliedIndex = e.index();
    }
    return results;
  }

  private Object execute(byte[] command) {
    ByteBuffer b = ByteBuffer.wrap(command);
    byte op = b.get();
    if (op != OP_PUT && op != OP_DELETE) {
      return new InvalidCommand("unknown operation " + op);
    }
    int keyLength = 0;
    for (int shift = 0; ; shift += 7) {
      if (!b.hasRemaining() || shift > 28) {
        return new InvalidCommand("malformed key length");
      }
      byte x = b.get();
      keyLength |= (x & 0x7f) << shift;
      if ((x & 0x80) == 0) {
        break;
      }
    }
    if (keyLength < 0 || keyLength > b.remaining()) {
      return new InvalidCommand("key length " + keyLength + " exceeds the command");
    }
    String key = new String(command, b.position(), keyLength, UTF_8);
    b.position(b.position() + keyLength);
    if (op == OP_DELETE) {
      if (b.hasRemaining()) {
        return new InvalidCommand("trailing bytes after a delete");
      }
      return map.remove(key);
    }
    String value = new String(command, b.position(), b.remaining(), UTF_8);
    return map.put(key, value);
  }

  @Override
  public long appliedIndex() {
    return appliedIndex;
  }

  /**
   * Captures an immutable copy of the map at the applied index; the writer serializes it on the
   * background thread while apply goes on.
   */
  @Override
  public synchronized SnapshotWriter snapshot() {
    long index = appliedIndex;
    SortedMap<String, String> copy = Collections.unmodifiableSortedMap(new TreeMap<>(map));
    return out -> {
      DataOutputStream d = new DataOutputStream(new BufferedOutputStream(out, 64 * 1024));
      d.writeInt(SNAPSHOT_MAGIC);
      d.writeByte(SNAPSHOT_FORMAT);
      d.writeLong(index);
      d.writeInt(copy.size());
      for (Map.Entry<String, String> e : copy.entrySet()) {
        writeString(d, e.getKey());
        writeString(d, e.getValue());
      }
      d.flush();
    };
  }

  @Override
  public synchronized void restore(SnapshotMeta meta, InputStream data) throws IOException {
    DataInputStream d = new DataInputStream(new BufferedInputStream(data, 64 * 1024));
    if (d.readInt() != SNAPSHOT_MAGIC) {
      throw new IOException("not a map snapshot (bad magic) at " + meta);
    }
    byte format = d.readByte();
    if (format != SNAPSHOT_FORMAT) {
      throw new IOException("unknown map snapshot format " + format + " at " + meta);
    }
    long index = d.readLong();
    if (index != meta.index()) {
      throw new IOException("snapshot content is at index " + index + ", its meta says " + meta);
    }
    int count = d.readInt();
    if (count < 0) {
      throw new IOException("negative entry count " + count + " in snapshot " + meta);
    }
    TreeMap<String, String> restored = new TreeMap<>();
    for (int i = 0; i < count; i++) {
      restored.put(readString(d), readString(d));
    }
    if (d.read() != -1) {
      throw new IOException("trailing bytes after " + count + " entries in snapshot " + meta);
    }
    map = restored;
    appliedIndex = meta.index();
  }

  private static void writeString(DataOutputStream d, String s) throws IOException {
    byte[] b = s.getBytes(UTF_8);
    d.writeInt(b.length);
    d.write(b);
  }

  private static String readString(DataInputStream d) throws IOException {
    int n = d.readInt();
    if (n < 0) {
      throw new IOException("negative string length " + n);
    }
    byte[] b = new byte[n];
    try {
      d.readFully(b);
    } catch (EOFException e) {
      throw new IOException("snapshot ends inside a string of " + n + " bytes", e);
    }
    return new String(b, UTF_8);
  }

  // ---------------------------------------------------------------- queries

  /** The value of {@code key}, or null. Use inside a linearizable read for a current answer. */
  public synchronized String get(String key) {
    return map.get(key);
  }

  public synchronized int size() {
    return map.size();
  }

  /**
   * The applied index and a SHA-256 (first 16 bytes, hex) of every key and value in key order:
   * members that applied the same entries report the same digest.
   */
  public synchronized Digest digest() {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
    ByteBuffer len = ByteBuffer.allocate(4);
    for (Map.Entry<String, String> e : map.entrySet()) {
      for (String s : new String[] {e.getKey(), e.getValue()}) {
        byte[] b = s.getBytes(UTF_8);
        sha.update(len.clear().putInt(b.length).array());
        sha.update(b);
      }
    }
    byte[] h = sha.digest();
    return new Digest(appliedIndex, HexFormat.of().formatHex(h, 0, 16));
  }
}
