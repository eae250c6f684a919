package io.tern.sim.scenario;

import static io.tern.sim.scenario.ScenarioSupport.MS;
import static io.tern.sim.scenario.ScenarioSupport.SEC;
import static org.assertj.core.api.Assertions.assertThat;

import io.tern.raft.core.MessageType;
import io.tern.sim.SimOptions;
import io.tern.sim.kv.KvCommand;
import io.tern.sim.kv.KvStateMachine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Log agreement: commits with a majority, never without, and at a reasonable cost. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AgreementScenarioTest {

  @ParameterizedTest(name = "seed {0}, {1} members")
  @CsvSource({"101, 3", "102, 3", "103, 5"})
  void proposalsCommitAndApplyOnEveryMemberInOrder(long seed, int size) {
    ScenarioSupport s = ScenarioSupport.start(seed, SimOptions.defaults().withSize(size));
    s.awaitLeader();
    List<KvCommand> proposed = new ArrayList<>();
    long prev = 0;
    for (int i = 0; i < 20; i++) {
      KvCommand cmd = s.freshPut();
      long before = s.sm(s.cluster.leader()).appliedIndex();
      assertThat(s.nApplied(before + 1)).as("applied before it was proposed").isZero();
      long idx = s.one(cmd, size);
      if (prev != 0) {
        assertThat(idx).as("no leader change: consecutive indexes").isEqualTo(prev + 1);
      }
      prev = idx;
      proposed.add(cmd);
    }

    List<Long> expected = new ArrayList<>();
    for (KvCommand c : proposed) {
      expected.add(KvStateMachine.hash(c.encode()));
    }
    for (long id : s.cluster.ids()) {
      List<Long> applied = new ArrayList<>();
      for (KvStateMachine.Applied a : s.sm(id).appliedLog()) {
        if (a.requestId() != 0) {
          applied.add(a.dataHash());
        }
      }
      assertThat(applied).as("commands applied by %d, in order", id).isEqualTo(expected);
      for (KvCommand c : proposed.subList(proposed.size() - 7, proposed.size())) {
        assertThat(s.sm(id).get(c.key())).as("%s at %d", c, id).isEqualTo(c.value());
      }
    }
  }

  /** Each entry travels to each follower about once: whole logs are never resent. */
  @ParameterizedTest(name = "seed {0}, {1} members")
  @CsvSource({"111, 3", "112, 5"})
  void bytesSentAreProportionalToThePayload(long seed, int size) {
    ScenarioSupport s = ScenarioSupport.start(seed, SimOptions.defaults().withSize(size));
    s.awaitLeader();
    s.one(s.freshPut(), size);
    s.cluster.network().reset();

    long payload = 0;
    for (int i = 0; i < 40; i++) {
      KvCommand cmd = s.freshPut(5000);
      payload += cmd.encode().length;
      s.one(cmd, size);
    }

    long sent = s.cluster.network().bytesSent();
    assertThat(sent).as("payload bytes sent").isGreaterThanOrEqualTo((size - 1) * payload);
    assertThat(sent)
        .as("bytes sent for %d payload bytes to %d followers", payload, size - 1)
        .isLessThan((long) (1.2 * (size - 1) * payload));
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {121, 122, 123})
  void progressiveFailureOfFollowers(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    long leader = s.awaitLeader();
    s.one(s.freshPut(), 3);

    // 2 of 3 up: still commits.
    s.cluster.crash(s.plus(leader, 1));
    s.one(s.freshPut(), 2);

    // 1 of 3 up: nothing commits.
    s.cluster.crash(s.plus(leader, 2));
    KvCommand lonely = s.freshPut();
    CompletableFuture<Object> f = s.propose(leader, lonely);
    s.run(5 * MS);
    long idx = s.logIndexOf(leader, lonely);
    assertThat(idx).as("appended at the leader").isPositive();
    s.run(3 * SEC);
    assertThat(ScenarioSupport.succeeded(f)).as("acknowledged without a majority").isFalse();
    assertThat(s.appliedAnywhere(lonely)).isFalse();
    assertThat(s.core(leader).log().committed()).isLessThan(idx);

    // Back to 3: commits again.
    s.cluster.start(s.plus(leader, 1));
    s.cluster.start(s.plus(leader, 2));
    s.one(s.freshPut(), 3, true);
    s.awaitConverged(2 * SEC);
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {131, 132, 133})
  void failureOfLeaders(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed, SimOptions.defaults().withSize(5));
    long l1 = s.awaitLeader();
    s.one(s.freshPut(), 5);

    s.cluster.crash(l1);
    long l2 = s.awaitLeaderOtherThan(l1);
    s.one(s.freshPut(), 4);

    s.cluster.crash(l2);
    long l3 = s.awaitLeaderOtherThan(List.of(l1, l2));
    s.one(s.freshPut(), 3);

    // 2 of 5 left: no leader, no commit.
    s.cluster.crash(l3);
    KvCommand cmd = s.freshPut();
    List<CompletableFuture<Object>> attempts = new ArrayList<>();
    for (long id : s.cluster.upIds()) {
      attempts.add(s.propose(id, cmd));
    }
    s.run(3 * SEC);
    assertThat(s.leaders()).isEmpty();
    assertThat(s.appliedAnywhere(cmd)).isFalse();
    assertThat(attempts).noneMatch(ScenarioSupport::succeeded);

    s.cluster.start(l1);
    s.cluster.start(l2);
    s.cluster.start(l3);
    s.one(s.freshPut(), 5, true);
    s.awaitConverged(2 * SEC);
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {141, 142, 143})
  void agreementAfterAFollowerReconnects(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    long leader = s.awaitLeader();
    s.one(s.freshPut(), 3);

    long follower = s.plus(leader, 1);
    s.cluster.network().isolate(follower);
    for (int i = 0; i < 4; i++) {
      s.one(s.freshPut(), 2);
    }
    s.run(2 * s.electionTimeout());
    for (int i = 0; i < 3; i++) {
      s.one(s.freshPut(), 2);
    }
    long behind = s.sm(follower).appliedIndex();

    s.cluster.network().rejoin(follower);
    long idx = s.one(s.freshPut(), 3, true);
    assertThat(idx).isGreaterThan(behind + 7);
    s.one(s.freshPut(), 3);
    s.awaitConverged(SEC);
    assertThat(s.sm(follower).appliedLog()).isEqualTo(s.sm(leader).appliedLog());
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {151, 152, 153})
  void noAgreementWithoutAMajority(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed, SimOptions.defaults().withSize(5));
    long leader = s.awaitLeader();
    s.one(s.freshPut(), 5);

    long buddy = s.plus(leader, 1);
    List<Long> majority = s.others(leader, buddy);
    s.partition(List.of(leader, buddy), majority);
    KvCommand cut = s.freshPut();
    CompletableFuture<Object> f = s.propose(leader, cut);
    s.run(5 * MS);
    long idx = s.logIndexOf(leader, cut);
    assertThat(idx).as("appended at the cut-off leader").isPositive();

    long newLeader = s.awaitLeaderOtherThan(List.of(leader, buddy));
    assertThat(majority).contains(newLeader);
    s.run(SEC);
    assertThat(s.appliedAnywhere(cut)).isFalse();
    assertThat(s.core(leader).log().committed()).isLessThan(idx);
    assertThat(s.core(buddy).log().committed()).isLessThan(idx);

    s.cluster.network().heal();
    s.one(s.freshPut(), 5, true);
    s.awaitConverged(2 * SEC);
    // The majority's newer entries replaced the cut-off leader's: it never commits.
    assertThat(s.appliedAnywhere(cut)).isFalse();
    assertThat(ScenarioSupport.succeeded(f)).isFalse();
  }

  @ParameterizedTest(name = "seed {0}, {1} members")
  @CsvSource({"161, 3", "162, 3", "163, 5"})
  void concurrentProposalsFromSeveralMembersCommitExactlyOnce(long seed, int size) {
    ScenarioSupport s = ScenarioSupport.start(seed, SimOptions.defaults().withSize(size));
    long leader = s.awaitLeader();
    s.one(s.freshPut(), size);
    long term = s.term(leader);

    List<KvCommand> cmds = new ArrayList<>();
    List<CompletableFuture<Object>> futures = new ArrayList<>();
    List<Long> ids = new ArrayList<>(s.cluster.ids());
    for (int i = 0; i < 60; i++) {
      KvCommand cmd = s.freshPut();
      cmds.add(cmd);
      futures.add(s.propose(ids.get(i % size), cmd));
    }
    s.runUntil(() -> futures.stream().allMatch(CompletableFuture::isDone), 5 * SEC);

    assertThat(s.leaders()).containsExactly(leader);
    assertThat(s.term(leader)).isEqualTo(term);
    for (int i = 0; i < futures.size(); i++) {
      assertThat(ScenarioSupport.outcome(futures.get(i))).as("%s", cmds.get(i)).startsWith("ok");
    }
    s.awaitConverged(2 * SEC);
    for (long id : s.cluster.ids()) {
      for (KvCommand c : cmds) {
        assertThat(s.timesApplied(id, c)).as("%s applied at %d", c, id).isEqualTo(1);
      }
      assertThat(s.sm(id).appliedLog()).isEqualTo(s.sm(leader).appliedLog());
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {171, 172, 173})
  void partitionedLeaderRejoinsAndItsEntriesAreReplaced(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    long l1 = s.awaitLeader();
    s.one(s.freshPut(), 3);

    // l1 is cut off and takes proposals nobody else sees.
    s.cluster.network().isolate(l1);
    List<KvCommand> stale = List.of(s.freshPut(), s.freshPut(), s.freshPut());
    for (KvCommand c : stale) {
      s.propose(l1, c);
    }
    s.run(5 * MS);
    for (KvCommand c : stale) {
      assertThat(s.logIndexOf(l1, c)).isPositive();
    }

    long l2 = s.awaitLeaderOtherThan(l1);
    s.one(s.freshPut(), 2);

    // The new leader is cut off, the old one comes back: it joins the third member's majority.
    s.cluster.network().isolate(l2);
    s.cluster.network().rejoin(l1);
    s.one(s.freshPut(), 2, true);

    s.cluster.network().rejoin(l2);
    s.one(s.freshPut(), 3, true);
    s.awaitConverged(2 * SEC);
    for (KvCommand c : stale) {
      assertThat(s.appliedAnywhere(c)).as("stale %s", c).isFalse();
      assertThat(s.logIndexOf(l1, c)).as("stale %s still in the old leader's log", c).isNegative();
    }
    s.run(SEC);
    assertThat(s.leaders()).hasSize(1);
  }

  /**
   * Divergent minorities each build 50 uncommitted entries; once healed, the leader backs up over
   * the followers' wrong entries quickly (a few round trips per follower, not one per entry).
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {181, 182, 183})
  void leaderBacksUpQuicklyOverIncorrectFollowerLogs(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed, SimOptions.defaults().withSize(5));
    long l1 = s.awaitLeader();
    s.one(s.freshPut(), 5);

    // l1 and one follower: 50 entries that will never commit.
    long f1 = s.plus(l1, 1);
    List<Long> rest = s.others(l1, f1);
    s.partition(List.of(l1, f1), rest);
    for (int i = 0; i < 50; i++) {
      s.propose(l1, s.freshPut());
    }
    s.run(s.electionTimeout() / 2);

    // The other three commit 50 entries.
    long l2 = s.awaitLeaderOtherThan(List.of(l1, f1));
    for (int i = 0; i < 50; i++) {
      s.one(s.freshPut(), 3);
    }

    // The new leader and one follower: 50 more that never commit.
    List<Long> others = new ArrayList<>(rest);
    others.remove(l2);
    long r1 = others.get(0);
    long r2 = others.get(1);
    s.partition(List.of(l1, f1), List.of(l2, r1), List.of(r2));
    for (int i = 0; i < 50; i++) {
      s.propose(l2, s.freshPut());
    }
    s.run(s.electionTimeout() / 2);

    // The original pair and r2: r2 leads (its log is the most up to date) and must back up over
    // the pair's 50 stale entries.
    s.cluster.network().reset();
    s.partition(List.of(l1, f1, r2), List.of(l2, r1));
    long cutAt = s.sim.now();
    assertThat(s.runUntil(() -> groupConverged(s, List.of(l1, f1, r2)), 2 * SEC))
        .as("l1, f1, r2 converge: %s", s.describe())
        .isTrue();
    checkBackup(s, cutAt, 16);
    assertThat(s.cluster.leader()).isEqualTo(r2);
    for (int i = 0; i < 50; i++) {
      s.one(s.freshPut(), 3, true);
    }

    // Everyone: l2 and r1 hold 50 wrong entries each.
    s.cluster.network().reset();
    s.cluster.network().heal();
    long healedAt = s.sim.now();
    s.awaitConverged(2 * SEC);
    checkBackup(s, healedAt, 10);
    s.one(s.freshPut(), 5);
  }

  /** Whether the group has a leader and every member holds and applied exactly its log. */
  private static boolean groupConverged(ScenarioSupport s, List<Long> group) {
    long leader = 0;
    for (long id : group) {
      if (s.role(id) == io.tern.raft.core.Role.LEADER) {
        leader = id;
      }
    }
    if (leader == 0) {
      return false;
    }
    var log = s.core(leader).log();
    if (log.committed() != log.lastIndex()) {
      return false;
    }
    for (long id : group) {
      if (s.core(id).log().lastIndex() != log.lastIndex()
          || s.core(id).log().lastTerm() != log.lastTerm()
          || s.sm(id).appliedIndex() != log.committed()) {
        return false;
      }
    }
    return true;
  }

  /** Converging took a bounded time and few APPEND messages (no entry-by-entry backing up). */
  private static void checkBackup(ScenarioSupport s, long since, long maxAppends) {
    long took = s.sim.now() - since;
    Map<MessageType, Long> counts = s.cluster.network().countsByType();
    long appends = counts.getOrDefault(MessageType.APPEND, 0L);
    assertThat(took).as("time to converge").isLessThan(10 * s.electionTimeout());
    assertThat(appends)
        .as("APPEND messages to converge in %d ms (%s)", took / MS, counts)
        .isLessThanOrEqualTo(maxAppends);
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {191, 192})
  void messageCountsAreNotTooHigh(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    int n = 3;
    s.awaitLeader();
    Map<MessageType, Long> election = s.cluster.network().countsByType();
    long electionMsgs =
        election.getOrDefault(MessageType.PRE_VOTE, 0L)
            + election.getOrDefault(MessageType.PRE_VOTE_RESPONSE, 0L)
            + election.getOrDefault(MessageType.VOTE, 0L)
            + election.getOrDefault(MessageType.VOTE_RESPONSE, 0L);
    assertThat(electionMsgs)
        .as("election messages %s", election)
        .isLessThanOrEqualTo(4 * (n - 1) * 2);

    s.one(s.freshPut(), n);
    s.cluster.network().reset();
    long start = s.sim.now();
    int commands = 30;
    for (int i = 0; i < commands; i++) {
      s.one(s.freshPut(), n);
    }
    long ticks = (s.sim.now() - start) / s.tick() + 1;
    Map<MessageType, Long> counts = s.cluster.network().countsByType();
    long heartbeats =
        counts.getOrDefault(MessageType.HEARTBEAT, 0L)
            + counts.getOrDefault(MessageType.HEARTBEAT_RESPONSE, 0L);
    long rest = s.cluster.network().messagesSent() - heartbeats;
    assertThat(heartbeats)
        .as("heartbeats over %d ticks", ticks)
        .isLessThanOrEqualTo(2 * (n - 1) * (ticks + 1));
    assertThat(rest)
        .as("non-heartbeat messages for %d commands: %s", commands, counts)
        .isLessThanOrEqualTo(4L * (n - 1) * commands + 4 * (n - 1));

    // Idle: heartbeats only (once the last command's commit round trip is over).
    s.run(5 * s.tick());
    s.cluster.network().reset();
    s.run(SEC);
    counts = s.cluster.network().countsByType();
    assertThat(counts.keySet())
        .as("idle traffic %s", counts)
        .containsOnly(MessageType.HEARTBEAT, MessageType.HEARTBEAT_RESPONSE);
    assertThat(s.cluster.network().messagesSent())
        .isLessThanOrEqualTo(2L * (n - 1) * (SEC / s.tick() + 1));
  }
}
