package io.tern.kv;

import com.google.protobuf.ByteString;
import java.util.Objects;

/**
 * What a watch observes and from which revision.
 *
 * <p>The key range follows etcd: an empty {@code rangeEnd} selects exactly {@code key}; a {@code
 * rangeEnd} of the single byte {@code 0x00} selects every key {@code >= key}; any other {@code
 * rangeEnd} selects {@code [key, rangeEnd)}, bytes compared unsigned. A {@code rangeEnd} at or
 * below {@code key} selects nothing.
 *
 * @param key the first (or only) key watched
 * @param rangeEnd the end of the range, see above
 * @param startRevision the first revision whose events are wanted; 0 means the next revision
 *     published. A revision at or below the latest published one is replayed from history first.
 * @param prevKv whether events carry the key's previous value
 * @param noPut drop PUT events
 * @param noDelete drop DELETE events
 */
public record WatchSpec(
    ByteString key,
    ByteString rangeEnd,
    long startRevision,
    boolean prevKv,
    boolean noPut,
    boolean noDelete) {

  public WatchSpec {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(rangeEnd, "rangeEnd");
  }

  /** A watch of exactly {@code key}, without filters or previous values. */
  public static WatchSpec ofKey(ByteString key, long startRevision) {
    return new WatchSpec(key, ByteString.EMPTY, startRevision, false, false, false);
  }

  /** A watch of {@code [key, rangeEnd)} (etcd semantics), without filters or previous values. */
  public static WatchSpec ofRange(ByteString key, ByteString rangeEnd, long startRevision) {
    return new WatchSpec(key, rangeEnd, startRevision, false, false, false);
  }

  /** Whether this spec selects exactly one key. */
  public boolean isSingleKey() {
    return rangeEnd.isEmpty();
  }

  /** Whether {@code k} lies in this spec's key range. */
  public boolean contains(ByteString k) {
    return WatchKeys.contains(key, rangeEnd, k);
  }
}
