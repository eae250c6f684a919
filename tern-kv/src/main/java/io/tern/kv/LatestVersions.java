package io.tern.kv;

import com.google.protobuf.ByteString;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The apply thread's memory of the newest record of recently written or read keys, so a put finds
 * the key's current version (create revision, version, lease, previous value) without a RocksDB
 * iterator seek, which costs more than the rest of a put's apply together.
 *
 * <p>It mirrors the store as apply sees it, including the entries of the batch being built: a
 * {@link WriteTxn} records what it writes and hands it over only once its request is accepted, so a
 * refused request leaves no trace here. A key known not to exist (never written, or deleted) is
 * remembered as absent. Least recently used keys are forgotten beyond a byte budget (keys, records
 * and a per-entry overhead); a forgotten key is simply read from the store again. Compaction keeps
 * the newest record of every live key, so it never invalidates an entry; a restore replaces the
 * whole store and {@link #clear}s it.
 *
 * <p>Readers on other threads see a copy of the same entries through {@link #newest}, each with the
 * revision from which it holds ({@link Newest#since}): a key's newest version holds from its mod
 * revision, an absence from the revision it was seen or made at. An entry describes the store as of
 * its revision and every later one until apply replaces it; apply records a write here before it
 * publishes the revision that makes it visible, so a reader that took the store's revision first
 * and finds an entry holding at that revision knows the key's state at it. An entry holding only
 * from a later revision (apply is ahead of the reader) or no entry means: read the store.
 *
 * <p>Mutations and {@link #lookup}: the apply thread only (and {@link #clear} under the store's
 * exclusive lock); {@link #newest}: any thread.
 */
final class LatestVersions {
  private static final int ENTRY_OVERHEAD = 200;

  private final long budget;
  private long bytes;
  // The same entries twice: in least-recently-used order for apply, concurrently readable for
  // others.
  private final LinkedHashMap<HashedKey, Newest> map;
  private final ConcurrentHashMap<HashedKey, Newest> published = new ConcurrentHashMap<>();

  LatestVersions(long budgetBytes) {
    if (budgetBytes < 0) {
      throw new IllegalArgumentException("budget " + budgetBytes + " < 0");
    }
    this.budget = budgetBytes;
    this.map = new LinkedHashMap<>(1024, 0.75f, true);
  }

  /**
   * What is known of the key: {@code null} if nothing, otherwise its newest version ({@code null}
   * version: it does not exist).
   */
  Newest lookup(ByteString key) {
    return map.get(new HashedKey(key));
  }

  /**
   * Records the key's newest version; {@code null} records that the key does not exist, as of store
   * revision {@code absentSince} and from then on.
   */
  void remember(ByteString key, MvccView.Version newest, long absentSince) {
    if (budget == 0) {
      return;
    }
    HashedKey k = new HashedKey(key);
    Newest value = new Newest(newest == null ? absentSince : newest.main(), newest);
    published.put(k, value);
    Newest old = map.put(k, value);
    if (old != null) {
      bytes -= weight(key, old);
    }
    bytes += weight(key, value);
    if (bytes > budget) {
      // Forget the least recently used keys (possibly this one, if it alone exceeds the budget).
      Iterator<Map.Entry<HashedKey, Newest>> it = map.entrySet().iterator();
      while (bytes > budget && it.hasNext()) {
        Map.Entry<HashedKey, Newest> eldest = it.next();
        bytes -= weight(eldest.getKey().bytes(), eldest.getValue());
        published.remove(eldest.getKey());
        it.remove();
      }
    }
  }

  /** What readers may know of the key without reading the store; null: read the store. */
  Newest newest(ByteString key) {
    return published.get(new HashedKey(key));
  }

  void clear() {
    published.clear();
    map.clear();
    bytes = 0;
  }

  int size() {
    return map.size();
  }

  long bytes() {
    return bytes;
  }

  private static long weight(ByteString key, Newest n) {
    return (long) key.size()
        + (n.version() == null ? 0 : n.version().record().length)
        + ENTRY_OVERHEAD;
  }

  /**
   * A key with a well-mixed hash. {@link ByteString#hashCode} multiplies by 31 per byte, so keys
   * that differ only in their last bytes (binary counters, fixed-width ids) fall into a few hundred
   * buckets per ten thousand keys, and every lookup walks a collision chain or tree of {@code
   * equals} calls. The apply thread looks every written key up here, so the mix matters.
   */
  static final class HashedKey {
    private final ByteString bytes;
    private final int hash;

    HashedKey(ByteString bytes) {
      this.bytes = bytes;
      this.hash = mix(bytes);
    }

    ByteString bytes() {
      return bytes;
    }

    static int mix(ByteString b) {
      long h = 0x9E3779B97F4A7C15L ^ b.size();
      int n = b.size();
      for (int i = 0; i < n; i++) {
        h = (h ^ (b.byteAt(i) & 0xFF)) * 0x100000001B3L;
      }
      // Final avalanche (a 64-bit finalizer) so every input bit reaches the bucket index bits.
      h ^= h >>> 33;
      h *= 0xFF51AFD7ED558CCDL;
      h ^= h >>> 33;
      h *= 0xC4CEB9FE1A85EC53L;
      h ^= h >>> 33;
      return (int) h;
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof HashedKey k && k.hash == hash && k.bytes.equals(bytes);
    }
  }

  /**
   * A key's state from store revision {@code since} on: its newest version, or {@code version ==
   * null} when it does not exist (the answer of {@link #lookup} and {@link #newest}).
   */
  record Newest(long since, MvccView.Version version) {}
}
