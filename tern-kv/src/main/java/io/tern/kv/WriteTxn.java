package io.tern.kv;

import com.google.protobuf.ByteString;
import io.tern.api.Event;
import io.tern.api.KeyValue;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatchWithIndex;

/**
 * The changes one log entry makes, gathered in an indexed batch so later operations of the entry
 * read earlier ones. Nothing reaches the database until the caller writes {@link #batch()}; a
 * refused request {@link #discard()}s everything. Apply thread only.
 *
 * <p>All changes share the main revision {@code begin + 1}, numbered by sub revision in order.
 */
final class WriteTxn implements AutoCloseable {
  private final KvDatabase db;
  private final long begin;
  private final long compactRevision;
  private final ReadOptions readOptions = new ReadOptions();
  private final WriteBatchWithIndex batch = new WriteBatchWithIndex(true);
  private final List<Event> events = new ArrayList<>();
  private final List<Runnable> afterCommit = new ArrayList<>();
  private long compactedTo;

  WriteTxn(KvDatabase db, long begin, long compactRevision) {
    this.db = db;
    this.begin = begin;
    this.compactRevision = compactRevision;
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

  WriteBatchWithIndex batch() {
    return batch;
  }

  /** The store as this entry has changed it so far. */
  MvccView view() {
    return new MvccView(db, Source.overlay(db, batch, readOptions), revision(), compactRevision());
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
    put(db.keys, Codec.versionKey(enc, rev), Codec.putRecord(sub, create, version, lease, value));
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
    try {
      batch.put(family, key, value);
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot add to a write batch", e);
    }
  }

  void delete(org.rocksdb.ColumnFamilyHandle family, byte[] key) {
    try {
      batch.delete(family, key);
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot add to a write batch", e);
    }
  }

  /** Drops every change, event and pending action: the request is refused. */
  void discard() {
    batch.clear();
    events.clear();
    afterCommit.clear();
    compactedTo = 0;
  }

  static byte[] leaseKey(long lease, ByteString key) {
    byte[] out = new byte[8 + key.size()];
    Codec.putLong(out, 0, lease);
    key.copyTo(out, 8);
    return out;
  }

  @Override
  public void close() {
    batch.close();
    readOptions.close();
  }
}
