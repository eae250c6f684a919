package io.tern.sim.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.tern.raft.core.Raft;
import io.tern.raft.core.Role;
import io.tern.sim.Cluster;
import io.tern.sim.FinalChecks;
import io.tern.sim.SimOptions;
import io.tern.sim.Simulation;
import io.tern.sim.check.History;
import io.tern.sim.kv.KvCommand;
import io.tern.sim.kv.KvStateMachine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.random.RandomGenerator;

/**
 * One simulated cluster for a scenario test, with the helpers the scenarios share: proposing a KV
 * command and waiting (in simulated time) until enough members applied it, counting members that
 * applied an index, arranging partitions, and the end-of-run checks (log matching, equal state, no
 * acknowledged write lost, linearizability).
 *
 * <p>Invariants are checked after every simulation event from construction on. Everything runs on
 * the test thread, in simulated time. The scenario classes carry a wall-clock {@code @Timeout} in a
 * separate thread so that a core stuck in a loop within one event fails the test instead of hanging
 * the build.
 */
final class ScenarioSupport {
  static final long MS = 1_000_000L;
  static final long SEC = 1_000 * MS;

  /** A livelock guard: no scenario comes near it (the largest runs take well under 2M events). */
  static final long EVENT_LIMIT = 20_000_000;

  final Simulation sim;
  final Cluster cluster;
  final SimOptions options;

  /** The test's own random choices (which member to crash, ...), derived from the seed. */
  final RandomGenerator random;

  private long valueSeq;
  private Runnable extraCheck;

  ScenarioSupport(long seed, SimOptions options) {
    this.sim = new Simulation(seed);
    sim.setEventLimit(EVENT_LIMIT);
    this.options = options;
    this.cluster = new Cluster(sim, options);
    cluster.checkAfterEveryEvent();
    this.random = sim.forkRandom();
  }

  static ScenarioSupport start(long seed) {
    return new ScenarioSupport(seed, SimOptions.defaults());
  }

  static ScenarioSupport start(long seed, SimOptions options) {
    return new ScenarioSupport(seed, options);
  }

  /** Runs {@code hook} after every event too, after the invariant checks. */
  void afterEveryEvent(Runnable hook) {
    this.extraCheck = hook;
    sim.setAfterEachEvent(
        () -> {
          cluster.invariants().checkStep();
          extraCheck.run();
        });
  }

  // ---------------------------------------------------------------- time

  long tick() {
    return options.tickNanos();
  }

  /** The base election timeout (the randomized one is in [1x, 2x) of it). */
  long electionTimeout() {
    return options.electionTicks() * options.tickNanos();
  }

  void run(long nanos) {
    sim.runFor(nanos);
  }

  boolean runUntil(BooleanSupplier condition, long withinNanos) {
    return cluster.runUntil(condition, withinNanos);
  }

  // ---------------------------------------------------------------- inspection

  Raft core(long id) {
    return cluster.node(id).core();
  }

  long term(long id) {
    return core(id).term();
  }

  Role role(long id) {
    return core(id).role();
  }

  KvStateMachine sm(long id) {
    return cluster.member(id).stateMachine();
  }

  /** A leader known to a quorum of live members, within 5 s; fails if none. */
  long awaitLeader() {
    long l = cluster.awaitLeader(5 * SEC);
    if (l == 0) {
      fail("no leader elected within 5 s: " + describe());
    }
    return l;
  }

  /**
   * A leader other than {@code excluded}, known to a quorum of live members, within 5 s; fails if
   * none. (A cut-off old leader still counts as leader for a while for those who last heard of it.)
   */
  long awaitLeaderOtherThan(Collection<Long> excluded) {
    BooleanSupplier found =
        () -> {
          long l = cluster.leader();
          return l != 0 && !excluded.contains(l) && knownToQuorum(l);
        };
    if (!runUntil(found, 5 * SEC)) {
      fail("no leader other than " + excluded + " within 5 s: " + describe());
    }
    return cluster.leader();
  }

  long awaitLeaderOtherThan(long excluded) {
    return awaitLeaderOtherThan(List.of(excluded));
  }

  /** Whether a quorum of all members (live ones) is in {@code leader}'s term and follows it. */
  boolean knownToQuorum(long leader) {
    long t = term(leader);
    int agree = 0;
    for (Cluster.Member m : cluster.upMembers()) {
      if (m.node().core().term() == t && m.node().core().leader() == leader) {
        agree++;
      }
    }
    return agree > options.size() / 2;
  }

  /** Live members that believe they are leader, whatever their term. */
  List<Long> leaders() {
    List<Long> out = new ArrayList<>();
    for (Cluster.Member m : cluster.upMembers()) {
      if (m.node().core().role() == Role.LEADER) {
        out.add(m.id());
      }
    }
    return out;
  }

  /** Every member id but the given ones, ascending. */
  List<Long> others(long... excluded) {
    List<Long> out = new ArrayList<>();
    outer:
    for (long id : cluster.ids()) {
      for (long x : excluded) {
        if (x == id) {
          continue outer;
        }
      }
      out.add(id);
    }
    return out;
  }

  /** The member {@code k} places after {@code id} in ring order 1..n. */
  long plus(long id, int k) {
    int n = options.size();
    return Math.floorMod(id - 1 + k, n) + 1;
  }

  long pick(List<Long> ids) {
    return ids.get(random.nextInt(ids.size()));
  }

  String describe() {
    List<String> parts = new ArrayList<>();
    for (Cluster.Member m : cluster.members()) {
      parts.add(m.isUp() ? m.node().core().toString() : "member " + m.id() + " down");
    }
    return "t=" + Simulation.formatTime(sim.now()) + " " + String.join("; ", parts);
  }

  // ---------------------------------------------------------------- network

  /** Heals the network, then lets only members of the same group talk to each other. */
  @SafeVarargs
  final void partition(Collection<Long>... groups) {
    cluster.network().heal();
    for (int i = 0; i < groups.length; i++) {
      for (int j = i + 1; j < groups.length; j++) {
        cluster.network().partition(new TreeSet<>(groups[i]), new TreeSet<>(groups[j]));
      }
    }
  }

  // ---------------------------------------------------------------- proposals

  /** A PUT with a value never used before in this run, on one of a few keys. */
  KvCommand freshPut() {
    long n = ++valueSeq;
    return KvCommand.put("k" + (n % 7), "v" + n);
  }

  /** A PUT of {@code size} bytes with a value never used before. */
  KvCommand freshPut(int size) {
    long n = ++valueSeq;
    String prefix = "v" + n + ":";
    StringBuilder sb = new StringBuilder(size).append(prefix);
    while (sb.length() < size) {
      sb.append((char) ('a' + (sb.length() % 26)));
    }
    return KvCommand.put("big", sb.toString());
  }

  CompletableFuture<Object> propose(long member, KvCommand cmd) {
    return cluster.node(member).propose(cmd.encode());
  }

  /** "pending", "ok: result" or the failure's exception. */
  static String outcome(CompletableFuture<?> f) {
    if (!f.isDone()) {
      return "pending";
    }
    try {
      return "ok: " + f.join();
    } catch (RuntimeException e) {
      return String.valueOf(e.getCause() != null ? e.getCause() : e);
    }
  }

  static boolean succeeded(CompletableFuture<?> f) {
    return f.isDone() && !f.isCompletedExceptionally();
  }

  /** How many live members applied {@code index}; asserts they all applied the same entry there. */
  int nApplied(long index) {
    int n = 0;
    KvStateMachine.Applied first = null;
    for (Cluster.Member m : cluster.upMembers()) {
      KvStateMachine.Applied a = m.stateMachine().appliedAt(index);
      if (a == null) {
        continue;
      }
      if (first == null) {
        first = a;
      } else if (a.dataHash() != first.dataHash() || a.term() != first.term()) {
        fail("members applied different entries at " + index + ": " + first + " vs " + a);
      }
      n++;
    }
    return n;
  }

  /** The index at which {@code member} applied {@code cmd} (the latest if several), or -1. */
  long appliedIndexOf(long member, KvCommand cmd) {
    long h = KvStateMachine.hash(cmd.encode());
    List<KvStateMachine.Applied> log = sm(member).appliedLog();
    for (int i = log.size() - 1; i >= 0; i--) {
      if (log.get(i).dataHash() == h) {
        return log.get(i).index();
      }
    }
    return -1;
  }

  /** How many times {@code member} applied {@code cmd}. */
  int timesApplied(long member, KvCommand cmd) {
    long h = KvStateMachine.hash(cmd.encode());
    int n = 0;
    for (KvStateMachine.Applied a : sm(member).appliedLog()) {
      if (a.dataHash() == h) {
        n++;
      }
    }
    return n;
  }

  /** Whether some live member applied {@code cmd}. */
  boolean appliedAnywhere(KvCommand cmd) {
    for (Cluster.Member m : cluster.upMembers()) {
      if (appliedIndexOf(m.id(), cmd) >= 0) {
        return true;
      }
    }
    return false;
  }

  /** The index at which {@code member}'s log holds {@code cmd} (applied or not), or -1. */
  long logIndexOf(long member, KvCommand cmd) {
    byte[] data = cmd.encode();
    var log = core(member).log();
    for (long i = log.lastIndex(); i >= log.firstIndex() && i > 0; i--) {
      if (Arrays.equals(log.entry(i).data(), data)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Proposes {@code cmd} at the leader and runs the simulation until at least {@code expected} live
   * members applied it; returns its index. With {@code retry}, a proposal that fails (leader
   * change, timeout) is proposed again; without, the first failure fails the test. Gives up after
   * 10 s of simulated time.
   */
  long one(KvCommand cmd, int expected, boolean retry) {
    long deadline = sim.now() + 10 * SEC;
    String last = "no leader";
    while (sim.now() < deadline) {
      long l = cluster.leader();
      if (l == 0) {
        run(10 * MS);
        continue;
      }
      CompletableFuture<Object> f = propose(l, cmd);
      runUntil(f::isDone, 3 * SEC);
      if (succeeded(f) && cluster.isUp(l)) {
        long idx = appliedIndexOf(l, cmd);
        assertThat(idx).as("%s acknowledged at %d but not in its applied log", cmd, l).isPositive();
        if (runUntil(() -> nApplied(idx) >= expected, 2 * SEC)) {
          return idx;
        }
        last = "only " + nApplied(idx) + " members applied index " + idx;
      } else {
        last = "proposal at " + l + " failed: " + outcome(f);
      }
      if (!retry) {
        break;
      }
      run(20 * MS);
    }
    return fail("one(%s, %d) failed to reach agreement: %s; %s", cmd, expected, last, describe());
  }

  long one(KvCommand cmd, int expected) {
    return one(cmd, expected, false);
  }

  /** Runs until the cluster converged (one leader, everything committed and applied everywhere). */
  void awaitConverged(long withinNanos) {
    if (!runUntil(cluster::converged, withinNanos)) {
      fail("did not converge within " + withinNanos / MS + " ms: " + describe());
    }
  }

  // ---------------------------------------------------------------- end-of-run checks

  /**
   * After convergence: logs match pairwise, every live member holds the same state and applied the
   * same log, every acknowledged write of {@code history} is in it, and the history is
   * linearizable.
   */
  void finalChecks(History history) {
    assertThat(FinalChecks.check(cluster, history)).as("end-of-run checks").isNull();
  }
}
