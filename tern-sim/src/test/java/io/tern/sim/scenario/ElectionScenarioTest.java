package io.tern.sim.scenario;

import static io.tern.sim.scenario.ScenarioSupport.MS;
import static io.tern.sim.scenario.ScenarioSupport.SEC;
import static org.assertj.core.api.Assertions.assertThat;

import io.tern.raft.core.Role;
import io.tern.sim.SimOptions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Leader election: initial, after failures, repeated, and the pre-vote / check-quorum guards. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ElectionScenarioTest {

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3})
  void initialElectionElectsOneLeaderAndTheTermStaysStable(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);

    long leader = s.awaitLeader();
    assertThat(s.sim.now()).as("elected within two election timeouts and a bit").isLessThan(SEC);
    long term = s.term(leader);
    assertThat(term).isPositive();

    // No faults: nothing may disturb the leader for several seconds.
    s.run(5 * SEC);
    assertThat(s.leaders()).containsExactly(leader);
    for (long id : s.cluster.ids()) {
      assertThat(s.term(id)).as("term of %d", id).isEqualTo(term);
      assertThat(s.core(id).leader()).as("leader known to %d", id).isEqualTo(leader);
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {11, 12, 13})
  void electionAfterNetworkFailure(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    long leader1 = s.awaitLeader();

    // The leader is cut off: the other two elect a new one.
    s.cluster.network().isolate(leader1);
    long leader2 = s.awaitLeaderOtherThan(leader1);
    assertThat(leader2).isNotEqualTo(leader1);
    long term2 = s.term(leader2);

    // The old leader comes back: it must not disturb the new one.
    s.cluster.network().rejoin(leader1);
    s.run(SEC);
    assertThat(s.leaders()).containsExactly(leader2);
    for (long id : s.cluster.ids()) {
      assertThat(s.term(id)).as("term of %d", id).isEqualTo(term2);
      assertThat(s.core(id).leader()).as("leader known to %d", id).isEqualTo(leader2);
    }

    // No quorum: no leader anywhere (check-quorum makes the cut-off leader step down).
    long other = s.others(leader2).get(0);
    s.cluster.network().isolate(leader2);
    s.cluster.network().isolate(other);
    s.run(SEC);
    assertThat(s.leaders()).as("leaders without a quorum").isEmpty();

    // A quorum again: a leader.
    s.cluster.network().rejoin(other);
    long leader3 = s.awaitLeaderOtherThan(leader2);
    assertThat(s.others(leader2)).contains(leader3);

    // Everyone back: still one leader.
    s.cluster.network().rejoin(leader2);
    s.run(SEC);
    assertThat(s.leaders()).containsExactly(s.awaitLeader());
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {21, 22})
  void multipleElectionsUnderRepeatedPartitions(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed, SimOptions.defaults().withSize(7));
    s.awaitLeader();
    for (int iter = 0; iter < 12; iter++) {
      List<Long> ids = new ArrayList<>(s.cluster.ids());
      Collections.shuffle(ids, new java.util.Random(s.random.nextLong()));
      boolean majorityCut = iter % 3 == 2;
      int cut = majorityCut ? 4 : 3;
      List<Long> isolated = ids.subList(0, cut);
      for (long id : isolated) {
        s.cluster.network().isolate(id);
      }
      if (majorityCut) {
        s.run(3 * s.electionTimeout());
        assertThat(s.leaders())
            .as("iteration %d: no member may lead with only %d of 7 connected", iter, 7 - cut)
            .isEmpty();
      } else {
        long leader = s.awaitLeaderOtherThan(isolated);
        assertThat(isolated)
            .as("iteration %d: leader %d must be connected", iter, leader)
            .doesNotContain(leader);
        s.one(s.freshPut(), 7 - cut);
      }
      s.cluster.network().heal();
    }
    long leader = s.awaitLeader();
    s.run(SEC);
    assertThat(s.leaders()).containsExactly(leader);
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {31, 32, 33})
  void preVoteKeepsARejoiningMemberFromDeposingTheLeader(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    long leader = s.awaitLeader();
    long term = s.term(leader);
    long follower = s.others(leader).get(0);

    s.cluster.network().isolate(follower);
    s.run(20 * s.electionTimeout());
    assertThat(s.term(follower)).as("pre-candidates do not bump their term").isEqualTo(term);
    s.cluster.network().rejoin(follower);
    s.run(SEC);

    assertThat(s.leaders()).containsExactly(leader);
    for (long id : s.cluster.ids()) {
      assertThat(s.term(id)).as("term of %d", id).isEqualTo(term);
    }
    assertThat(s.core(follower).leader()).isEqualTo(leader);
  }

  /** The contrast that proves the previous test can fail: without pre-vote the term does move. */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {31, 32, 33})
  void withoutPreVoteARejoiningMemberBumpsTheTerm(long seed) {
    ScenarioSupport s =
        ScenarioSupport.start(seed, SimOptions.defaults().withProtocol(false, false, false));
    long leader = s.awaitLeader();
    long term = s.term(leader);
    long follower = s.others(leader).get(0);

    s.cluster.network().isolate(follower);
    s.run(20 * s.electionTimeout());
    assertThat(s.term(follower))
        .as("an isolated candidate keeps bumping its term")
        .isGreaterThan(term);
    s.cluster.network().rejoin(follower);
    s.run(SEC);

    long newLeader = s.awaitLeader();
    assertThat(s.term(newLeader)).as("the rejoining member deposed the leader").isGreaterThan(term);
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {41, 42, 43})
  void leaderCutOffFromTheMajorityStepsDown(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    long leader = s.awaitLeader();
    s.run(7 * MS + seed); // isolate at an arbitrary point of the check-quorum period

    s.cluster.network().isolate(leader);
    long cutAt = s.sim.now();
    boolean stepped = s.runUntil(() -> s.role(leader) != Role.LEADER, 3 * SEC);

    assertThat(stepped).as("the cut-off leader steps down").isTrue();
    assertThat(s.sim.now() - cutAt)
        .as("steps down within two election timeouts")
        .isLessThanOrEqualTo(2 * s.electionTimeout() + 2 * s.tick());
    // And it stays down while cut off (pre-vote cannot win without a quorum).
    s.run(SEC);
    assertThat(s.role(leader)).isNotEqualTo(Role.LEADER);
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {41, 42})
  void withoutCheckQuorumACutOffLeaderStaysLeader(long seed) {
    ScenarioSupport s =
        ScenarioSupport.start(seed, SimOptions.defaults().withProtocol(true, false, false));
    long leader = s.awaitLeader();
    long term = s.term(leader);

    s.cluster.network().isolate(leader);
    s.run(2 * SEC);

    assertThat(s.role(leader)).as("nothing tells it to step down").isEqualTo(Role.LEADER);
    assertThat(s.term(leader)).isEqualTo(term);
    long newLeader = s.awaitLeaderOtherThan(leader);
    assertThat(s.term(newLeader)).isGreaterThan(term);
  }
}
