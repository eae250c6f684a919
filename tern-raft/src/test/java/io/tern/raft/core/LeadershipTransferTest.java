package io.tern.raft.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.NotLeaderException;
import io.tern.raft.ProposalDroppedException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Leadership transfer (Raft thesis 3.10): the leader stops taking proposals, brings the target up
 * to date, sends TIMEOUT_NOW, and gives up after an election timeout.
 */
class LeadershipTransferTest {

  @Test
  void upToDateTargetTakesOverInTheNextTerm() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    c.propose(1, "a");
    c.stabilize();
    long term = c.raft(1).term();

    c.raft(1).transferLeadership(2);
    c.drain(1);
    c.stabilize();

    assertThat(c.raft(2).role()).isEqualTo(Role.LEADER);
    assertThat(c.raft(2).term()).isEqualTo(term + 1);
    assertThat(c.raft(1).role()).isEqualTo(Role.FOLLOWER);
    assertThat(c.raft(1).leader()).isEqualTo(2);
    c.propose(2, "b");
    c.stabilize();
    assertThat(c.appliedText(1)).containsExactly("a", "b");
  }

  @Test
  void laggingTargetIsCaughtUpBeforeTimeoutNow() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    c.net.cutBoth(1, 3);
    c.propose(1, "x", "y", "z");
    c.stabilize();
    assertThat(c.raft(3).log().lastIndex()).isLessThan(c.raft(1).log().lastIndex());

    c.raft(1).transferLeadership(3);
    c.drain(1);
    // No TIMEOUT_NOW may leave before the target holds every entry.
    assertThat(c.net.pending()).noneMatch(m -> m.type() == MessageType.TIMEOUT_NOW);
    c.heal();
    // The appends lost to the cut are resent once the leader sees member 3 stall (a few ticks),
    // well within the election timeout after which the transfer would be abandoned.
    for (int i = 0; i < c.config().electionTicks() - 1 && c.raft(3).role() != Role.LEADER; i++) {
      c.tick(1);
    }

    assertThat(c.raft(3).role()).isEqualTo(Role.LEADER);
    assertThat(c.appliedText(3)).containsExactly("x", "y", "z");
  }

  @Test
  void proposalsFailWithTheTargetAsHintWhileTransferring() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    c.net.cutBoth(1, 2);
    c.raft(1).transferLeadership(2);
    c.drain(1);

    assertThatThrownBy(() -> c.raft(1).propose(List.of(Entry.proposal(0, new byte[] {1}))))
        .isInstanceOfSatisfying(
            NotLeaderException.class, e -> assertThat(e.leaderHint()).isEqualTo(2));
  }

  @Test
  void transferIsAbandonedAfterAnElectionTimeoutWhenTheTargetIsCutOff() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    c.isolate(2);
    long term = c.raft(1).term();
    c.raft(1).transferLeadership(2);
    c.drain(1);
    assertThat(c.raft(1).leadTransferee()).isEqualTo(2);

    int et = c.config().electionTicks();
    c.tick(et);

    assertThat(c.raft(1).role()).isEqualTo(Role.LEADER);
    assertThat(c.raft(1).term()).isEqualTo(term);
    assertThat(c.raft(1).leadTransferee()).isZero();
    c.propose(1, "after");
    c.stabilize();
    assertThat(c.appliedText(3)).containsExactly("after");
  }

  @Test
  void zeroTargetPicksTheMostUpToDateVoter() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    c.net.cutBoth(1, 2);
    c.propose(1, "only-3-has-it");
    c.stabilize();

    c.raft(1).transferLeadership(0);
    assertThat(c.raft(1).leadTransferee()).isEqualTo(3);
  }

  @Test
  void badTargetsAreRefusedWithTypedErrors() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    assertThatThrownBy(() -> c.raft(1).transferLeadership(9))
        .isInstanceOf(ProposalDroppedException.class);
    assertThatThrownBy(() -> c.raft(2).transferLeadership(3))
        .isInstanceOfSatisfying(
            NotLeaderException.class, e -> assertThat(e.leaderHint()).isEqualTo(1));
    c.raft(1).transferLeadership(1);
    assertThat(c.raft(1).leadTransferee()).isZero();
  }

  @Test
  void noLeaseReadsWhileTransferringNorForAnElectionTimeoutAfterTimeoutNow() {
    CoreCluster c = CoreCluster.builder(3).config(b -> b.leaseRead(true).checkQuorum(true)).build();
    c.elect(1);
    c.tick(2);
    assertThat(c.raft(1).leaseValid()).isTrue();

    c.isolate(2);
    c.raft(1).transferLeadership(2);
    c.drain(1);
    assertThat(c.raft(1).leaseValid()).isFalse();

    int et = c.config().electionTicks();
    c.tick(et);
    assertThat(c.raft(1).leadTransferee()).isZero();
    // The TIMEOUT_NOW could still be in flight: forced votes ignore leases.
    assertThat(c.raft(1).leaseValid()).isFalse();
    c.heal();
    c.tick(et + 2);
    assertThat(c.raft(1).role()).isEqualTo(Role.LEADER);
    assertThat(c.raft(1).leaseValid()).isTrue();
  }
}
