package io.tern.kv;

import com.google.protobuf.ByteString;
import io.tern.api.Event;
import java.util.List;

/**
 * The past events a {@link WatchHub} replays for watches starting at an earlier revision.
 * Implemented by the MVCC store; every method is safe to call from any thread concurrently with
 * apply, and must not call back into the hub.
 */
public interface History {

  /**
   * Revisions below this one may have been compacted away, and so may deletions at it; the puts of
   * this revision are kept (0: none).
   */
  long compactRevision();

  /** The store's latest revision. */
  long revision();

  /**
   * Every event with {@code from <= revision <= to} on a key selected by {@code (key, rangeEnd)}
   * (etcd semantics, see {@link WatchSpec}), in revision order and, within a revision, in the order
   * the revision applied them. Each event's {@code kv.mod_revision} is its revision (for a DELETE
   * the deletion's revision). With {@code prevKv}, each event carries the key's previous value when
   * there was one (for a DELETE, the deleted value). The hub only asks for {@code from >=
   * compactRevision()} and {@code to} at or below a revision it was given through {@link
   * WatchHub#publish}; if the range is compacted while this runs the answer may be incomplete, and
   * the hub detects that by reading {@link #compactRevision()} afterwards.
   */
  List<Event> events(long from, long to, ByteString key, ByteString rangeEnd, boolean prevKv);
}
