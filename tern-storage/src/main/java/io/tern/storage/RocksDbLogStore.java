package io.tern.storage;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.tern.raft.core.Entry;
import io.tern.raft.core.HardState;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.node.LogStore;
import io.tern.raft.node.PersistentState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Status;
import org.rocksdb.WALRecoveryMode;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Raft log and hard state of one member in a RocksDB database ({@code <dataDir>/raft-log}).
 *
 * <p><b>Layout.</b> Column family {@code raft_log} maps an entry's index (8 bytes, big-endian) to
 * the entry; {@code raft_meta} holds the hard state and the log's base (where the log begins: a
 * {@link SnapshotMeta} with its membership). Every record carries a CRC32C ({@link LogCodec}).
 *
 * <p><b>Group commit.</b> Operations ({@link #write}, {@link #reset}, {@link #compact}) are
 * validated and queued by the caller's thread. One writer thread takes every operation queued when
 * it starts a batch, puts them into one {@link WriteBatch} in submission order and writes it with
 * {@code sync = true}: one WAL append and one fsync for all of them. Only when that write has
 * returned does it complete their futures, in submission order. The exception is a batch that only
 * moves the commit index (no entries, no change of term or vote, no reset or compaction): the
 * commit index need not be durable, so that batch is appended to the WAL without an fsync, and the
 * next synced batch makes it durable with everything before it. A write whose entries start at an
 * index the log already holds first deletes every stored entry from there on (a range delete in the
 * same batch); a reset deletes every entry and records the new base and hard state in the same
 * batch; a compaction deletes the entries through its base and records the base.
 *
 * <p><b>Validation.</b> Operations are checked against the log as it will be once everything
 * accepted is durable, with the rules the simulator's disk applies (contiguous entries, no gap,
 * terms never decrease, the vote never changes within a term, the commit never decreases nor passes
 * the log, committed entries are never overwritten, no reset below the commit, no compaction beyond
 * the commit or disagreeing with the log). A violation is a bug in the caller: {@link
 * IllegalStateException}, and nothing is queued.
 *
 * <p><b>Failure.</b> If a batch cannot be written or synced (an I/O error, a full disk, anything
 * RocksDB reports), that batch's operations and every later one complete exceptionally with a
 * {@link StorageException} (its message says so when the disk is full), in submission order, and
 * the store accepts nothing more: later calls return a future already failed with the same
 * exception. There is no retry: after a failed fsync the state of the file is unknown.
 *
 * <p><b>Recovery and crashes.</b> {@link #open} reads back the hard state, the base and the entries
 * after the base, checking every CRC, that the entries are contiguous with non-decreasing terms,
 * and that the hard state's commit index is in the log; anything else throws {@link
 * StorageCorruptionException} and the member must not start. A crash cannot tear an acknowledged
 * write: RocksDB appends each batch to its write-ahead log as one checksummed record and the
 * synchronous write returns only once that record is fsynced, and an operation is acknowledged only
 * after that. At most the batch being synced when the process died can be incomplete; the database
 * is opened with {@link WALRecoveryMode#TolerateCorruptedTailRecords}, so replay drops such an
 * incomplete record at the tail of the WAL (it was never acknowledged, and no later batch was
 * written after it) while corruption before the tail fails the open. Batches are atomic, so
 * recovery sees a prefix of the submitted operations that includes every acknowledged one, never a
 * part of one.
 *
 * <p>{@link #close()} stops accepting operations, writes those already queued, then closes the
 * database. Thread-safe; futures complete on the writer thread, so their callbacks should be short.
 */
public final class RocksDbLogStore implements LogStore, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RocksDbLogStore.class);

  /** Subdirectory of the member's data directory holding the database. */
  public static final String DIRECTORY = "raft-log";

  static final byte[] LOG_FAMILY = "raft_log".getBytes(UTF_8);
  static final byte[] META_FAMILY = "raft_meta".getBytes(UTF_8);
  static final byte[] HARD_STATE_KEY = "hard_state".getBytes(UTF_8);
  static final byte[] BASE_KEY = "base".getBytes(UTF_8);

  /** Sorts after every log key (indexes are non-negative, so their first byte is below 0x80). */
  private static final byte[] LOG_END = new byte[] {-1, -1, -1, -1, -1, -1, -1, -1};

  static {
    RocksDB.loadLibrary();
  }

  /** Counters for benchmarks and tests. */
  public record Stats(
      long writes,
      long resets,
      long compactions,
      long batches,
      long syncedOperations,
      long entries,
      long bytes,
      long fsyncs) {
    /** Operations accepted: writes, resets and compactions. */
    public long operations() {
      return writes + resets + compactions;
    }
  }

  /** Test seam around each batch the writer thread syncs. */
  interface Hooks {
    Hooks NONE = new Hooks() {};

    /** Before the batch of {@code operations} is written; throwing fails it like a write error. */
    default void beforeWrite(int operations) throws RocksDBException {}

    /** After the batch was written and synced, before any of its futures completes. */
    default void afterSync(int operations) {}
  }

  private final Path dir;
  private final Hooks hooks;
  private final DBOptions dbOptions;
  private final ColumnFamilyOptions familyOptions;
  private final WriteOptions syncWrite;
  private final WriteOptions lazyWrite;
  // Writer-owned: the term and vote last written, to tell commit-only hard-state writes apart.
  private long writtenTerm;
  private long writtenVote;
  private final RocksDB db;
  private final ColumnFamilyHandle defaultFamily;
  private final ColumnFamilyHandle logFamily;
  private final ColumnFamilyHandle metaFamily;
  private final Thread writer;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();

  // Guarded by lock.
  private final LogView logical;
  private ArrayList<Op> queue = new ArrayList<>();
  private boolean closing;
  private boolean crashed;
  private StorageException failure;
  private PersistentState recovered;

  private final AtomicLong writes = new AtomicLong();
  private final AtomicLong resets = new AtomicLong();
  private final AtomicLong compactions = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong fsyncs = new AtomicLong();
  private final AtomicLong syncedOperations = new AtomicLong();
  private final AtomicLong entriesWritten = new AtomicLong();
  private final AtomicLong bytesWritten = new AtomicLong();

  /**
   * Opens (creating if needed) the log in {@code <dataDir>/raft-log} and recovers what earlier
   * incarnations made durable.
   *
   * @throws StorageCorruptionException if durable data does not read back as written
   * @throws StorageException if the database cannot be opened (an I/O error, or another process
   *     holds it)
   */
  public static RocksDbLogStore open(Path dataDir) {
    return open(dataDir, Hooks.NONE);
  }

  static RocksDbLogStore open(Path dataDir, Hooks hooks) {
    return new RocksDbLogStore(dataDir.resolve(DIRECTORY), hooks);
  }

  private RocksDbLogStore(Path dir, Hooks hooks) {
    this.dir = dir;
    this.hooks = Objects.requireNonNull(hooks, "hooks");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new StorageException("cannot create the Raft log directory " + dir + ": " + e, e);
    }
    dbOptions =
        new DBOptions()
            .setCreateIfMissing(true)
            .setCreateMissingColumnFamilies(true)
            .setParanoidChecks(true)
            .setWalRecoveryMode(WALRecoveryMode.TolerateCorruptedTailRecords)
            .setMaxTotalWalSize(128L << 20)
            // Memtables of all families together. A member's resident memory must stay under 512
            // MB: a JVM heap of up to 256 MB plus ~115 MB of the JVM's own (G1's structures, code,
            // metaspace), the KV store's 32 MiB of memtables and 32 MiB block cache, and these.
            // At 64 MiB a member under a long backlog reached 513 MB; log entries are transient
            // (deleted once a snapshot covers them), so 32 MiB of recent ones in memory is enough.
            .setDbWriteBufferSize(32L << 20)
            .setInfoLogLevel(InfoLogLevel.WARN_LEVEL)
            .setKeepLogFileNum(4)
            .setMaxLogFileSize(16L << 20);
    familyOptions = new ColumnFamilyOptions();
    syncWrite = new WriteOptions().setSync(true);
    lazyWrite = new WriteOptions().setSync(false);
    List<ColumnFamilyDescriptor> families =
        List.of(
            new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, familyOptions),
            new ColumnFamilyDescriptor(LOG_FAMILY, familyOptions),
            new ColumnFamilyDescriptor(META_FAMILY, familyOptions));
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    RocksDB opened = null;
    PersistentState state;
    try {
      opened = RocksDB.open(dbOptions, dir.toString(), families, handles);
      state = recover(opened, handles.get(1), handles.get(2));
    } catch (RocksDBException | RuntimeException e) {
      handles.forEach(ColumnFamilyHandle::close);
      if (opened != null) {
        opened.close();
      }
      syncWrite.close();
      lazyWrite.close();
      familyOptions.close();
      dbOptions.close();
      if (e instanceof RocksDBException r) {
        throw translate(r, "open");
      }
      throw (RuntimeException) e;
    }
    this.db = opened;
    this.defaultFamily = handles.get(0);
    this.logFamily = handles.get(1);
    this.metaFamily = handles.get(2);
    this.recovered = state;
    this.logical = new LogView(dir.toString(), state);
    this.writtenTerm = state.hardState().term();
    this.writtenVote = state.hardState().vote();
    LOG.info(
        "opened Raft log {}: {} base={} entries {}..{}",
        dir,
        state.hardState(),
        state.base(),
        state.firstIndex(),
        state.firstIndex() + state.entries().size() - 1);
    this.writer = new Thread(this::runWriter, "tern-log-writer[" + dir + "]");
    writer.setDaemon(true);
    writer.start();
  }

  /** The database directory. */
  public Path directory() {
    return dir;
  }

  /**
   * What {@link #open} recovered (and checked). May be called once, before any other operation.
   *
   * @throws IllegalStateException if called again or after an operation
   */
  @Override
  public PersistentState load() {
    lock.lock();
    try {
      if (recovered == null) {
        throw new IllegalStateException(
            "load() must be called once, before any other operation, on " + dir);
      }
      PersistentState s = recovered;
      recovered = null;
      return s;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public CompletableFuture<Void> write(HardState hardState, List<Entry> entries) {
    List<Entry> es = List.copyOf(entries);
    lock.lock();
    try {
      CompletableFuture<Void> refused = refusal();
      if (refused != null) {
        return refused;
      }
      logical.validateWrite(hardState, es);
      boolean truncates = !es.isEmpty() && es.get(0).index() <= logical.lastIndex();
      logical.applyWrite(hardState, es);
      writes.incrementAndGet();
      return enqueue(new Op(Kind.WRITE, hardState, es, null, truncates));
    } finally {
      lock.unlock();
    }
  }

  @Override
  public CompletableFuture<Void> reset(HardState hardState, SnapshotMeta base) {
    Objects.requireNonNull(base, "base");
    lock.lock();
    try {
      CompletableFuture<Void> refused = refusal();
      if (refused != null) {
        return refused;
      }
      logical.validateReset(hardState, base);
      logical.applyReset(hardState, base);
      resets.incrementAndGet();
      return enqueue(new Op(Kind.RESET, hardState, List.of(), base, true));
    } finally {
      lock.unlock();
    }
  }

  @Override
  public CompletableFuture<Void> compact(SnapshotMeta base) {
    Objects.requireNonNull(base, "base");
    lock.lock();
    try {
      CompletableFuture<Void> refused = refusal();
      if (refused != null) {
        return refused;
      }
      boolean effective = logical.validateCompact(base);
      logical.applyCompact(base);
      compactions.incrementAndGet();
      return enqueue(new Op(Kind.COMPACT, null, List.of(), base, effective));
    } finally {
      lock.unlock();
    }
  }

  /** Stops accepting operations, writes those already queued, and closes the database. */
  @Override
  public void close() {
    lock.lock();
    try {
      closing = true;
      work.signalAll();
    } finally {
      lock.unlock();
    }
    awaitWriter();
  }

  /**
   * As a crash would: operations queued but not yet being written are dropped (their futures never
   * complete); the batch being written, if any, finishes. Then the database is closed.
   */
  void crash() {
    lock.lock();
    try {
      closing = true;
      crashed = true;
      queue = new ArrayList<>();
      work.signalAll();
    } finally {
      lock.unlock();
    }
    awaitWriter();
  }

  public Stats stats() {
    return new Stats(
        writes.get(),
        resets.get(),
        compactions.get(),
        batches.get(),
        syncedOperations.get(),
        entriesWritten.get(),
        bytesWritten.get(),
        fsyncs.get());
  }

  @Override
  public String toString() {
    return "RocksDbLogStore[" + dir + "]";
  }

  // ------------------------------------------------------------ submission

  private enum Kind {
    WRITE,
    RESET,
    COMPACT
  }

  /**
   * One queued operation. {@code deletes}: a write that replaces stored entries, or a compaction
   * that moves the base (a reset always deletes).
   */
  private record Op(
      Kind kind,
      HardState hardState,
      List<Entry> entries,
      SnapshotMeta base,
      boolean deletes,
      CompletableFuture<Void> future) {
    Op(Kind kind, HardState hardState, List<Entry> entries, SnapshotMeta base, boolean deletes) {
      this(kind, hardState, entries, base, deletes, new CompletableFuture<>());
    }
  }

  /** Called with the lock held: a failed future if the store accepts nothing more. */
  private CompletableFuture<Void> refusal() {
    if (failure != null) {
      return CompletableFuture.failedFuture(failure);
    }
    if (closing) {
      return CompletableFuture.failedFuture(new StorageException("Raft log " + dir + " is closed"));
    }
    recovered = null; // load() comes first; do not keep the recovered entries alive
    return null;
  }

  private CompletableFuture<Void> enqueue(Op op) {
    queue.add(op);
    if (queue.size() == 1) {
      work.signal();
    }
    return op.future;
  }

  // ------------------------------------------------------------ writer thread

  private void runWriter() {
    try {
      List<Op> batch;
      while ((batch = nextBatch()) != null) {
        try {
          hooks.beforeWrite(batch.size());
          writeBatch(batch);
          hooks.afterSync(batch.size());
        } catch (RocksDBException e) {
          fail(batch, translate(e, "write"));
          return;
        } catch (RuntimeException | Error e) {
          fail(batch, new StorageException("Raft log " + dir + ": write failed: " + e, e));
          if (e instanceof Error err) {
            throw err;
          }
          return;
        }
        for (Op op : batch) {
          op.future.complete(null);
        }
      }
    } finally {
      closeDatabase();
    }
  }

  private List<Op> nextBatch() {
    lock.lock();
    try {
      while (queue.isEmpty() && !closing) {
        work.awaitUninterruptibly();
      }
      if (queue.isEmpty() || crashed) {
        return null;
      }
      ArrayList<Op> batch = queue;
      queue = new ArrayList<>();
      return batch;
    } finally {
      lock.unlock();
    }
  }

  /** Whether every op only appends entries (no deletes, no reset or compaction): the usual case. */
  private static boolean plainAppends(List<Op> ops) {
    for (Op op : ops) {
      if (op.kind != Kind.WRITE || op.deletes) {
        return false;
      }
    }
    return true;
  }

  /**
   * A batch holding every op's entries, encoded in Java and handed to RocksDB in one call instead
   * of one call per entry. Only for {@link #plainAppends} batches: the log records then come first,
   * and the hard state (another column family) is added after them.
   */
  private WriteBatch appendBatch(List<Op> ops) {
    List<List<Entry>> runs = new ArrayList<>(ops.size());
    for (Op op : ops) {
      if (!op.entries.isEmpty()) {
        runs.add(op.entries);
      }
    }
    return runs.isEmpty()
        ? new WriteBatch()
        : new WriteBatch(LogCodec.entryPutBatch(logFamily.getID(), runs));
  }

  private void writeBatch(List<Op> ops) throws RocksDBException {
    HardState hardState = null;
    SnapshotMeta base = null;
    long entries = 0;
    boolean deletes = false;
    boolean plainAppends = plainAppends(ops);
    try (WriteBatch wb = plainAppends ? appendBatch(ops) : new WriteBatch()) {
      for (Op op : ops) {
        switch (op.kind) {
          case WRITE -> {
            if (op.deletes) {
              wb.deleteRange(logFamily, LogCodec.indexKey(op.entries.get(0).index()), LOG_END);
              deletes = true;
            }
            if (!plainAppends) {
              for (Entry e : op.entries) {
                wb.put(logFamily, LogCodec.indexKey(e.index()), LogCodec.encodeEntry(e));
              }
            }
            entries += op.entries.size();
          }
          case RESET -> {
            wb.deleteRange(logFamily, LogCodec.indexKey(0), LOG_END);
            base = op.base;
          }
          case COMPACT -> {
            if (op.deletes) {
              wb.deleteRange(
                  logFamily, LogCodec.indexKey(0), LogCodec.indexKey(op.base.index() + 1));
              base = op.base;
            }
          }
        }
        if (op.hardState != null) {
          hardState = op.hardState;
        }
      }
      // The batch is atomic, so only the last hard state and base of the batch matter.
      if (hardState != null) {
        wb.put(metaFamily, HARD_STATE_KEY, LogCodec.encodeHardState(hardState));
      }
      if (base != null) {
        wb.put(metaFamily, BASE_KEY, LogCodec.encodeBase(base));
      }
      boolean mustSync = entries > 0 || base != null || deletes;
      if (hardState != null) {
        mustSync |= hardState.term() != writtenTerm || hardState.vote() != writtenVote;
        writtenTerm = hardState.term();
        writtenVote = hardState.vote();
      }
      if (wb.count() > 0) {
        // Only the commit index changed: it need not survive a crash (a restarted member learns it
        // again from the leader, and never below what its state machine applied), so the record
        // goes to the WAL without an fsync of its own; the next synced batch makes it durable.
        db.write(mustSync ? syncWrite : lazyWrite, wb);
        if (mustSync) {
          fsyncs.incrementAndGet();
        }
        batches.incrementAndGet();
        bytesWritten.addAndGet(wb.getDataSize());
      }
    }
    syncedOperations.addAndGet(ops.size());
    entriesWritten.addAndGet(entries);
  }

  /**
   * Fails {@code batch} and everything queued after it, in order, and refuses all later operations.
   * Futures are completed with the lock held so that no later submission can see its refusal before
   * the earlier operations see their failure.
   */
  private void fail(List<Op> batch, StorageException e) {
    LOG.error("Raft log {} failed; it accepts nothing more", dir, e);
    lock.lock();
    try {
      failure = e;
      List<Op> rest = queue;
      queue = new ArrayList<>();
      for (Op op : batch) {
        op.future.completeExceptionally(e);
      }
      for (Op op : rest) {
        op.future.completeExceptionally(e);
      }
    } finally {
      lock.unlock();
    }
  }

  private void awaitWriter() {
    if (Thread.currentThread() == writer) {
      return; // a completion callback closed the store; the writer closes the database on exit
    }
    boolean interrupted = false;
    while (writer.isAlive()) {
      try {
        writer.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void closeDatabase() {
    defaultFamily.close();
    logFamily.close();
    metaFamily.close();
    db.close();
    syncWrite.close();
    lazyWrite.close();
    familyOptions.close();
    dbOptions.close();
    LOG.info("closed Raft log {}", dir);
  }

  // ------------------------------------------------------------ recovery

  private static PersistentState recover(
      RocksDB db, ColumnFamilyHandle logFamily, ColumnFamilyHandle metaFamily)
      throws RocksDBException {
    byte[] hsValue = db.get(metaFamily, HARD_STATE_KEY);
    HardState hs = hsValue == null ? HardState.EMPTY : LogCodec.decodeHardState(hsValue);
    byte[] baseValue = db.get(metaFamily, BASE_KEY);
    SnapshotMeta base = baseValue == null ? null : LogCodec.decodeBase(baseValue);
    long first = base == null ? 1 : base.index() + 1;
    long prevTerm = base == null ? 0 : base.term();
    List<Entry> entries = new ArrayList<>();
    try (ReadOptions read = new ReadOptions().setFillCache(false).setVerifyChecksums(true);
        RocksIterator it = db.newIterator(logFamily, read)) {
      long expected = first;
      for (it.seek(LogCodec.indexKey(first)); it.isValid(); it.next()) {
        long index = LogCodec.indexOf(it.key());
        if (index != expected) {
          throw new StorageCorruptionException(
              "log gap: entry "
                  + expected
                  + " is missing (the next stored entry is "
                  + index
                  + ", log base "
                  + (first - 1)
                  + ")");
        }
        Entry e = LogCodec.decodeEntry(index, it.value());
        if (e.term() < prevTerm) {
          throw new StorageCorruptionException(
              "log entry at index "
                  + index
                  + ": term "
                  + e.term()
                  + " is below the previous entry's term "
                  + prevTerm);
        }
        prevTerm = e.term();
        entries.add(e);
        expected++;
      }
      it.status();
    }
    long last = first - 1 + entries.size();
    if (hs.commit() > last) {
      throw new StorageCorruptionException(
          "hard state commit index "
              + hs.commit()
              + " is beyond the last stored log entry "
              + last
              + ": committed entries are missing");
    }
    return new PersistentState(hs, base, entries);
  }

  // ------------------------------------------------------------ errors

  private StorageException translate(RocksDBException e, String what) {
    Status s = e.getStatus();
    String message = e.getMessage() == null ? "" : e.getMessage();
    if ((s != null && s.getSubCode() == Status.SubCode.NoSpace)
        || message.contains("No space left on device")) {
      return new StorageException(
          "Raft log " + dir + ": " + what + " failed, the disk is full (" + message + ")", e);
    }
    if (s != null && s.getCode() == Status.Code.Corruption) {
      return new StorageCorruptionException(
          "Raft log " + dir + ": RocksDB reports corruption on " + what + ": " + message, e);
    }
    return new StorageException(
        "Raft log "
            + dir
            + ": "
            + what
            + " failed"
            + (s == null ? "" : " (" + s.getCodeString() + ")")
            + ": "
            + message,
        e);
  }
}
