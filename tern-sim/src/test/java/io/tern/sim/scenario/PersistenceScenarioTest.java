package io.tern.sim.scenario;

import static io.tern.sim.scenario.ScenarioSupport.MS;
import static io.tern.sim.scenario.ScenarioSupport.SEC;
import static org.assertj.core.api.Assertions.assertThat;

import io.tern.raft.NotLeaderException;
import io.tern.sim.Cluster;
import io.tern.sim.SimOptions;
import io.tern.sim.kv.KvCommand;
import io.tern.sim.kv.KvStateMachine;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Crashes and restarts: what was committed survives, is applied again, and is never undone. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PersistenceScenarioTest {

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {201, 202, 203})
  void basicPersistence(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    s.awaitLeader();
    List<KvCommand> cmds = new ArrayList<>();
    KvCommand first = s.freshPut();
    cmds.add(first);
    long i1 = s.one(first, 3);

    // Everyone crashes and restarts: the state comes back from the disks and is applied again.
    for (long id : s.cluster.ids()) {
      s.cluster.crash(id);
    }
    for (long id : s.cluster.ids()) {
      s.cluster.start(id);
      assertThat(s.sm(id).appliedIndex()).as("a new incarnation starts empty").isZero();
    }
    boolean reapplied =
        s.runUntil(
            () -> s.cluster.ids().stream().allMatch(id -> s.sm(id).appliedIndex() >= i1), 3 * SEC);
    assertThat(reapplied).as("committed entries applied again: %s", s.describe()).isTrue();
    for (long id : s.cluster.ids()) {
      assertThat(s.sm(id).appliedAt(i1).dataHash()).isEqualTo(KvStateMachine.hash(first.encode()));
      assertThat(s.sm(id).get(first.key())).isEqualTo(first.value());
    }
    cmds.add(oneMore(s, 3));

    // The leader restarts.
    long l = s.cluster.leader();
    s.cluster.restart(l);
    cmds.add(oneMore(s, 3));

    // The leader crashes, the others go on, then it comes back and catches up.
    l = s.cluster.leader();
    s.cluster.crash(l);
    KvCommand c = s.freshPut();
    long idx = s.one(c, 2, true);
    cmds.add(c);
    s.cluster.start(l);
    assertThat(s.runUntil(() -> s.nApplied(idx) == 3, 3 * SEC)).isTrue();

    // A follower crashes, the others go on, it comes back.
    long f = s.others(s.cluster.leader()).get(0);
    s.cluster.crash(f);
    cmds.add(oneMore(s, 2));
    s.cluster.start(f);
    cmds.add(oneMore(s, 3));

    s.awaitConverged(2 * SEC);
    for (long id : s.cluster.ids()) {
      for (KvCommand cmd : cmds) {
        assertThat(s.timesApplied(id, cmd)).as("%s at %d", cmd, id).isEqualTo(1);
      }
    }
  }

  private static KvCommand oneMore(ScenarioSupport s, int expected) {
    KvCommand c = s.freshPut();
    s.one(c, expected, true);
    return c;
  }

  /** 6.824's "more persistence": members missing commits crash and must catch up from others. */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {211, 212})
  void morePersistence(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed, SimOptions.defaults().withSize(5));
    s.awaitLeader();
    List<KvCommand> cmds = new ArrayList<>();
    for (int iter = 0; iter < 5; iter++) {
      cmds.add(oneMore(s, 5));
      long l1 = s.cluster.leader();

      s.cluster.crash(s.plus(l1, 1));
      s.cluster.crash(s.plus(l1, 2));
      cmds.add(oneMore(s, 3));

      s.cluster.crash(l1);
      s.cluster.crash(s.plus(l1, 3));
      s.cluster.crash(s.plus(l1, 4));
      s.cluster.start(s.plus(l1, 1));
      s.cluster.start(s.plus(l1, 2));
      s.run(s.electionTimeout());
      s.cluster.start(s.plus(l1, 3));
      // (l1+1) and (l1+2) missed the last command: only a leader holding it can be elected.
      cmds.add(oneMore(s, 3));

      s.cluster.start(s.plus(l1, 4));
      s.cluster.start(l1);
    }
    cmds.add(oneMore(s, 5));
    s.awaitConverged(2 * SEC);
    for (long id : s.cluster.ids()) {
      for (KvCommand cmd : cmds) {
        assertThat(s.timesApplied(id, cmd)).as("%s at %d", cmd, id).isEqualTo(1);
      }
    }
  }

  /**
   * Random subsets (sometimes everyone) crash and restart while proposals are in flight; with
   * {@code partialFlush}, a crash keeps a random prefix of the unsynced writes, as a disk cache
   * that flushed part of its content would. Nothing acknowledged is lost, nothing is applied twice,
   * and a proposal refused as "not leader" never applies.
   */
  @ParameterizedTest(name = "seed {0}, {1} members, partial flush {2}")
  @CsvSource({"221, 3, false", "222, 5, false", "223, 3, true", "224, 5, true"})
  void repeatedCrashesOfVaryingSubsetsWhileProposing(long seed, int size, boolean partialFlush) {
    ScenarioSupport s = ScenarioSupport.start(seed, SimOptions.defaults().withSize(size));
    for (Cluster.Member m : s.cluster.members()) {
      m.disk().setPartialPersistOnCrash(partialFlush);
    }
    s.awaitLeader();
    List<KvCommand> cmds = new ArrayList<>();
    List<CompletableFuture<Object>> futures = new ArrayList<>();
    for (int iter = 0; iter < 15; iter++) {
      List<Long> up = new ArrayList<>(s.cluster.upIds());
      for (int j = 0; j < 5 && !up.isEmpty(); j++) {
        KvCommand c = s.freshPut();
        cmds.add(c);
        futures.add(s.propose(s.pick(up), c));
      }
      s.run(s.random.nextLong(300 * MS));
      boolean all = iter % 5 == 4;
      for (long id : s.cluster.upIds()) {
        if (all || s.random.nextInt(10) < 3) {
          s.cluster.crash(id);
        }
      }
      s.run(s.random.nextLong(200 * MS));
      for (Cluster.Member m : s.cluster.members()) {
        if (!m.isUp() && s.random.nextInt(10) < 6) {
          s.cluster.start(m.id());
        }
      }
    }
    s.cluster.healAll();
    s.one(s.freshPut(), size, true);
    s.awaitConverged(2 * SEC);

    int acked = 0;
    for (int i = 0; i < cmds.size(); i++) {
      KvCommand c = cmds.get(i);
      CompletableFuture<Object> f = futures.get(i);
      for (long id : s.cluster.ids()) {
        int times = s.timesApplied(id, c);
        assertThat(times).as("%s applied at %d", c, id).isLessThanOrEqualTo(1);
        if (ScenarioSupport.succeeded(f)) {
          assertThat(times).as("acknowledged %s lost at %d", c, id).isEqualTo(1);
        } else if (refusedAsNotLeader(f)) {
          assertThat(times).as("refused %s applied at %d", c, id).isZero();
        }
      }
      if (ScenarioSupport.succeeded(f)) {
        acked++;
      }
    }
    assertThat(acked).as("some proposals were acknowledged").isGreaterThan(5);
  }

  private static boolean refusedAsNotLeader(CompletableFuture<?> f) {
    if (!f.isCompletedExceptionally()) {
      return false;
    }
    try {
      f.join();
      return false;
    } catch (CompletionException e) {
      return e.getCause() instanceof NotLeaderException;
    }
  }

  /** 6.824's "partitioned leader and one follower crash, leader restarts". */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {231, 232, 233})
  void partitionedLeaderAndOneFollowerCrashLeaderRestarts(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    long l = s.awaitLeader();
    s.one(s.freshPut(), 3);

    long lagging = s.plus(l, 2);
    s.cluster.network().isolate(lagging);
    KvCommand c102 = s.freshPut();
    long i102 = s.one(c102, 2);

    s.cluster.crash(l);
    s.cluster.crash(s.plus(l, 1));
    s.cluster.network().rejoin(lagging);
    s.cluster.start(l);
    s.one(s.freshPut(), 2, true);
    // Of l and the lagging member only l holds the committed 102: only l can lead.
    assertThat(s.cluster.leader()).isEqualTo(l);

    s.cluster.start(s.plus(l, 1));
    s.one(s.freshPut(), 3, true);
    s.awaitConverged(2 * SEC);
    for (long id : s.cluster.ids()) {
      assertThat(s.sm(id).appliedAt(i102).dataHash()).isEqualTo(KvStateMachine.hash(c102.encode()));
    }
  }

  /**
   * Raft paper Figure 8: leaders crash with a few proposals in between, so entries of old terms
   * float around; a leader must never commit them by counting replicas. The invariants (leader
   * completeness, state machine safety) are checked after every event.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {241, 242, 243})
  void figure8(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed, SimOptions.defaults().withSize(5));
    s.awaitLeader();
    s.one(s.freshPut(), 1, true);
    int leaderCrashes = 0;
    for (int iter = 0; iter < 200; iter++) {
      for (long id : s.leaders()) {
        s.propose(id, s.freshPut());
      }
      if (s.random.nextInt(10) == 0) {
        s.run(s.random.nextLong(5 * s.electionTimeout()));
      } else {
        s.run(s.random.nextLong(13 * MS));
      }
      long l = s.cluster.leader();
      if (l != 0) {
        s.cluster.crash(l);
        leaderCrashes++;
      }
      if (s.cluster.upIds().size() < 3) {
        List<Long> down = new ArrayList<>(s.cluster.ids());
        down.removeAll(s.cluster.upIds());
        s.cluster.start(s.pick(down));
      }
    }
    assertThat(leaderCrashes).as("leaders crashed").isGreaterThan(10);
    s.cluster.healAll();
    s.one(s.freshPut(), 5, true);
    s.awaitConverged(2 * SEC);
    s.cluster.invariants().checkLogMatching();
    long digest = s.sm(1).digest();
    for (long id : s.cluster.ids()) {
      assertThat(s.sm(id).digest()).as("state of %d", id).isEqualTo(digest);
      assertThat(s.sm(id).appliedLog()).isEqualTo(s.sm(1).appliedLog());
    }
  }
}
