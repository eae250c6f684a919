package io.tern.kv;

import com.google.protobuf.ByteString;
import io.tern.api.Compare;
import io.tern.api.Event;
import io.tern.api.KeyValue;
import io.tern.api.RangeRequest;
import io.tern.api.RangeResponse;
import io.tern.api.ResponseHeader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.zip.CRC32C;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * The store as of one revision: {@code revision} is the newest readable revision and {@code
 * compactRevision} the oldest. Reads only; see {@link Codec} for the layout it reads.
 */
final class MvccView {
  /** One revision of one key as stored. */
  record Version(ByteString key, long main, byte[] record) {
    boolean tombstone() {
      return Codec.isTombstone(record);
    }

    long create() {
      return Codec.recordCreate(record);
    }

    long version() {
      return Codec.recordVersion(record);
    }

    long lease() {
      return Codec.recordLease(record);
    }

    KeyValue keyValue() {
      return Codec.keyValue(key, main, record, false);
    }
  }

  @FunctionalInterface
  interface Visitor {
    /** One live key at the scanned revision; return false to stop. */
    boolean visit(byte[] recordKey, int encodedLength, long main, byte[] record);
  }

  private final KvDatabase db;
  private final Source source;
  private final long revision;
  private final long compactRevision;

  MvccView(KvDatabase db, Source source, long revision, long compactRevision) {
    this.db = db;
    this.source = source;
    this.revision = revision;
    this.compactRevision = compactRevision;
  }

  long revision() {
    return revision;
  }

  long compactRevision() {
    return compactRevision;
  }

  /** The key at the view's revision, or null if it does not exist. */
  Version get(ByteString key) {
    byte[] enc = Codec.encodeKey(key);
    try (RocksIterator it = source.iterator(db.keys)) {
      it.seek(Codec.versionKey(enc, revision));
      if (!it.isValid()) {
        check(it);
        return null;
      }
      byte[] k = it.key();
      if (!Codec.sameKey(enc, k, enc.length)) {
        return null;
      }
      byte[] record = it.value();
      return Codec.isTombstone(record)
          ? null
          : new Version(key, Codec.versionMain(k, enc.length), record);
    }
  }

  /** Every live key in the range at the view's revision, in key order. */
  List<Version> live(ByteString key, ByteString rangeEnd) {
    List<Version> out = new ArrayList<>();
    scan(
        key,
        rangeEnd,
        revision,
        (k, len, main, record) -> {
          out.add(new Version(Codec.decodeKey(k, len), main, record));
          return true;
        });
    return out;
  }

  /**
   * Visits, in key order, every key of the range that exists at {@code rev} with its newest record
   * at or below {@code rev}.
   */
  void scan(ByteString key, ByteString rangeEnd, long rev, Visitor visitor) {
    byte[] start = Codec.encodeKey(key);
    byte[] end;
    if (KeyRanges.isSingleKey(rangeEnd)) {
      end = Codec.afterKey(start, start.length);
    } else if (KeyRanges.isUnbounded(rangeEnd)) {
      end = null;
    } else {
      if (KeyRanges.ORDER.compare(rangeEnd, key) <= 0) {
        return;
      }
      end = Codec.encodeKey(rangeEnd);
    }
    try (RocksIterator it = source.iterator(db.keys)) {
      it.seek(Codec.versionKey(start, rev));
      if (KeyRanges.isSingleKey(rangeEnd)) {
        // The seek lands on the key's newest record at or below rev, if it has one: no need to
        // step over its older records.
        if (it.isValid()) {
          byte[] k = it.key();
          if (Codec.sameKey(start, k, start.length) && k.length == start.length + 8) {
            byte[] record = it.value();
            if (!Codec.isTombstone(record)) {
              visitor.visit(k, start.length, Codec.versionMain(k, start.length), record);
            }
          }
        } else {
          check(it);
        }
        return;
      }
      while (it.isValid()) {
        byte[] k = it.key();
        if (end != null && Arrays.compareUnsigned(k, end) >= 0) {
          break;
        }
        int len = Codec.encodedKeyLength(k);
        long main = Codec.versionMain(k, len);
        if (main > rev) {
          it.seek(Codec.versionKey(k, len, rev));
          continue;
        }
        byte[] record = it.value();
        if (!Codec.isTombstone(record) && !visitor.visit(k, len, main, record)) {
          return;
        }
        skipOlderVersions(it, k, len);
      }
      check(it);
    }
  }

  /** Moves past the remaining (older) records of the key the iterator is on. */
  private static void skipOlderVersions(RocksIterator it, byte[] k, int len) {
    it.next();
    for (int steps = 0; it.isValid() && Codec.sameKey(k, it.key(), len); steps++) {
      if (steps == 3) {
        it.seek(Codec.afterKey(k, len));
        return;
      }
      it.next();
    }
  }

  /**
   * etcd's Range. {@code newestAllowed} is the newest revision a request may name: the view's
   * revision, or inside a transaction the revision the transaction started from.
   */
  RangeResponse range(RangeRequest r, long newestAllowed) throws KvException {
    if (r.getKey().isEmpty()) {
      throw KvException.keyNotProvided();
    }
    if (r.getRevision() > newestAllowed) {
      throw KvException.futureRevision();
    }
    long rev = r.getRevision() <= 0 ? revision : r.getRevision();
    if (rev < compactRevision) {
      throw KvException.compacted();
    }
    boolean filtered = filtersRevisions(r);
    RangeRequest.SortOrder order = r.getSortOrder();
    RangeRequest.SortTarget target = r.getSortTarget();
    if (order == RangeRequest.SortOrder.NONE && target != RangeRequest.SortTarget.KEY) {
      order = RangeRequest.SortOrder.ASCEND; // etcd sorts ascending when only a target is given
    } else if (order == RangeRequest.SortOrder.ASCEND && target == RangeRequest.SortTarget.KEY) {
      order = RangeRequest.SortOrder.NONE; // the scan is already in key order
    }
    // Without sorting or filtering, the scan needs one key beyond the limit to know `more`.
    long fetch =
        r.getLimit() > 0 && order == RangeRequest.SortOrder.NONE && !filtered
            ? r.getLimit() + 1
            : Long.MAX_VALUE;
    boolean keysOnly = r.getKeysOnly() && target != RangeRequest.SortTarget.VALUE;
    List<KeyValue> kvs = new ArrayList<>();
    long[] count = {0};
    scan(
        r.getKey(),
        r.getRangeEnd(),
        rev,
        (k, len, main, record) -> {
          count[0]++;
          if (!r.getCountOnly() && kvs.size() < fetch) {
            kvs.add(Codec.keyValue(Codec.decodeKey(k, len), main, record, keysOnly));
          }
          return true;
        });
    if (filtered) {
      kvs.removeIf(
          kv ->
              (r.getMaxModRevision() != 0 && kv.getModRevision() > r.getMaxModRevision())
                  || (r.getMinModRevision() != 0 && kv.getModRevision() < r.getMinModRevision())
                  || (r.getMaxCreateRevision() != 0
                      && kv.getCreateRevision() > r.getMaxCreateRevision())
                  || (r.getMinCreateRevision() != 0
                      && kv.getCreateRevision() < r.getMinCreateRevision()));
    }
    if (order != RangeRequest.SortOrder.NONE) {
      Comparator<KeyValue> cmp = comparator(target);
      kvs.sort(order == RangeRequest.SortOrder.DESCEND ? cmp.reversed() : cmp);
    }
    RangeResponse.Builder resp =
        RangeResponse.newBuilder()
            .setHeader(ResponseHeader.newBuilder().setRevision(revision))
            .setCount(count[0]);
    List<KeyValue> out = kvs;
    if (r.getLimit() > 0 && kvs.size() > r.getLimit()) {
      out = kvs.subList(0, (int) r.getLimit());
      resp.setMore(true);
    }
    for (KeyValue kv : out) {
      resp.addKvs(
          r.getKeysOnly() && !kv.getValue().isEmpty() ? kv.toBuilder().clearValue().build() : kv);
    }
    return resp.build();
  }

  /** Whether the range keeps only keys within mod or create revision bounds. */
  static boolean filtersRevisions(RangeRequest r) {
    return r.getMinModRevision() != 0
        || r.getMaxModRevision() != 0
        || r.getMinCreateRevision() != 0
        || r.getMaxCreateRevision() != 0;
  }

  private static Comparator<KeyValue> comparator(RangeRequest.SortTarget target) {
    return switch (target) {
      case KEY, UNRECOGNIZED -> Comparator.comparing(KeyValue::getKey, KeyRanges.ORDER);
      case VERSION -> Comparator.comparingLong(KeyValue::getVersion);
      case CREATE -> Comparator.comparingLong(KeyValue::getCreateRevision);
      case MOD -> Comparator.comparingLong(KeyValue::getModRevision);
      case VALUE -> Comparator.comparing(KeyValue::getValue, KeyRanges.ORDER);
    };
  }

  /**
   * Whether the compare holds for every key of its range (a missing key has version, revisions and
   * lease 0; a compare of the value of a missing key fails), etcd's rule.
   */
  boolean compare(Compare c) {
    List<Version> keys = live(c.getKey(), c.getRangeEnd());
    if (keys.isEmpty()) {
      return c.getTarget() != Compare.CompareTarget.VALUE
          && holds(c, KeyValue.getDefaultInstance());
    }
    for (Version v : keys) {
      if (!holds(c, v.keyValue())) {
        return false;
      }
    }
    return true;
  }

  private static boolean holds(Compare c, KeyValue kv) {
    int r =
        switch (c.getTarget()) {
          case VERSION -> Long.compare(kv.getVersion(), c.getVersion());
          case CREATE -> Long.compare(kv.getCreateRevision(), c.getCreateRevision());
          case MOD -> Long.compare(kv.getModRevision(), c.getModRevision());
          case VALUE -> KeyRanges.ORDER.compare(kv.getValue(), c.getValue());
          case LEASE -> Long.compare(kv.getLease(), c.getLease());
          case UNRECOGNIZED -> throw new IllegalArgumentException("unknown compare target");
        };
    return switch (c.getResult()) {
      case EQUAL -> r == 0;
      case NOT_EQUAL -> r != 0;
      case GREATER -> r > 0;
      case LESS -> r < 0;
      case UNRECOGNIZED -> throw new IllegalArgumentException("unknown compare result");
    };
  }

  /**
   * Every change with {@code from <= revision <= to} to a key of the range, in revision order; with
   * {@code prevKv}, each event carries the key's previous value when it existed and is retained.
   */
  List<Event> events(long from, long to, ByteString key, ByteString rangeEnd, boolean prevKv) {
    List<Event> out = new ArrayList<>();
    try (RocksIterator revs = source.iterator(db.revs);
        RocksIterator keys = source.iterator(db.keys)) {
      revs.seek(Codec.revisionKey(Math.max(from, 1), 0));
      for (; revs.isValid(); revs.next()) {
        long main = Codec.revisionMain(revs.key());
        if (main > to) {
          break;
        }
        ByteString k = ByteString.copyFrom(revs.value());
        if (!KeyRanges.contains(key, rangeEnd, k)) {
          continue;
        }
        byte[] enc = Codec.encodeKey(k);
        byte[] at = Codec.versionKey(enc, main);
        keys.seek(at);
        if (!keys.isValid() || !Arrays.equals(keys.key(), at)) {
          throw new IllegalStateException("no record of key revision " + main + " in " + db.path);
        }
        byte[] record = keys.value();
        Event.Builder e = Event.newBuilder();
        if (Codec.isTombstone(record)) {
          e.setType(Event.EventType.DELETE)
              .setKv(KeyValue.newBuilder().setKey(k).setModRevision(main));
        } else {
          e.setType(Event.EventType.PUT).setKv(Codec.keyValue(k, main, record, false));
        }
        if (prevKv) {
          keys.next();
          if (keys.isValid() && Codec.sameKey(enc, keys.key(), enc.length)) {
            byte[] prev = keys.value();
            if (!Codec.isTombstone(prev)) {
              e.setPrevKv(
                  Codec.keyValue(k, Codec.versionMain(keys.key(), enc.length), prev, false));
            }
          }
        }
        out.add(e.build());
      }
      check(revs);
    }
    return out;
  }

  /**
   * CRC32C (Castagnoli) over every stored key revision in {@code (compactRevision, rev]}, in the
   * key family's order: the same on every member with the same history.
   */
  long hash(long rev) {
    CRC32C crc = new CRC32C();
    try (RocksIterator it = source.iterator(db.keys)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] k = it.key();
        long main = Codec.versionMain(k, Codec.encodedKeyLength(k));
        if (main > compactRevision && main <= rev) {
          crc.update(k);
          crc.update(it.value());
        }
      }
      check(it);
    }
    return crc.getValue();
  }

  /** The granted TTL of a lease, or -1 if it does not exist. */
  long leaseTtl(long id) {
    byte[] v = source.get(db.leases, Codec.longBytes(id));
    return v == null ? -1 : Codec.getLong(v, 0);
  }

  /**
   * The log index of the entry that last granted or kept alive a lease; -1 if it does not exist.
   */
  long leaseRenewedIndex(long id) {
    byte[] v = source.get(db.leases, Codec.longBytes(id));
    return v == null ? -1 : v.length >= 16 ? Codec.getLong(v, 8) : 0;
  }

  /** The keys attached to a lease, in key order. */
  List<ByteString> leaseKeys(long id) {
    byte[] prefix = Codec.longBytes(id);
    List<ByteString> out = new ArrayList<>();
    try (RocksIterator it = source.iterator(db.leases)) {
      for (it.seek(prefix); it.isValid(); it.next()) {
        byte[] k = it.key();
        if (!Arrays.equals(k, 0, 8, prefix, 0, 8)) {
          break;
        }
        if (k.length > 8) {
          out.add(ByteString.copyFrom(k, 8, k.length - 8));
        }
      }
      check(it);
    }
    return out;
  }

  private void check(RocksIterator it) {
    try {
      it.status();
    } catch (RocksDBException e) {
      throw new IllegalStateException("iteration failed in " + db.path, e);
    }
  }
}
