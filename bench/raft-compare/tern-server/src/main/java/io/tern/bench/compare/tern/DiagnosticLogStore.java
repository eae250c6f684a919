package io.tern.bench.compare.tern;

import io.tern.raft.core.Entry;
import io.tern.raft.core.HardState;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.node.LogStore;
import io.tern.raft.node.PersistentState;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Profiling aid for the comparison, off by default (TernServer {@code --diag-writes true}): wraps
 * the real {@link LogStore} and measures each write from submission to durability, separately for
 * writes carrying entries and for writes carrying only a hard state whose term and vote did not
 * change (a commit-index update).
 *
 * <p>With {@code lazyCommit} (TernServer {@code --experiment-lazy-commit true}) it also runs an
 * experiment that is NOT Tern's behaviour: such commit-only writes are not submitted at all; their
 * hard state rides along with the next write that has entries, and the caller gets the future of
 * the latest submitted operation (so completions stay in submission order). This is what etcd's
 * raft does ({@code MustSync} is false when only the commit index changed): the commit index can be
 * recovered, so it needs no fsync of its own. It shows how much of the latency the extra fsyncs
 * cost.
 */
final class DiagnosticLogStore implements LogStore {
  private static final int BUCKETS = 40;

  private final LogStore delegate;
  private final boolean lazyCommit;
  private final Timing entryWrites = new Timing();
  private final Timing commitOnlyWrites = new Timing();
  private final LongAdder skipped = new LongAdder();

  // Loop thread only (RaftNode calls the store from its loop).
  private HardState submitted;
  private HardState deferred;
  private CompletableFuture<Void> last = CompletableFuture.completedFuture(null);

  DiagnosticLogStore(LogStore delegate, boolean lazyCommit) {
    this.delegate = delegate;
    this.lazyCommit = lazyCommit;
  }

  @Override
  public PersistentState load() {
    PersistentState s = delegate.load();
    submitted = s.hardState();
    return s;
  }

  @Override
  public CompletableFuture<Void> write(HardState hardState, List<Entry> entries) {
    boolean commitOnly =
        entries.isEmpty()
            && hardState != null
            && submitted != null
            && hardState.term() == submitted.term()
            && hardState.vote() == submitted.vote();
    if (commitOnly && lazyCommit) {
      deferred = hardState;
      skipped.increment();
      return last;
    }
    if (hardState == null && deferred != null) {
      hardState = deferred;
    }
    deferred = null;
    if (hardState != null) {
      submitted = hardState;
    }
    long start = System.nanoTime();
    Timing t = commitOnly ? commitOnlyWrites : entryWrites;
    CompletableFuture<Void> f = delegate.write(hardState, entries);
    f.whenComplete((ok, err) -> t.record(System.nanoTime() - start));
    last = f;
    return f;
  }

  @Override
  public CompletableFuture<Void> reset(HardState hardState, SnapshotMeta base) {
    if (hardState == null && deferred != null) {
      hardState = deferred;
    }
    deferred = null;
    if (hardState != null) {
      submitted = hardState;
    }
    return last = delegate.reset(hardState, base);
  }

  @Override
  public CompletableFuture<Void> compact(SnapshotMeta base) {
    return last = delegate.compact(base);
  }

  @Override
  public void close() {
    delegate.close();
  }

  String summary() {
    return String.format(
        Locale.ROOT,
        "writes with entries: %s; commit-only writes: %s; commit-only writes skipped: %d",
        entryWrites,
        commitOnlyWrites,
        skipped.sum());
  }

  /** Count, mean and log2-bucket percentiles of submit-to-durable times. */
  private static final class Timing {
    private final LongAdder count = new LongAdder();
    private final LongAdder totalNanos = new LongAdder();
    private final AtomicLongArray buckets = new AtomicLongArray(BUCKETS);

    void record(long nanos) {
      count.increment();
      totalNanos.add(nanos);
      long us = Math.max(1, nanos / 1000);
      buckets.incrementAndGet(Math.min(BUCKETS - 1, 63 - Long.numberOfLeadingZeros(us)));
    }

    private long percentileUs(double p) {
      long n = count.sum();
      long want = (long) Math.ceil(n * p);
      long seen = 0;
      for (int i = 0; i < BUCKETS; i++) {
        seen += buckets.get(i);
        if (seen >= want && n > 0) {
          return 1L << (i + 1); // upper bound of the bucket
        }
      }
      return 0;
    }

    @Override
    public String toString() {
      long n = count.sum();
      return String.format(
          Locale.ROOT,
          "n=%d mean=%.0fus p50<=%dus p99<=%dus",
          n,
          n == 0 ? 0.0 : totalNanos.sum() / 1000.0 / n,
          percentileUs(0.5),
          percentileUs(0.99));
    }
  }
}
