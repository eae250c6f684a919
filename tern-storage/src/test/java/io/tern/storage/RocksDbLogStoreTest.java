package io.tern.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.HardState;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.quorum.JointConfig;
import io.tern.raft.core.quorum.MajorityConfig;
import io.tern.raft.core.tracker.Membership;
import io.tern.raft.node.PersistentState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.Status;

class RocksDbLogStoreTest {
  private static final Membership VOTERS = Membership.ofVoters(1, 2, 3);

  @TempDir Path dataDir;

  // ------------------------------------------------------------ helpers

  static Entry entry(long index, long term) {
    byte[] data = ("value " + index + "@" + term).getBytes(StandardCharsets.UTF_8);
    return new Entry(term, index, EntryType.NORMAL, index * 1_000_003L + term, data);
  }

  static List<Entry> entries(long from, long to, long term) {
    List<Entry> es = new ArrayList<>();
    for (long i = from; i <= to; i++) {
      es.add(entry(i, term));
    }
    return es;
  }

  static SnapshotMeta meta(long index, long term) {
    return new SnapshotMeta(index, term, VOTERS);
  }

  private RocksDbLogStore open() {
    return RocksDbLogStore.open(dataDir);
  }

  private PersistentState reopenAndLoad() {
    try (RocksDbLogStore s = open()) {
      return s.load();
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new AssertionError("latch not released in time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Hooks that hold the writer inside the {@code n}th batch (0-based) until released. */
  static final class BlockingHooks implements RocksDbLogStore.Hooks, AutoCloseable {
    final int blockAt;
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger batches = new AtomicInteger();
    volatile RocksDBException failWith;

    BlockingHooks(int blockAt) {
      this.blockAt = blockAt;
    }

    /** Releases the writer, so that a failing test does not hang until the latch times out. */
    @Override
    public void close() {
      release.countDown();
    }

    @Override
    public void beforeWrite(int operations) throws RocksDBException {
      if (batches.getAndIncrement() == blockAt) {
        entered.countDown();
        await(release);
        if (failWith != null) {
          throw failWith;
        }
      }
    }
  }

  /** Opens the database directly, as another tool would, to tamper with stored records. */
  private void tamper(RawAction action) throws RocksDBException {
    Path dir = dataDir.resolve(RocksDbLogStore.DIRECTORY);
    try (DBOptions options = new DBOptions();
        ColumnFamilyOptions cf = new ColumnFamilyOptions()) {
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      RocksDB db =
          RocksDB.open(
              options,
              dir.toString(),
              List.of(
                  new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cf),
                  new ColumnFamilyDescriptor(RocksDbLogStore.LOG_FAMILY, cf),
                  new ColumnFamilyDescriptor(RocksDbLogStore.META_FAMILY, cf)),
              handles);
      try {
        action.run(db, handles.get(1), handles.get(2));
      } finally {
        handles.forEach(ColumnFamilyHandle::close);
        db.close();
      }
    }
  }

  interface RawAction {
    void run(RocksDB db, ColumnFamilyHandle log, ColumnFamilyHandle meta) throws RocksDBException;
  }

  private void flipByte(byte[] family, byte[] key, int position) throws RocksDBException {
    tamper(
        (db, log, meta) -> {
          ColumnFamilyHandle cf = family == RocksDbLogStore.LOG_FAMILY ? log : meta;
          byte[] value = db.get(cf, key);
          assertThat(value).isNotNull();
          int at = position < 0 ? value.length + position : position;
          value[at] ^= 0x10;
          db.put(cf, key, value);
        });
  }

  /** Writes entries 1..10 in term 2 with commit 10, synced, and closes. */
  private void writeTen() {
    try (RocksDbLogStore s = open()) {
      s.load();
      s.write(new HardState(2, 1, 0), entries(1, 10, 2)).join();
      s.write(new HardState(2, 1, 10), List.of()).join();
    }
  }

  // ------------------------------------------------------------ round trips

  @Test
  void freshStoreIsEmpty() {
    try (RocksDbLogStore s = open()) {
      assertThat(s.load()).isEqualTo(PersistentState.EMPTY);
    }
    assertThat(reopenAndLoad()).isEqualTo(PersistentState.EMPTY);
  }

  @Test
  void writeTruncateResetCompactSurviveReopen() {
    Membership joint =
        new Membership(
            new JointConfig(MajorityConfig.of(1, 2, 4), MajorityConfig.of(1, 2, 3)), Set.of(7L));
    Entry config =
        new Entry(
            3, 7, EntryType.CONFIG, 0, io.tern.raft.core.tracker.MembershipCodec.encode(joint));
    try (RocksDbLogStore s = open()) {
      s.load();
      s.write(new HardState(1, 1, 0), entries(1, 5, 1));
      s.write(new HardState(1, 1, 2), List.of());
      // a new leader in term 3 replaces 4..5 with 4..6, then a config entry
      s.write(new HardState(3, 2, 2), entries(4, 6, 3));
      s.write(null, List.of(config));
      s.write(new HardState(3, 2, 6), List.of()).join();
    }
    List<Entry> expected = new ArrayList<>(entries(1, 3, 1));
    expected.addAll(entries(4, 6, 3));
    expected.add(config);
    assertThat(reopenAndLoad())
        .isEqualTo(new PersistentState(new HardState(3, 2, 6), null, expected));

    // compaction keeps the entries after the base; the base keeps the membership
    SnapshotMeta compactedAt = new SnapshotMeta(4, 3, VOTERS);
    try (RocksDbLogStore s = open()) {
      s.load();
      s.compact(compactedAt).join();
    }
    assertThat(reopenAndLoad())
        .isEqualTo(
            new PersistentState(new HardState(3, 2, 6), compactedAt, expected.subList(4, 7)));

    // a snapshot install resets the log, atomically with the hard state; the log goes on after it
    SnapshotMeta installed = new SnapshotMeta(20, 4, joint);
    try (RocksDbLogStore s = open()) {
      s.load();
      s.reset(new HardState(4, 0, 20), installed);
      s.write(new HardState(4, 0, 20), entries(21, 23, 4)).join();
    }
    assertThat(reopenAndLoad())
        .isEqualTo(new PersistentState(new HardState(4, 0, 20), installed, entries(21, 23, 4)));
  }

  @Test
  void aBatchThatOnlyMovesTheCommitIndexIsNotFsyncedButSurvivesWithTheNextSyncedOne() {
    try (RocksDbLogStore s = open()) {
      s.load();
      s.write(new HardState(1, 1, 0), entries(1, 3, 1)).join();
      assertThat(s.stats().fsyncs()).isEqualTo(1);
      s.write(new HardState(1, 1, 2), List.of()).join(); // commit only: no fsync
      assertThat(s.stats().fsyncs()).isEqualTo(1);
      assertThat(s.stats().batches()).isEqualTo(2);
      s.write(new HardState(1, 1, 3), entries(4, 4, 1)).join(); // entries: fsync
      assertThat(s.stats().fsyncs()).isEqualTo(2);
      s.write(new HardState(2, 0, 3), List.of()).join(); // a new term: fsync
      assertThat(s.stats().fsyncs()).isEqualTo(3);
      s.write(new HardState(2, 3, 3), List.of()).join(); // a vote: fsync
      assertThat(s.stats().fsyncs()).isEqualTo(4);
      s.write(new HardState(2, 3, 4), List.of()).join(); // commit only again
      assertThat(s.stats().fsyncs()).isEqualTo(4);
    }
    assertThat(reopenAndLoad())
        .isEqualTo(new PersistentState(new HardState(2, 3, 4), null, entries(1, 4, 1)));
  }

  @Test
  void compactionAtOrBelowTheBaseChangesNothingButCompletesInOrder() {
    List<Integer> order = Collections.synchronizedList(new ArrayList<>());
    try (RocksDbLogStore s = open()) {
      s.load();
      s.write(new HardState(1, 1, 6), entries(1, 6, 1)).thenRun(() -> order.add(0));
      s.compact(meta(4, 1)).thenRun(() -> order.add(1));
      s.compact(meta(2, 1)).thenRun(() -> order.add(2));
      s.compact(meta(4, 1)).thenRun(() -> order.add(3)).join();
    }
    assertThat(order).containsExactly(0, 1, 2, 3);
    assertThat(reopenAndLoad())
        .isEqualTo(new PersistentState(new HardState(1, 1, 6), meta(4, 1), entries(5, 6, 1)));
  }

  @Test
  void randomOperationsMatchAReferenceModelAcrossReopens() {
    SplittableRandom random = new SplittableRandom(20240611);
    LogModel model = new LogModel();
    RocksDbLogStore store = open();
    store.load();
    List<CompletableFuture<Void>> pending = new ArrayList<>();
    for (int step = 0; step < 1500; step++) {
      int dice = random.nextInt(100);
      HardState old = model.hardState;
      if (dice < 60) {
        long start =
            random.nextLong(Math.max(model.firstIndex(), old.commit() + 1), model.lastIndex() + 2);
        long term = old.term() + (random.nextInt(5) == 0 ? 1 : 0);
        List<Entry> es = entries(start, start + random.nextInt(6) - 1, term);
        long lastAfter = es.isEmpty() ? model.lastIndex() : start + es.size() - 1;
        HardState hs =
            random.nextInt(5) == 0
                ? null
                : new HardState(
                    term,
                    term == old.term() && old.vote() != 0 ? old.vote() : random.nextLong(4),
                    random.nextLong(old.commit(), lastAfter + 1));
        if (hs == null && term != old.term()) {
          hs = new HardState(term, 0, old.commit());
        }
        model.write(hs, es);
        pending.add(store.write(hs, es));
      } else if (dice < 70) {
        long index = Math.max(old.commit(), model.lastIndex()) + random.nextInt(6);
        HardState hs =
            new HardState(old.term(), old.vote(), random.nextLong(old.commit(), index + 1));
        SnapshotMeta base = meta(index, old.term());
        model.reset(hs, base);
        pending.add(store.reset(hs, base));
      } else if (dice < 85) {
        long low = Math.min(Math.max(0, model.firstIndex() - 2), old.commit());
        long index = random.nextLong(low, old.commit() + 1);
        long term = model.termAt(index);
        SnapshotMeta base = meta(index, Math.max(term, 0));
        model.compact(base);
        pending.add(store.compact(base));
      } else if (dice < 95) {
        HardState hs = new HardState(old.term(), old.vote(), model.lastIndex());
        model.write(hs, List.of());
        pending.add(store.write(hs, List.of()));
      } else {
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
        pending.clear();
        store.close();
        store = open();
        assertThat(store.load()).as("after step %d", step).isEqualTo(model.state());
      }
    }
    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
    store.close();
    assertThat(reopenAndLoad()).isEqualTo(model.state());
  }

  // ------------------------------------------------------------ group commit and durability

  @Test
  void writesQueuedDuringABatchShareOneFsyncAndCompleteInOrder() {
    BlockingHooks hooks = new BlockingHooks(0);
    List<Integer> order = Collections.synchronizedList(new ArrayList<>());
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    try (RocksDbLogStore s = RocksDbLogStore.open(dataDir, hooks);
        hooks) {
      s.load();
      futures.add(s.write(new HardState(1, 1, 0), List.of(entry(1, 1))));
      await(hooks.entered); // the writer holds batch 1 (write 0) before writing it
      for (int i = 1; i < 100; i++) {
        futures.add(s.write(new HardState(1, 1, i), List.of(entry(i + 1, 1))));
      }
      for (int i = 0; i < futures.size(); i++) {
        int n = i;
        futures.get(i).thenRun(() -> order.add(n));
      }
      assertThat(futures).noneMatch(CompletableFuture::isDone);
      hooks.release.countDown();
      futures.get(99).join();

      RocksDbLogStore.Stats stats = s.stats();
      assertThat(order).hasSize(100).isSorted();
      assertThat(stats.writes()).isEqualTo(100);
      assertThat(stats.batches()).isEqualTo(2); // one fsync for write 0, one for the other 99
      assertThat(stats.syncedOperations()).isEqualTo(100);
      assertThat(stats.entries()).isEqualTo(100);
      assertThat(stats.bytes()).isPositive();
    }
    assertThat(reopenAndLoad().entries()).isEqualTo(entries(1, 100, 1));
  }

  @Test
  void aBurstOfWritesNeedsFewerFsyncsThanWrites() {
    int n = 2000;
    List<Integer> order = Collections.synchronizedList(new ArrayList<>());
    CompletableFuture<Void> last = null;
    RocksDbLogStore.Stats stats;
    try (RocksDbLogStore s = open()) {
      s.load();
      for (int i = 0; i < n; i++) {
        int k = i;
        last = s.write(new HardState(1, 1, i), List.of(entry(i + 1, 1)));
        last.thenRun(() -> order.add(k));
      }
      last.join();
      stats = s.stats();
    }
    assertThat(order).hasSize(n).isSorted();
    assertThat(stats.writes()).isEqualTo(n);
    assertThat(stats.batches()).isLessThan(n);
    System.out.printf(
        "group commit: %d writes in %d fsyncs (%.1f writes per fsync, %d bytes)%n",
        n, stats.batches(), (double) n / stats.batches(), stats.bytes());
    assertThat(reopenAndLoad().entries()).hasSize(n);
  }

  @Test
  void aWriteIsAcknowledgedOnlyAfterItsBatchIsSynced() {
    List<String> events = Collections.synchronizedList(new ArrayList<>());
    List<CompletableFuture<Void>> futures = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger synced = new AtomicInteger();
    List<String> violations = Collections.synchronizedList(new ArrayList<>());
    RocksDbLogStore.Hooks hooks =
        new RocksDbLogStore.Hooks() {
          @Override
          public void beforeWrite(int operations) {
            events.add("write " + operations);
          }

          @Override
          public void afterSync(int operations) {
            // none of this batch may have been acknowledged before its sync returned
            int from = synced.get();
            for (int i = from; i < from + operations; i++) {
              if (futures.get(i).isDone()) {
                violations.add("operation " + i + " done before its batch was synced");
              }
            }
            synced.addAndGet(operations);
            events.add("synced " + synced.get());
          }
        };
    try (RocksDbLogStore s = RocksDbLogStore.open(dataDir, hooks)) {
      s.load();
      for (int i = 0; i < 300; i++) {
        int k = i;
        CompletableFuture<Void> f;
        synchronized (futures) {
          f = s.write(new HardState(1, 1, i), List.of(entry(i + 1, 1)));
          futures.add(f);
        }
        f.thenRun(() -> events.add("ack " + k));
      }
      futures.get(299).join();
    }
    assertThat(violations).isEmpty();
    int syncedSoFar = 0;
    int acks = 0;
    for (String ev : List.copyOf(events)) {
      if (ev.startsWith("synced ")) {
        syncedSoFar = Integer.parseInt(ev.substring(7));
      } else if (ev.startsWith("ack ")) {
        int op = Integer.parseInt(ev.substring(4));
        assertThat(op).as("ack before sync: %s", events).isLessThan(syncedSoFar);
        acks++;
      }
    }
    assertThat(acks).isEqualTo(300);
  }

  @Test
  void nothingIsAcknowledgedWhileItsBatchIsNotWritten() {
    BlockingHooks hooks = new BlockingHooks(1);
    try (RocksDbLogStore s = RocksDbLogStore.open(dataDir, hooks);
        hooks) {
      s.load();
      s.write(new HardState(1, 1, 0), entries(1, 3, 1)).join();
      CompletableFuture<Void> held = s.write(new HardState(1, 1, 3), entries(4, 4, 1));
      await(hooks.entered);
      CompletableFuture<Void> queued = s.write(null, entries(5, 5, 1));
      assertThat(held).isNotDone();
      assertThat(queued).isNotDone();
      hooks.release.countDown();
      queued.join();
      assertThat(held).isCompleted();
    }
  }

  @Test
  void writesNotAwaitedAreWrittenByClose() {
    LogModel model = new LogModel();
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    try (RocksDbLogStore s = open()) {
      s.load();
      for (int i = 0; i < 500; i++) {
        HardState hs = new HardState(1, 1, i);
        List<Entry> es = List.of(entry(i + 1, 1));
        model.write(hs, es);
        futures.add(s.write(hs, es));
      }
    }
    assertThat(futures).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
    assertThat(reopenAndLoad()).isEqualTo(model.state());
  }

  @Test
  void aCrashKeepsAPrefixOfTheOperationsIncludingEveryAcknowledgedOne() {
    List<LogModel> prefixes = new ArrayList<>();
    LogModel model = new LogModel();
    prefixes.add(model.copy());
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    RocksDbLogStore s = open();
    s.load();
    for (int i = 0; i < 500; i++) {
      HardState hs = new HardState(1 + i / 100, 1, i);
      List<Entry> es = List.of(entry(i + 1, 1 + i / 100));
      model.write(hs, es);
      prefixes.add(model.copy());
      futures.add(s.write(hs, es));
    }
    s.crash();
    int acknowledged = 0;
    while (acknowledged < futures.size() && futures.get(acknowledged).isDone()) {
      acknowledged++;
    }
    for (int i = acknowledged; i < futures.size(); i++) {
      assertThat(futures.get(i)).as("futures complete in order").isNotDone();
    }
    PersistentState recovered = reopenAndLoad();
    int kept = recovered.entries().size();
    assertThat(kept).isGreaterThanOrEqualTo(acknowledged);
    assertThat(recovered).isEqualTo(prefixes.get(kept).state());
  }

  // ------------------------------------------------------------ failures

  @Test
  void aFullDiskFailsTheBatchAndEverythingAfterItInOrder() {
    BlockingHooks hooks = new BlockingHooks(1);
    hooks.failWith =
        new RocksDBException(
            "IO error: No space left on device",
            new Status(Status.Code.IOError, Status.SubCode.NoSpace, "No space left on device"));
    List<Integer> failed = Collections.synchronizedList(new ArrayList<>());
    try (RocksDbLogStore s = RocksDbLogStore.open(dataDir, hooks);
        hooks) {
      s.load();
      s.write(new HardState(1, 1, 0), entries(1, 3, 1)).join();
      CompletableFuture<Void> w1 = s.write(new HardState(1, 1, 3), entries(4, 4, 1));
      await(hooks.entered);
      CompletableFuture<Void> w2 = s.write(null, entries(5, 5, 1));
      CompletableFuture<Void> w3 = s.write(null, entries(6, 6, 1));
      w1.exceptionally(e -> fail(failed, 1));
      w2.exceptionally(e -> fail(failed, 2));
      w3.exceptionally(e -> fail(failed, 3));
      hooks.release.countDown();

      assertThatThrownBy(w3::join)
          .isInstanceOf(CompletionException.class)
          .cause()
          .isExactlyInstanceOf(StorageException.class)
          .hasMessageContaining("disk is full");
      assertThat(failed).containsExactly(1, 2, 3);
      assertThat(w1).isCompletedExceptionally();
      assertThat(w2).isCompletedExceptionally();

      // nothing more is accepted, not even a valid write
      CompletableFuture<Void> later = s.write(null, entries(4, 4, 1));
      assertThat(later).isCompletedExceptionally();
      assertThatThrownBy(later::join).cause().isSameAs(causeOf(w1));
      assertThat(s.compact(meta(2, 1))).isCompletedExceptionally();
      assertThat(s.stats().batches()).isEqualTo(1);
    }
    PersistentState recovered = reopenAndLoad();
    assertThat(recovered.entries()).isEqualTo(entries(1, 3, 1));
    assertThat(recovered.hardState()).isEqualTo(new HardState(1, 1, 0));
  }

  private static Void fail(List<Integer> failed, int n) {
    failed.add(n);
    return null;
  }

  private static Throwable causeOf(CompletableFuture<Void> f) {
    try {
      f.join();
      throw new AssertionError("did not fail");
    } catch (CompletionException e) {
      return e.getCause();
    }
  }

  @Test
  void anIoErrorFailsTheStoreWithATypedException() {
    BlockingHooks hooks = new BlockingHooks(0);
    hooks.failWith =
        new RocksDBException(
            "IO error: fsync failed", new Status(Status.Code.IOError, Status.SubCode.None, "EIO"));
    try (RocksDbLogStore s = RocksDbLogStore.open(dataDir, hooks);
        hooks) {
      s.load();
      CompletableFuture<Void> w = s.write(new HardState(1, 1, 0), entries(1, 1, 1));
      hooks.release.countDown();
      Throwable cause = causeOf(w);
      assertThat(cause)
          .isExactlyInstanceOf(StorageException.class)
          .hasMessageContaining("write failed")
          .hasMessageContaining("IOError")
          .hasMessageNotContaining("disk is full");
      assertThat(s.write(null, entries(1, 1, 1))).isCompletedExceptionally();
    }
    assertThat(reopenAndLoad()).isEqualTo(PersistentState.EMPTY);
  }

  @Test
  void operationsThatBreakTheLogRulesThrowAndAreNotQueued() {
    try (RocksDbLogStore s = open()) {
      s.load();
      s.write(new HardState(2, 1, 3), entries(1, 5, 2)).join();
      assertThatThrownBy(() -> s.write(null, entries(7, 8, 2)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("gap");
      assertThatThrownBy(() -> s.write(null, entries(3, 4, 3)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("overwrites committed entry 3");
      assertThatThrownBy(() -> s.write(null, entries(6, 6, 1)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("term decreases");
      assertThatThrownBy(() -> s.write(new HardState(2, 3, 3), List.of()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("vote changes");
      assertThatThrownBy(() -> s.write(new HardState(2, 1, 2), List.of()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("commit decreases");
      assertThatThrownBy(() -> s.write(new HardState(2, 1, 9), List.of()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("beyond the last log index");
      assertThatThrownBy(() -> s.reset(null, meta(2, 2)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("below commit");
      assertThatThrownBy(() -> s.compact(meta(4, 2)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("beyond commit");
      assertThatThrownBy(() -> s.compact(meta(3, 1)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("the log holds 3@2");
      assertThat(s.stats().operations()).isEqualTo(1);
      // an uncommitted suffix may be replaced
      s.write(new HardState(3, 0, 3), entries(4, 4, 3)).join();
    }
    List<Entry> expected = new ArrayList<>(entries(1, 3, 2));
    expected.add(entry(4, 3));
    assertThat(reopenAndLoad())
        .isEqualTo(new PersistentState(new HardState(3, 0, 3), null, expected));
  }

  @Test
  void aClosedStoreRefusesOperationsAndLoadIsOnce() {
    RocksDbLogStore s = open();
    s.load();
    assertThatThrownBy(s::load).isInstanceOf(IllegalStateException.class);
    s.close();
    s.close();
    CompletableFuture<Void> w = s.write(new HardState(1, 0, 0), List.of());
    assertThat(causeOf(w)).isInstanceOf(StorageException.class).hasMessageContaining("closed");
  }

  @Test
  void aSecondOpenOfTheSameDirectoryIsRefused() {
    try (RocksDbLogStore s = open()) {
      assertThatThrownBy(this::open)
          .isExactlyInstanceOf(StorageException.class)
          .hasMessageContaining("open failed");
      assertThat(s.load()).isEqualTo(PersistentState.EMPTY); // the first one is unaffected
    }
  }

  // ------------------------------------------------------------ corruption

  @Test
  void aFlippedByteInAStoredEntryIsReportedWithItsIndex() throws Exception {
    writeTen();
    byte[] key = LogCodec.indexKey(5);
    // the data byte at the end, the type, the term, the request id
    for (int position : new int[] {-1, 1, 2, 5}) {
      flipByte(RocksDbLogStore.LOG_FAMILY, key, position);
      assertThatThrownBy(this::open)
          .as("byte %d flipped", position)
          .isInstanceOf(StorageCorruptionException.class)
          .hasMessageContaining("index 5")
          .hasMessageContaining("CRC32C mismatch");
      flipByte(RocksDbLogStore.LOG_FAMILY, key, position); // restore
    }
    assertThat(reopenAndLoad().entries()).isEqualTo(entries(1, 10, 2));
  }

  @Test
  void aValueUnderTheWrongKeyIsCorruption() throws Exception {
    writeTen();
    tamper((db, log, meta) -> db.put(log, LogCodec.indexKey(4), db.get(log, LogCodec.indexKey(5))));
    assertThatThrownBy(this::open)
        .isInstanceOf(StorageCorruptionException.class)
        .hasMessageContaining("index 4");
  }

  @Test
  void aMissingEntryIsAGapNotATruncation() throws Exception {
    writeTen();
    tamper((db, log, meta) -> db.delete(log, LogCodec.indexKey(5)));
    assertThatThrownBy(this::open)
        .isInstanceOf(StorageCorruptionException.class)
        .hasMessageContaining("entry 5 is missing");
  }

  @Test
  void aMissingCommittedTailIsCorruption() throws Exception {
    writeTen();
    tamper((db, log, meta) -> db.deleteRange(log, LogCodec.indexKey(8), LogCodec.indexKey(11)));
    assertThatThrownBy(this::open)
        .isInstanceOf(StorageCorruptionException.class)
        .hasMessageContaining("commit index 10")
        .hasMessageContaining("last stored log entry 7");
  }

  @Test
  void aCorruptHardStateOrBaseIsReported() throws Exception {
    try (RocksDbLogStore s = open()) {
      s.load();
      s.write(new HardState(2, 1, 5), entries(1, 6, 2));
      s.compact(meta(3, 2)).join();
    }
    flipByte(RocksDbLogStore.META_FAMILY, RocksDbLogStore.HARD_STATE_KEY, 10);
    assertThatThrownBy(this::open)
        .isInstanceOf(StorageCorruptionException.class)
        .hasMessageContaining("hard state record: CRC32C mismatch");
    flipByte(RocksDbLogStore.META_FAMILY, RocksDbLogStore.HARD_STATE_KEY, 10);
    flipByte(RocksDbLogStore.META_FAMILY, RocksDbLogStore.BASE_KEY, 3);
    assertThatThrownBy(this::open)
        .isInstanceOf(StorageCorruptionException.class)
        .hasMessageContaining("log base record: CRC32C mismatch");
  }
}
