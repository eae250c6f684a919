package io.tern.sim.disk;

import io.tern.raft.core.Entry;
import io.tern.raft.core.HardState;
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
 * <p>Writes queue up unsynced. An fsync takes a random latency in {@code [minFsync, maxFsync]};
 * when no fsync is running and writes are pending, the next fsync starts (in a separate event at
 * the same instant, so all writes submitted by one task share it) and covers every write pending at
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
 * <p>Writes are validated against the log as it will be once every accepted write is durable; a
 * write that breaks the log's or Raft's rules (non-contiguous entries, a gap, decreasing terms, a
 * changed vote within a term, a decreasing commit, a commit beyond the log, an overwritten
 * committed entry) throws {@link IllegalStateException}: that is a bug in the caller.
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
  private final ArrayDeque<Write> pending = new ArrayDeque<>();
  private List<Write> syncing = List.of();
  private boolean fsyncRunning;
  private boolean fsyncStartScheduled;
  private long epoch;
  private boolean failNextFsync;
  private IOException failure;

  private long writes;
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
    List<Write> unsynced = new ArrayList<>(syncing);
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

  /** Crashes the current incarnation (the interface allows close to lose unsynced writes). */
  @Override
  public void close() {
    crash();
  }

  // ------------------------------------------------------------ inspection

  /** The durable state, as a restarted node would load it. */
  public PersistentState durableState() {
    return new PersistentState(durable.hardState, durable.firstIndex, durable.entries);
  }

  public HardState durableHardState() {
    return durable.hardState;
  }

  /** Index of the last durable entry (firstIndex - 1 if none). */
  public long durableLastIndex() {
    return durable.lastIndex();
  }

  /** Writes accepted but not yet durable (pending or in the running fsync). */
  public int unsyncedWrites() {
    return pending.size() + syncing.size();
  }

  public boolean fsyncInFlight() {
    return fsyncRunning;
  }

  /** Writes accepted. */
  public long writes() {
    return writes;
  }

  /** Fsyncs completed (successfully or not). */
  public long fsyncs() {
    return fsyncs;
  }

  /** Writes lost to crashes. */
  public long writesLost() {
    return writesLost;
  }

  /** Writes through a superseded store, ignored. */
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
    Write w = new Write(hardState, List.copyOf(entries), new CompletableFuture<>());
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

  private String describe(Write w) {
    String hs = w.hardState == null ? "-" : w.hardState.toString();
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
    List<Write> done = syncing;
    syncing = List.of();
    fsyncRunning = false;
    fsyncs++;
    if (failNextFsync || failure != null) {
      failNextFsync = false;
      if (failure == null) {
        failure = new IOException("simulated fsync failure on node " + nodeId);
      }
      sim.trace("disk.fsync-fail", nodeId, done.size(), 0, null);
      List<Write> failed = new ArrayList<>(done);
      failed.addAll(pending);
      pending.clear();
      for (Write w : failed) {
        w.future.completeExceptionally(failure);
      }
      return;
    }
    for (Write w : done) {
      durable.apply(w);
    }
    sim.trace("disk.fsync-done", nodeId, done.size(), durable.lastIndex(), null);
    for (Write w : done) {
      if (startEpoch != epoch) {
        break; // a completion callback crashed the disk; the rest never complete
      }
      w.future.complete(null);
    }
    if (startEpoch == epoch) {
      maybeStartFsync();
    }
  }

  private record Write(HardState hardState, List<Entry> entries, CompletableFuture<Void> future) {}

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

  /** Hard state and a contiguous log from firstIndex. */
  private static final class LogImage {
    HardState hardState = HardState.EMPTY;
    long firstIndex = 1;
    ArrayList<Entry> entries = new ArrayList<>();

    LogImage copy() {
      LogImage c = new LogImage();
      c.hardState = hardState;
      c.firstIndex = firstIndex;
      c.entries = new ArrayList<>(entries);
      return c;
    }

    long lastIndex() {
      return firstIndex + entries.size() - 1;
    }

    /** Term of the entry at {@code index}, 0 for index 0, -1 if not held. */
    long termAt(long index) {
      if (index == 0) {
        return 0;
      }
      if (index < firstIndex || index > lastIndex()) {
        return -1;
      }
      return entries.get((int) (index - firstIndex)).term();
    }

    void validate(Write w, long nodeId) {
      List<Entry> es = w.entries;
      if (!es.isEmpty()) {
        long first = es.get(0).index();
        if (first < firstIndex || first < 1) {
          throw bug(nodeId, "write at index " + first + " before the log's first " + firstIndex);
        }
        if (first > lastIndex() + 1) {
          throw bug(nodeId, "write at index " + first + " leaves a gap after " + lastIndex());
        }
        long prevTerm = first == firstIndex && first > 1 ? 0 : termAt(first - 1);
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
        long lastAfter = es.isEmpty() ? lastIndex() : es.get(es.size() - 1).index();
        if (hs.commit() > lastAfter) {
          throw bug(nodeId, "commit " + hs.commit() + " beyond the last log index " + lastAfter);
        }
      } else if (!es.isEmpty() && es.get(es.size() - 1).index() < hardState.commit()) {
        throw bug(nodeId, "truncates the log below commit " + hardState.commit() + ": " + es);
      }
    }

    void apply(Write w) {
      if (w.hardState != null) {
        hardState = w.hardState;
      }
      List<Entry> es = w.entries;
      if (!es.isEmpty()) {
        int from = (int) (es.get(0).index() - firstIndex);
        if (from < entries.size()) {
          entries.subList(from, entries.size()).clear();
        }
        entries.addAll(es);
      }
    }

    private static IllegalStateException bug(long nodeId, String what) {
      return new IllegalStateException("invalid log write on node " + nodeId + ": " + what);
    }
  }
}
