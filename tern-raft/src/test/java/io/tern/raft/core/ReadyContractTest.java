package io.tern.raft.core;

import static io.tern.raft.core.Cores.entry;
import static io.tern.raft.core.Cores.msg;
import static io.tern.raft.core.MessageType.APPEND;
import static io.tern.raft.core.MessageType.APPEND_RESPONSE;
import static io.tern.raft.core.MessageType.VOTE;
import static io.tern.raft.core.MessageType.VOTE_RESPONSE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The Ready contract: what must be durable before which message leaves, when entries count as
 * acknowledged, and that what was persisted is enough to restart (Raft paper Figure 2, persistent
 * state; thesis 10.2.1).
 */
class ReadyContractTest {
  private static final Set<MessageType> AFTER_PERSIST =
      EnumSet.of(APPEND_RESPONSE, VOTE, VOTE_RESPONSE);

  /**
   * Votes, vote requests (the candidate's own vote) and append acknowledgements promise durable
   * state; they appear only in messagesAfterPersist. Everything else may leave at once.
   */
  @Test
  void messagesThatPromiseDurableStateComeOnlyAfterPersistence() {
    for (boolean extras : new boolean[] {false, true}) {
      CoreCluster c =
          CoreCluster.builder(3).seed(3).config(b -> b.preVote(extras).checkQuorum(extras)).build();
      int et = c.config().electionTicks();
      long leader = c.tickUntilLeader(5 * et);
      c.propose(leader, "a", "b");
      c.propose(c.ids().stream().filter(id -> id != leader).findFirst().orElseThrow(), "fwd");
      c.raft(leader).readIndex(1);
      c.drain(leader);
      c.stabilize();
      c.crash(leader);
      long next = c.tickUntilLeader(5 * et);
      c.restart(leader);
      c.propose(next, "c");
      c.isolate(next);
      c.tick(3 * et);
      c.heal();
      c.tick(3 * et);

      Set<MessageType> seen = EnumSet.noneOf(MessageType.class);
      for (Network.Sent s : c.net.history()) {
        MessageType t = s.message().type();
        seen.add(t);
        assertThat(s.afterPersist()).as("%s", s.message()).isEqualTo(AFTER_PERSIST.contains(t));
      }
      assertThat(seen)
          .containsAll(AFTER_PERSIST)
          .contains(MessageType.APPEND, MessageType.HEARTBEAT);
    }
  }

  /**
   * Thesis 10.2.1: the leader may send appends before its own write is durable, but it counts
   * itself among the replicas of an entry only once storage reports the entry durable.
   */
  @Test
  void leaderCountsItsOwnEntriesOnlyOnceTheyArePersisted() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    long base = c.raft(1).log().lastIndex();
    c.member(1).syncWrites = false;
    c.net.cutBoth(1, 3);

    c.propose(1, "x");
    assertThat(c.net.pending(m -> m.type() == APPEND && m.to() == 2)).hasSize(1);
    c.stabilize();
    assertThat(c.raft(2).log().lastIndex()).isEqualTo(base + 1);
    assertThat(c.raft(1).log().committed()).isEqualTo(base);
    assertThat(c.raft(1).log().stable()).isEqualTo(base);

    c.flush(1);
    assertThat(c.raft(1).log().committed()).isEqualTo(base + 1);
    c.stabilize();
    assertThat(c.appliedText(1)).containsExactly("x");
    assertThat(c.appliedText(2)).containsExactly("x");
  }

  /** Alone, a leader commits on its own write, and only once it is durable. */
  @Test
  void singleMemberCommitsOnlyOnceItsWriteIsDurable() {
    Raft r = Cores.fresh(1, 1);
    r.campaign();
    assertThat(r.role()).isEqualTo(Role.LEADER);
    Ready rd = r.ready();
    r.advance(rd);
    assertThat(rd.entries()).hasSize(1);
    assertThat(rd.committedEntries()).isEmpty();
    assertThat(r.hasReady()).isFalse();
    assertThat(r.log().committed()).isZero();

    r.persisted(1, 1);
    assertThat(r.log().committed()).isEqualTo(1);
    rd = r.ready();
    r.advance(rd);
    assertThat(rd.hardState()).isEqualTo(new HardState(1, 1, 1));
    assertThat(rd.committedEntries()).extracting(Entry::index).containsExactly(1L);
  }

  /**
   * Committed entries are handed to the state machine only once durable locally, so a restart never
   * finds the state machine ahead of the log; the acknowledgement waits for the write too.
   */
  @Test
  void followerAppliesAndAcknowledgesOnlyWhatIsDurable() {
    Raft r = Cores.fresh(2, 3);
    r.step(
        msg(APPEND, 1, 2, 1)
            .index(0)
            .logTerm(0)
            .entries(List.of(entry(1, 1), entry(2, 1)))
            .commit(2)
            .build());

    Ready rd = r.ready();
    r.advance(rd);
    assertThat(rd.entries()).extracting(Entry::index).containsExactly(1L, 2L);
    assertThat(rd.hardState()).isEqualTo(new HardState(1, 0, 2));
    assertThat(rd.committedEntries()).isEmpty();
    assertThat(rd.messages()).isEmpty();
    assertThat(rd.messagesAfterPersist())
        .singleElement()
        .matches(m -> m.type() == APPEND_RESPONSE && m.index() == 2);
    assertThat(r.hasReady()).isFalse();

    r.persisted(1, 1);
    rd = r.ready();
    r.advance(rd);
    assertThat(rd.committedEntries()).extracting(Entry::index).containsExactly(1L);
    r.persisted(2, 1);
    rd = r.ready();
    r.advance(rd);
    assertThat(rd.committedEntries()).extracting(Entry::index).containsExactly(2L);
  }

  /** A durability report for entries that were replaced meanwhile is ignored. */
  @Test
  void persistedReportForReplacedEntriesIsIgnored() {
    Raft r = Cores.core(2, 3, new HardState(1, 1, 0), List.of());
    r.step(
        msg(APPEND, 1, 2, 1)
            .index(0)
            .logTerm(0)
            .entries(List.of(entry(1, 1), entry(2, 1)))
            .build());
    Ready rd = r.ready();
    r.advance(rd);
    // Before that write is durable, a new leader replaces entry 2.
    r.step(msg(APPEND, 3, 2, 2).index(1).logTerm(1).entries(List.of(entry(2, 2))).build());
    rd = r.ready();
    r.advance(rd);
    assertThat(rd.entries()).containsExactly(entry(2, 2));

    r.persisted(2, 1);
    assertThat(r.log().stable()).isZero();
    r.persisted(2, 2);
    assertThat(r.log().stable()).isEqualTo(2);
  }

  /** The driver must advance each Ready before giving the core any other input. */
  @Test
  void inputBeforeAdvanceIsRejected() {
    Raft r = Cores.fresh(1, 3);
    r.campaign();
    Ready rd = r.ready();
    assertThatThrownBy(r::tick).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(r::ready).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> r.step(msg(VOTE_RESPONSE, 2, 1, 1).build()))
        .isInstanceOf(IllegalStateException.class);
    r.advance(rd);
    assertThatThrownBy(() -> r.advance(rd)).isInstanceOf(IllegalStateException.class);
    r.tick();
  }

  /**
   * Raft paper Figure 2: currentTerm, votedFor and log[] are persistent state. A member rebuilt
   * from what its Readies asked to persist has the same term, vote, log and commit index, and
   * re-applies what was committed.
   */
  @Test
  void termVoteAndLogSurviveARestart() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    c.proposeEach(2, "k", 5);
    c.stabilize();
    c.tick(2);

    for (long id : c.ids()) {
      Raft before = c.raft(id);
      long term = before.term();
      long vote = before.vote();
      long commit = before.log().committed();
      List<Entry> log = c.entries(id);
      List<String> applied = c.appliedText(id);

      c.restart(id);
      Raft after = c.raft(id);
      assertThat(after.term()).isEqualTo(term);
      assertThat(after.vote()).isEqualTo(vote);
      assertThat(c.entries(id)).isEqualTo(log);
      assertThat(after.log().committed()).isEqualTo(commit);
      assertThat(after.role()).isEqualTo(Role.FOLLOWER);
      assertThat(c.appliedText(id)).isEqualTo(applied);
    }

    long leader = c.tickUntilLeader(5 * c.config().electionTicks());
    c.propose(leader, "after");
    c.stabilize();
    c.tick(2);
    for (long id : c.ids()) {
      assertThat(c.appliedText(id)).as("member %d", id).endsWith("k-4", "after");
    }
  }

  /**
   * Raft paper 5.2 with Figure 2: the vote is durable, so a restart cannot vote twice in a term.
   */
  @Test
  void aVoteSurvivesARestartSoNoSecondVoteInTheSameTerm() {
    CoreCluster c = CoreCluster.builder(3).paper().build();
    c.campaign(1);
    c.deliverNow(m -> m.type() == VOTE && m.to() == 2);
    assertThat(c.raft(2).vote()).isEqualTo(1);
    c.net.discardPending();

    c.restart(2);
    c.campaign(3);
    assertThat(c.raft(3).term()).isEqualTo(1);
    c.deliverNow(m -> m.type() == VOTE && m.to() == 2);
    assertThat(c.net.pending(m -> m.type() == VOTE_RESPONSE && m.to() == 3))
        .singleElement()
        .matches(Message::reject);
  }

  /** The same inputs give the same outputs: two clusters with one seed run identically. */
  @Test
  void runsAreDeterministicForASeed() {
    List<Network.Sent> first = randomRun(11);
    List<Network.Sent> second = randomRun(11);
    assertThat(second).hasSameSizeAs(first);
    for (int i = 0; i < first.size(); i++) {
      assertThat(second.get(i).message().toString()).isEqualTo(first.get(i).message().toString());
    }
  }

  private static List<Network.Sent> randomRun(long seed) {
    CoreCluster c = CoreCluster.builder(5).seed(seed).build();
    Random rnd = new Random(seed);
    for (int i = 0; i < 200; i++) {
      c.tickAll();
      if (rnd.nextInt(5) == 0) {
        long l = c.leader();
        if (l != 0) {
          c.propose(l, "r" + i);
        }
      }
      if (rnd.nextInt(20) == 0) {
        c.isolate(1 + rnd.nextInt(5));
      } else if (rnd.nextInt(10) == 0) {
        c.heal();
      }
      c.stabilize();
    }
    return List.copyOf(c.net.history());
  }
}
