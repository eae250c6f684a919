package io.tern.raft.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.NotLeaderException;
import io.tern.raft.ProposalDroppedException;
import io.tern.raft.core.quorum.JointConfig;
import io.tern.raft.core.quorum.MajorityConfig;
import io.tern.raft.core.tracker.Membership;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Membership change wired into the core (Raft thesis chapter 4): configurations take effect when
 * appended, joint configurations are left by the leader once committed, learners are promoted only
 * when caught up, one change at a time, a removed leader steps down.
 */
class MembershipChangeTest {

  private static Membership voters(long... ids) {
    return Membership.ofVoters(ids);
  }

  private static Membership joint(long[] incoming, long[] outgoing) {
    return new Membership(
        new JointConfig(MajorityConfig.of(incoming), MajorityConfig.of(outgoing)), Set.of());
  }

  private static Membership withLearners(Membership m, Long... learners) {
    return new Membership(m.voters(), Set.of(learners));
  }

  @Test
  void addedVoterReceivesTheLogAndCountsTowardCommit() {
    CoreCluster c = CoreCluster.builder(4).voters(1, 2, 3).build();
    c.elect(1);
    c.propose(1, "before");
    c.stabilize();
    assertThat(c.raft(4).log().lastIndex()).isZero();

    c.raft(1).proposeMembership(voters(1, 2, 3, 4), 0);
    c.drain(1);
    // Thesis 4.1: the leader uses the new configuration as soon as the entry is in its log.
    assertThat(c.raft(1).membership().isVoter(4)).isTrue();
    c.stabilize();
    assertThat(c.raft(4).membership().isVoter(4)).isTrue();
    assertThat(c.appliedText(4)).containsExactly("before");

    // With 4 voters a commit needs 3 of them: 1, 4 and one more.
    c.isolate(2);
    c.isolate(3);
    c.propose(1, "needs-3");
    c.stabilize();
    assertThat(c.appliedText(1)).containsExactly("before");
    c.heal();
    c.tick(3);
    assertThat(c.appliedText(4)).containsExactly("before", "needs-3");
  }

  @Test
  void jointConfigurationIsLeftAutomaticallyOnceCommitted() {
    CoreCluster c = CoreCluster.builder(5).voters(1, 2, 3).build();
    c.elect(1);
    c.raft(1).proposeMembership(joint(new long[] {1, 4, 5}, new long[] {1, 2, 3}), 0);
    c.drain(1);
    assertThat(c.raft(1).membership().voters().isJoint()).isTrue();
    c.stabilize();

    Membership done = c.raft(1).membership();
    assertThat(done.voters().isJoint()).isFalse();
    assertThat(done.voters().ids()).containsExactly(1L, 4L, 5L);
    for (long id : new long[] {1, 4, 5}) {
      assertThat(c.raft(id).membership()).as("member %d", id).isEqualTo(done);
    }
    // Members 2 and 3 were removed with the joint entry's commit: nobody sends them more.
    assertThat(c.raft(2).membership().voters().incoming().voters()).containsExactly(1L, 4L, 5L);
    c.propose(1, "new-config");
    c.isolate(2);
    c.isolate(3);
    c.stabilize();
    assertThat(c.appliedText(5)).containsExactly("new-config");
  }

  @Test
  void oneChangeAtATime() {
    CoreCluster c = CoreCluster.builder(5).voters(1, 2, 3).build();
    c.elect(1);
    c.isolate(2);
    c.isolate(3);
    c.raft(1).proposeMembership(voters(1, 2, 3, 4), 0);
    c.drain(1);
    assertThatThrownBy(() -> c.raft(1).proposeMembership(voters(1, 2, 3, 4, 5), 0))
        .isInstanceOf(ProposalDroppedException.class)
        .hasMessageContaining("in progress");
    assertThatThrownBy(() -> c.raft(2).proposeMembership(voters(1, 2), 0))
        .isInstanceOf(NotLeaderException.class);
  }

  @Test
  void laggingLearnerIsNotPromoted() {
    CoreCluster c =
        CoreCluster.builder(4).voters(1, 2, 3).config(b -> b.maxPromotionLag(5)).build();
    c.elect(1);
    c.raft(1).proposeMembership(withLearners(voters(1, 2, 3), 4L), 0);
    c.drain(1);
    c.stabilize();
    assertThat(c.raft(4).membership().learners()).containsExactly(4L);
    assertThat(c.raft(4).role()).isEqualTo(Role.FOLLOWER);

    c.isolate(4);
    c.proposeEach(1, "w", 20);
    c.stabilize();
    assertThatThrownBy(() -> c.raft(1).proposeMembership(voters(1, 2, 3, 4), 0))
        .isInstanceOf(ProposalDroppedException.class)
        .hasMessageContaining("learner 4 is");

    c.heal();
    c.tick(3);
    c.raft(1).proposeMembership(voters(1, 2, 3, 4), 0);
    c.drain(1);
    c.stabilize();
    assertThat(c.raft(4).membership().isVoter(4)).isTrue();
  }

  @Test
  void learnerNeverCampaigns() {
    CoreCluster c = CoreCluster.builder(4).voters(1, 2, 3).build();
    c.elect(1);
    c.raft(1).proposeMembership(withLearners(voters(1, 2, 3), 4L), 0);
    c.drain(1);
    c.stabilize();
    c.isolate(4);
    long term = c.raft(4).term();
    c.tickMember(4, 10 * c.config().electionTicks());
    assertThat(c.raft(4).term()).isEqualTo(term);
    assertThat(c.raft(4).role()).isEqualTo(Role.FOLLOWER);
  }

  @Test
  void leaderRemovingItselfStepsDownOnceTheChangeCommits() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    c.raft(1).proposeMembership(voters(2, 3), 0);
    c.drain(1);
    // Still leading while the change is uncommitted: it manages the change (thesis 4.2.2).
    assertThat(c.raft(1).role()).isEqualTo(Role.LEADER);
    c.stabilize();
    assertThat(c.raft(1).role()).isEqualTo(Role.FOLLOWER);

    long leader = c.tickUntilLeader(10 * c.config().electionTicks());
    assertThat(leader).isIn(2L, 3L);
    c.propose(leader, "without-1");
    c.stabilize();
    assertThat(c.appliedText(leader == 2 ? 3 : 2)).containsExactly("without-1");
    // The removed member does not campaign.
    long term = c.raft(1).term();
    c.tick(5 * c.config().electionTicks());
    assertThat(c.raft(1).term()).isEqualTo(term);
  }

  @Test
  void removedMemberThatMissedItsRemovalCannotDeposeLeadersEvenWithoutPreVoteOrCheckQuorum() {
    CoreCluster c = CoreCluster.builder(4).paper().build();
    c.elect(1);
    c.propose(1, "all-four");
    c.stabilize();
    // Member 4 is cut off before the change that removes it reaches it.
    c.isolate(4);
    c.raft(1).proposeMembership(voters(1, 2, 3), 0);
    c.drain(1);
    c.propose(1, "three");
    c.stabilize();
    assertThat(c.raft(4).membership().isVoter(4)).isTrue();
    long term = c.raft(1).term();

    // It campaigns again and again at ever higher terms; the others drop its requests (its log
    // lacks the removal, so it is behind theirs) instead of adopting its term.
    c.heal();
    c.tick(10 * c.config().electionTicks());
    assertThat(c.raft(4).term()).isGreaterThan(term);
    // The members that know the removal is committed told it so: it stays quiet from then on.
    assertThat(c.raft(4).knownRemoved()).isTrue();
    long quietTerm = c.raft(4).term();
    c.tick(10 * c.config().electionTicks());
    assertThat(c.raft(4).term()).isEqualTo(quietTerm);
    assertThat(c.raft(1).role()).isEqualTo(Role.LEADER);
    assertThat(c.raft(1).term()).isEqualTo(term);
    assertThat(c.raft(2).term()).isEqualTo(term);
    c.propose(1, "undisturbed");
    c.stabilize();
    assertThat(c.appliedText(2)).containsExactly("all-four", "three", "undisturbed");

    // Added back, it hears of the newer configuration and is a voter that campaigns again.
    // (Its first append draws a reply with 4's higher term: the leader steps down, and 4 follows
    // whoever is elected next.)
    c.raft(1).proposeMembership(voters(1, 2, 3, 4), 0);
    c.drain(1);
    c.stabilize();
    long leader = c.tickUntilLeader(20 * c.config().electionTicks());
    c.stabilize();
    c.tick(3);
    assertThat(c.raft(4).membership().isVoter(4)).isTrue();
    assertThat(c.raft(4).knownRemoved()).isFalse();
    assertThat(c.raft(4).log().lastIndex()).isEqualTo(c.raft(leader).log().lastIndex());
  }

  @Test
  void configurationSurvivesRestartAndUncommittedOneIsRolledBackWhenTruncated() {
    CoreCluster c = CoreCluster.builder(4).voters(1, 2, 3).build();
    c.elect(1);
    c.raft(1).proposeMembership(voters(1, 2, 3, 4), 0);
    c.drain(1);
    c.stabilize();
    c.restart(2);
    assertThat(c.raft(2).membership().isVoter(4)).isTrue();

    // A config entry that never commits, on a leader cut off, is replaced by a newer leader.
    c.isolate(1);
    c.raft(1).proposeMembership(voters(1, 2, 3), 0);
    c.drain(1);
    assertThat(c.raft(1).membership().isVoter(4)).isFalse();
    long leader = 0;
    for (int i = 0; i < 20 * c.config().electionTicks() && (leader == 0 || leader == 1); i++) {
      c.tick(1);
      leader = c.leader();
    }
    assertThat(leader).isIn(2L, 3L, 4L);
    c.propose(leader, "newer");
    c.stabilize();
    c.heal();
    c.tick(3 * c.config().electionTicks());
    assertThat(c.raft(1).membership().isVoter(4)).isTrue();
    c.assertLogMatching();
  }
}
