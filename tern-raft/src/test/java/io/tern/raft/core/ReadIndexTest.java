package io.tern.raft.core;

import static io.tern.raft.core.MessageType.APPEND_RESPONSE;
import static io.tern.raft.core.MessageType.HEARTBEAT;
import static io.tern.raft.core.MessageType.HEARTBEAT_RESPONSE;
import static io.tern.raft.core.MessageType.READ_INDEX;
import static io.tern.raft.core.MessageType.READ_INDEX_RESPONSE;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Linearizable reads without log writes (Raft thesis 6.4): ReadIndex on the leader and through it,
 * and the opt-in lease read (thesis 6.4.1).
 */
class ReadIndexTest {

  /**
   * Thesis 6.4 steps 2-3: the leader records its commit index as the read index, then confirms it
   * is still leader with a round of heartbeats; the read is ready only once a majority answered.
   */
  @Test
  void leaderReadIndexWaitsForAQuorumToAnswerAHeartbeatRound() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    long commit = c.raft(1).log().committed();
    c.net.holdIf(m -> m.type() == HEARTBEAT_RESPONSE);
    c.net.resetCounters();

    c.raft(1).readIndex(42);
    c.drain(1);
    // The read starts its own round at once rather than waiting for the next heartbeat tick.
    assertThat(c.net.pending(m -> m.type() == HEARTBEAT))
        .extracting(Message::to)
        .containsExactly(2L, 3L);
    c.stabilize();
    assertThat(c.member(1).readStates).isEmpty();

    c.deliverNow(m -> m.type() == HEARTBEAT_RESPONSE && m.from() == 2);
    assertThat(c.member(1).readStates).containsExactly(new ReadState(42, commit));
  }

  /** Thesis 6.4: without a majority's answer the read never becomes ready. */
  @Test
  void leaderCutOffFromTheMajorityServesNoRead() {
    CoreCluster c = CoreCluster.builder(3).paper().build();
    c.elect(1);
    c.isolate(1);
    c.raft(1).readIndex(5);
    c.drain(1);
    c.tick(3 * c.config().electionTicks());
    assertThat(c.member(1).readStates).isEmpty();
  }

  /**
   * Thesis 6.4 step 1: a new leader does not know the latest commit index until it commits an entry
   * of its own term (its no-op); reads wait until then.
   */
  @Test
  void newLeaderServesNoReadBeforeCommittingAnEntryOfItsTerm() {
    CoreCluster c =
        CoreCluster.builder(3)
            .disk(1, new HardState(1, 0, 1), Cores.log(1, 1))
            .disk(2, new HardState(1, 0, 1), Cores.log(1, 1))
            .disk(3, new HardState(1, 0, 1), Cores.log(1))
            .build();
    c.warmUp();
    c.net.holdIf(m -> m.type() == APPEND_RESPONSE);
    c.campaign(1);
    c.stabilize();
    Raft leader = c.raft(1);
    assertThat(leader.role()).isEqualTo(Role.LEADER);
    assertThat(leader.log().committed()).isEqualTo(1);
    c.net.resetCounters();

    leader.readIndex(7);
    c.drain(1);
    c.stabilize();
    assertThat(c.member(1).readStates).isEmpty();
    assertThat(c.net.sent(HEARTBEAT)).isZero();

    c.net.releaseHeld();
    c.stabilize();
    // Index 3 is the no-op of the new term; entry 2 was committed with it.
    assertThat(leader.log().committed()).isEqualTo(3);
    assertThat(c.member(1).readStates).containsExactly(new ReadState(7, 3));
  }

  /** Thesis 6.4: a follower asks the leader for a read index and gets it back. */
  @Test
  void followerReadIndexGoesThroughTheLeader() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    c.proposeEach(1, "w", 3);
    c.stabilize();
    long commit = c.raft(1).log().committed();
    c.net.resetCounters();

    c.raft(3).readIndex(9);
    c.drain(3);
    assertThat(c.net.pending(m -> m.type() == READ_INDEX))
        .singleElement()
        .matches(m -> m.to() == 1 && m.context() == 9);
    c.stabilize();

    assertThat(c.member(3).readStates).containsExactly(new ReadState(9, commit));
    assertThat(c.member(1).readStates).isEmpty();
    assertThat(c.net.sent(HEARTBEAT)).isPositive();
    assertThat(c.net.sent(READ_INDEX_RESPONSE)).isEqualTo(1);
  }

  /** Reads from several members with the same context are kept apart. */
  @Test
  void readsAreMatchedToTheirRequesters() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    for (long id : c.ids()) {
      c.raft(id).readIndex(1);
      c.drain(id);
    }
    c.stabilize();
    for (long id : c.ids()) {
      assertThat(c.member(id).readStates)
          .as("member %d", id)
          .singleElement()
          .matches(rs -> rs.context() == 1);
    }
  }

  /**
   * A response with {@code reject} set means the leader could not serve the read (see {@link
   * Message}); it must not become a read state, or the read would be served at index 0.
   */
  @Test
  void rejectedReadIndexResponseIsNoReadState() {
    Raft r = Cores.fresh(2, 3);
    Cores.step(r, Cores.msg(HEARTBEAT, 1, 2, 1).build());
    r.readIndex(5);
    Cores.drain(r);

    Cores.Output out =
        Cores.step(r, Cores.msg(READ_INDEX_RESPONSE, 1, 2, 1).context(5).reject(true).build());
    assertThat(out.readStates()).isEmpty();

    out = Cores.step(r, Cores.msg(READ_INDEX_RESPONSE, 1, 2, 1).context(5).index(3).build());
    assertThat(out.readStates()).containsExactly(new ReadState(5, 3));
  }

  // ---------------------------------------------------------------- lease

  private static CoreCluster leaseCluster() {
    CoreCluster c = CoreCluster.builder(3).config(b -> b.leaseRead(true)).build();
    c.elect(1);
    c.tick(1);
    return c;
  }

  /**
   * Thesis 6.4.1: while a quorum acknowledged a heartbeat less than an election timeout (minus the
   * clock-drift margin) ago, none of them will vote for another leader, so the leader answers reads
   * without any round trip.
   */
  @Test
  void leaseReadAnswersAtOnceWhileTheLeaseHolds() {
    CoreCluster c = leaseCluster();
    Raft leader = c.raft(1);
    assertThat(leader.leaseValid()).isTrue();
    c.net.resetCounters();

    leader.readIndex(3);
    c.drain(1);
    assertThat(c.member(1).readStates).containsExactly(new ReadState(3, leader.log().committed()));
    assertThat(c.net.sentTotal()).isZero();

    // Through a follower it costs one exchange with the leader and no heartbeat round.
    c.raft(2).readIndex(4);
    c.drain(2);
    c.stabilize();
    assertThat(c.member(2).readStates).containsExactly(new ReadState(4, leader.log().committed()));
    assertThat(c.net.sent(HEARTBEAT)).isZero();
  }

  /**
   * Thesis 6.4.1: the lease runs out electionTicks - leaseDriftTicks after the acknowledged
   * heartbeat was sent; from then on reads need a round trip again.
   */
  @Test
  void leaseExpiresWithoutHeartbeatAcknowledgements() {
    CoreCluster c = leaseCluster();
    Raft leader = c.raft(1);
    RaftConfig cfg = c.config();
    int lease = cfg.electionTicks() - cfg.leaseDriftTicks();

    c.isolate(1);
    c.tickMember(1, lease - 1);
    assertThat(leader.role()).isEqualTo(Role.LEADER);
    assertThat(leader.leaseValid()).isTrue();
    leader.readIndex(1);
    c.drain(1);
    assertThat(c.member(1).readStates).extracting(ReadState::context).containsExactly(1L);

    c.tickMember(1, 1);
    assertThat(leader.role()).isEqualTo(Role.LEADER);
    assertThat(leader.leaseValid()).isFalse();
    leader.readIndex(2);
    c.drain(1);
    assertThat(c.member(1).readStates).extracting(ReadState::context).containsExactly(1L);
  }

  /** A new leader holds no lease until a quorum acknowledges one of its heartbeats. */
  @Test
  void noLeaseBeforeAQuorumAcknowledgesAHeartbeat() {
    CoreCluster c = CoreCluster.builder(3).config(b -> b.leaseRead(true)).build();
    c.elect(1);
    Raft leader = c.raft(1);
    assertThat(leader.leaseValid()).isFalse();
    leader.readIndex(8);
    c.drain(1);
    assertThat(c.member(1).readStates).isEmpty();
    c.stabilize();
    assertThat(c.member(1).readStates).containsExactly(new ReadState(8, leader.log().committed()));
    assertThat(leader.leaseValid()).isTrue();
  }

  /**
   * Thesis 6.4: a new leader may not know the latest commit index until it commits an entry of its
   * term, so even with heartbeats acknowledged it holds no lease before that.
   */
  @Test
  void noLeaseBeforeTheLeaderCommitsInItsTerm() {
    CoreCluster c = CoreCluster.builder(3).config(b -> b.leaseRead(true)).build();
    c.warmUp();
    c.net.dropIf(m -> m.type() == APPEND_RESPONSE);
    c.campaign(1);
    c.stabilize();
    c.tick(2);
    Raft leader = c.raft(1);
    assertThat(leader.role()).isEqualTo(Role.LEADER);
    assertThat(leader.log().committed()).isZero();
    assertThat(leader.leaseValid()).isFalse();
    leader.readIndex(1);
    c.drain(1);
    c.stabilize();
    assertThat(c.member(1).readStates).isEmpty();

    c.heal();
    c.tick(3);
    assertThat(leader.leaseValid()).isTrue();
    assertThat(c.member(1).readStates).containsExactly(new ReadState(1, 1));
  }

  /** Lease reads are opt-in: by default every read confirms leadership with a round trip. */
  @Test
  void withoutLeaseReadEveryReadNeedsARoundTrip() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    c.tick(1);
    Raft leader = c.raft(1);
    assertThat(leader.leaseValid()).isFalse();
    leader.readIndex(1);
    c.drain(1);
    assertThat(c.member(1).readStates).isEmpty();
    c.stabilize();
    assertThat(c.member(1).readStates).hasSize(1);
    assertThat(leader.role()).isEqualTo(Role.LEADER);
  }
}
