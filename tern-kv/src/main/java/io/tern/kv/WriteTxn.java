package io.tern.kv;

import com.google.protobuf.ByteString;
import io.tern.api.Event;
import io.tern.api.KeyValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.rocksdb.ReadOptions;

/**
 * The changes one log entry makes, added to the {@link Changes} of its apply step (possibly shared
 * with the entries applied before it) so later operations read earlier ones. Nothing reaches the
 * database until the caller writes the changes; a refused request {@link #discard()}s its own (the
 * changes roll back to the save point taken when this transaction began), and an accepted one is
 * {@link #accept()}ed. Apply thread only.
 *
 * <p>All changes share the main revision {@code begin + 1}, numbered by sub revision in order.
 */
final class WriteTxn {
  private final KvDatabase db;
  private final long begin;
  private final long compactRevision;
  private final ReadOptions readOptions;
  private final Changes batch;
  private final LatestVersions latest;
  private final List<Event> events = new ArrayList<>();
  private final List<Runnable> afterCommit = new ArrayList<>();

  /** Newest version of each key this entry wrote; null for a deletion. */
  private final Map<ByteString, MvccView.Version> written = new HashMap<>();

  private long compactedTo;
  private boolean savePoint;

  /**
   * A transaction adding to {@code batch} on top of what it already holds, reading through it with
   * {@code readOptions}; both stay owned by the caller.
   */
  WriteTxn(
      KvDatabase db,
      long begin,
      long compactRevision,
      Changes batch,
      ReadOptions readOptions,
      LatestVersions latest) {
    this.db = db;
    this.begin = begin;
    this.compactRevision = compactRevision;
    this.batch = batch;
    this.readOptions = readOptions;
    this.latest = latest;
    batch.setSavePoint();
    savePoint = true;
  }

  KvDatabase db() {
    return db;
  }

  /** The store revision before this entry. */
  long beginRevision() {
    return begin;
  }

  /** The store revision once this entry is written. */
  long revision() {
    return events.isEmpty() ? begin : begin + 1;
  }

  boolean changed() {
    return !events.isEmpty();
  }

  long compactRevision() {
    return compactedTo > 0 ? compactedTo : compactRevision;
  }

  /** The compaction this entry performs, or 0. */
  long compactedTo() {
    return compactedTo;
  }

  List<Event> events() {
    return events;
  }

  /** The store as this entry has changed it so far. */
  MvccView view() {
    return new MvccView(db, batch.source(db, readOptions), revision(), compactRevision());
  }

  /**
   * The key's newest version as this entry sees it (its own writes, then its apply step's, then the
   * apply thread's memory of recent keys, then the store through the step's changes), or null if it
   * does not exist.
   */
  MvccView.Version current(ByteString key) {
    if (written.containsKey(key)) {
      return written.get(key);
    }
    if (batch.holds(key)) {
      return batch.newest(key);
    }
    LatestVersions.Newest known = latest.lookup(key);
    if (known != null) {
      return known.version();
    }
    MvccView.Version v = view().get(key);
    latest.remember(key, v, begin);
    return v;
  }

  /** Runs once the batch is durable (in-memory mirrors of replicated state). */
  void afterCommit(Runnable action) {
    afterCommit.add(action);
  }

  List<Runnable> afterCommitActions() {
    return afterCommit;
  }

  /** Writes {@code key} at this entry's revision; {@code prev} is its current version or null. */
  KeyValue put(ByteString key, ByteString value, long lease, MvccView.Version prev) {
    long rev = begin + 1;
    long sub = events.size();
    long create = prev == null ? rev : prev.create();
    long version = prev == null ? 1 : prev.version() + 1;
    byte[] enc = Codec.encodeKey(key);
    byte[] record = Codec.putRecord(sub, create, version, lease, value);
    put(db.keys, Codec.versionKey(enc, rev), record);
    written.put(key, new MvccView.Version(key, rev, record));
    put(db.revs, Codec.revisionKey(rev, sub), key.toByteArray());
    long prevLease = prev == null ? 0 : prev.lease();
    if (prevLease != 0 && prevLease != lease) {
      delete(db.leases, leaseKey(prevLease, key));
    }
    if (lease != 0) {
      put(db.leases, leaseKey(lease, key), new byte[0]);
    }
    KeyValue kv =
        KeyValue.newBuilder()
            .setKey(key)
            .setCreateRevision(create)
            .setModRevision(rev)
            .setVersion(version)
            .setLease(lease)
            .setValue(value)
            .build();
    Event.Builder e = Event.newBuilder().setType(Event.EventType.PUT).setKv(kv);
    if (prev != null) {
      e.setPrevKv(prev.keyValue());
    }
    events.add(e.build());
    return kv;
  }

  /** Deletes the key whose current version is {@code prev}. */
  void delete(MvccView.Version prev) {
    long rev = begin + 1;
    long sub = events.size();
    byte[] enc = Codec.encodeKey(prev.key());
    put(db.keys, Codec.versionKey(enc, rev), Codec.tombstoneRecord(sub));
    written.put(prev.key(), null);
    put(db.revs, Codec.revisionKey(rev, sub), prev.key().toByteArray());
    if (prev.lease() != 0) {
      delete(db.leases, leaseKey(prev.lease(), prev.key()));
    }
    events.add(
        Event.newBuilder()
            .setType(Event.EventType.DELETE)
            .setKv(KeyValue.newBuilder().setKey(prev.key()).setModRevision(rev))
            .setPrevKv(prev.keyValue())
            .build());
  }

  /**
   * Removes every record a compaction at {@code rev} makes unreachable: of each key, the revisions
   * at or below {@code rev} except the newest, and that one too if it is a deletion. Only keys
   * changed after the previous compaction can hold such records.
   */
  void compact(long rev) {
    java.util.Set<ByteString> touched = new java.util.HashSet<>();
    try (var it = db.db.newIterator(db.revs, readOptions)) {
      for (it.seek(Codec.revisionKey(compactRevision + 1, 0)); it.isValid(); it.next()) {
        if (Codec.revisionMain(it.key()) > rev) {
          break;
        }
        touched.add(ByteString.copyFrom(it.value()));
      }
    }
    try (var it = db.db.newIterator(db.keys, readOptions)) {
      for (ByteString key : touched) {
        byte[] enc = Codec.encodeKey(key);
        boolean newest = true;
        for (it.seek(Codec.versionKey(enc, rev)); it.isValid(); it.next()) {
          byte[] k = it.key();
          if (!Codec.sameKey(enc, k, enc.length)) {
            break;
          }
          byte[] record = it.value();
          if (!newest || Codec.isTombstone(record)) {
            delete(db.keys, k);
            delete(
                db.revs,
                Codec.revisionKey(Codec.versionMain(k, enc.length), Codec.recordSub(record)));
          }
          newest = false;
        }
      }
    }
    compactedTo = rev;
  }

  void put(org.rocksdb.ColumnFamilyHandle family, byte[] key, byte[] value) {
    batch.put(family, key, value);
  }

  void delete(org.rocksdb.ColumnFamilyHandle family, byte[] key) {
    batch.delete(family, key);
  }

  /** Drops every change, event and pending action of this entry: the request is refused. */
  void discard() {
    batch.rollbackToSavePoint();
    savePoint = false;
    events.clear();
    afterCommit.clear();
    written.clear();
    compactedTo = 0;
  }

  /**
   * Keeps this entry's changes in the batch (the caller writes it) and tells the apply thread's
   * memory of keys what it wrote.
   */
  void accept() {
    if (savePoint) {
      batch.popSavePoint();
      savePoint = false;
    }
    batch.accepted(written);
    for (Map.Entry<ByteString, MvccView.Version> e : written.entrySet()) {
      latest.remember(e.getKey(), e.getValue(), revision());
    }
  }

  static byte[] leaseKey(long lease, ByteString key) {
    byte[] out = new byte[8 + key.size()];
    Codec.putLong(out, 0, lease);
    key.copyTo(out, 8);
    return out;
  }
}
