package io.tern.raft.core;

import static io.tern.raft.core.Cores.drain;
import static io.tern.raft.core.Cores.msg;
import static io.tern.raft.core.Cores.step;
import static io.tern.raft.core.MessageType.APPEND;
import static io.tern.raft.core.MessageType.APPEND_RESPONSE;
import static io.tern.raft.core.MessageType.HEARTBEAT;
import static io.tern.raft.core.MessageType.HEARTBEAT_RESPONSE;
import static io.tern.raft.core.MessageType.INSTALL_SNAPSHOT;
import static io.tern.raft.core.MessageType.SNAPSHOT;
import static io.tern.raft.core.MessageType.VOTE_RESPONSE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.core.tracker.Membership;
import io.tern.raft.core.tracker.MembershipCodec;
import io.tern.raft.core.tracker.Progress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Snapshots in the core (Raft paper section 7): compacting the log behind a snapshot, the leader
 * asking its driver to send a snapshot to a follower behind the compacted log, the follower
 * installing one, replication resuming after it, and restarting from a compacted log.
 */
class SnapshotTest {
  private static final Membership THREE = Membership.ofVoters(1, 2, 3);
  private static final Membership FOUR = Membership.ofVoters(1, 2, 3, 4);
  private static final Membership FIVE = Membership.ofVoters(1, 2, 3, 4, 5);

  /** Where {@link #compactedLeader()} compacts its log. */
  private static final SnapshotMeta SNAP20 = new SnapshotMeta(20, 2, THREE);

  // ---------------------------------------------------------------- fixtures

  private static Entry config(long index, long term, Membership m) {
    return new Entry(term, index, EntryType.CONFIG, 0, MembershipCodec.encode(m));
  }

  private static List<Entry> proposals(int n) {
    List<Entry> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Entry.proposal(0, ("p" + i).getBytes(StandardCharsets.UTF_8)));
    }
    return out;
  }

  private static Message install(long from, long to, long term, SnapshotMeta snap) {
    return msg(INSTALL_SNAPSHOT, from, to, term).snapshot(snap).build();
  }

  private static List<Message> sentTo(Cores.Output out, long to, MessageType type) {
    return out.all().stream().filter(m -> m.to() == to && m.type() == type).toList();
  }

  private static List<Message> sentTo(List<Message> out, long to, MessageType type) {
    return out.stream().filter(m -> m.to() == to && m.type() == type).toList();
  }

  /**
   * Takes the one Ready {@code r} has, carrying it out as a driver would (write durable at once,
   * committed entries applied), and returns it.
   */
  private static Ready take(Raft r) {
    assertThat(r.hasReady()).isTrue();
    Ready rd = r.ready();
    r.advance(rd);
    Entry last = rd.lastEntry();
    if (last != null) {
      r.persisted(last.index(), last.term());
    }
    if (!rd.committedEntries().isEmpty()) {
      r.applied(rd.committedEntries().get(rd.committedEntries().size() - 1).index());
    }
    return rd;
  }

  private static List<Long> indices(List<Entry> es) {
    return es.stream().map(Entry::index).toList();
  }

  /**
   * Leader 1 of term 2 over a log of 1..10 (term 1), its no-op at 11 and proposals 12..20, all
   * committed with member 2 and applied, then compacted at 20 ({@link #SNAP20}). Member 3 has not
   * answered anything: the probe of the election (prev 10@1, entry 11) is still outstanding.
   */
  private static Raft compactedLeader() {
    Raft r = Cores.core(1, 3, new HardState(1, 0, 10), Cores.run(1, 10, 1));
    r.campaign();
    drain(r);
    step(r, msg(VOTE_RESPONSE, 2, 1, 2).build());
    assertThat(r.role()).isEqualTo(Role.LEADER);
    step(r, msg(APPEND_RESPONSE, 2, 1, 2).index(11).build());
    r.propose(proposals(9));
    drain(r);
    step(r, msg(APPEND_RESPONSE, 2, 1, 2).index(20).build());
    assertThat(r.log().committed()).isEqualTo(20);
    assertThat(r.log().applied()).isEqualTo(20);
    assertThat(r.progress(3).next()).isEqualTo(11);

    r.snapshotAvailable(SNAP20);
    assertThat(r.compact(20)).isEqualTo(SNAP20);
    return r;
  }

  /**
   * {@link #compactedLeader()} after member 3 rejected the election probe (it holds nothing): the
   * leader asked for a snapshot to it, and appended and committed 21..22 with member 2 meanwhile.
   */
  private static Raft snapshotting() {
    Raft r = compactedLeader();
    step(r, msg(APPEND_RESPONSE, 3, 1, 2).index(10).reject(true).rejectHint(0).build());
    assertThat(r.progress(3).state()).isEqualTo(Progress.State.SNAPSHOT);
    r.propose(proposals(2));
    drain(r);
    step(r, msg(APPEND_RESPONSE, 2, 1, 2).index(22).build());
    assertThat(r.log().committed()).isEqualTo(22);
    return r;
  }

  // ---------------------------------------------------------------- compaction

  @Test
  void compactNeedsACoveringSnapshotAndAppliedEntries() {
    // 1, 2 (term 1); config -> FOUR at 3 (term 1); 4..6 (term 2); config -> FIVE at 7; 8.
    List<Entry> log =
        List.of(
            Cores.entry(1, 1),
            Cores.entry(2, 1),
            config(3, 1, FOUR),
            Cores.entry(4, 2),
            Cores.entry(5, 2),
            Cores.entry(6, 2),
            config(7, 2, FIVE),
            Cores.entry(8, 2));
    Raft r = Cores.core(2, 3, new HardState(2, 0, 8), log);
    assertThat(r.membershipAt(2)).isEqualTo(THREE);
    assertThat(r.membershipAt(3)).isEqualTo(FOUR);
    assertThat(r.membershipAt(6)).isEqualTo(FOUR);
    assertThat(r.membershipAt(7)).isEqualTo(FIVE);
    assertThat(r.membership()).isEqualTo(FIVE);

    // No snapshot reported yet.
    assertThatThrownBy(() -> r.compact(5)).isInstanceOf(IllegalStateException.class);
    // A snapshot that does not reach the compaction point.
    SnapshotMeta at4 = new SnapshotMeta(4, 2, FOUR);
    r.snapshotAvailable(at4);
    assertThat(r.latestSnapshot()).isEqualTo(at4);
    assertThatThrownBy(() -> r.compact(5)).isInstanceOf(IllegalStateException.class);

    SnapshotMeta at8 = new SnapshotMeta(8, 2, FIVE);
    r.snapshotAvailable(at8);
    r.snapshotAvailable(at4); // an older one is no news
    assertThat(r.latestSnapshot()).isEqualTo(at8);

    // Committed but only applied through 4: nothing after 4 may be dropped.
    Ready rd = r.ready();
    assertThat(indices(rd.committedEntries())).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
    r.advance(rd);
    r.applied(4);
    assertThatThrownBy(() -> r.compact(5)).isInstanceOf(IllegalStateException.class);
    assertThat(r.log().firstIndex()).isEqualTo(1);
    assertThat(r.membershipAt(2)).isEqualTo(THREE);

    // Between the two configuration entries: the base is the first one.
    SnapshotMeta base = r.compact(4);
    assertThat(base).isEqualTo(new SnapshotMeta(4, 2, FOUR));
    assertThat(r.log().snapshotIndex()).isEqualTo(4);
    assertThat(r.log().firstIndex()).isEqualTo(5);
    assertThat(r.log().lastIndex()).isEqualTo(8);
    assertThat(r.log().term(4)).isEqualTo(2);
    assertThat(r.log().term(3)).isEqualTo(-1);
    assertThat(r.log().term(1)).isEqualTo(-1);
    assertThatThrownBy(() -> r.log().entry(4)).isInstanceOf(IllegalStateException.class);
    assertThat(Cores.entries(r)).isEqualTo(log.subList(4, 8));
    assertThat(r.membershipAt(4)).isEqualTo(FOUR);
    assertThat(r.membershipAt(6)).isEqualTo(FOUR);
    assertThat(r.membershipAt(7)).isEqualTo(FIVE);
    assertThat(r.membership()).isEqualTo(FIVE);
    assertThatThrownBy(() -> r.membershipAt(3)).isInstanceOf(IllegalArgumentException.class);

    // At or below the compaction point: nothing to do.
    assertThat(r.compact(4)).isNull();
    assertThat(r.compact(2)).isNull();
    assertThat(r.log().firstIndex()).isEqualTo(5);

    // Past the second configuration entry: it becomes the base.
    r.applied(8);
    assertThat(r.compact(7)).isEqualTo(new SnapshotMeta(7, 2, FIVE));
    assertThat(r.log().firstIndex()).isEqualTo(8);
    assertThat(r.membershipAt(7)).isEqualTo(FIVE);
    assertThat(r.membership()).isEqualTo(FIVE);
    assertThat(Cores.entries(r)).containsExactly(log.get(7));

    // Not while a Ready is outstanding.
    r.step(msg(HEARTBEAT, 1, 2, 2).commit(8).build());
    Ready outstanding = r.ready();
    assertThatThrownBy(() -> r.compact(8)).isInstanceOf(IllegalStateException.class);
    r.advance(outstanding);
  }

  // ---------------------------------------------------------------- leader: asking for snapshots

  @Test
  void followerBehindTheCompactedLogIsAskedForASnapshotInsteadOfAppends() {
    Raft leader = compactedLeader();
    // Member 3 answers the election probe (prev 10@1, compacted since): it holds nothing.
    Cores.Output out =
        step(leader, msg(APPEND_RESPONSE, 3, 1, 2).index(10).reject(true).rejectHint(0).build());
    assertThat(sentTo(out, 3, APPEND)).isEmpty();
    Message req = out.only(SNAPSHOT);
    assertThat(req.from()).isEqualTo(1);
    assertThat(req.to()).isEqualTo(3);
    assertThat(req.term()).isEqualTo(2);
    assertThat(req.index()).isEqualTo(20).isEqualTo(leader.log().snapshotIndex());
    assertThat(out.messages()).contains(req);
    Progress pr = leader.progress(3);
    assertThat(pr.state()).isEqualTo(Progress.State.SNAPSHOT);
    assertThat(pr.pendingSnapshot()).isEqualTo(20);
    assertThat(pr.isPaused()).isTrue();
    // A duplicate of its rejection answers an append sent before the request: ignored.
    Cores.Output dup =
        step(leader, msg(APPEND_RESPONSE, 3, 1, 2).index(10).reject(true).rejectHint(0).build());
    assertThat(dup.all()).isEmpty();
    assertThat(pr.state()).isEqualTo(Progress.State.SNAPSHOT);

    // Replication to member 2 goes on; member 3 gets nothing of it.
    leader.propose(proposals(2));
    Cores.Output proposed = drain(leader);
    assertThat(sentTo(proposed, 3, APPEND)).isEmpty();
    assertThat(sentTo(proposed, 3, SNAPSHOT)).isEmpty();
    Message app = sentTo(proposed, 2, APPEND).get(0);
    assertThat(app.index()).isEqualTo(20);
    assertThat(app.logTerm()).isEqualTo(2);
    assertThat(indices(app.entries())).containsExactly(21L, 22L);
    Cores.Output acked = step(leader, msg(APPEND_RESPONSE, 2, 1, 2).index(22).build());
    assertThat(leader.log().committed()).isEqualTo(22);
    assertThat(sentTo(acked, 3, APPEND)).isEmpty();
    assertThat(sentTo(acked, 3, SNAPSHOT)).isEmpty();

    // Heartbeats still reach it, with no commit index it is not known to hold.
    leader.tick();
    Cores.Output beats = drain(leader);
    Message beat = sentTo(beats, 3, HEARTBEAT).get(0);
    assertThat(beat.commit()).isZero();
    assertThat(sentTo(beats, 2, HEARTBEAT)).hasSize(1);
    // Its answer brings neither appends nor a second request while the transfer is under way.
    Cores.Output answered =
        step(leader, msg(HEARTBEAT_RESPONSE, 3, 1, 2).context(beat.context()).build());
    assertThat(sentTo(answered, 3, APPEND)).isEmpty();
    assertThat(sentTo(answered, 3, SNAPSHOT)).isEmpty();
    assertThat(leader.progress(3).state()).isEqualTo(Progress.State.SNAPSHOT);
  }

  /** A follower whose last ack is answered by an append of entries compacted since gets one too. */
  @Test
  void followerAcceptingAnOldAppendIsAskedForASnapshotWhenTheRestIsCompacted() {
    Raft leader = compactedLeader();
    Cores.Output out = step(leader, msg(APPEND_RESPONSE, 3, 1, 2).index(11).build());
    assertThat(sentTo(out, 3, APPEND)).isEmpty();
    assertThat(out.only(SNAPSHOT).index()).isEqualTo(20);
    assertThat(leader.progress(3).state()).isEqualTo(Progress.State.SNAPSHOT);
    assertThat(leader.progress(3).match()).isEqualTo(11);
  }

  @Test
  void followerNotRecentlyActiveGetsNoSnapshotUntilItAnswersAHeartbeat() {
    RaftConfig cfg = Cores.paper(1).checkQuorum(true).build();
    Raft leader = Cores.core(cfg, 3, new HardState(1, 0, 10), Cores.run(1, 10, 1));
    leader.campaign();
    drain(leader);
    step(leader, msg(VOTE_RESPONSE, 2, 1, 2).build());
    step(leader, msg(APPEND_RESPONSE, 2, 1, 2).index(11).build());
    step(leader, msg(APPEND_RESPONSE, 3, 1, 2).index(11).build());
    assertThat(leader.progress(3).state()).isEqualTo(Progress.State.REPLICATE);
    leader.propose(proposals(9));
    drain(leader);
    // Member 2 acknowledges 12..20; member 3 goes silent.
    step(leader, msg(APPEND_RESPONSE, 2, 1, 2).index(20).build());
    assertThat(leader.log().applied()).isEqualTo(20);
    leader.snapshotAvailable(SNAP20);
    leader.compact(20);

    // An election timeout: member 3's appends stall (it is probed again from its match, 11, now
    // compacted away) and the check-quorum round forgets it was active.
    List<Message> sent = new ArrayList<>();
    for (int i = 0; i < cfg.electionTicks(); i++) {
      leader.tick();
      sent.addAll(drain(leader).all());
    }
    assertThat(leader.role()).isEqualTo(Role.LEADER);
    Progress pr = leader.progress(3);
    assertThat(pr.state()).isEqualTo(Progress.State.PROBE);
    assertThat(pr.match()).isEqualTo(11);
    assertThat(pr.recentActive()).isFalse();
    assertThat(sentTo(sent, 3, HEARTBEAT)).isNotEmpty();
    assertThat(sentTo(sent, 3, SNAPSHOT)).isEmpty();
    assertThat(sentTo(sent, 3, APPEND)).isEmpty();

    // New entries: member 3 needs a snapshot, but it may be down; none is requested.
    leader.propose(proposals(1));
    Cores.Output proposed = drain(leader);
    assertThat(sentTo(proposed, 2, APPEND)).hasSize(1);
    assertThat(sentTo(proposed, 3, SNAPSHOT)).isEmpty();
    assertThat(sentTo(proposed, 3, APPEND)).isEmpty();
    assertThat(pr.state()).isEqualTo(Progress.State.PROBE);

    leader.tick();
    Message beat = sentTo(drain(leader), 3, HEARTBEAT).get(0);
    Cores.Output answered =
        step(leader, msg(HEARTBEAT_RESPONSE, 3, 1, 2).context(beat.context()).build());
    assertThat(answered.only(SNAPSHOT).index()).isEqualTo(20);
    assertThat(sentTo(answered, 3, APPEND)).isEmpty();
    assertThat(leader.progress(3).state()).isEqualTo(Progress.State.SNAPSHOT);
  }

  // ---------------------------------------------------------------- follower: installing

  @Test
  void followerInstallsASnapshotBeyondItsLog() {
    Raft f = Cores.core(2, 3, new HardState(1, 0, 3), Cores.run(1, 5, 1));
    drain(f); // applies 1..3
    Membership withLearner = new Membership(THREE.voters(), Set.of(4L));
    SnapshotMeta snap = new SnapshotMeta(8, 2, withLearner);

    f.step(install(1, 2, 2, snap));
    assertThat(f.term()).isEqualTo(2);
    assertThat(f.leader()).isEqualTo(1);
    assertThat(f.log().snapshotIndex()).isEqualTo(8);
    assertThat(f.log().firstIndex()).isEqualTo(9);
    assertThat(f.log().lastIndex()).isEqualTo(8);
    assertThat(f.log().lastTerm()).isEqualTo(2);
    assertThat(f.log().committed()).isEqualTo(8);
    assertThat(f.log().term(5)).isEqualTo(-1);
    assertThat(f.membership()).isEqualTo(withLearner);
    assertThat(f.membershipAt(8)).isEqualTo(withLearner);
    assertThat(f.latestSnapshot()).isEqualTo(snap);

    Ready rd = f.ready();
    assertThat(rd.snapshot()).isEqualTo(snap);
    assertThat(rd.mustPersist()).isTrue();
    assertThat(rd.hardState()).isEqualTo(new HardState(2, 0, 8));
    assertThat(rd.entries()).isEmpty();
    assertThat(rd.committedEntries()).isEmpty();
    assertThat(rd.messages()).noneMatch(m -> m.type() == APPEND_RESPONSE);
    assertThat(rd.messagesAfterPersist()).hasSize(1);
    Message resp = rd.messagesAfterPersist().get(0);
    assertThat(resp.type()).isEqualTo(APPEND_RESPONSE);
    assertThat(resp.to()).isEqualTo(1);
    assertThat(resp.term()).isEqualTo(2);
    assertThat(resp.index()).isEqualTo(8);
    assertThat(resp.reject()).isFalse();
    f.advance(rd);
    assertThat(f.hasReady()).isFalse();

    // The state machine was restored from the snapshot.
    assertThatThrownBy(() -> f.applied(9)).isInstanceOf(IllegalStateException.class);
    f.applied(8);
    assertThat(f.log().applied()).isEqualTo(8);

    // Replication goes on after it.
    Cores.Output next =
        step(
            f,
            msg(APPEND, 1, 2, 2)
                .index(8)
                .logTerm(2)
                .entries(Cores.run(9, 2, 2))
                .commit(10)
                .build());
    Message ack = next.only(APPEND_RESPONSE);
    assertThat(ack.reject()).isFalse();
    assertThat(ack.index()).isEqualTo(10);
    assertThat(indices(next.committed())).containsExactly(9L, 10L);
  }

  @Test
  void snapshotTheFollowerAlreadyHoldsOnlyMovesItsCommit() {
    Raft f = Cores.core(2, 3, new HardState(1, 0, 3), Cores.run(1, 8, 1));
    drain(f); // applies 1..3

    f.step(install(1, 2, 1, new SnapshotMeta(6, 1, THREE)));
    Ready rd = take(f);
    assertThat(rd.snapshot()).isNull();
    assertThat(rd.hardState()).isEqualTo(new HardState(1, 0, 6));
    assertThat(indices(rd.committedEntries())).containsExactly(4L, 5L, 6L);
    assertThat(rd.messagesAfterPersist()).hasSize(1);
    assertThat(rd.messagesAfterPersist().get(0).type()).isEqualTo(APPEND_RESPONSE);
    assertThat(rd.messagesAfterPersist().get(0).index()).isEqualTo(6);
    assertThat(rd.messagesAfterPersist().get(0).reject()).isFalse();
    assertThat(f.log().snapshotIndex()).isZero();
    assertThat(Cores.entries(f)).isEqualTo(Cores.run(1, 8, 1));
    assertThat(f.log().committed()).isEqualTo(6);

    // At or below the commit index: nothing changes; the answer names the commit index.
    for (long s : new long[] {6, 5, 2}) {
      f.step(install(1, 2, 1, new SnapshotMeta(s, 1, THREE)));
      Ready again = take(f);
      assertThat(again.snapshot()).as("snapshot at %d", s).isNull();
      assertThat(again.hardState()).as("snapshot at %d", s).isNull();
      assertThat(again.committedEntries()).isEmpty();
      assertThat(again.messagesAfterPersist()).hasSize(1);
      Message resp = again.messagesAfterPersist().get(0);
      assertThat(resp.type()).isEqualTo(APPEND_RESPONSE);
      assertThat(resp.index()).as("snapshot at %d", s).isEqualTo(6);
      assertThat(resp.reject()).isFalse();
      assertThat(Cores.entries(f)).isEqualTo(Cores.run(1, 8, 1));
      assertThat(f.log().committed()).isEqualTo(6);
      assertThat(f.hasReady()).isFalse();
    }
  }

  @Test
  void snapshotOfAStaleTermIsNotInstalled() {
    HardState hs = new HardState(3, 0, 2);
    List<Entry> log = Cores.log(1, 1, 2, 3, 3);
    SnapshotMeta snap = new SnapshotMeta(10, 2, THREE);

    // Classic Raft: not installed; the stale leader is told the newer term (a reply carries it).
    Raft f = Cores.core(2, 3, hs, log);
    drain(f);
    f.step(install(1, 2, 2, snap));
    Ready stale = take(f);
    assertThat(stale.snapshot()).isNull();
    assertThat(stale.messagesAfterPersist())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.type()).isEqualTo(APPEND_RESPONSE);
              assertThat(r.term()).isEqualTo(3);
            });
    assertThat(f.term()).isEqualTo(3);
    assertThat(f.leader()).isZero();
    assertThat(f.latestSnapshot()).isNull();
    assertThat(f.log().snapshotIndex()).isZero();
    assertThat(Cores.entries(f)).isEqualTo(log);
    assertThat(f.log().committed()).isEqualTo(2);

    // With pre-vote and check-quorum: the stale leader is told the newer term.
    Raft g = Cores.core(RaftConfig.builder(2).random(new Random(Cores.SEED)).build(), 3, hs, log);
    drain(g);
    g.step(install(1, 2, 2, snap));
    Ready rd = take(g);
    assertThat(rd.snapshot()).isNull();
    assertThat(rd.hardState()).isNull();
    Message resp = rd.messagesAfterPersist().get(0);
    assertThat(resp.type()).isEqualTo(APPEND_RESPONSE);
    assertThat(resp.to()).isEqualTo(1);
    assertThat(resp.term()).isEqualTo(3);
    assertThat(g.term()).isEqualTo(3);
    assertThat(g.latestSnapshot()).isNull();
    assertThat(Cores.entries(g)).isEqualTo(log);
    assertThat(g.log().committed()).isEqualTo(2);
  }

  @Test
  void snapshotFromALeaderMakesACandidateFollowIt() {
    HardState hs = new HardState(3, 0, 2);
    List<Entry> log = Cores.log(1, 1, 2, 3, 3);

    // A higher term: adopted, with its sender as leader.
    Raft c = Cores.core(2, 3, hs, log);
    drain(c);
    c.campaign();
    drain(c);
    assertThat(c.role()).isEqualTo(Role.CANDIDATE);
    assertThat(c.term()).isEqualTo(4);
    SnapshotMeta at10 = new SnapshotMeta(10, 5, THREE);
    c.step(install(1, 2, 5, at10));
    assertThat(c.role()).isEqualTo(Role.FOLLOWER);
    assertThat(c.term()).isEqualTo(5);
    assertThat(c.leader()).isEqualTo(1);
    Ready rd = take(c);
    assertThat(rd.snapshot()).isEqualTo(at10);
    assertThat(rd.hardState()).isEqualTo(new HardState(5, 0, 10));
    assertThat(rd.messagesAfterPersist().get(0).term()).isEqualTo(5);
    assertThat(rd.messagesAfterPersist().get(0).index()).isEqualTo(10);
    assertThat(c.log().snapshotIndex()).isEqualTo(10);

    // The candidate's own term: it lost the election to the sender; its vote stays.
    Raft d = Cores.core(2, 3, hs, log);
    drain(d);
    d.campaign();
    drain(d);
    SnapshotMeta at9 = new SnapshotMeta(9, 4, THREE);
    d.step(install(3, 2, 4, at9));
    assertThat(d.role()).isEqualTo(Role.FOLLOWER);
    assertThat(d.term()).isEqualTo(4);
    assertThat(d.leader()).isEqualTo(3);
    Ready rd2 = take(d);
    assertThat(rd2.snapshot()).isEqualTo(at9);
    assertThat(rd2.hardState()).isEqualTo(new HardState(4, 2, 9));
    assertThat(rd2.messagesAfterPersist().get(0).to()).isEqualTo(3);

    // A pre-candidate, which has not bumped its term.
    Raft p = Cores.core(Cores.paper(2).preVote(true).build(), 3, hs, log);
    drain(p);
    p.campaign();
    drain(p);
    assertThat(p.role()).isEqualTo(Role.PRE_CANDIDATE);
    SnapshotMeta at8 = new SnapshotMeta(8, 3, THREE);
    p.step(install(1, 2, 3, at8));
    assertThat(p.role()).isEqualTo(Role.FOLLOWER);
    assertThat(p.term()).isEqualTo(3);
    assertThat(p.leader()).isEqualTo(1);
    assertThat(take(p).snapshot()).isEqualTo(at8);
    assertThat(p.log().snapshotIndex()).isEqualTo(8);
  }

  // ---------------------------------------------------------------- leader: after the transfer

  @Test
  void ackAtTheSnapshotResumesReplicationAfterIt() {
    Raft leader = snapshotting();
    Cores.Output out = step(leader, msg(APPEND_RESPONSE, 3, 1, 2).index(20).build());
    Progress pr = leader.progress(3);
    assertThat(pr.state()).isEqualTo(Progress.State.REPLICATE);
    assertThat(pr.match()).isEqualTo(20);
    assertThat(sentTo(out, 3, SNAPSHOT)).isEmpty();
    Message app = sentTo(out, 3, APPEND).get(0);
    assertThat(app.index()).isEqualTo(20);
    assertThat(app.logTerm()).isEqualTo(2);
    assertThat(app.entries()).containsExactly(leader.log().entry(21), leader.log().entry(22));
    assertThat(app.commit()).isEqualTo(22);
    assertThat(pr.next()).isEqualTo(23);

    step(leader, msg(APPEND_RESPONSE, 3, 1, 2).index(22).build());
    assertThat(pr.match()).isEqualTo(22);

    // The driver's report of the finished transfer comes late: nothing to do.
    leader.reportSnapshot(3, true);
    assertThat(drain(leader).all()).isEmpty();
    leader.reportSnapshot(3, false);
    assertThat(drain(leader).all()).isEmpty();
    assertThat(pr.state()).isEqualTo(Progress.State.REPLICATE);

    // A member that does not lead ignores reports.
    Raft follower = Cores.fresh(2, 3);
    follower.reportSnapshot(3, true);
    assertThat(follower.hasReady()).isFalse();
  }

  /**
   * The leader compacted further while the transfer was under way: the follower's ack of the old
   * snapshot does not let appends resume from a point the log no longer holds; the report of the
   * transfer brings a request for the newer snapshot.
   */
  @Test
  void snapshotOlderThanTheLeadersLogStartIsFollowedByANewerOne() {
    Raft leader = snapshotting();
    SnapshotMeta snap22 = new SnapshotMeta(22, 2, THREE);
    leader.snapshotAvailable(snap22);
    assertThat(leader.compact(22)).isEqualTo(snap22);

    Cores.Output acked = step(leader, msg(APPEND_RESPONSE, 3, 1, 2).index(20).build());
    Progress pr = leader.progress(3);
    assertThat(pr.match()).isEqualTo(20);
    assertThat(pr.state()).isEqualTo(Progress.State.SNAPSHOT);
    assertThat(sentTo(acked, 3, APPEND)).isEmpty();
    assertThat(sentTo(acked, 3, SNAPSHOT)).isEmpty();

    leader.reportSnapshot(3, true);
    Cores.Output out = drain(leader);
    assertThat(sentTo(out, 3, APPEND)).isEmpty();
    assertThat(out.only(SNAPSHOT).index()).isEqualTo(22);
    assertThat(pr.state()).isEqualTo(Progress.State.SNAPSHOT);
    assertThat(pr.pendingSnapshot()).isEqualTo(22);

    Cores.Output done = step(leader, msg(APPEND_RESPONSE, 3, 1, 2).index(22).build());
    assertThat(pr.state()).isEqualTo(Progress.State.REPLICATE);
    assertThat(pr.match()).isEqualTo(22);
    // Nothing after the snapshot yet: only the commit index goes out.
    Message app = sentTo(done, 3, APPEND).get(0);
    assertThat(app.index()).isEqualTo(22);
    assertThat(app.entries()).isEmpty();
    assertThat(app.commit()).isEqualTo(22);
  }

  @Test
  void reportedInstallProbesAfterTheSnapshot() {
    Raft leader = snapshotting();
    leader.reportSnapshot(3, true);
    Cores.Output out = drain(leader);
    Progress pr = leader.progress(3);
    assertThat(pr.state()).isEqualTo(Progress.State.PROBE);
    assertThat(sentTo(out, 3, SNAPSHOT)).isEmpty();
    Message probe = out.only(APPEND);
    assertThat(probe.to()).isEqualTo(3);
    assertThat(probe.index()).isEqualTo(20);
    assertThat(probe.logTerm()).isEqualTo(2);
    assertThat(indices(probe.entries())).containsExactly(21L, 22L);
    assertThat(pr.isPaused()).isTrue();

    step(leader, msg(APPEND_RESPONSE, 3, 1, 2).index(22).build());
    assertThat(pr.state()).isEqualTo(Progress.State.REPLICATE);
    assertThat(pr.match()).isEqualTo(22);
  }

  @Test
  void failedTransferIsRetriedOnlyOnceTheFollowerAnswersAHeartbeat() {
    Raft leader = snapshotting();
    leader.reportSnapshot(3, false);
    Cores.Output out = drain(leader);
    assertThat(out.all()).noneMatch(m -> m.to() == 3);
    Progress pr = leader.progress(3);
    assertThat(pr.state()).isEqualTo(Progress.State.PROBE);
    assertThat(pr.pendingSnapshot()).isZero();
    assertThat(pr.isPaused()).isTrue();

    leader.propose(proposals(1));
    Cores.Output proposed = drain(leader);
    assertThat(sentTo(proposed, 3, APPEND)).isEmpty();
    assertThat(sentTo(proposed, 3, SNAPSHOT)).isEmpty();
    assertThat(sentTo(proposed, 2, APPEND)).hasSize(1);

    leader.tick();
    Message beat = sentTo(drain(leader), 3, HEARTBEAT).get(0);
    Cores.Output answered =
        step(leader, msg(HEARTBEAT_RESPONSE, 3, 1, 2).context(beat.context()).build());
    assertThat(sentTo(answered, 3, APPEND)).isEmpty();
    assertThat(answered.only(SNAPSHOT).index()).isEqualTo(20);
    assertThat(pr.state()).isEqualTo(Progress.State.SNAPSHOT);
  }

  // ---------------------------------------------------------------- end to end

  @Test
  void isolatedFollowerCatchesUpThroughASnapshot() {
    Cluster c = new Cluster();
    for (long id = 1; id <= 3; id++) {
      c.start(id, InitialState.fresh(THREE), List.of());
    }
    c.campaign(1);
    Raft leader = c.raft(1);
    assertThat(leader.role()).isEqualTo(Role.LEADER);
    assertThat(c.raft(3).log().lastIndex()).isEqualTo(1);

    c.isolate(3);
    for (int i = 0; i < 100; i++) {
      leader.propose(proposals(1));
      c.drain(1);
    }
    c.stabilize();
    assertThat(leader.log().committed()).isEqualTo(101);
    SnapshotMeta snap = c.takeSnapshot(1);
    assertThat(snap.index()).isEqualTo(101);
    assertThat(leader.log().firstIndex()).isEqualTo(102);
    c.takeSnapshot(2); // a follower compacts on its own; it keeps replicating
    leader.propose(proposals(5));
    c.drain(1);
    c.tick(5);
    assertThat(c.raft(3).log().lastIndex()).isEqualTo(1);
    assertThat(leader.log().committed()).isEqualTo(106);

    c.net.heal();
    c.net.resetCounters();
    for (int i = 0; i < 20 && c.transfers.isEmpty(); i++) {
      c.tick(1);
    }
    assertThat(c.transfers).containsExactly(new Cluster.Transfer(1, 3, leader.term(), 101));
    assertThat(leader.progress(3).state()).isEqualTo(Progress.State.SNAPSHOT);

    c.runTransfers();
    c.stabilize();
    c.tick(3);

    Raft f = c.raft(3);
    assertThat(c.transfers).isEmpty();
    assertThat(f.latestSnapshot()).isEqualTo(snap);
    assertThat(f.log().snapshotIndex()).isEqualTo(101);
    assertThat(f.log().lastIndex()).isEqualTo(leader.log().lastIndex());
    for (long i = 102; i <= leader.log().lastIndex(); i++) {
      assertThat(f.log().entry(i)).isEqualTo(leader.log().entry(i));
    }
    assertThat(f.log().committed()).isEqualTo(leader.log().committed());
    assertThat(c.machine(3)).isEqualTo(c.machine(1)).isEqualTo(c.machine(2));
    assertThat(leader.progress(3).state()).isEqualTo(Progress.State.REPLICATE);
    assertThat(leader.progress(3).match()).isEqualTo(leader.log().lastIndex());
    // Nothing the snapshot covers was sent to it after it came back.
    for (Network.Sent s : c.net.history()) {
      Message m = s.message();
      if (m.type() == APPEND && m.to() == 3) {
        assertThat(m.index()).as("%s", m).isGreaterThanOrEqualTo(101);
      }
    }

    // And it keeps up from there.
    leader.propose(proposals(3));
    c.drain(1);
    c.stabilize();
    c.tick(2);
    assertThat(f.log().committed()).isEqualTo(leader.log().committed()).isEqualTo(109);
    assertThat(c.machine(3)).isEqualTo(c.machine(1));
  }

  // ---------------------------------------------------------------- restart

  /**
   * A shared history: 1..10 (term 1), 11..22 (term 2), a configuration entry at 23 (term 3)
   * removing member 4 ({@link #FOUR} -> {@link #THREE}), 24..25 (term 3). Committed through 24.
   */
  private static List<Entry> history() {
    List<Entry> h = new ArrayList<>(Cores.run(1, 10, 1));
    h.addAll(Cores.run(11, 12, 2));
    h.add(config(23, 3, THREE));
    h.addAll(Cores.run(24, 2, 3));
    return h;
  }

  /** A member restarting with its log compacted at {@code base}, holding the history after it. */
  private static InitialState restarted(
      List<Entry> history, SnapshotMeta base, long last, long commit) {
    return new InitialState(
        new HardState(3, 0, commit),
        base.index(),
        base.term(),
        history.subList((int) base.index(), (int) last),
        base.membership(),
        base.index());
  }

  @Test
  void restartFromACompactedLogResumesAfterItsBase() {
    List<Entry> h = history();
    SnapshotMeta base = new SnapshotMeta(20, 2, FOUR);
    Raft r = new Raft(Cores.paper(1).build(), restarted(h, base, 25, 24));
    assertThat(r.log().snapshotIndex()).isEqualTo(20);
    assertThat(r.log().firstIndex()).isEqualTo(21);
    assertThat(r.log().term(20)).isEqualTo(2);
    assertThat(r.log().term(19)).isEqualTo(-1);
    assertThat(r.log().lastIndex()).isEqualTo(25);
    assertThat(r.log().committed()).isEqualTo(24);
    assertThat(r.log().applied()).isEqualTo(20);
    assertThat(r.membership()).isEqualTo(THREE);
    assertThat(r.membershipAt(20)).isEqualTo(FOUR);
    assertThat(r.membershipAt(22)).isEqualTo(FOUR);
    assertThat(r.membershipAt(23)).isEqualTo(THREE);
    assertThatThrownBy(() -> r.membershipAt(19)).isInstanceOf(IllegalArgumentException.class);
    Ready rd = take(r);
    assertThat(rd.snapshot()).isNull();
    assertThat(indices(rd.committedEntries())).containsExactly(21L, 22L, 23L, 24L);

    // A compacted base past the configuration entry is itself the configuration in force.
    Raft s = new Raft(Cores.paper(2).build(), restarted(h, new SnapshotMeta(24, 3, THREE), 25, 24));
    assertThat(s.membership()).isEqualTo(THREE);
    assertThat(s.log().firstIndex()).isEqualTo(25);
    assertThat(s.hasReady()).isFalse();
  }

  @Test
  void membersRestartedFromCompactedLogsElectALeaderAndReplicate() {
    List<Entry> h = history();
    Cluster c = new Cluster();
    c.start(1, restarted(h, new SnapshotMeta(20, 2, FOUR), 25, 24), h);
    c.start(2, restarted(h, new SnapshotMeta(24, 3, THREE), 25, 24), h);
    // Member 3 lags: compacted at 10, it never got the configuration entry.
    c.start(3, restarted(h, new SnapshotMeta(10, 1, FOUR), 22, 15), h);
    assertThat(c.raft(3).membership()).isEqualTo(FOUR);
    assertThat(c.machine(1)).isEqualTo(h.subList(0, 24));
    assertThat(c.machine(3)).isEqualTo(h.subList(0, 15));

    c.campaign(1);
    Raft leader = c.raft(1);
    assertThat(leader.role()).isEqualTo(Role.LEADER);
    assertThat(leader.term()).isEqualTo(4);
    leader.propose(proposals(3));
    c.drain(1);
    c.stabilize();
    c.tick(2);

    // Member 3's log overlapped the leader's: it caught up by appends alone.
    assertThat(c.transfers).isEmpty();
    assertThat(c.net.sent(SNAPSHOT)).isZero();
    assertCaughtUp(c, 29);
    assertThat(c.raft(3).log().snapshotIndex()).isEqualTo(10);
    assertThat(c.machine(1)).startsWith(h.subList(0, 25).toArray(new Entry[0]));
  }

  @Test
  void restartedLeaderSendsTheSnapshotItsDriverReported() {
    List<Entry> h = history();
    Cluster c = new Cluster();
    c.start(1, restarted(h, new SnapshotMeta(20, 2, FOUR), 25, 24), h);
    c.start(2, restarted(h, new SnapshotMeta(24, 3, THREE), 25, 24), h);
    c.start(3, restarted(h, new SnapshotMeta(10, 1, FOUR), 22, 15), h);

    c.campaign(2);
    Raft leader = c.raft(2);
    assertThat(leader.role()).isEqualTo(Role.LEADER);
    // Member 3 lacks 23.., and the leader's log starts at 25.
    assertThat(c.transfers).containsExactly(new Cluster.Transfer(2, 3, 4, 24));
    c.runTransfers();
    c.stabilize();
    leader.propose(proposals(3));
    c.drain(2);
    c.stabilize();
    c.tick(2);

    assertCaughtUp(c, 29);
    assertThat(c.raft(3).log().snapshotIndex()).isEqualTo(24);
    assertThat(c.raft(3).latestSnapshot()).isEqualTo(new SnapshotMeta(24, 3, THREE));
  }

  /** Every member committed and applied through {@code last}, with one log and configuration. */
  private static void assertCaughtUp(Cluster c, long last) {
    Raft leader = c.raft(c.leader());
    for (long id = 1; id <= 3; id++) {
      Raft r = c.raft(id);
      assertThat(r.membership()).as("member %d", id).isEqualTo(THREE);
      assertThat(r.log().lastIndex()).as("member %d", id).isEqualTo(last);
      assertThat(r.log().committed()).as("member %d", id).isEqualTo(last);
      for (long i = Math.max(r.log().firstIndex(), leader.log().firstIndex()); i <= last; i++) {
        assertThat(r.log().entry(i)).as("member %d at %d", id, i).isEqualTo(leader.log().entry(i));
      }
      assertThat(c.machine(id)).as("member %d", id).hasSize((int) last);
      assertThat(c.machine(id)).as("member %d", id).isEqualTo(c.machine(c.leader()));
    }
  }

  // ---------------------------------------------------------------- harness

  /**
   * Cores joined by a {@link Network} and driven as RaftNode drives them, snapshots included. Each
   * member has a snapshot store (the latest snapshot's meta and the applied entries it captures)
   * and a state machine (every entry applied, in order, replaced wholesale when a Ready carries a
   * snapshot). A SNAPSHOT request from a core never goes on the wire: it is queued as a {@link
   * Transfer}, which {@link #runTransfers()} carries out the way the two drivers would.
   */
  private static final class Cluster {
    record Transfer(long from, long to, long term, long minIndex) {}

    private record Stored(SnapshotMeta meta, List<Entry> content) {}

    final Network net = new Network();
    final List<Transfer> transfers = new ArrayList<>();
    private final TreeMap<Long, Raft> cores = new TreeMap<>();
    private final Map<Long, List<Entry>> machines = new HashMap<>();
    private final Map<Long, Stored> stores = new HashMap<>();

    /**
     * Starts member {@code id} from {@code init}, as its driver would: the state machine holds
     * {@code history} through the applied index, the store a snapshot at the log's base, which is
     * reported to the core.
     */
    void start(long id, InitialState init, List<Entry> history) {
      RaftConfig cfg =
          RaftConfig.builder(id)
              .preVote(true)
              .checkQuorum(false)
              .random(new Random(Cores.SEED + id))
              .build();
      Raft r = new Raft(cfg, init);
      cores.put(id, r);
      machines.put(id, new ArrayList<>(history.subList(0, (int) init.applied())));
      if (init.snapshotIndex() > 0) {
        SnapshotMeta meta =
            new SnapshotMeta(init.snapshotIndex(), init.snapshotTerm(), init.membership());
        stores.put(
            id, new Stored(meta, List.copyOf(history.subList(0, (int) init.snapshotIndex()))));
        r.snapshotAvailable(meta);
      }
      drain(id);
    }

    Raft raft(long id) {
      return cores.get(id);
    }

    List<Entry> machine(long id) {
      return machines.get(id);
    }

    long leader() {
      long best = 0;
      for (Raft r : cores.values()) {
        if (r.role() == Role.LEADER && (best == 0 || r.term() > cores.get(best).term())) {
          best = r.id();
        }
      }
      return best;
    }

    void isolate(long id) {
      net.isolate(id, cores.keySet());
    }

    void drain(long id) {
      Raft r = cores.get(id);
      List<Entry> machine = machines.get(id);
      while (r.hasReady()) {
        Ready rd = r.ready();
        r.advance(rd);
        if (rd.snapshot() != null) {
          Stored s = stores.get(id);
          assertThat(s.meta()).as("member %d restores what it stored", id).isEqualTo(rd.snapshot());
          machine.clear();
          machine.addAll(s.content());
        }
        for (Message m : rd.messages()) {
          if (m.type() == SNAPSHOT) {
            transfers.add(new Transfer(id, m.to(), m.term(), m.index()));
          } else {
            net.send(m, false);
          }
        }
        Entry last = rd.lastEntry();
        if (last != null) {
          r.persisted(last.index(), last.term());
        }
        for (Message m : rd.messagesAfterPersist()) {
          net.send(m, true);
        }
        for (Entry e : rd.committedEntries()) {
          assertThat(e.index()).as("member %d applies in order", id).isEqualTo(machine.size() + 1L);
          machine.add(e);
        }
        if (rd.snapshot() != null || !rd.committedEntries().isEmpty()) {
          r.applied(machine.size());
        }
      }
    }

    /** Delivers until nothing is queued. */
    void stabilize() {
      for (long id : cores.keySet()) {
        drain(id);
      }
      int deliveries = 0;
      Message m;
      while ((m = net.pollDeliverable()) != null) {
        if (++deliveries > 100_000) {
          throw new AssertionError("no quiescence: " + cores.values());
        }
        Raft to = cores.get(m.to());
        if (to == null || !net.passes(m)) {
          net.countDropped();
          continue;
        }
        to.step(m);
        drain(m.to());
      }
    }

    void tick(int n) {
      for (int i = 0; i < n; i++) {
        for (long id : cores.keySet()) {
          cores.get(id).tick();
          drain(id);
        }
        stabilize();
      }
    }

    void campaign(long id) {
      cores.get(id).campaign();
      drain(id);
      stabilize();
    }

    /** Member {@code id} snapshots its state machine and compacts its log there. */
    SnapshotMeta takeSnapshot(long id) {
      Raft r = cores.get(id);
      List<Entry> machine = machines.get(id);
      long at = machine.size();
      assertThat(r.log().applied()).isEqualTo(at);
      SnapshotMeta meta = new SnapshotMeta(at, r.log().term(at), r.membershipAt(at));
      stores.put(id, new Stored(meta, List.copyOf(machine)));
      r.snapshotAvailable(meta);
      assertThat(r.compact(at)).isEqualTo(meta);
      return meta;
    }

    /**
     * Carries out the queued transfers: the target's driver stores the sender's latest snapshot and
     * steps INSTALL_SNAPSHOT into its core; the sender's core learns the outcome. A transfer over a
     * cut link fails.
     */
    void runTransfers() {
      List<Transfer> todo = new ArrayList<>(transfers);
      transfers.clear();
      for (Transfer t : todo) {
        Raft from = cores.get(t.from());
        Stored s = stores.get(t.from());
        assertThat(s.meta()).isEqualTo(from.latestSnapshot());
        assertThat(s.meta().index()).isGreaterThanOrEqualTo(t.minIndex());
        Message installed = install(t.from(), t.to(), t.term(), s.meta());
        boolean ok = cores.containsKey(t.to()) && net.passes(installed);
        if (ok) {
          stores.put(t.to(), s);
          cores.get(t.to()).step(installed);
          drain(t.to());
        }
        from.reportSnapshot(t.to(), ok);
        drain(t.from());
      }
    }
  }
}
