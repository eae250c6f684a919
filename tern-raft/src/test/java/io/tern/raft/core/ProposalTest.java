package io.tern.raft.core;

import static io.tern.raft.core.MessageType.PROPOSE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.NotLeaderException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where proposals go: into the leader's log, forwarded to it, or refused when nobody leads. */
class ProposalTest {

  private static List<Entry> command(long requestId, String data) {
    return List.of(Entry.proposal(requestId, data.getBytes(StandardCharsets.UTF_8)));
  }

  /** A follower forwards proposals to the leader it knows; request ids travel with them. */
  @Test
  void followerForwardsProposalsToTheLeader() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    c.net.resetCounters();

    c.raft(2).propose(command(77, "via-2"));
    c.drain(2);
    assertThat(c.net.pending(m -> m.type() == PROPOSE))
        .singleElement()
        .satisfies(
            m -> {
              assertThat(m.from()).isEqualTo(2);
              assertThat(m.to()).isEqualTo(1);
              assertThat(m.entries()).extracting(Entry::requestId).containsExactly(77L);
            });
    c.stabilize();

    Entry applied = c.member(1).appliedCommands().get(0);
    assertThat(CoreCluster.text(applied)).isEqualTo("via-2");
    assertThat(applied.requestId()).isEqualTo(77);
    assertThat(applied.term()).isEqualTo(c.raft(1).term());
    for (long id : c.ids()) {
      assertThat(c.appliedText(id)).containsExactly("via-2");
    }
  }

  /** With no leader known, a proposal has nowhere to go: NotLeaderException without a hint. */
  @Test
  void proposeWithoutALeaderThrowsNotLeaderWithoutHint() {
    CoreCluster c = CoreCluster.of(3);
    assertNotLeader(c.raft(1));

    c.warmUp();
    c.campaign(1);
    assertThat(c.raft(1).role()).isEqualTo(Role.PRE_CANDIDATE);
    assertNotLeader(c.raft(1));

    CoreCluster paper = CoreCluster.builder(3).paper().build();
    paper.campaign(2);
    assertThat(paper.raft(2).role()).isEqualTo(Role.CANDIDATE);
    assertNotLeader(paper.raft(2));
  }

  private static void assertNotLeader(Raft r) {
    assertThatThrownBy(() -> r.propose(command(1, "nowhere")))
        .isInstanceOfSatisfying(NotLeaderException.class, e -> assertThat(e.leaderHint()).isZero());
    assertThatThrownBy(() -> r.readIndex(1))
        .isInstanceOfSatisfying(NotLeaderException.class, e -> assertThat(e.leaderHint()).isZero());
  }

  /** Proposals made at several members in one term end up applied once each, everywhere. */
  @Test
  void proposalsFromEveryMemberAreAppliedOnceEverywhere() {
    CoreCluster c = CoreCluster.of(5);
    c.elect(3);
    for (long id : c.ids()) {
      c.proposeEach(id, "from-" + id, 3);
    }
    c.stabilize();
    c.tick(2);
    List<String> applied = c.appliedText(3);
    assertThat(applied).hasSize(15).doesNotHaveDuplicates();
    for (long id : c.ids()) {
      assertThat(c.appliedText(id)).isEqualTo(applied);
    }
  }

  /**
   * A forwarded proposal may arrive twice (a retry, a duplicating network); the leader appends a
   * request id its log already holds only once. Proposals without a request id are never merged.
   */
  @Test
  void duplicateForwardedProposalIsAppendedOnce() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    c.raft(2).propose(command(55, "once"));
    c.raft(2).propose(command(0, "anon"));
    c.drain(2);
    List<Message> forwarded = c.net.take(m -> m.type() == PROPOSE);
    assertThat(forwarded).hasSize(2);
    for (int copy = 0; copy < 2; copy++) {
      for (Message m : forwarded) {
        c.net.send(m, false);
      }
    }
    c.stabilize();
    // A later duplicate, after the first copy committed, is dropped too.
    c.net.send(forwarded.get(0), false);
    c.stabilize();

    for (long id : c.ids()) {
      assertThat(c.appliedText(id)).as("member %d", id).containsExactly("once", "anon", "anon");
    }
  }

  /** An empty proposal is nothing to do. */
  @Test
  void emptyProposalDoesNothing() {
    CoreCluster c = CoreCluster.of(3);
    c.raft(1).propose(List.of());
    assertThat(c.raft(1).hasReady()).isFalse();
  }
}
