package io.tern.sim.kv;

import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.node.StateMachine;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The simulator's key-value state machine: an in-memory sorted map driven by {@link KvCommand}s.
 *
 * <p>Results of {@link #apply}: PUT and APPEND give null, GET the value (or null if absent), CAS a
 * {@link Boolean} telling whether it swapped; entries without a command (no-ops, configuration
 * entries) give null.
 *
 * <p>The machine itself is not durable: a new machine starts empty ({@link #appliedIndex()} 0). Its
 * durability comes from snapshots: {@link #snapshot()} captures the state, {@link #restore}
 * replaces it with a snapshot's, so a restarted member restores its latest snapshot and then
 * replays the log after it (and a member far behind installs the leader's snapshot the same way).
 *
 * <p>For safety checks across nodes it records, per applied index, the entry's term, request id and
 * a hash of its content ({@link #appliedAt(long)}): two machines that applied the same index must
 * agree on it. This applied history travels inside the snapshot, so it always covers every index
 * from 1 and cross-member checks still cover entries a member only received through a snapshot.
 *
 * <p>Snapshot format (big-endian, {@link DataOutputStream}): int format version ({@value
 * #SNAPSHOT_FORMAT}); long applied index; int number of keys, then per key in key order the key and
 * the value, each as an int byte length followed by that many bytes of UTF-8; int number of history
 * records, then per record (index order) long index, long term, long request id, int entry type
 * ordinal, long data hash.
 */
public final class KvStateMachine implements StateMachine {
  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  /** Version of the snapshot format written by {@link #snapshot()}. */
  public static final int SNAPSHOT_FORMAT = 1;

  private TreeMap<String, String> map = new TreeMap<>();
  private ArrayList<Applied> applied = new ArrayList<>();
  private long appliedIndex;

  /** What was applied at one index. */
  public record Applied(long index, long term, long requestId, EntryType type, long dataHash) {
    static Applied of(Entry e) {
      return new Applied(e.index(), e.term(), e.requestId(), e.type(), hash(e.data()));
    }
  }

  @Override
  public Object[] apply(List<Entry> entries) {
    Object[] results = new Object[entries.size()];
    for (int i = 0; i < entries.size(); i++) {
      Entry e = entries.get(i);
      if (e.index() != appliedIndex + 1) {
        throw new IllegalStateException(
            "applying " + e + " out of order: applied index is " + appliedIndex);
      }
      if (e.type() == EntryType.NORMAL && e.data().length > 0) {
        results[i] = execute(KvCommand.decode(e.data()));
      }
      applied.add(Applied.of(e));
      appliedIndex = e.index();
    }
    return results;
  }

  /** Executes one command against the map and returns its result. */
  private Object execute(KvCommand c) {
    String key = c.key();
    return switch (c.op()) {
      case PUT -> {
        map.put(key, c.value());
        yield null;
      }
      case APPEND -> {
        map.merge(key, c.value(), String::concat);
        yield null;
      }
      case GET -> map.get(key);
      case CAS -> {
        if (Objects.equals(map.get(key), c.expected())) {
          map.put(key, c.value());
          yield Boolean.TRUE;
        }
        yield Boolean.FALSE;
      }
    };
  }

  @Override
  public long appliedIndex() {
    return appliedIndex;
  }

  /** The local value of {@code key} (a serializable, possibly stale read), or null. */
  public String get(String key) {
    return map.get(key);
  }

  public int size() {
    return map.size();
  }

  /** An unmodifiable copy of the map. */
  public SortedMap<String, String> contents() {
    return Collections.unmodifiableSortedMap(new TreeMap<>(map));
  }

  /**
   * Captures copies of the map, the applied history and the applied index now (on the apply
   * thread); the writer serializes those copies, so applies after this call do not affect it.
   */
  @Override
  public SnapshotWriter snapshot() {
    TreeMap<String, String> mapCopy = new TreeMap<>(map);
    List<Applied> historyCopy = List.copyOf(applied);
    long index = appliedIndex;
    return out -> writeSnapshot(out, index, mapCopy, historyCopy);
  }

  private static void writeSnapshot(
      OutputStream os, long index, SortedMap<String, String> contents, List<Applied> history)
      throws IOException {
    DataOutputStream out = new DataOutputStream(new BufferedOutputStream(os, 1 << 16));
    out.writeInt(SNAPSHOT_FORMAT);
    out.writeLong(index);
    out.writeInt(contents.size());
    for (Map.Entry<String, String> e : contents.entrySet()) {
      writeString(out, e.getKey());
      writeString(out, e.getValue());
    }
    out.writeInt(history.size());
    for (Applied a : history) {
      out.writeLong(a.index());
      out.writeLong(a.term());
      out.writeLong(a.requestId());
      out.writeInt(a.type().ordinal());
      out.writeLong(a.dataHash());
    }
    out.flush(); // not close: the caller owns the stream
  }

  /**
   * Replaces the map, the applied history and the applied index with the snapshot's. The state is
   * replaced only if the whole snapshot decodes.
   *
   * @throws IOException if the content is malformed, or taken at another index than {@code meta}'s
   */
  @Override
  public void restore(SnapshotMeta meta, InputStream data) throws IOException {
    DataInputStream in = new DataInputStream(data);
    int format = in.readInt();
    if (format != SNAPSHOT_FORMAT) {
      throw new IOException("unknown KV snapshot format " + format);
    }
    long index = in.readLong();
    if (index != meta.index()) {
      throw new IOException(
          "KV snapshot taken at index " + index + " restored as the snapshot at " + meta);
    }
    int keys = readCount(in, "keys");
    TreeMap<String, String> newMap = new TreeMap<>();
    for (int i = 0; i < keys; i++) {
      String key = readString(in);
      String value = readString(in);
      if (newMap.put(key, value) != null) {
        throw new IOException("KV snapshot holds key " + key + " twice");
      }
    }
    int records = readCount(in, "history records");
    if (records != index) {
      throw new IOException(
          "KV snapshot at index " + index + " holds " + records + " history records");
    }
    EntryType[] types = EntryType.values();
    ArrayList<Applied> newHistory = new ArrayList<>(records);
    for (int i = 0; i < records; i++) {
      long at = in.readLong();
      long term = in.readLong();
      long requestId = in.readLong();
      int type = in.readInt();
      long dataHash = in.readLong();
      if (at != i + 1) {
        throw new IOException("KV snapshot history record " + i + " is for index " + at);
      }
      if (type < 0 || type >= types.length) {
        throw new IOException("KV snapshot history record " + at + " has entry type " + type);
      }
      newHistory.add(new Applied(at, term, requestId, types[type], dataHash));
    }
    if (in.read() != -1) {
      throw new IOException("trailing bytes after the KV snapshot at " + meta);
    }
    map = newMap;
    applied = newHistory;
    appliedIndex = index;
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static int readCount(DataInputStream in, String what) throws IOException {
    int n = in.readInt();
    if (n < 0) {
      throw new IOException("negative number of " + what + " in KV snapshot: " + n);
    }
    return n;
  }

  private static String readString(DataInputStream in) throws IOException {
    int len = in.readInt();
    if (len < 0) {
      throw new IOException("negative string length in KV snapshot: " + len);
    }
    byte[] b = in.readNBytes(len);
    if (b.length != len) {
      throw new IOException("truncated KV snapshot: string of " + len + " bytes");
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b))
          .toString();
    } catch (CharacterCodingException e) {
      throw new IOException("malformed UTF-8 in KV snapshot", e);
    }
  }

  /** What was applied at {@code index}, or null if not (yet) applied. */
  public Applied appliedAt(long index) {
    if (index < 1 || index > appliedIndex) {
      return null;
    }
    return applied.get((int) (index - 1));
  }

  /** Term of the entry applied at {@code index}, or -1 if not applied. */
  public long appliedTermAt(long index) {
    Applied a = appliedAt(index);
    return a == null ? -1 : a.term();
  }

  /** Everything applied, in index order (element {@code i} is index {@code i + 1}). */
  public List<Applied> appliedLog() {
    return Collections.unmodifiableList(applied);
  }

  /** A hash of the map's contents; equal maps give equal digests on every run and JVM. */
  public long digest() {
    long h = FNV_OFFSET;
    for (Map.Entry<String, String> e : map.entrySet()) {
      h = fold(h, e.getKey());
      h = fold(h, e.getValue());
    }
    return h;
  }

  private static long fold(long h, String s) {
    // Length first, so ("ab","c") and ("a","bc") differ.
    h = (h ^ s.length()) * FNV_PRIME;
    for (int i = 0; i < s.length(); i++) {
      h = (h ^ s.charAt(i)) * FNV_PRIME;
    }
    return h;
  }

  /** The hash recorded in {@link Applied#dataHash()} for an entry's data. */
  public static long hash(byte[] data) {
    long h = (FNV_OFFSET ^ data.length) * FNV_PRIME;
    for (byte b : data) {
      h = (h ^ (b & 0xff)) * FNV_PRIME;
    }
    return h;
  }
}
