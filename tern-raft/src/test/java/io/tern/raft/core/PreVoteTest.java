package io.tern.raft.core;

import static io.tern.raft.core.Cores.msg;
import static io.tern.raft.core.Cores.step;
import static io.tern.raft.core.MessageType.PRE_VOTE;
import static io.tern.raft.core.MessageType.PRE_VOTE_RESPONSE;
import static io.tern.raft.core.MessageType.VOTE;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pre-vote (Raft thesis 9.6): before bumping its term a member asks whether it could win. A member
 * that cannot win, typically one cut off from the cluster, then never raises anyone's term.
 */
class PreVoteTest {

  /**
   * Thesis 9.6: a member partitioned away keeps timing out, but its pre-votes fail, so its term
   * never rises; when it comes back it neither raises the cluster's term nor deposes the leader.
   */
  @Test
  void rejoiningMemberDoesNotRaiseTheTermNorDeposeTheLeader() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    c.propose(1, "before");
    c.stabilize();
    long term = c.raft(1).term();
    int et = c.config().electionTicks();

    c.net.resetCounters();
    c.isolate(3);
    c.tick(10 * et);
    assertThat(c.raft(3).role()).isEqualTo(Role.PRE_CANDIDATE);
    assertThat(c.raft(3).term()).isEqualTo(term);
    assertThat(c.member(3).disk.hardState().term()).isEqualTo(term);
    assertThat(c.net.sent(PRE_VOTE)).isGreaterThanOrEqualTo(5);
    assertThat(c.net.sent(VOTE)).isZero();
    c.propose(1, "during");

    c.heal();
    c.tick(3 * et);
    assertThat(c.leader()).isEqualTo(1);
    for (long id : c.ids()) {
      assertThat(c.raft(id).term()).as("member %d", id).isEqualTo(term);
      assertThat(c.raft(id).leader()).as("member %d", id).isEqualTo(1);
    }
    c.assertLogsEqual(1);
    assertThat(c.appliedText(3)).containsExactly("before", "during");
  }

  /**
   * Thesis 9.6: pre-vote alone (without check-quorum) already protects a cluster from a member
   * whose log fell behind while it was away: nobody would grant it a vote, so nobody grants it a
   * pre-vote.
   */
  @Test
  void memberWithAStaleLogCannotDisruptEvenWithoutCheckQuorum() {
    CoreCluster c = CoreCluster.builder(3).config(b -> b.checkQuorum(false)).build();
    c.elect(1);
    long term = c.raft(1).term();
    int et = c.config().electionTicks();

    c.isolate(3);
    c.proposeEach(1, "x", 3);
    c.tick(10 * et);
    c.heal();
    c.tick(3 * et);

    assertThat(c.leader()).isEqualTo(1);
    for (long id : c.ids()) {
      assertThat(c.raft(id).term()).isEqualTo(term);
    }
    c.assertLogsEqual(1);
  }

  /**
   * Thesis 9.6: "the pre-candidate ... does not increment its term" — its request names the term it
   * would campaign in, and granting it changes nothing on the voter either.
   */
  @Test
  void preVoteChangesNoTermOrVote() {
    CoreCluster c = CoreCluster.of(3);
    c.warmUp();
    c.campaign(2);
    Raft r = c.raft(2);
    assertThat(r.role()).isEqualTo(Role.PRE_CANDIDATE);
    assertThat(r.term()).isZero();
    assertThat(r.vote()).isZero();
    assertThat(c.member(2).disk.hardState()).isEqualTo(HardState.EMPTY);
    List<Message> preVotes = c.net.pending(m -> m.type() == PRE_VOTE);
    assertThat(preVotes).extracting(Message::to).containsExactly(1L, 3L);
    assertThat(preVotes).allMatch(m -> m.term() == 1);
    // Pre-votes promise nothing durable: they need not wait for a write.
    assertThat(c.net.history())
        .filteredOn(s -> s.message().type() == PRE_VOTE)
        .noneMatch(Network.Sent::afterPersist);

    Raft voter = c.raft(1);
    voter.step(preVotes.get(0));
    c.drain(1);
    Message answer = c.net.pending(m -> m.type() == PRE_VOTE_RESPONSE).get(0);
    assertThat(answer.reject()).isFalse();
    assertThat(answer.term()).isEqualTo(1);
    assertThat(voter.term()).isZero();
    assertThat(voter.vote()).isZero();
  }

  /** Thesis 9.6: a pre-vote that wins leads to a real election in the next term, exactly once. */
  @Test
  void winningPreVoteLeadsToARealElectionOneTermUp() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    long term = c.raft(1).term();

    c.crash(1);
    long leader = c.tickUntilLeader(4 * c.config().electionTicks());
    assertThat(leader).isNotEqualTo(1);
    assertThat(c.raft(leader).term()).isEqualTo(term + 1);
    assertThat(c.net.sent(PRE_VOTE)).isPositive();
  }

  /**
   * Thesis 9.6: a member grants a pre-vote only on the terms of a vote: the candidate's log must be
   * at least as up to date (paper 5.4.1), and a majority of refusals ends the pre-campaign without
   * any term change.
   */
  @Test
  void preVoteIsRefusedToALessUpToDateLogAndTheCampaignEnds() {
    RaftConfig cfg = Cores.paper(1).preVote(true).build();
    Raft r = Cores.core(cfg, 3, new HardState(2, 0, 0), Cores.log(1, 2));
    Cores.Output out = step(r, msg(PRE_VOTE, 2, 1, 3).index(5).logTerm(1).build());
    assertThat(out.only(PRE_VOTE_RESPONSE).reject()).isTrue();
    assertThat(r.term()).isEqualTo(2);

    Raft candidate =
        Cores.core(Cores.paper(2).preVote(true).build(), 3, new HardState(2, 0, 0), Cores.log(1));
    candidate.campaign();
    Cores.drain(candidate);
    assertThat(candidate.role()).isEqualTo(Role.PRE_CANDIDATE);
    step(candidate, msg(PRE_VOTE_RESPONSE, 1, 2, 2).reject(true).build());
    step(candidate, msg(PRE_VOTE_RESPONSE, 3, 2, 2).reject(true).build());
    assertThat(candidate.role()).isEqualTo(Role.FOLLOWER);
    assertThat(candidate.term()).isEqualTo(2);
  }
}
