package io.tern.raft.core;

import static io.tern.raft.core.MessageType.PRE_VOTE;
import static io.tern.raft.core.MessageType.PRE_VOTE_RESPONSE;
import static io.tern.raft.core.MessageType.VOTE;
import static io.tern.raft.core.MessageType.VOTE_RESPONSE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.NotLeaderException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Check-quorum (Raft thesis 6.2 and 4.2.3): a leader that cannot reach a quorum steps down, and a
 * member that hears from a leader ignores candidates; members that just started do too.
 */
class CheckQuorumTest {

  /**
   * Thesis 6.2: "a leader steps down if an election timeout elapses without a successful round of
   * heartbeats to a majority of its cluster".
   */
  @Test
  void leaderCutOffFromAQuorumStepsDown() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    int et = c.config().electionTicks();
    c.tick(3);

    c.isolate(1);
    c.tickMember(1, et - 1);
    assertThat(c.raft(1).role()).isEqualTo(Role.LEADER);
    int ticks = et - 1;
    while (c.raft(1).role() == Role.LEADER) {
      c.tickMember(1, 1);
      assertThat(++ticks).isLessThanOrEqualTo(2 * et);
    }
    Raft r = c.raft(1);
    assertThat(r.role()).isEqualTo(Role.FOLLOWER);
    assertThat(r.leader()).isZero();
    assertThatThrownBy(() -> r.propose(List.of(Entry.proposal(0, new byte[] {1}))))
        .isInstanceOfSatisfying(NotLeaderException.class, e -> assertThat(e.leaderHint()).isZero());
  }

  /** A (pre-)vote request from member 3 to member 2. */
  private static Message request(MessageType type, long term, long lastIndex, long lastTerm) {
    return Message.builder(type)
        .from(3)
        .to(2)
        .term(term)
        .index(lastIndex)
        .logTerm(lastTerm)
        .build();
  }

  /** Thesis 6.2: a leader that keeps hearing from a majority keeps leading, even if one is gone. */
  @Test
  void leaderWithAQuorumKeepsLeading() {
    CoreCluster c = CoreCluster.of(5);
    c.elect(1);
    long term = c.raft(1).term();
    c.isolate(4);
    c.isolate(5);
    c.tick(10 * c.config().electionTicks());
    assertThat(c.leader()).isEqualTo(1);
    assertThat(c.raft(1).term()).isEqualTo(term);
    assertThat(c.raft(2).term()).isEqualTo(term);
  }

  /**
   * Thesis 4.2.3: "if a server receives a RequestVote request within the minimum election timeout
   * of hearing from a current leader, it does not update its term or grant its vote". Once the
   * leader has been silent for an election timeout, the request counts again.
   */
  @Test
  void followerHearingFromALeaderIgnoresVoteRequests() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    c.tick(2);
    Raft r = c.raft(2);
    long term = r.term();
    long last = r.log().lastIndex();
    Message vote = request(VOTE, term + 1, last, term);
    Message preVote = request(PRE_VOTE, term + 1, last, term);

    c.net.resetCounters();
    r.step(vote);
    r.step(preVote);
    c.drain(2);
    assertThat(c.net.history()).isEmpty();
    assertThat(r.term()).isEqualTo(term);
    assertThat(r.leader()).isEqualTo(1);

    // The leader falls silent.
    c.isolate(1);
    c.tickMember(2, c.config().electionTicks() - 1);
    r.step(vote);
    c.drain(2);
    assertThat(c.net.sent(VOTE_RESPONSE)).isZero();

    c.tickMember(2, 1);
    r = c.raft(2);
    if (r.role() == Role.PRE_CANDIDATE) {
      // Its own timer may have fired on this very tick; the request still counts now.
      assertThat(r.term()).isEqualTo(term);
    }
    r.step(vote);
    c.drain(2);
    assertThat(c.net.pending(m -> m.type() == VOTE_RESPONSE))
        .singleElement()
        .satisfies(m -> assertThat(m.reject()).isFalse());
    assertThat(r.term()).isEqualTo(term + 1);
    assertThat(r.vote()).isEqualTo(3);
  }

  /**
   * A member that (re)starts may have acknowledged a leader's heartbeat just before it went down,
   * backing that leader's lease; it does not remember, so with check-quorum it grants no vote or
   * pre-vote for its first election timeout.
   */
  @Test
  void restartedMemberGrantsNoVoteDuringItsFirstElectionTimeout() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    c.tick(2);
    c.restart(2);
    Raft r = c.raft(2);
    long term = r.term();
    long last = r.log().lastIndex();
    Message vote = request(VOTE, term + 1, last, term);
    Message preVote = request(PRE_VOTE, term + 1, last, term);
    int et = c.config().electionTicks();

    c.net.resetCounters();
    c.tickMember(2, et - 1);
    r.step(preVote);
    r.step(vote);
    c.drain(2);
    assertThat(c.net.sent(PRE_VOTE_RESPONSE) + c.net.sent(VOTE_RESPONSE)).isZero();
    assertThat(r.term()).isEqualTo(term);
    assertThat(r.vote()).isEqualTo(c.member(2).disk.hardState().vote());

    c.tickMember(2, 1);
    r.step(preVote);
    r.step(vote);
    c.drain(2);
    assertThat(c.net.pending(m -> m.type() == PRE_VOTE_RESPONSE || m.type() == VOTE_RESPONSE))
        .hasSize(2)
        .allMatch(m -> !m.reject());
    assertThat(r.term()).isEqualTo(term + 1);
  }

  /** Without check-quorum the restart rule does not apply: a restarted member votes at once. */
  @Test
  void withoutCheckQuorumARestartedMemberVotesAtOnce() {
    CoreCluster c = CoreCluster.builder(3).paper().build();
    c.elect(1);
    c.restart(2);
    Raft r = c.raft(2);
    long term = r.term();
    r.step(
        Message.builder(VOTE)
            .from(3)
            .to(2)
            .term(term + 1)
            .index(r.log().lastIndex())
            .logTerm(term)
            .build());
    c.drain(2);
    assertThat(c.net.pending(m -> m.type() == VOTE_RESPONSE))
        .singleElement()
        .matches(m -> !m.reject());
  }

  /**
   * Thesis 3.10: a campaign forced by leadership transfer is not disruptive but intended, so it is
   * exempt from the lease check.
   */
  @Test
  void transferCampaignIsNotIgnored() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    c.tick(2);
    Raft r = c.raft(2);
    long term = r.term();
    r.step(
        Message.builder(VOTE)
            .from(3)
            .to(2)
            .term(term + 1)
            .index(r.log().lastIndex())
            .logTerm(term)
            .context(Raft.CAMPAIGN_TRANSFER)
            .build());
    c.drain(2);
    assertThat(c.net.pending(m -> m.type() == VOTE_RESPONSE))
        .singleElement()
        .matches(m -> !m.reject());
  }
}
