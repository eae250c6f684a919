package io.tern.sim.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.HardState;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.tracker.Membership;
import io.tern.raft.node.LogStore;
import io.tern.raft.node.PersistentState;
import io.tern.sim.Simulation;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class SimDiskTest {
  private static final long MIN_FSYNC = 100_000;
  private static final long MAX_FSYNC = 200_000;

  private final Simulation sim = new Simulation(1);
  private final SimDisk disk = new SimDisk(sim, 1).fsyncLatency(MIN_FSYNC, MAX_FSYNC);

  private static Entry e(long term, long index) {
    return new Entry(term, index, EntryType.NORMAL, index * 10, new byte[] {(byte) index});
  }

  private static List<Entry> range(long term, long from, long to) {
    return LongStream.rangeClosed(from, to).mapToObj(i -> e(term, i)).toList();
  }

  private static SnapshotMeta base(long index, long term) {
    return new SnapshotMeta(index, term, Membership.ofVoters(1, 2, 3));
  }

  private static List<Long> terms(PersistentState s) {
    return s.entries().stream().map(Entry::term).toList();
  }

  @Test
  void writesSubmittedTogetherShareOneFsyncAndCompleteInOrder() {
    LogStore store = disk.open();
    assertThat(store.load()).isEqualTo(PersistentState.EMPTY);
    List<Integer> completed = new ArrayList<>();
    List<Long> durableAtCompletion = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      int n = i;
      store
          .write(new HardState(1, 1, 0), List.of(e(1, i)))
          .thenRun(
              () -> {
                completed.add(n);
                durableAtCompletion.add(disk.durableLastIndex());
              });
    }
    assertThat(disk.unsyncedWrites()).isEqualTo(3);

    sim.runUntil(MIN_FSYNC - 1);
    assertThat(completed).isEmpty();
    assertThat(disk.durableLastIndex()).isZero();
    assertThat(disk.fsyncInFlight()).isTrue();

    sim.runFor(MAX_FSYNC);
    assertThat(completed).containsExactly(1, 2, 3);
    assertThat(durableAtCompletion).containsOnly(3L);
    assertThat(disk.fsyncs()).isEqualTo(1);
    assertThat(disk.writes()).isEqualTo(3);
    assertThat(disk.load().entries()).isEqualTo(range(1, 1, 3));
    assertThat(disk.durableHardState()).isEqualTo(new HardState(1, 1, 0));
  }

  @Test
  void writesDuringAnFsyncGoIntoTheNextOne() {
    LogStore store = disk.open();
    List<String> completed = new ArrayList<>();
    store.write(null, List.of(e(1, 1))).thenRun(() -> completed.add("w1@" + fsyncs()));
    sim.runFor(1); // the fsync has started
    store.write(null, List.of(e(1, 2))).thenRun(() -> completed.add("w2@" + fsyncs()));
    store.write(null, List.of(e(1, 3))).thenRun(() -> completed.add("w3@" + fsyncs()));

    sim.runFor(10 * MAX_FSYNC);

    assertThat(completed).containsExactly("w1@1", "w2@2", "w3@2");
    assertThat(disk.fsyncs()).isEqualTo(2);
  }

  private long fsyncs() {
    return disk.fsyncs();
  }

  @Test
  void writeFromACompletionCallbackStartsANewFsync() {
    LogStore store = disk.open();
    CompletableFuture<Void> second = new CompletableFuture<>();
    store
        .write(new HardState(1, 0, 0), List.of())
        .thenRun(() -> store.write(null, List.of(e(1, 1))).thenRun(() -> second.complete(null)));

    sim.runFor(10 * MAX_FSYNC);

    assertThat(second).isDone();
    assertThat(disk.fsyncs()).isEqualTo(2);
    assertThat(disk.durableLastIndex()).isEqualTo(1);
  }

  @Test
  void crashLosesUnsyncedWritesAndKeepsSyncedOnes() {
    LogStore store = disk.open();
    CompletableFuture<Void> synced = store.write(new HardState(1, 1, 0), range(1, 1, 2));
    sim.runFor(MAX_FSYNC + 1);
    assertThat(synced).isDone();

    CompletableFuture<Void> inFlight = store.write(new HardState(2, 0, 1), range(2, 3, 4));
    sim.runFor(1);
    assertThat(disk.fsyncInFlight()).isTrue();
    CompletableFuture<Void> queued = store.write(null, List.of(e(2, 5)));

    disk.crash();
    sim.runFor(100 * MAX_FSYNC);

    assertThat(inFlight).isNotDone();
    assertThat(queued).isNotDone();
    assertThat(disk.writesLost()).isEqualTo(2);
    assertThat(disk.crashes()).isEqualTo(1);
    PersistentState recovered = disk.open().load();
    assertThat(recovered.hardState()).isEqualTo(new HardState(1, 1, 0));
    assertThat(recovered.entries()).isEqualTo(range(1, 1, 2));
  }

  @Test
  void closeLosesUnsyncedWritesLikeACrash() {
    LogStore store = disk.open();
    CompletableFuture<Void> w = store.write(new HardState(1, 1, 0), range(1, 1, 1));
    store.close();
    sim.runFor(100 * MAX_FSYNC);
    assertThat(w).isNotDone();
    assertThat(disk.load()).isEqualTo(PersistentState.EMPTY);
  }

  @Test
  void afterACrashTheLogIsValidatedAgainstWhatSurvived() {
    LogStore store = disk.open();
    store.write(null, range(1, 1, 2));
    sim.runFor(MAX_FSYNC + 1);
    store.write(null, range(1, 3, 4));
    disk.crash();

    LogStore next = disk.open();
    assertThatThrownBy(() -> next.write(null, List.of(e(1, 5))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("gap");
    next.write(null, List.of(e(1, 3)));
    sim.runFor(MAX_FSYNC + 1);
    assertThat(disk.durableLastIndex()).isEqualTo(3);
  }

  @Test
  void supersededStoreCanNoLongerWrite() {
    LogStore first = disk.open();
    LogStore second = disk.open();

    CompletableFuture<Void> stale = first.write(new HardState(5, 5, 0), List.of());
    sim.runFor(100 * MAX_FSYNC);

    assertThat(stale).isNotDone();
    assertThat(disk.staleWrites()).isEqualTo(1);
    assertThat(second.load().hardState()).isEqualTo(HardState.EMPTY);
    assertThatThrownBy(first::load).isInstanceOf(IllegalStateException.class);
    first.close(); // closing a dead store must not crash the live incarnation
    CompletableFuture<Void> live = second.write(new HardState(1, 0, 0), List.of());
    sim.runFor(MAX_FSYNC + 1);
    assertThat(live).isDone();
  }

  @Test
  void overwritingASuffixTruncatesTheStoredLog() {
    LogStore store = disk.open();
    store.write(new HardState(1, 1, 0), range(1, 1, 5));
    sim.runFor(MAX_FSYNC + 1);

    store.write(new HardState(2, 2, 2), range(2, 3, 4));
    sim.runFor(MAX_FSYNC + 1);

    PersistentState s = disk.load();
    assertThat(s.entries()).extracting(Entry::index).containsExactly(1L, 2L, 3L, 4L);
    assertThat(terms(s)).containsExactly(1L, 1L, 2L, 2L);
    assertThat(s.hardState()).isEqualTo(new HardState(2, 2, 2));
  }

  @Test
  void writesBecomeDurableInSubmissionOrderWithinOneFsync() {
    LogStore store = disk.open();
    store.write(new HardState(1, 1, 0), range(1, 1, 5));
    store.write(new HardState(2, 0, 0), range(2, 2, 2)); // truncates 3..5
    store.write(null, range(2, 3, 3));

    sim.runFor(MAX_FSYNC + 1);

    assertThat(disk.fsyncs()).isEqualTo(1);
    PersistentState s = disk.load();
    assertThat(terms(s)).containsExactly(1L, 2L, 2L);
    assertThat(s.hardState())
        .as("a null hard state keeps the previous one")
        .isEqualTo(new HardState(2, 0, 0));
  }

  @Test
  void rejectsWritesThatBreakTheLog() {
    LogStore store = disk.open();
    store.write(new HardState(2, 1, 2), List.of(e(1, 1), e(2, 2), e(2, 3)));

    assertThatThrownBy(() -> store.write(null, List.of(e(2, 5))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("gap");
    assertThatThrownBy(() -> store.write(null, List.of(e(2, 4), e(2, 6))))
        .hasMessageContaining("not contiguous");
    assertThatThrownBy(() -> store.write(null, List.of(e(1, 4))))
        .hasMessageContaining("log term decreases");
    assertThatThrownBy(() -> store.write(null, List.of(e(3, 2))))
        .hasMessageContaining("overwrites committed entry 2@2");
    assertThatThrownBy(() -> store.write(new HardState(1, 1, 2), List.of()))
        .hasMessageContaining("term decreases");
    assertThatThrownBy(() -> store.write(new HardState(2, 3, 2), List.of()))
        .hasMessageContaining("vote changes within term");
    assertThatThrownBy(() -> store.write(new HardState(2, 1, 1), List.of()))
        .hasMessageContaining("commit decreases");
    assertThatThrownBy(() -> store.write(new HardState(2, 1, 4), List.of()))
        .hasMessageContaining("beyond the last log index");
    assertThatThrownBy(() -> store.write(new HardState(2, 1, 2), List.of(e(0, 0))))
        .hasMessageContaining("before the log's first");
    assertThat(disk.writes()).as("rejected writes are not queued").isEqualTo(1);

    // Allowed: rewriting committed entries unchanged, overwriting uncommitted ones, a new vote
    // in a new term, and a vote cast after none in the same term.
    store.write(null, List.of(e(2, 2), e(3, 3)));
    store.write(new HardState(3, 0, 2), List.of());
    store.write(new HardState(3, 2, 3), List.of());
    sim.runFor(MAX_FSYNC + 1);
    assertThat(terms(disk.load())).containsExactly(1L, 2L, 3L);
    assertThat(disk.durableHardState()).isEqualTo(new HardState(3, 2, 3));
  }

  @Test
  void partialPersistOnCrashKeepsAPrefixOfTheUnsyncedWrites() {
    List<Long> survivors = new ArrayList<>();
    for (long seed = 0; seed < 40; seed++) {
      Simulation s = new Simulation(seed);
      SimDisk d = new SimDisk(s, 1).setPartialPersistOnCrash(true);
      LogStore store = d.open();
      for (int i = 1; i <= 4; i++) {
        store.write(new HardState(i, 0, 0), List.of(e(1, i)));
      }
      d.crash();
      PersistentState p = d.load();
      long kept = p.entries().size();
      assertThat(p.entries()).isEqualTo(range(1, 1, kept));
      assertThat(p.hardState().term()).isEqualTo(kept);
      survivors.add(kept);
    }
    assertThat(survivors).contains(0L, 4L).anyMatch(k -> k > 0 && k < 4);
  }

  @Test
  void failedFsyncFailsItsWritesAndEveryLaterOne() {
    LogStore store = disk.open();
    store.write(null, List.of(e(1, 1)));
    sim.runFor(MAX_FSYNC + 1);

    disk.failNextFsync();
    CompletableFuture<Void> w2 = store.write(null, List.of(e(1, 2)));
    sim.runFor(MAX_FSYNC + 1);
    CompletableFuture<Void> w3 = store.write(null, List.of(e(1, 3)));

    assertThat(w2).isCompletedExceptionally();
    assertThat(w3).isCompletedExceptionally();
    assertThatThrownBy(w3::join).hasCauseInstanceOf(IOException.class);
    assertThat(disk.durableLastIndex()).isEqualTo(1);

    LogStore next = disk.open();
    CompletableFuture<Void> w = next.write(null, List.of(e(1, 2)));
    sim.runFor(MAX_FSYNC + 1);
    assertThat(w).isCompleted();
  }

  @Test
  void fsyncLatencyIsRandomWithinBoundsAndDeterministic() {
    assertThat(fsyncTimes(5)).isEqualTo(fsyncTimes(5)).isNotEqualTo(fsyncTimes(6));
    assertThat(fsyncTimes(5)).allSatisfy(t -> assertThat(t).isBetween(MIN_FSYNC, MAX_FSYNC));
  }

  @Test
  void compactionDiscardsEntriesThroughItsBaseAndKeepsTheRest() {
    LogStore store = disk.open();
    store.write(new HardState(2, 1, 4), List.of(e(1, 1), e(1, 2), e(2, 3), e(2, 4), e(2, 5)));
    CompletableFuture<Void> compacted = store.compact(base(3, 2));
    assertThat(disk.durableBase()).as("not durable before the fsync").isNull();
    sim.runFor(MAX_FSYNC + 1);

    assertThat(compacted).isCompleted();
    assertThat(disk.fsyncs()).isEqualTo(1);
    assertThat(disk.compactions()).isEqualTo(1);
    assertThat(disk.durableBase()).isEqualTo(base(3, 2));
    assertThat(disk.durableFirstIndex()).isEqualTo(4);
    assertThat(disk.durableLastIndex()).isEqualTo(5);
    PersistentState loaded = disk.open().load();
    assertThat(loaded.base()).isEqualTo(base(3, 2));
    assertThat(loaded.firstIndex()).isEqualTo(4);
    assertThat(loaded.entries()).extracting(Entry::index).containsExactly(4L, 5L);
    assertThat(loaded.hardState()).isEqualTo(new HardState(2, 1, 4));
  }

  @Test
  void afterACompactionTheBaseTermValidatesTheNextEntries() {
    LogStore store = disk.open();
    store.write(new HardState(2, 1, 3), List.of(e(1, 1), e(2, 2), e(2, 3)));
    store.compact(base(3, 2));

    assertThatThrownBy(() -> store.write(null, List.of(e(2, 3))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("before the log's first 4");
    assertThatThrownBy(() -> store.write(null, List.of(e(1, 4))))
        .hasMessageContaining("log term decreases")
        .hasMessageContaining("previous term 2");
    assertThatThrownBy(() -> store.write(null, List.of(e(2, 5)))).hasMessageContaining("gap");

    store.write(new HardState(3, 1, 4), List.of(e(3, 4)));
    sim.runFor(MAX_FSYNC + 1);
    PersistentState s = disk.load();
    assertThat(s.base()).isEqualTo(base(3, 2));
    assertThat(s.entries()).containsExactly(e(3, 4));
  }

  @Test
  void compactionAtOrBelowTheBaseChangesNothingButCompletesInOrder() {
    LogStore store = disk.open();
    store.write(new HardState(1, 1, 4), range(1, 1, 5));
    store.compact(base(3, 1));
    sim.runFor(MAX_FSYNC + 1);

    List<String> completed = new ArrayList<>();
    store.write(null, List.of(e(1, 6))).thenRun(() -> completed.add("write"));
    store.compact(base(3, 1)).thenRun(() -> completed.add("same base"));
    store.compact(base(2, 7)).thenRun(() -> completed.add("below base"));
    store.compact(base(0, 0)).thenRun(() -> completed.add("index 0"));
    sim.runFor(MAX_FSYNC + 1);

    assertThat(completed).containsExactly("write", "same base", "below base", "index 0");
    PersistentState s = disk.load();
    assertThat(s.base()).isEqualTo(base(3, 1));
    assertThat(s.entries()).isEqualTo(range(1, 4, 6));
  }

  @Test
  void rejectsCompactionsThatBreakTheLog() {
    LogStore store = disk.open();
    store.write(new HardState(2, 1, 3), List.of(e(1, 1), e(1, 2), e(2, 3), e(2, 4)));

    assertThatThrownBy(() -> store.compact(base(4, 2)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("beyond commit 3");
    assertThatThrownBy(() -> store.compact(base(3, 1)))
        .hasMessageContaining("but the log holds 3@2");
    assertThat(disk.compactions()).as("rejected compactions are not queued").isZero();
    assertThat(disk.unsyncedWrites()).isEqualTo(1);

    // A compaction may follow, in the same fsync, the write that commits its base.
    store.write(new HardState(2, 1, 4), List.of());
    store.compact(base(4, 2));
    sim.runFor(MAX_FSYNC + 1);
    assertThat(disk.durableBase()).isEqualTo(base(4, 2));
    assertThat(disk.load().entries()).isEmpty();
    assertThat(disk.durableLastIndex()).isEqualTo(4);
  }

  @Test
  void resetDiscardsEveryEntryAndLaterWritesAppendAfterTheBase() {
    LogStore store = disk.open();
    store.write(new HardState(1, 1, 2), range(1, 1, 4));
    sim.runFor(MAX_FSYNC + 1);

    CompletableFuture<Void> reset = store.reset(new HardState(3, 0, 10), base(10, 2));
    CompletableFuture<Void> after = store.write(null, range(3, 11, 12));
    sim.runFor(MAX_FSYNC + 1);

    assertThat(reset).isCompleted();
    assertThat(after).isCompleted();
    assertThat(disk.resets()).isEqualTo(1);
    PersistentState s = disk.open().load();
    assertThat(s.hardState()).isEqualTo(new HardState(3, 0, 10));
    assertThat(s.base()).isEqualTo(base(10, 2));
    assertThat(s.entries()).isEqualTo(range(3, 11, 12));
    assertThat(disk.durableLastIndex()).isEqualTo(12);
  }

  @Test
  void resetWithoutAHardStateKeepsTheOldOne() {
    LogStore store = disk.open();
    store.write(new HardState(2, 1, 2), List.of(e(1, 1), e(2, 2), e(2, 3), e(2, 4), e(2, 5)));
    store.compact(base(2, 2));
    // A snapshot at 3, below the last entry but at or above the commit, replaces the whole log.
    store.reset(null, base(3, 2));
    sim.runFor(MAX_FSYNC + 1);

    PersistentState s = disk.load();
    assertThat(s.hardState()).isEqualTo(new HardState(2, 1, 2));
    assertThat(s.base()).isEqualTo(base(3, 2));
    assertThat(s.entries()).isEmpty();
    assertThatThrownBy(() -> store.write(null, List.of(e(2, 5)))).hasMessageContaining("gap");
  }

  @Test
  void rejectsResetsThatBreakTheLog() {
    LogStore store = disk.open();
    store.write(new HardState(2, 1, 4), range(2, 1, 5));

    assertThatThrownBy(() -> store.reset(null, base(3, 2)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("below commit 4");
    assertThatThrownBy(() -> store.reset(new HardState(2, 1, 9), base(8, 2)))
        .hasMessageContaining("commit 9 beyond the last log index 8");
    assertThatThrownBy(() -> store.reset(new HardState(1, 1, 8), base(8, 1)))
        .hasMessageContaining("term decreases");
    assertThatThrownBy(() -> store.reset(new HardState(2, 3, 8), base(8, 2)))
        .hasMessageContaining("vote changes within term");
    assertThatThrownBy(() -> store.reset(new HardState(2, 1, 3), base(8, 2)))
        .hasMessageContaining("commit decreases");
    assertThat(disk.resets()).as("rejected resets are not queued").isZero();

    // The commit may equal the base's index.
    store.reset(new HardState(3, 0, 8), base(8, 2));
    sim.runFor(MAX_FSYNC + 1);
    assertThat(disk.durableBase()).isEqualTo(base(8, 2));
    assertThat(disk.durableHardState()).isEqualTo(new HardState(3, 0, 8));
  }

  @Test
  void operationsOfDifferentKindsCompleteInSubmissionOrder() {
    LogStore store = disk.open();
    List<String> completed = new ArrayList<>();
    store.write(new HardState(1, 1, 3), range(1, 1, 3)).thenRun(() -> completed.add("write"));
    store.compact(base(2, 1)).thenRun(() -> completed.add("compact"));
    store.reset(new HardState(2, 0, 7), base(7, 2)).thenRun(() -> completed.add("reset"));
    store.write(null, List.of(e(2, 8))).thenRun(() -> completed.add("write after"));
    assertThat(disk.unsyncedWrites()).isEqualTo(4);

    sim.runFor(MAX_FSYNC + 1);

    assertThat(completed).containsExactly("write", "compact", "reset", "write after");
    assertThat(disk.fsyncs()).as("one fsync covers every kind").isEqualTo(1);
    assertThat(disk.load().base()).isEqualTo(base(7, 2));
    assertThat(disk.load().entries()).containsExactly(e(2, 8));
  }

  @Test
  void crashLosesAnUnsyncedResetAndCompaction() {
    LogStore store = disk.open();
    store.write(new HardState(1, 1, 3), range(1, 1, 3));
    sim.runFor(MAX_FSYNC + 1);

    CompletableFuture<Void> compact = store.compact(base(2, 1));
    CompletableFuture<Void> reset = store.reset(new HardState(2, 0, 9), base(9, 2));
    disk.crash();
    sim.runFor(100 * MAX_FSYNC);

    assertThat(compact).isNotDone();
    assertThat(reset).isNotDone();
    assertThat(disk.writesLost()).isEqualTo(2);
    LogStore next = disk.open();
    PersistentState s = next.load();
    assertThat(s.base()).as("a lost compaction leaves the old entries in place").isNull();
    assertThat(s.entries()).isEqualTo(range(1, 1, 3));
    assertThat(s.hardState()).isEqualTo(new HardState(1, 1, 3));

    // Validated against what survived: the reset's base is gone.
    assertThatThrownBy(() -> next.write(null, List.of(e(2, 10)))).hasMessageContaining("gap");
    next.write(null, List.of(e(2, 4)));
    sim.runFor(MAX_FSYNC + 1);
    assertThat(disk.durableLastIndex()).isEqualTo(4);
  }

  @Test
  void partialPersistOnCrashKeepsAPrefixOfResetsAndCompactionsToo() {
    // The durable state after each prefix of the operations below.
    List<PersistentState> afterPrefix =
        List.of(
            PersistentState.EMPTY,
            new PersistentState(new HardState(1, 1, 4), null, range(1, 1, 4)),
            new PersistentState(new HardState(1, 1, 4), base(2, 1), range(1, 3, 4)),
            new PersistentState(new HardState(1, 1, 4), base(2, 1), range(1, 3, 5)),
            new PersistentState(new HardState(2, 0, 9), base(9, 2), List.of()),
            new PersistentState(new HardState(2, 0, 9), base(9, 2), List.of(e(2, 10))));
    Set<Integer> kept = new HashSet<>();
    for (long seed = 0; seed < 60; seed++) {
      Simulation s = new Simulation(seed);
      SimDisk d = new SimDisk(s, 1).setPartialPersistOnCrash(true);
      LogStore store = d.open();
      store.write(new HardState(1, 1, 4), range(1, 1, 4));
      store.compact(base(2, 1));
      store.write(null, List.of(e(1, 5)));
      store.reset(new HardState(2, 0, 9), base(9, 2));
      store.write(null, List.of(e(2, 10)));
      d.crash();

      PersistentState p = d.load();
      assertThat(afterPrefix).as("seed %d", seed).contains(p);
      kept.add(afterPrefix.indexOf(p));
      assertThat(d.writesLost()).isEqualTo(5 - afterPrefix.indexOf(p));
    }
    assertThat(kept).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5);
  }

  @Test
  void supersededStoreCanNeitherResetNorCompact() {
    LogStore first = disk.open();
    first.write(new HardState(1, 1, 2), range(1, 1, 2));
    sim.runFor(MAX_FSYNC + 1);
    LogStore second = disk.open();

    CompletableFuture<Void> reset = first.reset(null, base(5, 1));
    CompletableFuture<Void> compact = first.compact(base(1, 1));
    sim.runFor(100 * MAX_FSYNC);

    assertThat(reset).isNotDone();
    assertThat(compact).isNotDone();
    assertThat(disk.staleWrites()).isEqualTo(2);
    assertThat(second.load().base()).isNull();
    assertThat(second.load().entries()).isEqualTo(range(1, 1, 2));
  }

  @Test
  void afterAFailedFsyncResetsAndCompactionsFail() {
    LogStore store = disk.open();
    store.write(new HardState(1, 1, 2), range(1, 1, 2));
    disk.failNextFsync();
    sim.runFor(MAX_FSYNC + 1);

    assertThat(store.compact(base(1, 1))).isCompletedExceptionally();
    assertThat(store.reset(null, base(5, 1))).isCompletedExceptionally();
    assertThat(disk.durableState()).isEqualTo(PersistentState.EMPTY);
  }

  private static List<Long> fsyncTimes(long seed) {
    Simulation s = new Simulation(seed);
    SimDisk d = new SimDisk(s, 1).fsyncLatency(MIN_FSYNC, MAX_FSYNC);
    LogStore store = d.open();
    List<Long> latencies = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      long start = s.now();
      store.write(null, List.of(e(1, i))).thenRun(() -> latencies.add(s.now() - start));
      s.runFor(10 * MAX_FSYNC);
    }
    return latencies;
  }
}
