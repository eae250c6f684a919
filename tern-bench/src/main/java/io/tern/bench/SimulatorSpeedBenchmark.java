package io.tern.bench;

import io.tern.sim.Cluster;
import io.tern.sim.Faults;
import io.tern.sim.SimOptions;
import io.tern.sim.Simulation;
import io.tern.sim.Workload;
import io.tern.sim.check.History;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Speed of the deterministic simulator: simulated seconds per wall-clock second.
 *
 * <p>One operation is one seeded run shaped like {@link io.tern.sim.SeedRun}, but with fixed
 * settings so every operation does comparable work: 5 members running the production node driver
 * and core (default protocol options: pre-vote, check-quorum, ReadIndex reads), 4 closed-loop
 * clients of the mixed PUT/GET/APPEND/CAS workload, and random faults (crashes, restarts,
 * partitions, one-way cuts, leader isolation, leader crashes, heals) every 50-550 simulated ms for
 * {@value #FAULT_SECONDS} simulated seconds; then everything heals and the run continues for
 * {@value #HEALED_SECONDS} more, {@value #SIMULATED_SECONDS} simulated seconds in all. The final
 * checks of a seed run (convergence, linearizability, lost writes) are not part of it; the
 * per-event invariant checks are, as in the simulator's normal mode ({@code invariants=false}
 * measures without them).
 *
 * <p>The secondary scores are rates per wall second: {@code simSeconds} (the figure of interest)
 * and {@code events} (simulation events run). Each operation uses the next seed, from seed 1 at the
 * start of every iteration: runs differ a lot with their fault sequences, and replaying the same
 * seeds keeps iterations comparable. The simulator runs a lot of code (node driver, network, disk,
 * state machine, checks): it takes some 20 s of runs to reach full speed, hence the long warmup;
 * with 3 x 2 s the first measured iterations are 3-5x slower than the last.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 4)
@Measurement(iterations = 5, time = 4)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class SimulatorSpeedBenchmark {
  static final int FAULT_SECONDS = 4;
  static final int HEALED_SECONDS = 1;
  static final int SIMULATED_SECONDS = FAULT_SECONDS + HEALED_SECONDS;

  private static final long MS = 1_000_000L;

  /**
   * Whether invariants are checked after every simulation event (the simulator's normal mode). The
   * cluster's state machines check each applied entry against the committed ones either way.
   */
  @Param({"true", "false"})
  public boolean invariants;

  /**
   * {@code reliable}: latency 0.1-1 ms, no loss. {@code lossy}: latency 0.1-5 ms, 5% loss, 2%
   * duplication (the kind of network {@link io.tern.sim.SeedRun} picks for a third of its seeds).
   */
  @Param({"reliable", "lossy"})
  public String network;

  private long nextSeed;

  /** Rates per wall second, next to the primary score (runs per second). */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Simulated {
    public double simSeconds;
    public long events;

    @Setup(Level.Iteration)
    public void reset() {
      simSeconds = 0;
      events = 0;
    }
  }

  /** Every iteration replays the same seeds in the same order, so iterations are comparable. */
  @Setup(Level.Iteration)
  public void setUp() {
    nextSeed = 1;
  }

  @Benchmark
  public long run(Simulated counters) {
    Simulation sim = new Simulation(nextSeed++);
    SimOptions options = SimOptions.defaults().withSize(5);
    if (network.equals("lossy")) {
      options = options.withNetwork(100_000, 5_000_000, 0.05, 0.02);
    }
    Cluster cluster = new Cluster(sim, options);
    if (invariants) {
      cluster.checkAfterEveryEvent();
    }
    Workload workload = new Workload(cluster, new History(), Workload.Settings.defaults());
    workload.start();
    RandomGenerator r = sim.forkRandom();
    Faults faults = new Faults(cluster, sim.forkRandom());
    long faultUntil = sim.now() + FAULT_SECONDS * 1_000 * MS;
    while (sim.now() < faultUntil) {
      sim.runUntil(Math.min(faultUntil, sim.now() + (50 + r.nextInt(500)) * MS));
      faults.randomAction();
    }
    cluster.healAll();
    sim.runFor(HEALED_SECONDS * 1_000 * MS);
    counters.simSeconds += sim.now() / 1e9;
    counters.events += sim.eventsRun();
    return sim.traceHash();
  }
}
