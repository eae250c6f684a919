package io.tern.kv;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.tern.api.AlarmMember;
import io.tern.api.Event;
import io.tern.api.InternalRequest;
import io.tern.api.MemberAttributes;
import io.tern.api.RangeRequest;
import io.tern.api.RangeResponse;
import io.tern.api.ResponseHeader;
import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.node.StateMachine;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The etcd v3 key-value store as a Raft state machine: MVCC keys with revisions, transactions,
 * compaction, leases, alarms and the member table, on its own RocksDB instance.
 *
 * <p><b>Apply.</b> Each committed entry with data holds one {@link InternalRequest}; its result is
 * the etcd response (with {@code header.revision}), the {@link MemberAttributes} or {@link Boolean}
 * of a member operation, or a {@link KvException} when the request is refused, in which case none
 * of it is applied. Each entry's changes and its index are written in one RocksDB batch, to the
 * memtables only: the Raft log is the durable record (the store's write-ahead log, see {@link
 * KvDatabase#writeOptions}), and entries at or below the stored applied index are skipped, so
 * replaying the log after a crash applies each entry exactly once. Apply reads nothing
 * member-local; the clock only sets the in-memory lease expiries.
 *
 * <p><b>Concurrency.</b> One apply thread writes ({@link #apply}, {@link #snapshot}, {@link
 * #restore}); reads may run on any thread at the same time, without a lock. Apply writes a batch,
 * then publishes the position it reached (applied index, revision, compact revision) in one
 * volatile {@code view}; a read takes the view, then reads with fresh RocksDB iterators (each a
 * consistent point in time, at or after that write), and an MVCC read at the view's revision sees
 * exactly that revision: records of newer revisions are skipped. The one write that removes records
 * a reader at the view's revision may need is a compaction: apply announces it in {@code
 * compacting} before writing it, and a read that overlapped it runs again on the view published
 * after it. A read-write lock ({@code lifecycle}) keeps the database open during reads; only {@link
 * #restore}'s swap and {@link #close} take it exclusively.
 *
 * <p><b>Layout.</b> See {@link Codec} (key and revision families), {@link Meta} and {@link
 * KvDatabase} (directory, lease family).
 */
public final class KvStateMachine implements StateMachine, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KvStateMachine.class);

  /** What a read sees: positions published together with the data they describe. */
  private record View(long appliedIndex, long revision, long compactRevision) {}

  @FunctionalInterface
  private interface ReadFn<T> {
    T read(MvccView view, View at) throws KvException;
  }

  private final Path dir;
  private final KvOptions options;
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private final Applier.Tables tables = new Applier.Tables();
  private final Applier applier;
  private final History history = new StoreHistory();
  private final WatchHub watchHub;
  private final AtomicLong tempSeq = new AtomicLong();
  private final LatestVersions latest; // apply thread; readers use newest() only

  private static final long SIZE_CHECK_INTERVAL_MS = 50;
  private volatile long sizeCheckedAt;
  private volatile long checkedSize = -1;

  private volatile KvDatabase db; // replaced only under the lifecycle write lock
  private volatile View view; // replaced by apply after the write it describes

  /** The revision a compaction being written compacts to (announced before its write). */
  private volatile long compacting;

  private volatile Consumer<List<MemberAttributes>> memberListener = members -> {};
  private boolean closed; // guarded by lifecycle

  /** The live database, for tests in this package. */
  KvDatabase database() {
    return db;
  }

  private KvStateMachine(Path dir, KvOptions options, KvDatabase db) {
    this.dir = dir;
    this.options = options;
    this.db = db;
    this.applier = new Applier(options, tables, members -> memberListener.accept(members));
    this.latest = new LatestVersions(options.keyCacheBytes());
    install(Meta.load(db));
    this.watchHub = new WatchHub(history);
  }

  /**
   * Opens the store in {@code dir} (created if missing) as an earlier incarnation left it on disk:
   * after a clean close, everything it applied; after a crash, the state after some earlier entry
   * (see {@link #appliedIndex()}), which the Raft node catches up by applying the entries after it
   * again.
   *
   * @throws UncheckedIOException if the directory or database cannot be opened
   */
  public static KvStateMachine open(Path dir, KvOptions options) {
    Objects.requireNonNull(options, "options");
    try {
      Path live = KvDatabase.live(dir);
      KvDatabase.removeStale(dir, live);
      KvDatabase db = KvDatabase.open(live, options.memtableBytes());
      KvStateMachine sm;
      try {
        sm = new KvStateMachine(dir, options, db);
      } catch (RuntimeException e) {
        db.close();
        throw e;
      }
      View v = sm.view;
      LOG.info(
          "opened KV store {}: applied index {}, revision {}, compact revision {}",
          live,
          v.appliedIndex(),
          v.revision(),
          v.compactRevision());
      return sm;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the KV store in " + dir, e);
    }
  }

  private void install(Meta.Loaded loaded) {
    view = new View(loaded.appliedIndex(), loaded.revision(), loaded.compactRevision());
    compacting = loaded.compactRevision();
    tables.alarms = loaded.alarms();
    tables.members = loaded.members();
    tables.leaseClocks.clear();
    long now = options.nanoClock().getAsLong();
    for (long[] lease : loaded.leases()) {
      tables.leaseClocks.renew(lease[0], lease[1], now);
    }
  }

  public KvOptions options() {
    return options;
  }

  /** The store's past as the watch hub reads it. */
  History history() {
    return history;
  }

  /** The hub watches register with; fed with each applied revision's events once durable. */
  public WatchHub watchHub() {
    return watchHub;
  }

  /**
   * Sets the callback told the whole member table after every change (on the apply thread); it is
   * called once at once (on this thread) with the current table.
   */
  public void setMemberListener(Consumer<List<MemberAttributes>> listener) {
    this.memberListener = Objects.requireNonNull(listener, "listener");
    listener.accept(tables.members);
  }

  /**
   * The checks of a request that need no state, as etcd makes them before proposing: size, keys
   * provided, transaction shape and duplicate keys. Apply repeats all but the size check.
   */
  public void validate(InternalRequest req) throws KvException {
    if (req.getSerializedSize() > options.maxRequestBytes()) {
      throw KvException.requestTooLarge();
    }
    switch (req.getRequestCase()) {
      case PUT -> RequestChecks.checkPut(req.getPut());
      case DELETE_RANGE -> RequestChecks.checkDelete(req.getDeleteRange());
      case TXN -> RequestChecks.checkTxn(req.getTxn(), options.maxTxnOps());
      default -> {}
    }
  }

  // ---- apply

  @Override
  public Object[] apply(List<Entry> entries) {
    Object[] results = new Object[entries.size()];
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      long applied = view.appliedIndex();
      // Consecutive key-value writes share one batch and one database write; every other request
      // (leases, alarms, members, compaction) is written alone, so the in-memory tables it changes
      // are updated right after its own write, before the next request is applied. A batch opened
      // by a put keeps its changes in Java (EncodedChanges) and takes only puts; a deletion or
      // transaction, which reads ranges through the batch, starts an indexed one.
      Batch open = null;
      try {
        for (int i = 0; i < entries.size(); i++) {
          Entry e = entries.get(i);
          if (e.index() <= applied) {
            continue; // already applied by an earlier incarnation
          }
          InternalRequest req = null;
          if (e.type() == EntryType.NORMAL && e.data().length > 0) {
            try {
              req = InternalRequest.parseFrom(e.data());
            } catch (InvalidProtocolBufferException ex) {
              LOG.error("entry {} does not hold a KV request; skipping it", e, ex);
              results[i] = KvException.malformed();
            }
          }
          if (req != null && open != null && !open.takes(req)) {
            open.commit(applied);
            open.close();
            open = null;
          }
          applied = e.index();
          if (req == null) {
            continue;
          }
          if (open == null) {
            open = new Batch(view, req);
          }
          results[i] = open.apply(req, e.index());
          if (!isKeyValueWrite(req)) {
            open.commit(applied);
            open.close();
            open = null;
          }
        }
        if (open != null) {
          open.commit(applied);
        } else if (applied > view.appliedIndex()) {
          writeAppliedIndex(applied);
        }
      } finally {
        if (open != null) {
          open.close();
        }
      }
    } finally {
      lifecycle.readLock().unlock();
    }
    return results;
  }

  /** Requests that only change keys: they read and write the store and nothing in memory. */
  private static boolean isKeyValueWrite(InternalRequest req) {
    return switch (req.getRequestCase()) {
      case PUT, DELETE_RANGE, TXN -> true;
      default -> false;
    };
  }

  /**
   * Entries applied into one set of {@link Changes}, written to the database at once with the
   * applied index of the last; then the in-memory effects run and the revisions' events are
   * published, in order.
   */
  private final class Batch implements AutoCloseable {
    private record Published(long revision, List<Event> events) {}

    private final KvDatabase d = db;
    private final Changes batch;
    private final ReadOptions readOptions = new ReadOptions();
    private final long beginRevision;
    private long revision;
    private long compactRevision;
    private long compactedTo;
    private final List<Runnable> afterCommit = new ArrayList<>();
    private final List<Published> published = new ArrayList<>();

    /** A batch for {@code first} and the requests after it that {@link #takes}. */
    Batch(View v, InternalRequest first) {
      this.batch =
          first.getRequestCase() == InternalRequest.RequestCase.PUT
              ? new EncodedChanges(d)
              : new IndexedChanges();
      this.beginRevision = v.revision();
      this.revision = v.revision();
      this.compactRevision = v.compactRevision();
    }

    /** Whether {@code req} may join this batch. */
    boolean takes(InternalRequest req) {
      return isKeyValueWrite(req)
          && (batch instanceof IndexedChanges
              || req.getRequestCase() == InternalRequest.RequestCase.PUT);
    }

    Object apply(InternalRequest req, long index) {
      WriteTxn w = new WriteTxn(d, revision, compactRevision, batch, readOptions, latest);
      Object result;
      try {
        result = applier.apply(req, w, index);
        w.accept();
      } catch (KvException refused) {
        w.discard();
        result = refused;
      }
      afterCommit.addAll(w.afterCommitActions());
      if (w.changed()) {
        revision = w.revision();
        published.add(new Published(w.revision(), List.copyOf(w.events())));
      }
      if (w.compactedTo() > 0) {
        compactedTo = w.compactedTo();
        compactRevision = w.compactRevision();
      }
      return result;
    }

    void commit(long index) {
      put(d.meta, Meta.APPLIED_INDEX, Codec.longBytes(index));
      if (revision != beginRevision) {
        put(d.meta, Meta.REVISION, Codec.longBytes(revision));
      }
      if (compactedTo > 0) {
        put(d.meta, Meta.COMPACT_REVISION, Codec.longBytes(compactedTo));
      }
      KvStateMachine.this.commit(d, batch, new View(index, revision, compactRevision));
      for (Runnable action : afterCommit) {
        action.run();
      }
      for (Published p : published) {
        watchHub.publish(p.revision(), p.events());
      }
      if (compactedTo > 0) {
        LOG.info("compacted the KV store at revision {}", compactedTo);
        watchHub.compacted(compactedTo);
      }
    }

    private void put(ColumnFamilyHandle family, byte[] key, byte[] value) {
      batch.put(family, key, value);
    }

    @Override
    public void close() {
      batch.close();
      readOptions.close();
    }
  }

  private void writeAppliedIndex(long index) {
    KvDatabase d = db;
    try (EncodedChanges batch = new EncodedChanges(d)) {
      batch.put(d.meta, Meta.APPLIED_INDEX, Codec.longBytes(index));
      View v = view;
      commit(d, batch, new View(index, v.revision(), v.compactRevision()));
    }
  }

  private void commit(KvDatabase d, Changes batch, View next) {
    if (next.compactRevision() > compacting) {
      compacting = next.compactRevision();
    }
    try {
      batch.write(d);
    } catch (RocksDBException e) {
      throw new IllegalStateException(
          "cannot write applied index " + next.appliedIndex() + " to " + d.path, e);
    }
    view = next;
  }

  @Override
  public long appliedIndex() {
    return view.appliedIndex();
  }

  // ---- snapshots

  @Override
  public SnapshotWriter snapshot() {
    Path tmp;
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      tmp = tempDir("snapshot");
      db.checkpoint(tmp);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      lifecycle.readLock().unlock();
    }
    return out -> {
      try {
        SnapshotFiles.write(tmp, out);
      } finally {
        KvDatabase.deleteTree(tmp);
      }
    };
  }

  /** Writes a consistent copy of the whole store, in the format of the Raft snapshot. */
  public void writeBackup(OutputStream out) throws IOException {
    Path tmp;
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      tmp = tempDir("backup");
      db.checkpoint(tmp);
    } finally {
      lifecycle.readLock().unlock();
    }
    try {
      SnapshotFiles.write(tmp, out);
    } finally {
      KvDatabase.deleteTree(tmp);
    }
  }

  private Path tempDir(String kind) {
    return dir.resolve(kind + "-" + tempSeq.incrementAndGet() + KvDatabase.TMP_SUFFIX);
  }

  /**
   * Replaces the store with a snapshot's: the files go to a new database directory, which is opened
   * and checked before the switch, then becomes the live one by an atomic rename. Watches then
   * replay what they missed from the new history, or end if it was compacted away.
   */
  @Override
  public void restore(SnapshotMeta meta, InputStream data) throws IOException {
    KvDatabase old = db;
    Path target = KvDatabase.next(old.path);
    KvDatabase.deleteTree(target);
    KvDatabase fresh = null;
    Meta.Loaded loaded;
    try {
      SnapshotFiles.read(data, target);
      fresh = KvDatabase.open(target, options.memtableBytes());
      loaded = Meta.load(fresh);
      if (loaded.appliedIndex() != meta.index()) {
        throw new IOException(
            "snapshot holds applied index " + loaded.appliedIndex() + ", expected " + meta.index());
      }
    } catch (IOException | RuntimeException e) {
      if (fresh != null) {
        fresh.close();
      }
      KvDatabase.deleteTree(target);
      throw e;
    }
    lifecycle.writeLock().lock();
    try {
      if (closed) {
        fresh.close();
        throw new IllegalStateException("KV store closed");
      }
      try {
        KvDatabase.switchTo(dir, target.getFileName().toString());
      } catch (IOException e) {
        fresh.close();
        throw e;
      }
      old.close();
      db = fresh;
      latest.clear();
      install(loaded);
    } finally {
      lifecycle.writeLock().unlock();
    }
    KvDatabase.deleteTree(old.path);
    LOG.info(
        "restored the KV store from snapshot {}: revision {}, compact revision {}",
        meta.index(),
        loaded.revision(),
        loaded.compactRevision());
    watchHub.compacted(loaded.compactRevision());
    if (loaded.revision() > watchHub.revision() && loaded.compactRevision() < loaded.revision()) {
      // Watches behind this revision replay from the new history (or end if it is compacted).
      watchHub.publish(
          loaded.revision(),
          history.events(
              loaded.revision(),
              loaded.revision(),
              ByteString.EMPTY,
              ByteString.copyFrom(new byte[] {0}),
              true));
    }
    memberListener.accept(tables.members);
  }

  // ---- reads

  private <T> T read(ReadFn<T> fn) throws KvException {
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      KvDatabase d = db;
      while (true) {
        View v = view;
        T result =
            fn.read(
                new MvccView(d, Source.of(d, d.readOptions), v.revision(), v.compactRevision()), v);
        if (compacting <= v.compactRevision()) {
          return result;
        }
        // A compaction was written while this read ran, and may have removed records it needed:
        // read again once apply has published it (it does right after the write).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (view.compactRevision() < compacting) {
          if (System.nanoTime() > deadline) {
            throw new KvException(
                KvException.Code.UNAVAILABLE,
                "etcdserver: compaction to revision " + compacting + " was not completed");
          }
          Thread.yield();
        }
      }
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** etcd's Range at the request's revision (0: the current one). */
  public RangeResponse range(RangeRequest request) throws KvException {
    return read(
        (mv, v) -> {
          RangeResponse known = rangeFromNewest(request, v.revision());
          return known != null ? known : mv.range(request, v.revision());
        });
  }

  /**
   * A plain single-key range at the current revision (etcd's everyday get) answered from apply's
   * memory of keys' newest versions, without a RocksDB iterator; null when that memory cannot
   * answer it for {@code revision} (see {@link LatestVersions}) or the request asks for more.
   */
  RangeResponse rangeFromNewest(RangeRequest r, long revision) {
    if (r.getKey().isEmpty()
        || !r.getRangeEnd().isEmpty()
        || r.getRevision() > 0
        || MvccView.filtersRevisions(r)) {
      return null;
    }
    LatestVersions.Newest n = latest.newest(r.getKey());
    if (n == null || n.since() > revision) {
      return null;
    }
    RangeResponse.Builder resp =
        RangeResponse.newBuilder().setHeader(ResponseHeader.newBuilder().setRevision(revision));
    MvccView.Version v = n.version();
    if (v == null) {
      return resp.build();
    }
    resp.setCount(1);
    if (!r.getCountOnly()) {
      resp.addKvs(Codec.keyValue(v.key(), v.main(), v.record(), r.getKeysOnly()));
    }
    return resp.build();
  }

  /** The store revision: 1 when empty, +1 per applied change. */
  public long revision() {
    return view.revision();
  }

  /** Revisions below this one are compacted (0: none). */
  public long compactRevision() {
    return view.compactRevision();
  }

  /**
   * The hash of the key revisions up to {@code revision} (0: the current one).
   *
   * @throws KvException OUT_OF_RANGE for a future or compacted revision
   */
  public HashKv hashKv(long revision) throws KvException {
    return read(
        (mv, v) -> {
          if (revision > v.revision()) {
            throw KvException.futureRevision();
          }
          long rev = revision <= 0 ? v.revision() : revision;
          if (rev < v.compactRevision()) {
            throw KvException.compacted();
          }
          return new HashKv(mv.hash(rev), rev, v.compactRevision());
        });
  }

  /** Bytes the database takes on disk and in memory tables. */
  public long dbSize() {
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      return db.property("rocksdb.total-sst-files-size")
          + db.property("rocksdb.cur-size-all-mem-tables");
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** Estimated bytes of live data. */
  public long dbSizeInUse() {
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      return db.property("rocksdb.estimate-live-data-size")
          + db.property("rocksdb.cur-size-all-mem-tables");
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /**
   * Whether the database exceeds {@link KvOptions#quotaBackendBytes()}. The size is read from the
   * database at most every {@value #SIZE_CHECK_INTERVAL_MS} ms of {@link KvOptions#nanoClock()} (it
   * is asked before every write), and afresh after {@link #defragment()}.
   */
  public boolean overQuota() {
    long now = options.nanoClock().getAsLong();
    long size = checkedSize;
    if (size < 0 || now - sizeCheckedAt > TimeUnit.MILLISECONDS.toNanos(SIZE_CHECK_INTERVAL_MS)) {
      size = dbSize();
      sizeCheckedAt = now;
      checkedSize = size;
    }
    return size > options.quotaBackendBytes();
  }

  /** Compacts the whole database (reclaims space of deleted and compacted records). */
  public void defragment() {
    lifecycle.readLock().lock();
    try {
      ensureOpen();
      db.compactAll();
      // The size read before may be far above what is left: a write right after must not be
      // refused for space that was just freed.
      checkedSize = -1;
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /** The active alarms, by member id then type. */
  public List<AlarmMember> alarms() {
    return tables.alarms;
  }

  /** The member table, by id. */
  public List<MemberAttributes> members() {
    return tables.members;
  }

  /** Every lease id, ascending. */
  public List<Long> leaseIds() {
    return tables.leaseClocks.ids();
  }

  /** A lease's TTLs and keys, or empty if it does not exist. */
  public Optional<LeaseInfo> lease(long id) {
    try {
      return read(
          (mv, v) -> {
            long ttl = mv.leaseTtl(id);
            if (ttl < 0) {
              return Optional.empty();
            }
            long left = tables.leaseClocks.remainingSeconds(id, options.nanoClock().getAsLong());
            return Optional.of(new LeaseInfo(id, ttl, left < 0 ? ttl : left, mv.leaseKeys(id)));
          });
    } catch (KvException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The log index of the entry that last granted or kept alive lease {@code id} (what a {@code
   * LeaseExpire} must name), or -1 if the lease does not exist.
   */
  public long leaseRenewedIndex(long id) {
    try {
      return read((mv, v) -> mv.leaseRenewedIndex(id));
    } catch (KvException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Up to {@code max} leases whose expiry on this member's clock is at or before {@code nowNanos},
   * the longest expired first: the leader proposes their revocation.
   */
  public List<Long> expiredLeases(long nowNanos, int max) {
    return tables.leaseClocks.expired(nowNanos, max);
  }

  /**
   * Restarts every lease's clock at {@code nowNanos} (a new leader does not know the old one's).
   */
  public void extendAllLeases(long nowNanos) {
    tables.leaseClocks.extendAll(nowNanos);
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("KV store " + dir + " is closed");
    }
  }

  /**
   * Ends every watch and closes the database. Idempotent. The hub closes first, without any lock
   * held: its replay may be reading history, which needs the database open.
   */
  @Override
  public void close() {
    watchHub.close();
    lifecycle.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      db.close();
    } finally {
      lifecycle.writeLock().unlock();
    }
  }

  /** The store's past, for the watch hub: reads a consistent snapshot like any read. */
  private final class StoreHistory implements History {
    @Override
    public long compactRevision() {
      return view.compactRevision();
    }

    @Override
    public long revision() {
      return view.revision();
    }

    @Override
    public List<Event> events(
        long from, long to, ByteString key, ByteString rangeEnd, boolean prevKv) {
      try {
        return read((mv, v) -> mv.events(from, to, key, rangeEnd, prevKv));
      } catch (KvException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
