package io.tern.bench;

import io.tern.raft.core.Entry;
import io.tern.raft.core.InitialState;
import io.tern.raft.core.Message;
import io.tern.raft.core.Raft;
import io.tern.raft.core.RaftConfig;
import io.tern.raft.core.Ready;
import io.tern.raft.core.Role;
import io.tern.raft.core.tracker.Membership;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Raw throughput of the Raft core: three {@link Raft} cores on the benchmark thread, no I/O.
 *
 * <ul>
 *   <li>Persistence is instantaneous: right after {@link Raft#advance(Ready)} the driver reports
 *       the Ready's last entry with {@link Raft#persisted(long, long)}.
 *   <li>The network is a FIFO queue; every message is delivered with {@link Raft#step(Message)}.
 *   <li>Applying is instantaneous: committed entries are acknowledged with {@link
 *       Raft#applied(long)}.
 * </ul>
 *
 * <p>One benchmark operation proposes {@code batch} proposals of 256 bytes each (one shared payload
 * array, a fresh request id per proposal) at the leader, then drives the loop until the leader has
 * committed and applied the whole batch. Messages still queued then (the followers' commit
 * notifications) are delivered during the next operation, as they would be in a pipelined steady
 * state. The primary score is batches per second; the {@code entries} secondary score is committed
 * entries per second, the figure to compare with the 1,000,000 entries/s target.
 *
 * <p>Memory: the core keeps its whole log in memory and never compacts it (no snapshots yet), and
 * each committed entry retains about 65 bytes (the 48-byte {@link Entry} object the three logs
 * share, and a slot in each log's array). So the cluster is rebuilt for every iteration, and within
 * an iteration whenever the log reaches {@link #entriesPerCluster} entries (about 17 MB retained),
 * which stands in for compaction. The fork's heap is sized so that GC stays cheap: 4 GiB fixed, a 3
 * GiB young generation (most log entries die young with their cluster, and a young collection
 * copies at most one small cluster), and 32 MiB G1 regions (so a log's backing array is never
 * humongous: a dead humongous array sits in the old generation and, as a remembered-set root, keeps
 * every young entry it points to alive). Measured with {@code -prof gc -Xlog:gc} on a 2-core
 * machine: with a cluster per iteration only (a 3 s iteration retains several hundred MB), or with
 * G1's default sizing, young pauses of 0.3-2 s copying log entries took more than half of the wall
 * time and cut batch-1024 throughput from ~10-20M to ~2M entries/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "-Xms4g",
      "-Xmx4g",
      "-Xmn3g",
      "-XX:G1HeapRegionSize=32m",
      "-XX:+AlwaysPreTouch"
    })
public class CoreThroughputBenchmark {

  /** Proposals per operation. */
  @Param({"1", "64", "1024"})
  public int batch;

  /** Payload bytes per proposal. */
  @Param({"256"})
  public int payloadBytes;

  private InMemoryCluster cluster;
  private byte[] payload;
  private long nextRequestId;

  /** Committed entries, reported per second next to the primary (batches per second) score. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Committed {
    public long entries;

    @Setup(Level.Iteration)
    public void reset() {
      entries = 0;
    }
  }

  /**
   * Stand-in for log compaction, which the core does not have yet: once the leader's log holds this
   * many entries, the cluster is replaced by a fresh one (three new cores and an election, tens of
   * microseconds, amortized over the whole log). Without it the retained log grows by ~65 bytes per
   * committed entry for the whole iteration and the benchmark measures the GC copying it (set it
   * very high to see that).
   */
  @Param({"262144"})
  public long entriesPerCluster;

  @Setup(Level.Iteration)
  public void setUp() {
    payload = new byte[payloadBytes];
    new SplittableRandom(42).nextBytes(payload);
    freshCluster();
  }

  private void freshCluster() {
    cluster = null; // let the old log go before building the new cluster
    cluster = new InMemoryCluster(3, 42);
    cluster.elect(1);
    nextRequestId = 1;
  }

  /**
   * Sanity check that every member applied everything: after each iteration (not measured) and
   * before each in-iteration rebuild (measured, once per {@link #entriesPerCluster} entries).
   */
  @TearDown(Level.Iteration)
  public void checkReplicated() {
    cluster.runUntilQuiet();
    long last = cluster.core(1).log().lastIndex();
    for (long id = 1; id <= 3; id++) {
      Raft core = cluster.core(id);
      if (core.log().lastIndex() != last || core.log().applied() != last) {
        throw new IllegalStateException(
            "member " + id + " did not apply through " + last + ": " + core);
      }
    }
  }

  @Benchmark
  public long proposeAndCommit(Committed committed) {
    if (cluster.core(1).log().lastIndex() >= entriesPerCluster) {
      checkReplicated();
      freshCluster();
    }
    List<Entry> proposals = new ArrayList<>(batch);
    for (int i = 0; i < batch; i++) {
      proposals.add(Entry.proposal(nextRequestId++, payload));
    }
    Raft leader = cluster.core(1);
    long target = leader.log().lastIndex() + batch;
    leader.propose(proposals);
    cluster.runUntilLeaderApplied(1, target);
    committed.entries += batch;
    return leader.log().committed();
  }

  /**
   * Cores on one thread with an instantaneous disk and a FIFO network. Not a benchmark itself: the
   * harness the benchmarks drive (also usable from a main method for profiling).
   */
  public static final class InMemoryCluster {
    private final Raft[] cores;
    private final ArrayDeque<Message> network = new ArrayDeque<>();

    public InMemoryCluster(int size, long seed) {
      long[] ids = new long[size];
      for (int i = 0; i < size; i++) {
        ids[i] = i + 1;
      }
      Membership membership = Membership.ofVoters(ids);
      SplittableRandom random = new SplittableRandom(seed);
      cores = new Raft[size + 1];
      for (int i = 1; i <= size; i++) {
        RaftConfig cfg = RaftConfig.builder(i).random(random.split()).build();
        cores[i] = new Raft(cfg, InitialState.fresh(membership));
      }
    }

    public Raft core(long id) {
      return cores[(int) id];
    }

    /**
     * Makes {@code id} leader and waits until its first entry is applied everywhere.
     *
     * <p>With checkQuorum (the default) a member ignores vote requests during its first election
     * timeout after start (it may have acknowledged a leader before a restart), so the others are
     * first ticked through one election timeout; whatever campaign that starts on their own is
     * dropped on the floor, and {@code id} then campaigns with a higher term.
     */
    public void elect(long id) {
      int electionTicks = core(id).config().electionTicks();
      for (int i = 1; i < cores.length; i++) {
        if (i == id) {
          continue;
        }
        for (int t = 0; t < electionTicks; t++) {
          cores[i].tick();
        }
        if (cores[i].hasReady()) {
          Ready rd = cores[i].ready();
          cores[i].advance(rd);
          persist(cores[i], rd);
          // Their messages (pre-votes) are lost.
        }
      }
      core(id).campaign();
      runUntilQuiet();
      for (int round = 0; round < 8 && core(id).role() != Role.LEADER; round++) {
        core(id).campaign();
        runUntilQuiet();
      }
      Raft leader = core(id);
      if (leader.role() != Role.LEADER) {
        throw new IllegalStateException("member " + id + " did not become leader: " + leader);
      }
      for (int i = 1; i < cores.length; i++) {
        if (cores[i].log().applied() != leader.log().lastIndex()) {
          throw new IllegalStateException("member " + i + " did not catch up: " + cores[i]);
        }
      }
    }

    /** Drives everything until no core has output and no message is in flight. */
    public void runUntilQuiet() {
      while (step()) {
        // keep going
      }
    }

    /** Drives everything until the leader applied {@code index}. */
    public void runUntilLeaderApplied(long leaderId, long index) {
      Raft leader = core(leaderId);
      while (leader.log().applied() < index) {
        if (!step()) {
          throw new IllegalStateException("stalled before applying " + index + ": " + leader);
        }
      }
    }

    /**
     * One round: collects and handles every core's Ready, then delivers every queued message.
     *
     * @return whether anything happened
     */
    private boolean step() {
      boolean progress = false;
      for (int i = 1; i < cores.length; i++) {
        Raft core = cores[i];
        if (core.hasReady()) {
          progress = true;
          Ready rd = core.ready();
          core.advance(rd);
          // Send what may go before the write is durable, "write" instantly, then the rest.
          send(rd.messages());
          persist(core, rd);
          send(rd.messagesAfterPersist());
          List<Entry> committed = rd.committedEntries();
          if (!committed.isEmpty()) {
            core.applied(committed.get(committed.size() - 1).index());
          }
        }
      }
      Message m;
      while ((m = network.poll()) != null) {
        progress = true;
        cores[(int) m.to()].step(m);
      }
      return progress;
    }

    private void send(List<Message> messages) {
      for (int i = 0; i < messages.size(); i++) {
        network.addLast(messages.get(i));
      }
    }

    private static void persist(Raft core, Ready rd) {
      Entry last = rd.lastEntry();
      if (last != null) {
        core.persisted(last.index(), last.term());
      }
    }
  }
}
