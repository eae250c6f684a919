package io.tern.sim.kv;

import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.node.StateMachine;
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
 * entries) give null. The machine is not durable: {@link #appliedIndex()} is 0 at start and a
 * restarted node replays its log into a new machine.
 *
 * <p>For safety checks across nodes it records, per applied index, the entry's term, request id and
 * a hash of its content ({@link #appliedAt(long)}): two machines that applied the same index must
 * agree on it.
 */
public final class KvStateMachine implements StateMachine {
  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  private final TreeMap<String, String> map = new TreeMap<>();
  private final ArrayList<Applied> applied = new ArrayList<>();
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
  public SortedMap<String, String> snapshot() {
    return Collections.unmodifiableSortedMap(new TreeMap<>(map));
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
