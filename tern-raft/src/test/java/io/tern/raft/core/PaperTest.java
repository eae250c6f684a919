package io.tern.raft.core;

import static io.tern.raft.core.Cores.drain;
import static io.tern.raft.core.Cores.entries;
import static io.tern.raft.core.Cores.entry;
import static io.tern.raft.core.Cores.log;
import static io.tern.raft.core.Cores.msg;
import static io.tern.raft.core.Cores.step;
import static io.tern.raft.core.MessageType.APPEND;
import static io.tern.raft.core.MessageType.APPEND_RESPONSE;
import static io.tern.raft.core.MessageType.HEARTBEAT;
import static io.tern.raft.core.MessageType.VOTE;
import static io.tern.raft.core.MessageType.VOTE_RESPONSE;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The rules of the Raft paper (Ongaro and Ousterhout, "In Search of an Understandable Consensus
 * Algorithm", extended version): Figure 2 and the safety arguments of sections 5.1 to 5.4. Each
 * test quotes the rule it checks. Members run the paper's algorithm: no pre-vote, no check-quorum
 * (those are tested in their own classes).
 */
class PaperTest {

  // ---------------------------------------------------------------- 5.1 terms

  /**
   * Raft paper 5.1 and Figure 2 (all servers): "If RPC request or response contains term T >
   * currentTerm: set currentTerm = T, convert to follower". Checked from every role and for each
   * kind of request.
   */
  @ParameterizedTest
  @CsvSource({
    "FOLLOWER, APPEND",
    "FOLLOWER, HEARTBEAT",
    "FOLLOWER, VOTE",
    "CANDIDATE, APPEND",
    "CANDIDATE, HEARTBEAT",
    "CANDIDATE, VOTE",
    "LEADER, APPEND",
    "LEADER, HEARTBEAT",
    "LEADER, VOTE",
    "LEADER, APPEND_RESPONSE",
    "CANDIDATE, VOTE_RESPONSE"
  })
  void higherTermTurnsAnyRoleIntoFollowerOfThatTerm(Role role, MessageType type) {
    Raft r = Cores.fresh(1, 3);
    if (role != Role.FOLLOWER) {
      r.campaign();
      drain(r);
    }
    if (role == Role.LEADER) {
      step(r, msg(VOTE_RESPONSE, 2, 1, r.term()).build());
    }
    assertThat(r.role()).isEqualTo(role);
    long newTerm = r.term() + 3;

    step(r, msg(type, 2, 1, newTerm).reject(type == VOTE_RESPONSE).build());

    assertThat(r.term()).isEqualTo(newTerm);
    assertThat(r.role()).isEqualTo(Role.FOLLOWER);
    boolean fromLeader = type == APPEND || type == HEARTBEAT;
    assertThat(r.leader()).isEqualTo(fromLeader ? 2 : 0);
  }

  /**
   * Raft paper 5.1: "If a server receives a request with a stale term number, it rejects the
   * request." A stale append changes neither log nor commit, and a stale vote request is not
   * granted.
   */
  @Test
  void requestsOfStaleTermAreRejected() {
    Raft r = Cores.core(1, 3, new HardState(3, 0, 0), log(1));

    Cores.Output out =
        step(
            r,
            msg(APPEND, 2, 1, 2)
                .index(1)
                .logTerm(1)
                .entries(List.of(entry(2, 2)))
                .commit(2)
                .build());
    assertThat(entries(r)).isEqualTo(log(1));
    // Any answer carries the newer term, which tells the sender it is stale.
    assertThat(out.all()).allSatisfy(m -> assertThat(m.term()).isEqualTo(3));

    out = step(r, msg(HEARTBEAT, 2, 1, 2).commit(1).build());
    assertThat(r.log().committed()).isZero();
    assertThat(r.leader()).isZero();

    out = step(r, msg(VOTE, 2, 1, 2).index(5).logTerm(2).build());
    assertThat(out.ofType(VOTE_RESPONSE)).noneMatch(m -> !m.reject());
    assertThat(r.vote()).isZero();
    assertThat(r.term()).isEqualTo(3);
    assertThat(r.role()).isEqualTo(Role.FOLLOWER);
  }

  /**
   * Raft paper 5.1: "If a candidate or leader discovers that its term is out of date, it
   * immediately reverts to follower state" — with pre-vote or check-quorum on, a member answers a
   * stale leader with its own term so the stale leader can find out.
   */
  @Test
  void staleLeaderLearnsTheNewTermFromItsFollowersAnswer() {
    Raft follower =
        Cores.core(Cores.paper(1).checkQuorum(true).build(), 3, new HardState(3, 0, 0), log(1));
    Cores.Output out = step(follower, msg(HEARTBEAT, 2, 1, 2).build());
    Message answer = out.only(APPEND_RESPONSE);
    assertThat(answer.to()).isEqualTo(2);
    assertThat(answer.term()).isEqualTo(3);

    Raft staleLeader = Cores.leaderOfThree();
    step(staleLeader, answer.toBuilder().from(2).to(1).build());
    assertThat(staleLeader.role()).isEqualTo(Role.FOLLOWER);
    assertThat(staleLeader.term()).isEqualTo(3);
  }

  // ---------------------------------------------------------------- 5.2 leader election

  /**
   * Raft paper 5.2: "If a follower receives no communication over a period of time called the
   * election timeout, then it ... begins an election ... increments its current term and
   * transitions to candidate state. It then votes for itself and issues RequestVote RPCs in
   * parallel to each of the other servers." Figure 2: the vote for itself is persistent state,
   * stored before the RequestVote leaves.
   */
  @Test
  void followerStartsElectionAfterElectionTimeout() {
    CoreCluster c =
        CoreCluster.builder(3).paper().disk(1, new HardState(4, 0, 2), log(1, 4, 4)).build();
    int et = c.config().electionTicks();

    int ticks = 0;
    while (c.raft(1).role() == Role.FOLLOWER && ticks < 2 * et) {
      c.tickMember(1, 1);
      ticks++;
    }

    assertThat(ticks).isBetween(et, 2 * et - 1);
    Raft r = c.raft(1);
    assertThat(r.role()).isEqualTo(Role.CANDIDATE);
    assertThat(r.term()).isEqualTo(5);
    assertThat(r.vote()).isEqualTo(1);
    assertThat(c.member(1).disk.hardState()).isEqualTo(new HardState(5, 1, 2));
    List<Message> votes = c.net.pending(m -> m.type() == VOTE);
    assertThat(votes).extracting(Message::to).containsExactly(2L, 3L);
    assertThat(votes)
        .allSatisfy(
            m -> {
              assertThat(m.term()).isEqualTo(5);
              assertThat(m.index()).isEqualTo(3);
              assertThat(m.logTerm()).isEqualTo(4);
            });
    assertThat(c.net.history())
        .filteredOn(s -> s.message().type() == VOTE)
        .allMatch(Network.Sent::afterPersist);
  }

  /**
   * Raft paper 5.2: "If the election timeout elapses without ... winning the election ... the
   * candidate times out and starts a new election by incrementing its term".
   */
  @Test
  void candidateStartsNewElectionAfterTimeout() {
    Raft r = Cores.fresh(1, 3);
    r.campaign();
    drain(r);
    assertThat(r.term()).isEqualTo(1);

    int et = r.config().electionTicks();
    int ticks = 0;
    while (r.term() == 1 && ticks < 2 * et) {
      r.tick();
      drain(r);
      ticks++;
    }

    assertThat(ticks).isBetween(et, 2 * et - 1);
    assertThat(r.term()).isEqualTo(2);
    assertThat(r.role()).isEqualTo(Role.CANDIDATE);
    assertThat(r.vote()).isEqualTo(1);
  }

  /**
   * Raft paper 5.2: "Raft uses randomized election timeouts ... chosen randomly from a fixed
   * interval". Here [electionTicks, 2 * electionTicks), drawn anew for every election.
   */
  @Test
  void electionTimeoutsAreRandomizedWithinOneToTwoTimeouts() {
    int et = 10;
    Set<Integer> firstTimeouts = new TreeSet<>();
    Set<Integer> laterTimeouts = new TreeSet<>();
    for (long seed = 0; seed < 200; seed++) {
      RaftConfig cfg = Cores.paper(1).random(new Random(seed)).electionTicks(et).build();
      Raft r = Cores.core(cfg, 3, HardState.EMPTY, List.of());
      firstTimeouts.add(ticksUntilTermChanges(r));
      laterTimeouts.add(ticksUntilTermChanges(r));
    }
    assertThat(firstTimeouts).allSatisfy(t -> assertThat(t).isBetween(et, 2 * et - 1));
    assertThat(laterTimeouts).allSatisfy(t -> assertThat(t).isBetween(et, 2 * et - 1));
    // Every value in the interval shows up over 200 draws.
    assertThat(firstTimeouts).hasSize(et);
    assertThat(laterTimeouts).hasSize(et);
  }

  private static int ticksUntilTermChanges(Raft r) {
    long term = r.term();
    int ticks = 0;
    while (r.term() == term) {
      r.tick();
      drain(r);
      ticks++;
      if (ticks > 10 * r.config().electionTicks()) {
        throw new AssertionError("no election after " + ticks + " ticks");
      }
    }
    return ticks;
  }

  /**
   * Raft paper 5.2: "A candidate wins an election if it receives votes from a majority of the
   * servers in the full cluster for the same term." And when a majority rejects it, it cannot win
   * this term and goes back to follower.
   */
  @ParameterizedTest(name = "{0} voters, {1} granted, {2} rejected -> {3}")
  @CsvSource({
    "1, 0, 0, LEADER",
    "3, 1, 0, LEADER",
    "3, 0, 1, CANDIDATE",
    "3, 0, 2, FOLLOWER",
    "4, 1, 0, CANDIDATE",
    "4, 1, 1, CANDIDATE",
    "4, 2, 0, LEADER",
    "4, 0, 2, FOLLOWER",
    "5, 1, 0, CANDIDATE",
    "5, 2, 0, LEADER",
    "5, 1, 2, CANDIDATE",
    "5, 0, 3, FOLLOWER",
    "5, 2, 2, LEADER"
  })
  void candidateWinsWithVotesFromAMajority(int size, int granted, int rejected, Role expected) {
    Raft r = Cores.fresh(1, size);
    r.campaign();
    drain(r);
    long id = 2;
    for (int i = 0; i < granted; i++) {
      step(r, msg(VOTE_RESPONSE, id++, 1, 1).build());
    }
    for (int i = 0; i < rejected; i++) {
      step(r, msg(VOTE_RESPONSE, id++, 1, 1).reject(true).build());
    }
    assertThat(r.role()).isEqualTo(expected);
    assertThat(r.term()).isEqualTo(1);
  }

  /**
   * Raft paper 5.2: "Each server will vote for at most one candidate in a given term, on a
   * first-come-first-served basis". A repeated request from the candidate it voted for is granted
   * again (the first reply may have been lost).
   */
  @Test
  void votesForAtMostOneCandidatePerTermFirstComeFirstServed() {
    Raft r = Cores.fresh(1, 3);

    Cores.Output out = step(r, msg(VOTE, 2, 1, 1).build());
    Message granted = out.only(VOTE_RESPONSE);
    assertThat(granted.reject()).isFalse();
    assertThat(granted.to()).isEqualTo(2);
    assertThat(out.afterPersist()).contains(granted);
    assertThat(out.hardState()).isEqualTo(new HardState(1, 2, 0));

    out = step(r, msg(VOTE, 3, 1, 1).build());
    assertThat(out.only(VOTE_RESPONSE).reject()).isTrue();
    assertThat(r.vote()).isEqualTo(2);

    out = step(r, msg(VOTE, 2, 1, 1).build());
    assertThat(out.only(VOTE_RESPONSE).reject()).isFalse();

    // A new term frees the vote.
    out = step(r, msg(VOTE, 3, 1, 2).build());
    assertThat(out.only(VOTE_RESPONSE).reject()).isFalse();
    assertThat(r.vote()).isEqualTo(3);
  }

  /**
   * Raft paper 5.2: a candidate votes for itself, so it grants no other candidate of its term; nor
   * does a leader.
   */
  @ParameterizedTest
  @EnumSource(
      value = Role.class,
      names = {"CANDIDATE", "LEADER"})
  void candidatesAndLeadersHaveAlreadyVotedForThemselves(Role role) {
    Raft r = Cores.fresh(1, 3);
    r.campaign();
    drain(r);
    if (role == Role.LEADER) {
      step(r, msg(VOTE_RESPONSE, 2, 1, 1).build());
    }
    Cores.Output out = step(r, msg(VOTE, 3, 1, 1).index(10).logTerm(1).build());
    assertThat(out.only(VOTE_RESPONSE).reject()).isTrue();
    assertThat(r.role()).isEqualTo(role);
  }

  /**
   * Raft paper 5.2: "If the leader's term ... is at least as large as the candidate's current term,
   * then the candidate recognizes the leader as legitimate and returns to follower state. If the
   * term in the RPC is smaller than the candidate's current term, then the candidate rejects the
   * RPC and continues in candidate state."
   */
  @ParameterizedTest
  @EnumSource(
      value = MessageType.class,
      names = {"APPEND", "HEARTBEAT"})
  void candidateStepsDownForALeaderOfItsTerm(MessageType type) {
    Raft r = Cores.core(1, 3, new HardState(1, 0, 0), List.of());
    r.campaign();
    drain(r);
    assertThat(r.term()).isEqualTo(2);

    step(r, msg(type, 3, 1, 1).build());
    assertThat(r.role()).isEqualTo(Role.CANDIDATE);

    Cores.Output out = step(r, msg(type, 3, 1, 2).build());
    assertThat(r.role()).isEqualTo(Role.FOLLOWER);
    assertThat(r.leader()).isEqualTo(3);
    assertThat(r.term()).isEqualTo(2);
    assertThat(r.vote()).isEqualTo(1);
    assertThat(out.all()).isNotEmpty().allMatch(m -> m.to() == 3 && !m.reject());
  }

  /**
   * Raft paper 5.2: "votes could be split so that no candidate obtains a majority. When this
   * happens, each candidate will time out and start a new election ... randomized election timeouts
   * ensure that split votes are rare and that they are resolved quickly."
   */
  @Test
  void splitVoteIsResolvedByANewElection() {
    CoreCluster c = CoreCluster.builder(4).paper().build();
    c.net.cut(1, 4);
    c.net.cut(2, 3);
    c.campaign(1);
    c.campaign(2);
    c.stabilize();

    assertThat(c.raft(1).role()).isEqualTo(Role.CANDIDATE);
    assertThat(c.raft(2).role()).isEqualTo(Role.CANDIDATE);
    assertThat(c.raft(3).vote()).isEqualTo(1);
    assertThat(c.raft(4).vote()).isEqualTo(2);
    assertThat(c.leader()).isZero();

    c.heal();
    int et = c.config().electionTicks();
    long leader = c.tickUntilLeader(2 * et);
    assertThat(c.raft(leader).term()).isGreaterThanOrEqualTo(2);
    c.tick(3 * et);
    assertThat(c.leader()).isEqualTo(leader);
    for (long id : c.ids()) {
      assertThat(c.raft(id).leader()).isEqualTo(leader);
    }
  }

  /**
   * Raft paper 5.2 and 9.3: with randomized timeouts a cluster whose members all start at once
   * elects a single leader within a few election timeouts, whatever the seed.
   */
  @ParameterizedTest
  @ValueSource(ints = {3, 5, 7})
  void clusterStartingTogetherElectsOneLeaderQuickly(int size) {
    for (long seed = 1; seed <= 40; seed++) {
      CoreCluster c = CoreCluster.builder(size).paper().seed(seed).build();
      int et = c.config().electionTicks();
      long leader = c.tickUntilLeader(6 * et);
      c.tick(2 * et);
      assertThat(c.leader()).as("seed %d", seed).isEqualTo(leader);
      for (long id : c.ids()) {
        assertThat(c.raft(id).leader()).as("seed %d member %d", seed, id).isEqualTo(leader);
      }
    }
  }

  /**
   * Raft paper 5.2: "Leaders send periodic heartbeats (AppendEntries RPCs that carry no log
   * entries) to all followers in order to maintain their authority", and "A server remains in
   * follower state as long as it receives valid RPCs from a leader".
   */
  @Test
  void leaderSendsHeartbeatsEveryHeartbeatInterval() {
    CoreCluster c = CoreCluster.builder(3).paper().config(b -> b.heartbeatTicks(3)).build();
    c.elect(1);
    c.net.resetCounters();

    for (int round = 0; round < 4; round++) {
      c.tickMember(1, 2);
      assertThat(c.net.pending(m -> m.type() == HEARTBEAT)).isEmpty();
      c.tickMember(1, 1);
      List<Message> hbs = c.net.pending(m -> m.type() == HEARTBEAT);
      assertThat(hbs).extracting(Message::to).containsExactly(2L, 3L);
      assertThat(hbs).allMatch(m -> m.entries().isEmpty() && m.term() == 1);
      c.stabilize();
    }

    long term = c.raft(1).term();
    c.tick(10 * c.config().electionTicks());
    assertThat(c.leader()).isEqualTo(1);
    for (long id : c.ids()) {
      assertThat(c.raft(id).term()).isEqualTo(term);
    }
  }

  /**
   * Raft paper 5.2 (Figure 2, followers): "If election timeout elapses without receiving
   * AppendEntries RPC from current leader or granting vote to candidate: convert to candidate".
   * Granting a vote restarts the timer.
   */
  @Test
  void grantingAVoteRestartsTheElectionTimer() {
    // Two identical cores draw the same timeout; the first measures it.
    HardState hs = new HardState(1, 0, 0);
    int timeout = ticksUntilTermChanges(Cores.core(1, 3, hs, List.of()));
    Raft r = Cores.core(1, 3, hs, List.of());
    for (int i = 0; i < timeout - 1; i++) {
      r.tick();
    }
    drain(r);

    Cores.Output out = step(r, msg(VOTE, 2, 1, 1).build());
    assertThat(out.only(VOTE_RESPONSE).reject()).isFalse();

    for (int i = 0; i < timeout - 1; i++) {
      r.tick();
      drain(r);
    }
    assertThat(r.role()).isEqualTo(Role.FOLLOWER);
    assertThat(r.term()).isEqualTo(1);
    r.tick();
    assertThat(r.role()).isEqualTo(Role.CANDIDATE);
  }

  // ---------------------------------------------------------------- 5.3 log replication

  /**
   * Raft paper 5.4.2 and 8 (and thesis 6.4): a new leader appends a no-op entry of its term at the
   * start of its term; committing it commits every earlier entry.
   */
  @Test
  void newLeaderAppendsANoOpOfItsTermAndItCommitsEarlierEntries() {
    CoreCluster c =
        CoreCluster.builder(3)
            .paper()
            .disk(1, new HardState(2, 0, 0), log(1, 2))
            .disk(2, new HardState(2, 0, 0), log(1, 2))
            .disk(3, new HardState(2, 0, 0), log(1))
            .build();
    c.elect(1);

    Raft leader = c.raft(1);
    Entry noop = leader.log().entry(3);
    assertThat(noop.term()).isEqualTo(3).isEqualTo(leader.term());
    assertThat(noop.type()).isEqualTo(EntryType.NORMAL);
    assertThat(noop.data()).isEmpty();
    assertThat(noop.requestId()).isZero();
    for (long id : c.ids()) {
      assertThat(c.raft(id).log().committed()).isEqualTo(3);
      assertThat(c.member(id).applied).extracting(Entry::index).containsExactly(1L, 2L, 3L);
    }
  }

  /**
   * Raft paper 5.3: "The leader appends the command to its log as a new entry, then issues
   * AppendEntries RPCs in parallel ... When the entry has been safely replicated ... the leader
   * applies the entry to its state machine". Figure 2 (leaders): "If there exists an N such that N
   * > commitIndex, a majority of matchIndex[i] >= N, and log[N].term == currentTerm: set
   * commitIndex = N".
   */
  @Test
  void leaderCommitsAnEntryOnceAMajorityStoresIt() {
    CoreCluster c = CoreCluster.builder(5).paper().build();
    c.elect(1);
    long base = c.raft(1).log().lastIndex();

    c.net.cutBoth(1, 4);
    c.net.cutBoth(1, 5);
    c.propose(1, "x");
    c.stabilize();
    for (long id : List.of(1L, 2L, 3L)) {
      assertThat(c.raft(id).log().committed()).as("member %d", id).isEqualTo(base + 1);
      assertThat(c.appliedText(id)).containsExactly("x");
    }
    assertThat(c.raft(4).log().lastIndex()).isEqualTo(base);

    c.net.cutBoth(1, 3);
    c.propose(1, "y");
    c.stabilize();
    assertThat(c.raft(2).log().lastIndex()).isEqualTo(base + 2);
    assertThat(c.raft(1).log().committed()).isEqualTo(base + 1);
    assertThat(c.appliedText(1)).containsExactly("x");

    c.heal();
    c.tick(3);
    for (long id : c.ids()) {
      assertThat(c.raft(id).log().committed()).as("member %d", id).isEqualTo(base + 2);
      assertThat(c.appliedText(id)).as("member %d", id).containsExactly("x", "y");
    }
  }

  /**
   * Raft paper 5.3 and Figure 2 (all servers): "If commitIndex > lastApplied: increment
   * lastApplied, apply log[lastApplied] to state machine" — every member applies the same entries
   * in log order. (The cluster checks order and agreement on every apply.)
   */
  @Test
  void everyMemberAppliesCommittedEntriesInLogOrder() {
    CoreCluster c = CoreCluster.builder(3).paper().build();
    c.elect(1);
    for (int i = 0; i < 20; i++) {
      c.propose(1 + (i % 3), "cmd-" + i);
      if (i % 4 == 0) {
        c.stabilize();
      }
    }
    c.stabilize();
    c.tick(2);
    List<String> expected = c.appliedText(1);
    assertThat(expected).hasSize(20);
    for (long id : c.ids()) {
      Raft r = c.raft(id);
      assertThat(c.member(id).applied).isEqualTo(entries(r).subList(0, (int) r.log().committed()));
      assertThat(c.appliedText(id)).isEqualTo(expected);
    }
  }

  /**
   * Raft paper 5.3: "When sending an AppendEntries RPC, the leader includes the index and term of
   * the entry in its log that immediately precedes the new entries. If the follower does not find
   * an entry in its log with the same index and term, then it refuses the new entries." Figure 2:
   * "Reply false if log doesn't contain an entry at prevLogIndex whose term matches prevLogTerm".
   */
  @ParameterizedTest(name = "prev {0}@{1} accepted={2}")
  @CsvSource({
    "0, 0, true",
    "1, 1, true",
    "2, 2, true",
    "2, 1, false",
    "2, 3, false",
    "3, 2, false",
    "5, 3, false"
  })
  void followerRefusesAppendWhosePreviousEntryDoesNotMatch(
      long prevIndex, long prevTerm, boolean ok) {
    Raft r = Cores.core(2, 3, new HardState(3, 0, 0), log(1, 2));
    List<Entry> before = entries(r);

    Cores.Output out =
        step(
            r,
            msg(APPEND, 1, 2, 3)
                .index(prevIndex)
                .logTerm(prevTerm)
                .entries(List.of(entry(prevIndex + 1, 3)))
                .build());

    Message resp = out.only(APPEND_RESPONSE);
    assertThat(out.afterPersist()).contains(resp);
    assertThat(resp.reject()).isEqualTo(!ok);
    if (ok) {
      assertThat(resp.index()).isEqualTo(prevIndex + 1);
      assertThat(r.log().lastIndex()).isEqualTo(prevIndex + 1);
      assertThat(r.log().term(prevIndex + 1)).isEqualTo(3);
    } else {
      assertThat(resp.index()).isEqualTo(prevIndex);
      assertThat(entries(r)).isEqualTo(before);
      assertThat(out.written()).isEmpty();
    }
  }

  /**
   * Raft paper 5.3: "After a rejection, the leader decrements nextIndex and retries the
   * AppendEntries RPC. Eventually nextIndex will reach a point where the leader and follower logs
   * match." Tern skips ahead with the follower's hint (the paper's suggested optimization).
   */
  @Test
  void leaderRetriesEarlierEntriesAfterARejectionUntilLogsMatch() {
    CoreCluster c =
        CoreCluster.builder(3)
            .paper()
            .disk(1, new HardState(2, 0, 1), log(1, 1, 2, 2))
            .disk(2, new HardState(2, 0, 1), log(1, 1, 2, 2))
            .disk(3, new HardState(2, 0, 1), log(1))
            .build();
    c.elect(1);

    List<Message> toThree = new ArrayList<>();
    List<Message> fromThree = new ArrayList<>();
    for (Network.Sent s : c.net.history()) {
      Message m = s.message();
      if (m.type() == APPEND && m.to() == 3) {
        toThree.add(m);
      } else if (m.type() == APPEND_RESPONSE && m.from() == 3) {
        fromThree.add(m);
      }
    }
    assertThat(toThree.get(0).index()).isEqualTo(4);
    assertThat(fromThree.get(0).reject()).isTrue();
    assertThat(toThree.get(1).index()).isLessThan(4);
    assertThat(fromThree).anyMatch(m -> !m.reject());
    c.assertLogsEqual(1);
  }

  /**
   * Raft paper 5.3: "the leader handles inconsistencies by forcing the followers' logs to duplicate
   * its own. This means that conflicting entries in follower logs will be overwritten". Figure 2:
   * "If an existing entry conflicts with a new one (same index but different terms), delete the
   * existing entry and all that follow it".
   */
  @Test
  void conflictingSuffixIsDeletedAndReplaced() {
    Raft r = Cores.core(2, 3, new HardState(2, 0, 2), log(1, 1, 2, 2, 2));
    assertThat(r.log().stable()).isEqualTo(5);

    Cores.Output out =
        step(r, msg(APPEND, 1, 2, 3).index(2).logTerm(1).entries(List.of(entry(3, 3))).build());

    assertThat(out.only(APPEND_RESPONSE).index()).isEqualTo(3);
    assertThat(entries(r)).containsExactly(entry(1, 1), entry(2, 1), entry(3, 3));
    assertThat(out.written()).containsExactly(entry(3, 3));
    assertThat(r.log().stable()).isEqualTo(3);
  }

  /**
   * Raft paper Figure 2 (AppendEntries receiver, rule 4): "Append any new entries not already in
   * the log" — an append whose entries the follower already holds truncates nothing (it may be a
   * delayed duplicate; entries after it may have come from a later append of the same leader).
   */
  @Test
  void appendOfEntriesAlreadyHeldTruncatesNothing() {
    Raft r = Cores.core(2, 3, new HardState(1, 1, 1), log(1, 1, 1));

    Cores.Output out =
        step(r, msg(APPEND, 1, 2, 1).index(1).logTerm(1).entries(List.of(entry(2, 1))).build());

    assertThat(out.only(APPEND_RESPONSE).index()).isEqualTo(2);
    assertThat(entries(r)).isEqualTo(log(1, 1, 1));
    assertThat(out.written()).isEmpty();
  }

  /**
   * Raft paper 5.3: "The leader keeps track of the highest index it knows to be committed, and it
   * includes that index in future AppendEntries RPCs (including heartbeats) so that the other
   * servers eventually find out." Figure 2: "If leaderCommit > commitIndex, set commitIndex =
   * min(leaderCommit, index of last new entry)".
   */
  @Test
  void followerLearnsTheCommitIndexFromAppendsAndHeartbeats() {
    // A stale entry 3@1 follows what the leader sends: it must not be committed through it.
    Raft r = Cores.core(2, 3, new HardState(2, 0, 0), log(1, 1, 1));

    step(
        r,
        msg(APPEND, 1, 2, 2).index(0).logTerm(0).entries(List.of(entry(1, 1))).commit(1).build());
    assertThat(r.log().committed()).isEqualTo(1);

    Cores.Output out =
        step(
            r,
            msg(APPEND, 1, 2, 2)
                .index(1)
                .logTerm(1)
                .entries(List.of(entry(2, 1)))
                .commit(9)
                .build());
    assertThat(r.log().committed()).isEqualTo(2);
    assertThat(out.committed()).extracting(Entry::index).containsExactly(2L);

    step(r, msg(APPEND, 1, 2, 2).index(2).logTerm(1).entries(List.of(entry(3, 2))).build());
    out = step(r, msg(HEARTBEAT, 1, 2, 2).commit(3).build());
    assertThat(r.log().committed()).isEqualTo(3);
    assertThat(out.committed()).containsExactly(entry(3, 2));
  }

  /**
   * Raft paper 5.3: the commit index reaches followers in appends and heartbeats; a heartbeat never
   * tells a follower to commit beyond what the leader knows it holds.
   */
  @Test
  void leaderSendsItsCommitIndexInAppendsAndHeartbeats() {
    CoreCluster c = CoreCluster.builder(3).paper().build();
    c.elect(1);
    c.net.cutBoth(1, 3);
    c.propose(1, "a", "b");
    c.stabilize();
    long committed = c.raft(1).log().committed();
    assertThat(committed).isEqualTo(3);
    assertThat(c.raft(2).log().committed()).isEqualTo(committed);

    c.net.resetCounters();
    c.tickMember(1, c.config().heartbeatTicks());
    List<Message> hbs = c.net.pending(m -> m.type() == HEARTBEAT);
    assertThat(hbs).filteredOn(m -> m.to() == 2).extracting(Message::commit).containsExactly(3L);
    // Member 3 is only known to hold entry 1 (the no-op of term 1).
    assertThat(hbs).filteredOn(m -> m.to() == 3).extracting(Message::commit).containsExactly(1L);

    // The appends to 3 were lost on the cut link; the leader resends once it notices (ticks).
    c.heal();
    c.tick(3);
    assertThat(c.raft(3).log().committed()).isEqualTo(3);
    assertThat(c.net.history())
        .filteredOn(s -> s.message().type() == APPEND && s.message().to() == 3)
        .last()
        .extracting(s -> s.message().commit())
        .isEqualTo(3L);
  }

  /**
   * Raft paper 5.3 (Leader Append-Only, Figure 3): "a leader never overwrites or deletes entries in
   * its own log". A stale append is rejected by term before it could touch the log.
   */
  @Test
  void leaderNeverOverwritesItsOwnLog() {
    Raft r = Cores.core(1, 3, new HardState(2, 0, 0), log(1, 2));
    r.campaign();
    drain(r);
    step(r, msg(VOTE_RESPONSE, 2, 1, 3).build());
    assertThat(r.role()).isEqualTo(Role.LEADER);
    r.propose(List.of(Entry.proposal(7, new byte[] {1})));
    drain(r);
    List<Entry> before = entries(r);

    step(
        r,
        msg(APPEND, 2, 1, 2)
            .index(1)
            .logTerm(1)
            .entries(List.of(entry(2, 2), entry(3, 2)))
            .build());
    step(r, msg(APPEND, 2, 1, 1).index(0).logTerm(0).entries(List.of(entry(1, 1))).build());
    step(r, msg(APPEND_RESPONSE, 2, 1, 3).index(1).reject(true).rejectHint(0).build());

    assertThat(r.role()).isEqualTo(Role.LEADER);
    assertThat(entries(r)).isEqualTo(before);
  }

  // ---------------------------------------------------------------- 5.4 safety

  /**
   * Raft paper 5.4.1: "the voter denies its vote if its own log is more up-to-date than that of the
   * candidate ... If the logs have last entries with different terms, then the log with the later
   * term is more up-to-date. If the logs end with the same term, then whichever log is longer is
   * more up-to-date." The voter's log ends at 3@2.
   */
  @ParameterizedTest(name = "candidate last {0}@{1} granted={2}")
  @CsvSource({
    "3, 2, true",
    "4, 2, true",
    "2, 2, false",
    "1, 3, true",
    "9, 1, false",
    "3, 1, false",
    "0, 0, false"
  })
  void voterRejectsCandidatesWithLessUpToDateLogs(long lastIndex, long lastTerm, boolean granted) {
    Raft r = Cores.core(1, 3, new HardState(2, 0, 0), log(1, 1, 2));

    Cores.Output out = step(r, msg(VOTE, 2, 1, 5).index(lastIndex).logTerm(lastTerm).build());

    Message resp = out.only(VOTE_RESPONSE);
    assertThat(resp.reject()).isEqualTo(!granted);
    assertThat(r.term()).isEqualTo(5);
    assertThat(r.vote()).isEqualTo(granted ? 2 : 0);
  }

  /**
   * Raft paper 5.4.2 and Figure 8 (c) and (d): "Raft never commits log entries from previous terms
   * by counting replicas." Leader S1 of term 4 gets its term-2 entry onto a majority, yet must not
   * commit it: S5 (whose log ends in term 3) can still be elected and overwrite it.
   */
  @Test
  void figure8LeaderDoesNotCommitAnEarlierTermEntryByCountingReplicas() {
    CoreCluster c = figure8();
    // S1 wins term 4 with S2, S3, S4; S5 (log ends in term 3) would refuse it.
    c.net.isolate(5, c.ids());
    // The new leader's no-op (index 3) may reach nobody who could store it; index 2 may spread.
    c.net.dropIf(
        m ->
            m.type() == APPEND
                && m.entries().stream().anyMatch(e -> e.index() == 3)
                && c.raft(m.to()).log().lastIndex() >= 2);
    c.elect(1);
    c.tick(2);

    Raft s1 = c.raft(1);
    assertThat(s1.term()).isEqualTo(4);
    for (long id : List.of(1L, 2L, 3L, 4L)) {
      assertThat(c.raft(id).log().term(2)).as("S%d holds 2@2", id).isEqualTo(2);
    }
    // A majority (S1, S3, S4 as far as S1 knows) holds index 2, but it is of term 2, not 4.
    assertThat(s1.tracker().committed()).isEqualTo(2);
    assertThat(s1.log().committed()).isEqualTo(1);

    // (d): S1 fails; S5 is elected with votes from S2, S3, S4 and overwrites index 2.
    c.heal();
    c.isolate(1);
    for (int i = 0; i < 3 && c.raft(5).role() != Role.LEADER; i++) {
      c.campaign(5);
      c.stabilize();
    }
    assertThat(c.raft(5).role()).isEqualTo(Role.LEADER);
    for (long id : List.of(2L, 3L, 4L, 5L)) {
      assertThat(c.raft(id).log().term(2)).as("S%d holds 2@3", id).isEqualTo(3);
    }
    // Nothing anyone applied was lost (the cluster checks every apply against every other).
    assertThat(c.member(2).applied).extracting(Entry::term).startsWith(1L, 3L);
  }

  /**
   * Raft paper 5.4.2 and Figure 8 (e): once the leader commits an entry of its own term, every
   * earlier entry is committed indirectly, and no member lacking them can be elected (Leader
   * Completeness, 5.4.3).
   */
  @Test
  void figure8CommittingACurrentTermEntryCommitsEarlierOnesAndBlocksStaleCandidates() {
    CoreCluster c = figure8();
    c.net.isolate(5, c.ids());
    c.elect(1);
    c.tick(2);
    Raft s1 = c.raft(1);
    assertThat(s1.log().committed()).isEqualTo(3);
    assertThat(c.member(1).applied).extracting(Entry::term).containsExactly(1L, 2L, 4L);

    c.heal();
    c.isolate(1);
    for (int i = 0; i < 5; i++) {
      c.campaign(5);
      c.stabilize();
      assertThat(c.raft(5).role()).isNotEqualTo(Role.LEADER);
    }
    for (long id : List.of(2L, 3L, 4L)) {
      assertThat(c.raft(id).log().term(2)).isEqualTo(2);
    }
  }

  /** The state of Figure 8 (b): S1 and S2 hold 2@2 from term 2, S5 holds 2@3 from term 3. */
  private static CoreCluster figure8() {
    HardState hs = new HardState(3, 0, 1);
    return CoreCluster.builder(5)
        .paper()
        .config(b -> b.maxEntriesPerMessage(1))
        .disk(1, hs, log(1, 2))
        .disk(2, hs, log(1, 2))
        .disk(3, hs, log(1))
        .disk(4, hs, log(1))
        .disk(5, hs, log(1, 3))
        .build();
  }

  /**
   * Raft paper 5.3, Log Matching Property: "If two entries in different logs have the same index
   * and term, then they store the same command" and "the logs are identical in all preceding
   * entries" — a follower whose log matched at prevLogIndex ends up with the leader's exact prefix.
   */
  @Test
  void logsThatAgreeOnAnEntryAgreeOnEveryEntryBefore() {
    CoreCluster c =
        CoreCluster.builder(3)
            .paper()
            .disk(1, new HardState(3, 0, 2), log(1, 1, 2, 3, 3))
            .disk(2, new HardState(3, 0, 2), log(1, 1, 2, 2, 2, 2))
            .disk(3, new HardState(3, 0, 2), log(1, 1))
            .build();
    c.elect(1);
    c.propose(1, "z");
    c.stabilize();
    c.assertLogMatching();
    c.assertLogsEqual(1);
    assertThat(entries(c.raft(2)).subList(0, 5)).isEqualTo(log(1, 1, 2, 3, 3));
  }

  /**
   * Raft paper Figure 2 (Rules for all servers): a request with a stale term is answered with the
   * current term, so a candidate behind in term catches up instead of campaigning behind forever.
   */
  @Test
  void staleCandidateLearnsTheCurrentTermFromTheRejection() {
    CoreCluster c = CoreCluster.builder(3).paper().build();
    c.elect(1);
    c.isolate(2);
    c.campaign(2);
    long staleTerm = c.raft(2).term();
    c.heal();
    // Member 3 moves two terms past member 2's next campaign meanwhile; 1 is out of the picture.
    for (int i = 0; i < 3; i++) {
      c.raft(3).campaign();
      c.drain(3);
    }
    c.net.discardPending();
    c.isolate(1);
    assertThat(c.raft(3).term()).isGreaterThan(staleTerm + 1);

    c.campaign(2);
    c.deliverNow(m -> m.type() == MessageType.VOTE);
    c.drainAll();
    c.deliverNow(m -> m.type() == MessageType.VOTE_RESPONSE && m.to() == 2);
    assertThat(c.raft(2).term()).isEqualTo(c.raft(3).term());
    assertThat(c.raft(2).role()).isEqualTo(Role.FOLLOWER);
  }
}
