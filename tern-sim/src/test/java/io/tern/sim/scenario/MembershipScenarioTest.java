package io.tern.sim.scenario;

import static io.tern.sim.scenario.ScenarioSupport.MS;
import static io.tern.sim.scenario.ScenarioSupport.SEC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.tern.raft.NotLeaderException;
import io.tern.raft.ProposalDroppedException;
import io.tern.raft.RequestTimeoutException;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.Role;
import io.tern.raft.core.confchange.ConfChange;
import io.tern.raft.core.quorum.JointConfig;
import io.tern.raft.core.quorum.MajorityConfig;
import io.tern.raft.core.tracker.Membership;
import io.tern.sim.SimOptions;
import io.tern.sim.Workload;
import io.tern.sim.check.History;
import io.tern.sim.kv.KvCommand;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Predicate;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Membership change (Raft thesis chapter 4) through the real driver: learners that catch up and are
 * promoted, refusals (a lagging learner, a change already in flight), replacing every member under
 * load, removing the leader, joint consensus, and changes interleaved with crashes and partitions.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MembershipScenarioTest {

  // ---------------------------------------------------------------- 1. learners

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {401, 402, 403})
  void learnerCatchesUpNeverCampaignsAndCountsOnlyOncePromoted(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    s.awaitLeader();
    for (int i = 0; i < 40; i++) {
      s.one(s.freshPut(), 3);
    }
    long learner = s.cluster.addMember();
    // Whenever it is not a voter in its own view, it must never stand for election.
    s.afterEveryEvent(
        () -> {
          if (s.cluster.isUp(learner)
              && !s.core(learner).membership().isVoter(learner)
              && s.role(learner) != Role.FOLLOWER) {
            fail("non-voter %d became %s: %s", learner, s.role(learner), s.describe());
          }
        });

    // It receives nothing before it is added.
    s.run(5 * s.electionTimeout());
    assertThat(s.sm(learner).appliedIndex()).isZero();
    assertThat(s.term(learner)).isZero();

    long leader = s.awaitLeader();
    changeOk(s, ConfChange.addLearner(learner));
    Membership m = s.core(leader).membership();
    assertThat(m.voters()).isEqualTo(JointConfig.of(1, 2, 3));
    assertThat(m.learners()).containsExactly(learner);

    // It catches up: applies every entry the leader applied, in the same order.
    assertThat(s.runUntil(() -> caughtUp(s, leader, learner), 2 * SEC))
        .as("learner caught up: %s", s.describe())
        .isTrue();
    assertThat(s.sm(learner).appliedLog()).isEqualTo(s.sm(leader).appliedLog());
    assertThat(s.sm(learner).digest()).isEqualTo(s.sm(leader).digest());
    assertThat(s.sm(learner).appliedIndex()).isGreaterThan(40);
    assertThat(s.core(learner).membership()).isEqualTo(m);

    // Cut off for many election timeouts, it never campaigns (the hook) nor bumps its term.
    long learnerTerm = s.term(learner);
    s.cluster.network().isolate(learner);
    s.run(10 * s.electionTimeout());
    assertThat(s.term(learner)).isEqualTo(learnerTerm);
    assertThat(s.role(learner)).isEqualTo(Role.FOLLOWER);
    s.cluster.network().rejoin(learner);
    s.one(s.freshPut(), 4);

    // It does not count for commit: the leader and the learner alone commit nothing.
    assertThat(s.cluster.leader()).isEqualTo(leader);
    for (long f : s.others(leader, learner)) {
      s.cluster.network().isolate(f);
    }
    long committedBefore = s.core(leader).log().committed();
    KvCommand stuck = s.freshPut();
    CompletableFuture<Object> p = s.propose(leader, stuck);
    assertThat(s.runUntil(() -> s.logIndexOf(learner, stuck) > 0, 50 * MS))
        .as("learner received the entry")
        .isTrue();
    long stuckIndex = s.logIndexOf(learner, stuck);
    s.run(3 * s.electionTimeout());
    assertThat(s.core(leader).log().committed()).isEqualTo(committedBefore).isLessThan(stuckIndex);
    assertThat(s.core(learner).log().committed()).isLessThan(stuckIndex);
    assertThat(s.nApplied(stuckIndex)).isZero();
    assertThat(p.isDone() && !p.isCompletedExceptionally()).isFalse();
    s.cluster.network().heal();

    // Promoted, it counts: with one old voter cut off, {leader, other, learner} are 3 of 4 voters.
    changeOk(s, ConfChange.promote(learner));
    long lead = s.awaitLeader();
    Membership promoted = s.core(lead).membership();
    assertThat(promoted.voters()).isEqualTo(JointConfig.of(1, 2, 3, learner));
    assertThat(promoted.learners()).isEmpty();
    if (lead == learner) {
      CompletableFuture<Long> t = s.cluster.node(lead).transferLeadership(1);
      assertThat(s.runUntil(t::isDone, 2 * SEC)).isTrue();
      lead = s.awaitLeader();
    }
    long finalLead = lead;
    List<Long> oldVoters = s.others(lead, learner);
    long x = oldVoters.get(0);
    long y = oldVoters.get(1);
    s.cluster.network().isolate(y);
    long idx = s.one(s.freshPut(), 3);
    assertThat(s.core(learner).log().entry(idx)).isNotNull();
    // ... and it is needed: without it, the leader and one old voter are 2 of 4.
    s.cluster.network().isolate(learner);
    KvCommand needsFour = s.freshPut();
    s.propose(lead, needsFour);
    assertThat(s.runUntil(() -> s.logIndexOf(x, needsFour) > 0, 50 * MS)).isTrue();
    long needsFourIndex = s.logIndexOf(x, needsFour);
    s.run(s.electionTimeout() / 2);
    assertThat(s.core(finalLead).log().committed()).isLessThan(needsFourIndex);
    s.cluster.network().heal();
    s.one(s.freshPut(), 4, true);
    s.awaitConverged(5 * SEC);
  }

  // ---------------------------------------------------------------- 2. lagging learner

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {411, 412})
  void promotingALaggingLearnerIsRefusedUntilItCatchesUp(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    long leader = s.awaitLeader();
    long learner = s.cluster.addMember();
    changeOk(s, ConfChange.addLearner(learner));
    assertThat(s.runUntil(() -> caughtUp(s, leader, learner), 2 * SEC)).isTrue();

    s.cluster.network().isolate(learner);
    for (int batch = 0; batch < 11; batch++) {
      List<CompletableFuture<Object>> fs = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        fs.add(s.propose(leader, s.freshPut()));
      }
      assertThat(s.runUntil(() -> fs.stream().allMatch(CompletableFuture::isDone), 5 * SEC))
          .isTrue();
      assertThat(fs).allMatch(ScenarioSupport::succeeded);
    }
    assertThat(s.cluster.leader()).isEqualTo(leader);
    long lag = s.core(leader).log().lastIndex() - s.core(leader).progress(learner).match();
    assertThat(lag).isGreaterThan(s.core(leader).config().maxPromotionLag());

    CompletableFuture<Object> refused = change(s, leader, ConfChange.promote(learner));
    assertThat(cause(refused))
        .isInstanceOf(ProposalDroppedException.class)
        .hasMessageContaining("behind");
    assertThat(s.core(leader).membership().learners()).containsExactly(learner);
    assertThat(s.core(leader).membership().isVoter(learner)).isFalse();

    s.cluster.network().heal();
    assertThat(s.runUntil(() -> caughtUp(s, leader, learner), 5 * SEC))
        .as("learner caught up after healing: %s", s.describe())
        .isTrue();
    changeOk(s, ConfChange.promote(learner));
    assertThat(s.core(s.awaitLeader()).membership().voters())
        .isEqualTo(JointConfig.of(1, 2, 3, learner));
    s.one(s.freshPut(), 4);
    s.awaitConverged(5 * SEC);
  }

  // ---------------------------------------------------------------- 3. one change at a time

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {421, 422})
  void aSecondChangeWhileOneIsInFlightIsRefused(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    long leader = s.awaitLeader();
    long a = s.cluster.addMember();
    long b = s.cluster.addMember();

    // Back to back: the first one's entry is not committed when the second arrives.
    CompletableFuture<Object> first =
        s.cluster.node(leader).changeMembership(List.of(ConfChange.addLearner(a)));
    CompletableFuture<Object> second =
        s.cluster.node(leader).changeMembership(List.of(ConfChange.addLearner(b)));
    assertThat(s.runUntil(() -> first.isDone() && second.isDone(), 3 * SEC)).isTrue();
    assertThat(ScenarioSupport.outcome(first)).startsWith("ok");
    assertThat(cause(second))
        .isInstanceOf(ProposalDroppedException.class)
        .hasMessageContaining("in progress");
    assertThat(s.core(leader).membership().learners()).containsExactly(a);

    // While a joint change cannot commit (the followers cut off), nothing else is taken.
    for (long f : s.others(leader, a, b)) {
      s.cluster.network().isolate(f);
    }
    CompletableFuture<Object> joint =
        s.cluster
            .node(leader)
            .changeMembership(List.of(ConfChange.promote(a), ConfChange.addVoter(b)));
    s.run(5 * MS);
    assertThat(joint).isNotDone();
    assertThat(s.core(leader).membership().voters().isJoint()).isTrue();
    CompletableFuture<Object> during = change(s, leader, ConfChange.remove(a));
    assertThat(cause(during))
        .isInstanceOf(ProposalDroppedException.class)
        .hasMessageContaining("joint");
    s.cluster.network().heal();
    assertThat(s.runUntil(joint::isDone, 3 * SEC)).isTrue();
    assertThat(ScenarioSupport.outcome(joint)).startsWith("ok");
    assertThat(s.runUntil(() -> settled(s, leader), 2 * SEC)).isTrue();
    assertThat(s.core(leader).membership()).isEqualTo(Membership.ofVoters(1, 2, 3, a, b));

    // Typed refusals of invalid changes, and off the leader.
    assertThat(cause(change(s, leader, ConfChange.promote(a))))
        .isInstanceOf(ProposalDroppedException.class)
        .hasMessageContaining("already a voter");
    assertThat(cause(change(s, leader, ConfChange.remove(99))))
        .isInstanceOf(ProposalDroppedException.class)
        .hasMessageContaining("not a member");
    long follower = s.others(leader).get(0);
    assertThat(cause(change(s, follower, ConfChange.remove(a))))
        .isInstanceOf(NotLeaderException.class);
    assertThat(s.core(leader).membership()).isEqualTo(Membership.ofVoters(1, 2, 3, a, b));

    // Once settled, the next change is taken.
    changeOk(s, ConfChange.remove(b));
    assertThat(s.core(s.awaitLeader()).membership()).isEqualTo(Membership.ofVoters(1, 2, 3, a));
    s.awaitConverged(5 * SEC);
  }

  // ---------------------------------------------------------------- 4. replace every member

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {431, 432, 433})
  void replacingEveryMemberOneByOneUnderLoadLosesNothing(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    s.awaitLeader();
    History history = new History();
    Workload.Settings ws = Workload.Settings.defaults().withClients(4, 4).withTimeout(500 * MS);
    // Clients of the original members, then clients of the new ones as well.
    Workload early = new Workload(s.cluster, history, ws);
    early.start();
    s.run(200 * MS);

    long[] added = new long[3];
    Workload middle = null;
    for (int i = 0; i < 3; i++) {
      long fresh = s.cluster.addMember();
      added[i] = fresh;
      replaceStep(s, ConfChange.addVoter(fresh), m -> m.voters().contains(fresh));
      s.run(100 * MS);
      long old = i + 1;
      replaceStep(s, ConfChange.remove(old), m -> !m.members().contains(old));
      s.run(100 * MS);
      if (i == 0) {
        middle = new Workload(s.cluster, history, ws);
        middle.start();
      }
    }
    long acknowledgedBeforeEnd = early.acknowledged();
    s.run(300 * MS);
    Workload late = new Workload(s.cluster, history, ws);
    late.start();
    s.run(300 * MS);
    late.drain();
    middle.drain();
    early.drain();
    s.run(2 * ws.timeoutNanos());

    long leader = s.awaitLeader();
    assertThat(leader).isIn(added[0], added[1], added[2]);
    s.awaitConverged(5 * SEC);
    for (long id : List.of(added[0], added[1], added[2])) {
      assertThat(s.core(id).membership())
          .as("membership at %d", id)
          .isEqualTo(Membership.ofVoters(added));
    }
    for (long old = 1; old <= 3; old++) {
      assertThat(s.role(old)).as("removed member %d", old).isNotEqualTo(Role.LEADER);
    }
    assertThat(acknowledgedBeforeEnd).isGreaterThan(50);
    assertThat(late.acknowledged()).as("acknowledged after the replacement").isPositive();
    s.finalChecks(history);
  }

  /**
   * One replacement step at the leader once it is settled, waiting for it. A step is tried again
   * only when the leader changed under it or the outcome is unknown, and only if the change is not
   * in place by then.
   */
  private static void replaceStep(
      ScenarioSupport s, ConfChange change, Predicate<Membership> done) {
    for (int attempt = 0; attempt < 5; attempt++) {
      s.awaitLeader();
      // A new leader takes a change once it has committed those of its predecessor.
      assertThat(s.runUntil(() -> settled(s, s.cluster.leader()), 2 * SEC))
          .as("leader settled: %s", s.describe())
          .isTrue();
      long leader = s.cluster.leader();
      if (done.test(s.core(leader).membership())) {
        return;
      }
      CompletableFuture<Object> f = change(s, leader, change);
      if (ScenarioSupport.succeeded(f)) {
        assertThat(done.test(s.core(leader).membership())).as("%s in place", change).isTrue();
        return;
      }
      Throwable c = cause(f);
      if (!(c instanceof NotLeaderException || c instanceof RequestTimeoutException)) {
        fail("%s at %d: %s; %s", change, leader, c, s.describe());
      }
      s.run(50 * MS);
    }
    fail("%s did not go through: %s", change, s.describe());
  }

  // ---------------------------------------------------------------- 5. removing the leader

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {441, 442, 443})
  void aRemovedLeaderLeadsUntilTheChangeCommitsThenStepsDownWithoutDisturbing(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    long leader = s.awaitLeader();
    for (int i = 0; i < 10; i++) {
      s.one(s.freshPut(), 3);
    }
    long term = s.term(leader);
    long lastBefore = s.core(leader).log().lastIndex();
    long[] stepDown = {-1, -1}; // commit index and term at the old leader when it stepped down
    s.afterEveryEvent(
        () -> {
          if (stepDown[0] < 0 && s.role(leader) != Role.LEADER) {
            stepDown[0] = s.core(leader).log().committed();
            stepDown[1] = s.term(leader);
          }
        });
    // Followers slow to acknowledge: the change stays uncommitted for a while.
    List<Long> rest = s.others(leader);
    for (long f : rest) {
      s.cluster.network().cut(f, leader);
    }
    CompletableFuture<Object> f =
        s.cluster.node(leader).changeMembership(List.of(ConfChange.remove(leader)));
    s.run(20 * MS);
    long configIndex = lastBefore + 1;
    assertThat(s.core(leader).log().entry(configIndex).type()).isEqualTo(EntryType.CONFIG);
    assertThat(s.core(leader).membership().isVoter(leader)).isFalse();
    assertThat(s.role(leader)).as("leads while the change is uncommitted").isEqualTo(Role.LEADER);
    assertThat(f).isNotDone();
    for (long r : rest) {
      s.cluster.network().restore(r, leader);
    }
    assertThat(s.runUntil(f::isDone, 2 * SEC)).isTrue();
    assertThat(ScenarioSupport.outcome(f)).startsWith("ok");
    assertThat(s.role(leader)).isNotEqualTo(Role.LEADER);
    assertThat(stepDown[0])
        .as("commit index when it stepped down")
        .isGreaterThanOrEqualTo(configIndex);
    assertThat(stepDown[1]).as("stepped down in its own term").isEqualTo(term);

    long next = s.awaitLeader();
    assertThat(next).isIn(rest);
    s.one(s.freshPut(), 2);
    long newTerm = s.term(next);
    s.run(10 * s.electionTimeout());
    for (long r : rest) {
      assertThat(s.term(r)).as("term of %d", r).isEqualTo(newTerm);
      assertThat(s.core(r).leader()).as("leader seen by %d", r).isEqualTo(next);
    }
    assertThat(s.role(next)).isEqualTo(Role.LEADER);
    assertThat(s.role(leader)).isEqualTo(Role.FOLLOWER);
    assertThat(s.core(next).membership()).isEqualTo(Membership.ofVoters(toArray(rest)));
    s.one(s.freshPut(), 2);
    s.awaitConverged(2 * SEC);
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {451, 452})
  void aRemovedFollowerThatMissedItsRemovalDoesNotDisturb(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    long leader = s.awaitLeader();
    long victim = s.others(leader).get(0);
    s.cluster.network().isolate(victim);
    changeOk(s, ConfChange.remove(victim));
    for (int i = 0; i < 5; i++) {
      s.one(s.freshPut(), 2);
    }
    // It never heard of its removal, so it still thinks it is a voter and keeps trying.
    assertThat(s.core(victim).membership().isVoter(victim)).isTrue();
    s.cluster.network().heal();
    long term = s.term(leader);
    s.run(10 * s.electionTimeout());
    List<Long> rest = s.others(victim);
    for (long r : rest) {
      assertThat(s.term(r)).as("term of %d", r).isEqualTo(term);
      assertThat(s.core(r).leader()).as("leader seen by %d", r).isEqualTo(leader);
    }
    assertThat(s.role(leader)).isEqualTo(Role.LEADER);
    assertThat(s.role(victim)).isNotEqualTo(Role.LEADER);
    s.one(s.freshPut(), 2);
    s.awaitConverged(2 * SEC);
  }

  // ---------------------------------------------------------------- 6. joint consensus

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {461, 462})
  void addingTwoVotersAtOnceGoesThroughJointConsensus(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    s.awaitLeader();
    long a = s.cluster.addMember();
    long b = s.cluster.addMember();
    List<Membership> seen = recordLeaderMemberships(s);
    changeOk(s, ConfChange.addVoter(a), ConfChange.addVoter(b));
    assertThat(s.runUntil(() -> settled(s, s.cluster.leader()), 2 * SEC)).isTrue();
    Membership joint =
        new Membership(
            new JointConfig(MajorityConfig.of(1, 2, 3, a, b), MajorityConfig.of(1, 2, 3)),
            Set.of());
    assertThat(seen)
        .containsExactly(Membership.ofVoters(1, 2, 3), joint, Membership.ofVoters(1, 2, 3, a, b));
    s.one(s.freshPut(), 5);
    s.awaitConverged(5 * SEC);
    assertAllConfigured(s, Membership.ofVoters(1, 2, 3, a, b));
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {471, 472})
  void removingOneAndAddingOneAtOnceGoesThroughJointConsensus(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    long leader = s.awaitLeader();
    long gone = s.others(leader).get(1);
    long a = s.cluster.addMember();
    List<Membership> seen = recordLeaderMemberships(s);
    changeOk(s, ConfChange.remove(gone), ConfChange.addVoter(a));
    assertThat(s.runUntil(() -> settled(s, s.cluster.leader()), 2 * SEC)).isTrue();
    long keep = s.others(leader, gone, a).get(0);
    long[] after = {leader, keep, a};
    Membership joint =
        new Membership(
            new JointConfig(MajorityConfig.of(after), MajorityConfig.of(1, 2, 3)), Set.of());
    assertThat(seen)
        .containsExactly(Membership.ofVoters(1, 2, 3), joint, Membership.ofVoters(after));
    s.one(s.freshPut(), 3);
    s.awaitConverged(5 * SEC);
    assertAllConfigured(s, Membership.ofVoters(after));
    // The removed member never hears that the joint configuration was left: it still counts itself
    // a voter of the outgoing half and keeps trying to campaign, without disturbing the others.
    long lead = s.awaitLeader();
    long term = s.term(lead);
    s.run(10 * s.electionTimeout());
    for (long id : after) {
      assertThat(s.term(id)).as("term of %d", id).isEqualTo(term);
      assertThat(s.core(id).leader()).as("leader seen by %d", id).isEqualTo(lead);
    }
    assertThat(s.role(gone)).isNotEqualTo(Role.LEADER);
  }

  // ---------------------------------------------------------------- 7. under faults

  /**
   * Random crashes, restarts, partitions and membership changes (new learners and voters,
   * promotions, demotions, removals of any member or of the leader, joint swaps) under a workload;
   * 3 or 5 initial members, every third seed over a lossy, duplicating network.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {491, 492, 493, 494, 495, 496, 497, 498, 499, 500})
  void changesInterleavedWithCrashesAndPartitionsKeepEverythingSafe(long seed) {
    SimOptions options = SimOptions.defaults().withSize(seed % 2 == 0 ? 3 : 5);
    if (seed % 3 == 0) {
      options = options.withNetwork(100_000, 5_000_000, 0.05, 0.02);
    }
    ScenarioSupport s = ScenarioSupport.start(seed, options);
    s.awaitLeader();
    History history = new History();
    Workload workload =
        new Workload(
            s.cluster, history, Workload.Settings.defaults().withClients(4, 4).withTimeout(SEC));
    workload.start();
    var r = s.random;
    List<CompletableFuture<Object>> changes = new ArrayList<>();
    for (int step = 0; step < 30; step++) {
      s.run((30 + r.nextInt(250)) * MS);
      List<Long> ids = new ArrayList<>(s.cluster.ids());
      long any = ids.get(r.nextInt(ids.size()));
      if (r.nextInt(3) == 0) {
        s.cluster.network().heal();
      }
      int act = r.nextInt(9);
      switch (act) {
        case 0 -> {
          // At most one member down at a time; a second crash restarts the one that is down.
          List<Long> down = new ArrayList<>(ids);
          down.removeAll(s.cluster.upIds());
          if (down.isEmpty()) {
            s.cluster.crash(any);
          } else {
            s.cluster.start(down.get(0));
          }
        }
        case 1 -> {
          if (s.cluster.isUp(any)) {
            s.cluster.restart(any);
          }
        }
        case 2 -> {
          Set<Long> side = new TreeSet<>();
          for (long id : ids) {
            if (r.nextBoolean()) {
              side.add(id);
            }
          }
          Set<Long> other = new TreeSet<>(ids);
          other.removeAll(side);
          s.cluster.network().partition(side, other);
        }
        case 3 -> {
          long l = s.cluster.leader();
          if (l != 0) {
            s.cluster.network().isolate(l);
          }
        }
        case 4 -> s.cluster.network().heal();
        default -> {
          CompletableFuture<Object> f = randomChange(s);
          if (f != null) {
            changes.add(f);
          }
        }
      }
    }
    s.cluster.healAll();
    s.run(SEC);
    workload.drain();
    s.awaitConverged(10 * SEC);
    s.finalChecks(history);

    long applied = changes.stream().filter(ScenarioSupport::succeeded).count();
    assertThat(applied).as("membership changes applied of %d", changes.size()).isGreaterThan(2);
    assertThat(workload.acknowledged()).isGreaterThan(50);

    // Every configured member agrees on the configuration, which is not joint.
    assertThat(s.runUntil(() -> settled(s, s.cluster.leader()), 2 * SEC)).isTrue();
    long leader = s.awaitLeader();
    Membership m = s.core(leader).membership();
    assertThat(m.voters().isJoint()).isFalse();
    assertAllConfigured(s, m);

    // Still available: every configured member applies a new write.
    int configured = s.cluster.upConfiguredMembers().size();
    s.one(s.freshPut(), configured, true);
  }

  /**
   * A random change at the leader: a new member as learner or voter, promoting a learner, removing
   * any member (the leader too), demoting a voter, or a joint swap of a voter for a new member.
   */
  private static CompletableFuture<Object> randomChange(ScenarioSupport s) {
    long leader = s.cluster.leader();
    if (leader == 0) {
      return null;
    }
    var r = s.random;
    Membership m = s.core(leader).membership();
    List<Long> voters = new ArrayList<>(m.voters().incoming().voters());
    List<Long> learners = new ArrayList<>(m.learners());
    boolean room = s.cluster.ids().size() < 9;
    List<ConfChange> batch = new ArrayList<>();
    switch (r.nextInt(6)) {
      case 0 -> {
        if (room) {
          batch.add(ConfChange.addLearner(s.cluster.addMember()));
        }
      }
      case 1 -> {
        if (room) {
          batch.add(ConfChange.addVoter(s.cluster.addMember()));
        }
      }
      case 2 -> {
        if (!learners.isEmpty()) {
          batch.add(ConfChange.promote(learners.get(r.nextInt(learners.size()))));
        } else if (voters.size() > 2) {
          batch.add(ConfChange.demote(voters.get(r.nextInt(voters.size()))));
        }
      }
      case 3 -> {
        if (voters.size() > 2) {
          batch.add(ConfChange.remove(leader));
        }
      }
      case 4 -> {
        List<Long> members = new ArrayList<>(m.members());
        long victim = members.get(r.nextInt(members.size()));
        if (voters.size() > 2 || !voters.contains(victim)) {
          batch.add(ConfChange.remove(victim));
        }
      }
      default -> {
        if (room) {
          batch.add(ConfChange.remove(voters.get(r.nextInt(voters.size()))));
          batch.add(ConfChange.addVoter(s.cluster.addMember()));
        }
      }
    }
    return batch.isEmpty() ? null : s.cluster.node(leader).changeMembership(batch);
  }

  // ---------------------------------------------------------------- helpers

  /** Proposes {@code changes} at {@code at} and runs until the outcome is known (3 s at most). */
  private static CompletableFuture<Object> change(
      ScenarioSupport s, long at, ConfChange... changes) {
    CompletableFuture<Object> f = s.cluster.node(at).changeMembership(List.of(changes));
    s.runUntil(f::isDone, 3 * SEC);
    assertThat(f).as("outcome of %s at %d", List.of(changes), at).isDone();
    return f;
  }

  /** Proposes {@code changes} at the leader; they must go through. */
  private static void changeOk(ScenarioSupport s, ConfChange... changes) {
    long leader = s.awaitLeader();
    CompletableFuture<Object> f = change(s, leader, changes);
    assertThat(ScenarioSupport.outcome(f))
        .as("%s at %d: %s", List.of(changes), leader, s.describe())
        .startsWith("ok");
  }

  /** The failure of a completed future, unwrapped. */
  private static Throwable cause(CompletableFuture<?> f) {
    assertThat(f).isDone();
    return f.handle((v, e) -> e instanceof CompletionException ? e.getCause() : e).join();
  }

  /** Whether {@code member} applied everything {@code leader} committed. */
  private static boolean caughtUp(ScenarioSupport s, long leader, long member) {
    long c = s.core(leader).log().committed();
    return c > 0 && s.sm(member).appliedIndex() == c && s.sm(leader).appliedIndex() == c;
  }

  /**
   * Whether {@code leader} leads with a non-joint configuration and has committed every
   * configuration entry in its log (so the next change will be taken).
   */
  private static boolean settled(ScenarioSupport s, long leader) {
    if (leader == 0 || !s.cluster.isUp(leader) || s.role(leader) != Role.LEADER) {
      return false;
    }
    if (s.core(leader).membership().voters().isJoint()) {
      return false;
    }
    var log = s.core(leader).log();
    for (long i = log.committed() + 1; i <= log.lastIndex(); i++) {
      if (log.entry(i).type() == EntryType.CONFIG) {
        return false;
      }
    }
    return true;
  }

  /** The distinct configurations successive leaders held, in order, from now on. */
  private static List<Membership> recordLeaderMemberships(ScenarioSupport s) {
    List<Membership> seen = new ArrayList<>();
    Runnable record =
        () -> {
          long l = s.cluster.leader();
          if (l != 0) {
            Membership m = s.core(l).membership();
            if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(m)) {
              seen.add(m);
            }
          }
        };
    record.run();
    s.afterEveryEvent(record);
    return seen;
  }

  /** Every live member of {@code expected} holds exactly {@code expected}. */
  private static void assertAllConfigured(ScenarioSupport s, Membership expected) {
    for (long id : expected.members()) {
      if (s.cluster.isUp(id)) {
        assertThat(s.core(id).membership()).as("membership at %d", id).isEqualTo(expected);
      }
    }
  }

  private static long[] toArray(List<Long> ids) {
    return ids.stream().mapToLong(Long::longValue).toArray();
  }

  /**
   * Replacing two of three voters at once: the joint configuration needs a majority of the new
   * voters too, so with the two incoming voters cut off it does not commit although a majority of
   * all five members (the old three) holds it. The incoming voters are caught-up learners first.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {481, 482})
  void aJointConfigurationNeedsAMajorityOfBothHalves(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    long leader = s.awaitLeader();
    for (int i = 0; i < 5; i++) {
      s.one(s.freshPut(), 3);
    }
    List<Long> old = s.others(leader);
    long a = s.cluster.addMember();
    long b = s.cluster.addMember();
    changeOk(s, ConfChange.addLearner(a), ConfChange.addLearner(b));
    assertThat(s.runUntil(() -> settled(s, leader), 2 * SEC)).isTrue();
    assertThat(s.runUntil(() -> caughtUp(s, leader, a) && caughtUp(s, leader, b), 2 * SEC))
        .isTrue();
    s.cluster.network().isolate(a);
    s.cluster.network().isolate(b);
    long lastBefore = s.core(leader).log().lastIndex();
    CompletableFuture<Object> f =
        s.cluster
            .node(leader)
            .changeMembership(
                List.of(
                    ConfChange.remove(old.get(0)),
                    ConfChange.remove(old.get(1)),
                    ConfChange.promote(a),
                    ConfChange.promote(b)));
    long jointIndex = lastBefore + 1;
    assertThat(
            s.runUntil(
                () -> old.stream().allMatch(o -> s.core(o).log().lastIndex() >= jointIndex),
                50 * MS))
        .as("old voters hold the joint entry")
        .isTrue();
    Membership joint =
        new Membership(
            new JointConfig(MajorityConfig.of(leader, a, b), MajorityConfig.of(1, 2, 3)), Set.of());
    assertThat(s.core(leader).membership()).isEqualTo(joint);
    s.run(s.electionTimeout() / 2);
    assertThat(s.core(leader).log().committed()).isLessThan(jointIndex);
    assertThat(f).isNotDone();

    s.cluster.network().heal();
    assertThat(s.runUntil(f::isDone, 3 * SEC)).isTrue();
    assertThat(ScenarioSupport.outcome(f)).startsWith("ok");
    assertThat(s.runUntil(() -> settled(s, s.cluster.leader()), 2 * SEC)).isTrue();
    Membership expected = Membership.ofVoters(leader, a, b);
    assertThat(s.core(s.awaitLeader()).membership()).isEqualTo(expected);
    s.one(s.freshPut(), 3);
    s.awaitConverged(5 * SEC);
    assertAllConfigured(s, expected);
  }
}
