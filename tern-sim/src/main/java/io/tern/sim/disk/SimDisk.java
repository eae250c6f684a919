package io.tern.sim.disk;

import io.tern.raft.core.Entry;
import io.tern.raft.core.HardState;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.node.LogStore;
import io.tern.raft.node.PersistentState;
import io.tern.sim.Simulation;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.random.RandomGenerator;

/**
 * A simulated disk holding one node's Raft log and hard state; it outlives the node's incarnations.
 *
 * <p>Writes, resets and compactions (together: operations; "writes" below means all three) queue up
 * unsynced in one FIFO queue. An fsync takes a random latency in {@code [minFsync, maxFsync]}; when
 * no fsync is running and writes are pending, the next fsync starts (in a separate event at the
 * same instant, so all writes submitted by one task share it) and covers every write pending at
 * that moment: group commit. When it completes, its writes become durable in submission order and
 * their futures complete in that order; then the next fsync starts if more writes are pending.
 *
 * <p>{@link #crash()} loses every write not yet fsynced, including those of an fsync in flight;
 * their futures never complete, as in a real crash (the process that waits for them is gone). With
 * {@link #setPartialPersistOnCrash(boolean)}, a crash instead keeps a random prefix of the unsynced
 * writes, as a disk that flushed part of its cache would.
 *
 * <p>Use {@link #open()} to get the {@link LogStore} of a new incarnation: it crashes whatever
 * incarnation used the disk before, and writes through a superseded store are ignored. The disk
 * itself is also a {@link LogStore} acting for the current incarnation.
 *
 * <p>The log begins after its base ({@link SnapshotMeta}; none until the first reset or
 * compaction): a reset discards every entry and moves the base (a snapshot was installed), a
 * compaction discards the entries through its base and keeps the rest. A compaction at or below the
 * current base changes nothing (but still completes in order). A lost compaction simply leaves the
 * old entries in place.
 *
 * <p>Operations are validated against the log as it will be once every accepted one is durable; one
 * that breaks the log's or Raft's rules (non-contiguous entries, a gap, a write before the log's
 * first index, decreasing terms, a changed vote within a term, a decreasing commit, a commit beyond
 * the log, an overwritten committed entry, a reset below the commit, a compaction beyond the commit
 * or the log or disagreeing with the term held there) throws {@link IllegalStateException}: that is
 * a bug in the caller.
 */
public final class SimDisk implements LogStore {
  /** Default fsync latency bounds, in nanoseconds. */
  public static final long DEFAULT_MIN_FSYNC = 100_000;

  public static final long DEFAULT_MAX_FSYNC = 1_000_000;

  private final Simulation sim;
  private final long nodeId;
  private final RandomGenerator random;
  private long minFsync = DEFAULT_MIN_FSYNC;
  private long maxFsync = DEFAULT_MAX_FSYNC;
  private boolean partialPersistOnCrash;

  /** What an fsync of everything accepted would leave; used to validate writes. */
  private LogImage logical = new LogImage();

  private final LogImage durable = new LogImage();
  private final ArrayDeque<Op> pending = new ArrayDeque<>();
  private List<Op> syncing = List.of();
  private boolean fsyncRunning;
  private boolean fsyncStartScheduled;
  private long epoch;
  private boolean failNextFsync;
  private IOException failure;

  private long writes;
  private long resets;
  private long compactions;
  private long fsyncs;
  private long writesLost;
  private long staleWrites;
  private long crashes;

  public SimDisk(Simulation sim, long nodeId) {
    this.sim = Objects.requireNonNull(sim, "sim");
    this.nodeId = nodeId;
    this.random = sim.forkRandom();
  }

  /** Fsync latency bounds in nanoseconds, inclusive. */
  public SimDisk fsyncLatency(long minNanos, long maxNanos) {
    if (minNanos < 0 || maxNanos < minNanos) {
      throw new IllegalArgumentException("bad fsync latency [" + minNanos + ", " + maxNanos + "]");
    }
    this.minFsync = minNanos;
    this.maxFsync = maxNanos;
    return this;
  }

  /** If set, a crash keeps a random prefix (possibly empty or all) of the unsynced writes. */
  public SimDisk setPartialPersistOnCrash(boolean enabled) {
    this.partialPersistOnCrash = enabled;
    return this;
  }

  public long nodeId() {
    return nodeId;
  }

  /**
   * Starts a new incarnation: crashes the previous one (its unsynced writes are lost) and returns
   * the store the new one should use.
   */
  public LogStore open() {
    loseUnsynced("disk.open");
    return new View(epoch);
  }

  /**
   * Crashes the current incarnation: unsynced writes are lost (or, with partial persistence, a
   * prefix of them is kept) and their futures never complete; an fsync in flight is abandoned. The
   * durable state and an injected failure survive.
   */
  public void crash() {
    crashes++;
    loseUnsynced("disk.crash");
  }

  private void loseUnsynced(String tag) {
    List<Op> unsynced = new ArrayList<>(syncing);
    unsynced.addAll(pending);
    int keep = 0;
    if (partialPersistOnCrash && !unsynced.isEmpty()) {
      keep = random.nextInt(unsynced.size() + 1);
      for (int i = 0; i < keep; i++) {
        durable.apply(unsynced.get(i));
      }
    }
    writesLost += unsynced.size() - keep;
    epoch++;
    pending.clear();
    syncing = List.of();
    fsyncRunning = false;
    fsyncStartScheduled = false;
    failure = null;
    logical = durable.copy();
    sim.trace(tag, nodeId, unsynced.size(), keep, null);
  }

  /**
   * Makes the next fsync fail: its writes and every later one complete exceptionally with an {@link
   * IOException}, and the durable state does not change, until the next crash or open.
   */
  public void failNextFsync() {
    failNextFsync = true;
  }

  // ------------------------------------------------------------ LogStore of the current
  // incarnation

  @Override
  public PersistentState load() {
    return durableState();
  }

  @Override
  public CompletableFuture<Void> write(HardState hardState, List<Entry> entries) {
    return write(epoch, hardState, entries);
  }

  @Override
  public CompletableFuture<Void> reset(HardState hardState, SnapshotMeta base) {
    return reset(epoch, hardState, base);
  }

  @Override
  public CompletableFuture<Void> compact(SnapshotMeta base) {
    return compact(epoch, base);
  }

  /** Crashes the current incarnation (the interface allows close to lose unsynced writes). */
  @Override
  public void close() {
    crash();
  }

  // ------------------------------------------------------------ inspection

  /** The durable state, as a restarted node would load it. */
  public PersistentState durableState() {
    return new PersistentState(durable.hardState, durable.base, durable.entries);
  }

  public HardState durableHardState() {
    return durable.hardState;
  }

  /** Where the durable log begins, or null if it was never reset or compacted. */
  public SnapshotMeta durableBase() {
    return durable.base;
  }

  /** Index of the first entry the durable log can hold (its base's index + 1). */
  public long durableFirstIndex() {
    return durable.firstIndex();
  }

  /** Index of the last durable entry (the base's index, or 0, if none). */
  public long durableLastIndex() {
    return durable.lastIndex();
  }

  /**
   * Operations (writes, resets, compactions) accepted but not yet durable (pending or in the
   * running fsync).
   */
  public int unsyncedWrites() {
    return pending.size() + syncing.size();
  }

  public boolean fsyncInFlight() {
    return fsyncRunning;
  }

  /** Writes accepted (not counting resets and compactions). */
  public long writes() {
    return writes;
  }

  /** Resets accepted. */
  public long resets() {
    return resets;
  }

  /** Compactions accepted (including those that change nothing). */
  public long compactions() {
    return compactions;
  }

  /** Fsyncs completed (successfully or not). */
  public long fsyncs() {
    return fsyncs;
  }

  /** Operations (writes, resets, compactions) lost to crashes. */
  public long writesLost() {
    return writesLost;
  }

  /** Operations through a superseded store, ignored. */
  public long staleWrites() {
    return staleWrites;
  }

  /** Calls to {@link #crash()} (including through {@link #close()}). */
  public long crashes() {
    return crashes;
  }

  // ------------------------------------------------------------ implementation

  private CompletableFuture<Void> write(long writeEpoch, HardState hardState, List<Entry> entries) {
    Objects.requireNonNull(entries, "entries");
    if (writeEpoch != epoch) {
      staleWrites++;
      sim.trace("disk.stale-write", nodeId, writeEpoch, epoch, null);
      return new CompletableFuture<>();
    }
    if (failure != null) {
      return CompletableFuture.failedFuture(failure);
    }
    Op w = new Op(Kind.WRITE, hardState, List.copyOf(entries), null, new CompletableFuture<>());
    logical.validate(w, nodeId);
    logical.apply(w);
    writes++;
    pending.addLast(w);
    sim.trace(
        "disk.write",
        nodeId,
        w.entries.isEmpty() ? 0 : w.entries.get(0).index(),
        w.entries.size(),
        sim.isTraceLogEnabled() ? describe(w) : null);
    maybeStartFsync();
    return w.future;
  }

  private CompletableFuture<Void> reset(long opEpoch, HardState hardState, SnapshotMeta base) {
    Objects.requireNonNull(base, "base");
    if (opEpoch != epoch) {
      staleWrites++;
      sim.trace("disk.stale-reset", nodeId, opEpoch, epoch, null);
      return new CompletableFuture<>();
    }
    if (failure != null) {
      return CompletableFuture.failedFuture(failure);
    }
    Op r = new Op(Kind.RESET, hardState, List.of(), base, new CompletableFuture<>());
    logical.validate(r, nodeId);
    logical.apply(r);
    resets++;
    pending.addLast(r);
    sim.trace(
        "disk.reset",
        nodeId,
        base.index(),
        base.term(),
        sim.isTraceLogEnabled() ? describe(r) : null);
    maybeStartFsync();
    return r.future;
  }

  private CompletableFuture<Void> compact(long opEpoch, SnapshotMeta base) {
    Objects.requireNonNull(base, "base");
    if (opEpoch != epoch) {
      staleWrites++;
      sim.trace("disk.stale-compact", nodeId, opEpoch, epoch, null);
      return new CompletableFuture<>();
    }
    if (failure != null) {
      return CompletableFuture.failedFuture(failure);
    }
    Op c = new Op(Kind.COMPACT, null, List.of(), base, new CompletableFuture<>());
    long firstBefore = logical.firstIndex();
    logical.validate(c, nodeId);
    logical.apply(c);
    compactions++;
    pending.addLast(c);
    sim.trace(
        "disk.compact",
        nodeId,
        base.index(),
        firstBefore,
        sim.isTraceLogEnabled() ? describe(c) : null);
    maybeStartFsync();
    return c.future;
  }

  private String describe(Op w) {
    String hs = w.hardState == null ? "-" : w.hardState.toString();
    if (w.kind == Kind.RESET) {
      return "n" + nodeId + " reset hs=" + hs + " base=" + w.base;
    }
    if (w.kind == Kind.COMPACT) {
      return "n" + nodeId + " compact base=" + w.base;
    }
    if (w.entries.isEmpty()) {
      return "n" + nodeId + " hs=" + hs;
    }
    Entry first = w.entries.get(0);
    Entry last = w.entries.get(w.entries.size() - 1);
    return "n"
        + nodeId
        + " hs="
        + hs
        + " entries="
        + first.index()
        + ".."
        + last.index()
        + "@"
        + last.term();
  }

  private void maybeStartFsync() {
    if (fsyncRunning || fsyncStartScheduled || pending.isEmpty()) {
      return;
    }
    fsyncStartScheduled = true;
    long startEpoch = epoch;
    sim.at(0, () -> startFsync(startEpoch));
  }

  private void startFsync(long startEpoch) {
    if (startEpoch != epoch) {
      return;
    }
    fsyncStartScheduled = false;
    if (fsyncRunning || pending.isEmpty()) {
      return;
    }
    fsyncRunning = true;
    syncing = new ArrayList<>(pending);
    pending.clear();
    long latency = maxFsync == minFsync ? minFsync : random.nextLong(minFsync, maxFsync + 1);
    sim.trace("disk.fsync-start", nodeId, syncing.size(), latency, null);
    sim.at(latency, () -> finishFsync(startEpoch));
  }

  private void finishFsync(long startEpoch) {
    if (startEpoch != epoch) {
      return; // abandoned by a crash
    }
    List<Op> done = syncing;
    syncing = List.of();
    fsyncRunning = false;
    fsyncs++;
    if (failNextFsync || failure != null) {
      failNextFsync = false;
      if (failure == null) {
        failure = new IOException("simulated fsync failure on node " + nodeId);
      }
      sim.trace("disk.fsync-fail", nodeId, done.size(), 0, null);
      List<Op> failed = new ArrayList<>(done);
      failed.addAll(pending);
      pending.clear();
      for (Op w : failed) {
        w.future.completeExceptionally(failure);
      }
      return;
    }
    for (Op w : done) {
      durable.apply(w);
    }
    sim.trace("disk.fsync-done", nodeId, done.size(), durable.lastIndex(), null);
    for (Op w : done) {
      if (startEpoch != epoch) {
        break; // a completion callback crashed the disk; the rest never complete
      }
      w.future.complete(null);
    }
    if (startEpoch == epoch) {
      maybeStartFsync();
    }
  }

  private enum Kind {
    WRITE,
    RESET,
    COMPACT
  }

  /**
   * One queued operation: a write ({@code hardState} may be null, {@code entries} may be empty), a
   * reset ({@code hardState} may be null, {@code base}) or a compaction ({@code base}).
   */
  private record Op(
      Kind kind,
      HardState hardState,
      List<Entry> entries,
      SnapshotMeta base,
      CompletableFuture<Void> future) {}

  /** A store bound to one incarnation. */
  private final class View implements LogStore {
    private final long viewEpoch;

    View(long viewEpoch) {
      this.viewEpoch = viewEpoch;
    }

    @Override
    public PersistentState load() {
      if (viewEpoch != epoch) {
        throw new IllegalStateException("load through a superseded store of node " + nodeId);
      }
      return durableState();
    }

    @Override
    public CompletableFuture<Void> write(HardState hardState, List<Entry> entries) {
      return SimDisk.this.write(viewEpoch, hardState, entries);
    }

    @Override
    public CompletableFuture<Void> reset(HardState hardState, SnapshotMeta base) {
      return SimDisk.this.reset(viewEpoch, hardState, base);
    }

    @Override
    public CompletableFuture<Void> compact(SnapshotMeta base) {
      return SimDisk.this.compact(viewEpoch, base);
    }

    @Override
    public void close() {
      if (viewEpoch == epoch) {
        crash();
      }
    }

    @Override
    public String toString() {
      return "SimDisk.View[" + nodeId + "#" + viewEpoch + (viewEpoch == epoch ? "]" : " dead]");
    }
  }

  /** Hard state, base and the contiguous log after the base. */
  private static final class LogImage {
    HardState hardState = HardState.EMPTY;

    /** Where the log begins; null: never reset or compacted (the log begins at index 1). */
    SnapshotMeta base;

    ArrayList<Entry> entries = new ArrayList<>();

    LogImage copy() {
      LogImage c = new LogImage();
      c.hardState = hardState;
      c.base = base;
      c.entries = new ArrayList<>(entries);
      return c;
    }

    long baseIndex() {
      return base == null ? 0 : base.index();
    }

    long firstIndex() {
      return baseIndex() + 1;
    }

    long lastIndex() {
      return baseIndex() + entries.size();
    }

    /**
     * Term of the entry at {@code index}: 0 for index 0, the base's term at its index, -1 if not
     * held.
     */
    long termAt(long index) {
      if (index == 0) {
        return 0;
      }
      if (base != null && index == base.index()) {
        return base.term();
      }
      if (index < firstIndex() || index > lastIndex()) {
        return -1;
      }
      return entries.get((int) (index - firstIndex())).term();
    }

    void validate(Op op, long nodeId) {
      switch (op.kind) {
        case WRITE -> validateWrite(op, nodeId);
        case RESET -> validateReset(op, nodeId);
        case COMPACT -> validateCompact(op, nodeId);
      }
    }

    private void validateWrite(Op w, long nodeId) {
      List<Entry> es = w.entries;
      if (!es.isEmpty()) {
        long first = es.get(0).index();
        if (first < firstIndex()) {
          throw bug(nodeId, "write at index " + first + " before the log's first " + firstIndex());
        }
        if (first > lastIndex() + 1) {
          throw bug(nodeId, "write at index " + first + " leaves a gap after " + lastIndex());
        }
        long prevTerm = termAt(first - 1);
        for (int i = 0; i < es.size(); i++) {
          Entry e = es.get(i);
          if (e.index() != first + i) {
            throw bug(nodeId, "entries not contiguous at " + i + ": " + es);
          }
          if (e.term() < prevTerm) {
            throw bug(nodeId, "log term decreases at " + e + " (previous term " + prevTerm + ")");
          }
          prevTerm = e.term();
        }
        long commit = hardState.commit();
        for (Entry e : es) {
          if (e.index() > commit || e.index() > lastIndex()) {
            break;
          }
          if (termAt(e.index()) != e.term()) {
            throw bug(
                nodeId,
                "overwrites committed entry "
                    + e.index()
                    + "@"
                    + termAt(e.index())
                    + " (commit "
                    + commit
                    + ") with "
                    + e);
          }
        }
      }
      HardState hs = w.hardState;
      if (hs != null) {
        long lastAfter = es.isEmpty() ? lastIndex() : es.get(es.size() - 1).index();
        validateHardState(hs, lastAfter, nodeId);
      } else if (!es.isEmpty() && es.get(es.size() - 1).index() < hardState.commit()) {
        throw bug(nodeId, "truncates the log below commit " + hardState.commit() + ": " + es);
      }
    }

    private void validateReset(Op r, long nodeId) {
      SnapshotMeta b = r.base;
      if (b.index() < hardState.commit()) {
        throw bug(nodeId, "reset to " + b + " below commit " + hardState.commit());
      }
      if (r.hardState != null) {
        validateHardState(r.hardState, b.index(), nodeId);
      }
    }

    private void validateCompact(Op c, long nodeId) {
      SnapshotMeta b = c.base;
      if (b.index() < firstIndex()) {
        return; // at or below the current base: changes nothing
      }
      if (b.index() > hardState.commit()) {
        throw bug(nodeId, "compaction to " + b + " beyond commit " + hardState.commit());
      }
      if (b.index() > lastIndex()) {
        throw bug(nodeId, "compaction to " + b + " beyond the last log index " + lastIndex());
      }
      if (termAt(b.index()) != b.term()) {
        throw bug(
            nodeId,
            "compaction to " + b + " but the log holds " + b.index() + "@" + termAt(b.index()));
      }
    }

    /** The rules for a new hard state; {@code lastAfter} is the last log index once it applies. */
    private void validateHardState(HardState hs, long lastAfter, long nodeId) {
      HardState old = hardState;
      if (hs.term() < old.term()) {
        throw bug(nodeId, "term decreases: " + old + " -> " + hs);
      }
      if (hs.term() == old.term() && old.vote() != 0 && hs.vote() != old.vote()) {
        throw bug(nodeId, "vote changes within term: " + old + " -> " + hs);
      }
      if (hs.commit() < old.commit()) {
        throw bug(nodeId, "commit decreases: " + old + " -> " + hs);
      }
      if (hs.commit() > lastAfter) {
        throw bug(nodeId, "commit " + hs.commit() + " beyond the last log index " + lastAfter);
      }
    }

    void apply(Op op) {
      if (op.hardState != null) {
        hardState = op.hardState;
      }
      switch (op.kind) {
        case WRITE -> {
          List<Entry> es = op.entries;
          if (!es.isEmpty()) {
            int from = (int) (es.get(0).index() - firstIndex());
            if (from < entries.size()) {
              entries.subList(from, entries.size()).clear();
            }
            entries.addAll(es);
          }
        }
        case RESET -> {
          entries.clear();
          base = op.base;
        }
        case COMPACT -> {
          long index = op.base.index();
          if (index >= firstIndex()) {
            entries.subList(0, (int) (index - baseIndex())).clear();
            base = op.base;
          }
        }
      }
    }

    private static IllegalStateException bug(long nodeId, String what) {
      return new IllegalStateException("invalid log write on node " + nodeId + ": " + what);
    }
  }
}
