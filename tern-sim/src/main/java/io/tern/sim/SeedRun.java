package io.tern.sim;

import io.tern.raft.node.ReadMode;
import io.tern.sim.check.History;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * One randomized run, fully determined by its seed: a 3- or 5-member cluster with randomly chosen
 * protocol options and network quality, clients running a mixed workload, and random faults
 * (crashes, restarts, partitions, one-way cuts, isolating the leader) for a while; then the faults
 * heal and the run checks that the cluster converges, that the history is linearizable, that every
 * acknowledged append survived, and that all members hold the same state. Invariants are checked
 * after every event throughout.
 */
public final class SeedRun {
  /** The outcome of one seed. */
  public record Result(
      long seed,
      String failure,
      String setup,
      long simNanos,
      long events,
      int operations,
      long acknowledged,
      long fastReads,
      long traceHash,
      String traceTail) {
    public boolean ok() {
      return failure == null;
    }

    /** The command that replays this seed with a readable trace. */
    public String replayCommand() {
      return "./sim replay " + seed;
    }

    @Override
    public String toString() {
      return ok()
          ? "seed " + seed + " ok (" + setup + ", " + operations + " ops)"
          : "seed "
              + seed
              + " FAILED: "
              + failure
              + "\n  setup: "
              + setup
              + "\n  replay: "
              + replayCommand();
    }
  }

  private static final long MS = 1_000_000L;

  private SeedRun() {}

  public static Result run(long seed) {
    return run(seed, false);
  }

  /** Runs one seed; with {@code traceLog} the result carries the tail of a readable trace. */
  public static Result run(long seed, boolean traceLog) {
    Simulation sim = new Simulation(seed);
    // Typical runs take 10^4 to 10^6 events; far more means a livelock, reported as a failure.
    sim.setEventLimit(20_000_000);
    if (traceLog) {
      sim.enableTraceLog(200_000);
    }
    RandomGenerator r = sim.forkRandom();
    int size = r.nextBoolean() ? 3 : 5;
    boolean preVote = r.nextInt(4) != 0;
    boolean checkQuorum = r.nextInt(4) != 0;
    boolean lease = checkQuorum && r.nextInt(3) == 0;
    boolean unreliable = r.nextInt(3) == 0;
    SimOptions options =
        SimOptions.defaults()
            .withSize(size)
            .withProtocol(preVote, checkQuorum, lease)
            .withBatching(
                1 + r.nextInt(64),
                // One entry per append splits a new leader's no-op from the older entries before
                // it, which is when the commit rule for earlier terms (Figure 8) matters.
                r.nextInt(4) == 0 ? 1 : 1 + r.nextInt(64),
                4096 + r.nextInt(64 * 1024));
    if (unreliable) {
      options =
          options.withNetwork(
              100_000,
              1_000_000 + r.nextInt(8_000_000),
              r.nextDouble() * 0.1,
              r.nextDouble() * 0.05);
    }
    boolean tornTail = r.nextBoolean();
    boolean slowDisk = r.nextInt(4) == 0;
    options = options.toBuilder().partialPersistOnCrash(tornTail).build();
    if (slowDisk) {
      options = options.withFsync(1_000_000, 1_000_000 + r.nextInt(20_000_000));
    }
    // Drawn from their own source so that adding them left the rest of each seed's setup as it was.
    SplittableRandom rs = new SplittableRandom(seed ^ 0x5eed5a95L);
    long snapshotEvery = rs.nextInt(4) == 0 ? 0 : new long[] {8, 20, 50, 150}[rs.nextInt(4)];
    if (snapshotEvery > 0) {
      options =
          options.toBuilder()
              .snapshotEntries(snapshotEvery)
              .snapshotTrailingEntries(new long[] {0, 2, 10, 40}[rs.nextInt(4)])
              .snapshotChunkBytes(new int[] {16, 128, 1024, 16384}[rs.nextInt(4)])
              .snapshotWindowChunks(1 + rs.nextInt(4))
              .build();
    }
    String setup =
        String.format(
            "%d members, preVote=%b checkQuorum=%b lease=%b, %s network, %s disk%s, %s",
            size,
            preVote,
            checkQuorum,
            lease,
            unreliable ? "unreliable" : "reliable",
            slowDisk ? "slow" : "fast",
            tornTail ? " keeping a random part of unsynced writes on crash" : "",
            snapshotEvery == 0
                ? "no automatic snapshots"
                : String.format(
                    "snapshots every %d entries keeping %d, %d-byte chunks x%d",
                    snapshotEvery,
                    options.snapshotTrailingEntries(),
                    options.snapshotChunkBytes(),
                    options.snapshotWindowChunks()));
    History history = new History();
    Cluster cluster = null;
    String failure = null;
    Workload workload = null;
    try {
      cluster = new Cluster(sim, options);
      cluster.checkAfterEveryEvent();
      Workload.Settings ws =
          Workload.Settings.defaults()
              .withClients(2 + r.nextInt(5), 2 + r.nextInt(6))
              .withReadMode(lease ? ReadMode.LEASE : ReadMode.READ_INDEX);
      workload = new Workload(cluster, history, ws);
      workload.start();
      Faults faults = new Faults(cluster, sim.forkRandom());
      long faultUntil = sim.now() + (1_500 + r.nextInt(2_500)) * MS;
      while (sim.now() < faultUntil) {
        sim.runFor((50 + r.nextInt(500)) * MS);
        faults.randomAction();
      }
      cluster.healAll();
      setup += ", " + faults.membershipSummary() + ", " + snapshotSummary(cluster);
      sim.runFor(1_000 * MS);
      workload.drain();
      if (!cluster.runUntil(cluster::converged, 10_000 * MS)) {
        failure = "cluster did not converge within 10 s after healing: " + describe(cluster);
      } else {
        failure = FinalChecks.check(cluster, history);
      }
    } catch (Invariants.InvariantViolation | IllegalStateException e) {
      failure = e.getClass().getSimpleName() + ": " + e.getMessage();
    }
    return new Result(
        seed,
        failure,
        setup,
        sim.now(),
        sim.eventsRun(),
        history.size(),
        workload == null ? 0 : workload.acknowledged(),
        workload == null ? 0 : workload.fastReads(),
        sim.traceHash(),
        traceLog ? String.join("\n", sim.traceTail(400)) : "");
  }

  private static String snapshotSummary(Cluster cluster) {
    long taken = 0;
    long installed = 0;
    for (Cluster.Member m : cluster.members()) {
      taken += m.snapshots().snapshotsCommitted();
      installed += m.node().snapshotsInstalled();
    }
    return taken + " snapshots stored, " + installed + " installed from a leader";
  }

  private static String describe(Cluster cluster) {
    List<String> parts = new ArrayList<>();
    for (Cluster.Member m : cluster.members()) {
      parts.add(
          m.isUp()
              ? m.node().core() + " " + m.node().core().membership()
              : ("member " + m.id() + " down"));
    }
    return String.join("; ", parts);
  }
}
