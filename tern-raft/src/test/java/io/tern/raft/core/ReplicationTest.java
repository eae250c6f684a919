package io.tern.raft.core;

import static io.tern.raft.core.Cores.drain;
import static io.tern.raft.core.Cores.msg;
import static io.tern.raft.core.Cores.step;
import static io.tern.raft.core.MessageType.APPEND;
import static io.tern.raft.core.MessageType.APPEND_RESPONSE;
import static io.tern.raft.core.MessageType.HEARTBEAT_RESPONSE;
import static org.assertj.core.api.Assertions.assertThat;

import io.tern.raft.core.tracker.Progress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * How the leader gets entries to followers: fast backtracking on conflicts, probe and replicate
 * states, pipelining bounded by the inflight window, batching, and recovery of lost appends.
 */
class ReplicationTest {

  // ---------------------------------------------------------------- fast backtracking

  /** Entries from {@code from} on: {@code perTerm} entries of each term in turn. */
  private static List<Entry> blocks(long from, int perTerm, long... terms) {
    List<Entry> out = new ArrayList<>();
    long i = from;
    for (long t : terms) {
      for (int k = 0; k < perTerm; k++) {
        out.add(Cores.entry(i++, t));
      }
    }
    return out;
  }

  private static long[] range(long from, long toInclusive) {
    return LongStream.rangeClosed(from, toInclusive).toArray();
  }

  private static long[] step2(long from, int count) {
    return LongStream.range(0, count).map(k -> from + 2 * k).toArray();
  }

  private static List<Entry> concat(List<Entry> a, List<Entry> b) {
    List<Entry> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  /**
   * Round trips (appends to the follower) until it holds the leader's log, its rejections, and the
   * entry bytes sent to it against the bytes it lacked.
   */
  private record Catchup(int appends, int rejections, long bytesSent, long bytesLacking) {}

  private static Catchup catchUp(List<Entry> leaderLog, List<Entry> followerLog) {
    long term =
        Math.max(
            leaderLog.get(leaderLog.size() - 1).term(),
            followerLog.get(followerLog.size() - 1).term());
    HardState hs = new HardState(term, 0, 100);
    CoreCluster c =
        CoreCluster.builder(3)
            .disk(1, hs, leaderLog)
            .disk(2, hs, leaderLog)
            .disk(3, hs, followerLog)
            .build();
    c.elect(1);
    c.assertLogsEqual(1);
    int appends = 0;
    int rejections = 0;
    long bytesSent = 0;
    for (Network.Sent s : c.net.history()) {
      Message m = s.message();
      if (m.type() == APPEND && m.to() == 3) {
        appends++;
        bytesSent += m.payloadBytes();
      } else if (m.type() == APPEND_RESPONSE && m.from() == 3 && m.reject()) {
        rejections++;
      }
    }
    long lacking = 0;
    Raft leader = c.raft(1);
    for (long i = 1; i <= leader.log().lastIndex(); i++) {
      Entry e = leader.log().entry(i);
      if (i > followerLog.size() || !followerLog.get((int) i - 1).equals(e)) {
        lacking += e.sizeBytes();
      }
    }
    return new Catchup(appends, rejections, bytesSent, lacking);
  }

  /**
   * Raft thesis 5.3 / paper 5.3 (the optimization after "the leader decrements nextIndex"): the
   * follower's rejection names the term of its conflicting entry, so the leader skips whole terms.
   * A follower 1,000 entries behind whose 1,000 divergent entries span many terms catches up in a
   * handful of round trips, not hundreds.
   */
  @Test
  void followerFarBehindWithDivergentTermsCatchesUpInAFewRoundTrips() {
    List<Entry> common = Cores.run(1, 100, 1);

    // It led term 2 alone and wrote 1,000 entries nobody else has; the cluster moved on over 40
    // terms and 2,000 entries.
    Catchup staleLeader =
        catchUp(
            concat(common, blocks(101, 50, range(3, 42))), concat(common, blocks(101, 1000, 2)));
    // Its suffix spans 20 terms, all older than the leader's 40.
    Catchup manyOldTerms =
        catchUp(
            concat(common, blocks(101, 50, range(22, 61))),
            concat(common, blocks(101, 50, range(2, 21))));
    // It only lags: its 1,100 entries are a prefix of the leader's 2,100.
    List<Entry> leaderLog = concat(common, blocks(101, 50, range(2, 41)));
    Catchup lagging = catchUp(leaderLog, leaderLog.subList(0, 1100));

    for (Catchup r : List.of(staleLeader, manyOldTerms, lagging)) {
      assertThat(r.appends()).as("%s", r).isLessThanOrEqualTo(4);
      assertThat(r.rejections()).as("%s", r).isLessThanOrEqualTo(2);
      // Probes carry the no-op at most; the missing entries cross the wire about once.
      assertThat(r.bytesSent()).as("%s", r).isLessThanOrEqualTo(r.bytesLacking() + 4 * 64);
    }
  }

  /**
   * The limit of term-based backtracking: when the two divergent suffixes interleave their terms
   * (follower terms even, leader terms odd, both rising), each round trip can skip only one term.
   * It stays bounded by the number of divergent terms, far below one round trip per entry.
   */
  @Test
  void interleavedDivergentTermsBacktrackOneTermPerRoundTrip() {
    List<Entry> common = Cores.run(1, 100, 1);
    Catchup r =
        catchUp(
            concat(common, blocks(101, 50, step2(3, 40))),
            concat(common, blocks(101, 50, step2(2, 20))));
    assertThat(r.rejections()).isLessThanOrEqualTo(20 + 2);
    assertThat(r.appends()).isLessThanOrEqualTo(20 + 4);
  }

  /** The follower's hint: the last index at or below prevIndex whose term is at most prevTerm. */
  @ParameterizedTest(name = "prev {0}@{1} -> hint {2}@{3}")
  @CsvSource({
    // follower log terms: 1 1 2 2 4 4 5
    "7, 6, 7, 5",
    "7, 5, 7, 5",
    "7, 4, 6, 4",
    "7, 3, 4, 2",
    "9, 3, 4, 2",
    "6, 1, 2, 1",
    "3, 0, 0, 0"
  })
  void followerRejectionCarriesATermHint(long prevIndex, long prevTerm, long hint, long hintTerm) {
    Raft r = Cores.core(2, 3, new HardState(6, 0, 0), Cores.log(1, 1, 2, 2, 4, 4, 5));
    Cores.Output out = step(r, msg(APPEND, 1, 2, 6).index(prevIndex).logTerm(prevTerm).build());
    Message resp = out.only(APPEND_RESPONSE);
    if (prevIndex <= 7 && r.log().term(prevIndex) == prevTerm) {
      assertThat(resp.reject()).isFalse();
      return;
    }
    assertThat(resp.reject()).isTrue();
    assertThat(resp.index()).isEqualTo(prevIndex);
    assertThat(resp.rejectHint()).isEqualTo(hint);
    assertThat(resp.logTerm()).isEqualTo(hintTerm);
  }

  // ---------------------------------------------------------------- probe and replicate

  /**
   * A new leader does not know where followers' logs match: it probes (one append at a time) and
   * switches to replicate (streaming) on the first acceptance. Proposals made meanwhile wait and go
   * out together.
   */
  @Test
  void newLeaderProbesOneAppendAtATimeThenReplicates() {
    CoreCluster c = CoreCluster.builder(3).paper().build();
    c.net.holdIf(m -> m.type() == APPEND);
    c.campaign(1);
    c.stabilize();
    Raft leader = c.raft(1);
    assertThat(leader.role()).isEqualTo(Role.LEADER);
    assertThat(leader.progress(2).state()).isEqualTo(Progress.State.PROBE);
    assertThat(c.net.pending(m -> m.type() == APPEND && m.to() == 2)).hasSize(1);

    c.proposeEach(1, "p", 50);
    assertThat(c.net.pending(m -> m.type() == APPEND && m.to() == 2)).hasSize(1);

    c.net.releaseHeld();
    c.stabilize();
    assertThat(leader.progress(2).state()).isEqualTo(Progress.State.REPLICATE);
    List<Message> appends =
        c.net.history().stream()
            .map(Network.Sent::message)
            .filter(m -> m.type() == APPEND && m.to() == 2)
            .toList();
    // The probe (with the no-op), then the 50 proposals in one append, then one carrying the
    // commit.
    assertThat(appends.get(0).entries()).hasSize(1);
    assertThat(appends.get(1).entries()).hasSize(50);
    assertThat(appends).hasSizeLessThanOrEqualTo(3);
    c.assertLogsEqual(1);
    assertThat(c.appliedText(2)).hasSize(50);
  }

  /** A probe is outstanding until answered; a heartbeat reply lets the leader probe again. */
  @Test
  void probeIsPausedUntilAnAnswerOrHeartbeatReply() {
    Raft leader = Cores.leaderOfThree();
    Progress pr = leader.progress(2);
    assertThat(pr.state()).isEqualTo(Progress.State.PROBE);
    assertThat(pr.isPaused()).isTrue();

    leader.propose(List.of(Entry.proposal(0, new byte[] {1})));
    assertThat(drain(leader).ofType(APPEND)).noneMatch(m -> m.to() == 2);

    Cores.Output out = step(leader, msg(HEARTBEAT_RESPONSE, 2, 1, 1).build());
    List<Message> probes = out.ofType(APPEND).stream().filter(m -> m.to() == 2).toList();
    assertThat(probes).hasSize(1);
    assertThat(probes.get(0).index()).isZero();
    assertThat(pr.state()).isEqualTo(Progress.State.PROBE);
  }

  /** A rejection in replicate means the follower's log is not what the leader assumed: probe. */
  @Test
  void rejectionInReplicateFallsBackToProbeFromMatch() {
    Raft leader = Cores.leaderOfThree();
    step(leader, msg(APPEND_RESPONSE, 2, 1, 1).index(1).build());
    Progress pr = leader.progress(2);
    assertThat(pr.state()).isEqualTo(Progress.State.REPLICATE);
    assertThat(pr.match()).isEqualTo(1);

    leader.propose(List.of(Entry.proposal(0, new byte[] {1})));
    drain(leader);
    leader.propose(List.of(Entry.proposal(0, new byte[] {2})));
    drain(leader);
    assertThat(pr.next()).isEqualTo(4);
    assertThat(pr.inflights().count()).isEqualTo(2);

    // A rejection of an append whose prev is at or below match is stale: ignored.
    step(
        leader,
        msg(APPEND_RESPONSE, 2, 1, 1).index(1).reject(true).rejectHint(1).logTerm(1).build());
    assertThat(pr.state()).isEqualTo(Progress.State.REPLICATE);

    Cores.Output out =
        step(
            leader,
            msg(APPEND_RESPONSE, 2, 1, 1).index(2).reject(true).rejectHint(1).logTerm(1).build());
    assertThat(pr.state()).isEqualTo(Progress.State.PROBE);
    assertThat(pr.inflights().count()).isZero();
    Message probe = out.only(APPEND);
    assertThat(probe.index()).isEqualTo(1);
    assertThat(probe.entries()).extracting(Entry::index).containsExactly(2L, 3L);
  }

  /** A rejection that answers an older probe than the outstanding one is ignored. */
  @Test
  void staleRejectionInProbeIsIgnored() {
    Raft leader = Cores.core(1, 3, new HardState(1, 0, 0), Cores.log(1, 1, 1));
    leader.campaign();
    drain(leader);
    step(leader, msg(MessageType.VOTE_RESPONSE, 2, 1, 2).build());
    Progress pr = leader.progress(2);
    assertThat(pr.next()).isEqualTo(4);

    Cores.Output out =
        step(leader, msg(APPEND_RESPONSE, 2, 1, 2).index(2).reject(true).rejectHint(0).build());
    assertThat(out.ofType(APPEND)).isEmpty();
    assertThat(pr.next()).isEqualTo(4);

    out =
        step(
            leader,
            msg(APPEND_RESPONSE, 2, 1, 2).index(3).reject(true).rejectHint(1).logTerm(1).build());
    assertThat(pr.next()).isEqualTo(2);
    assertThat(out.only(APPEND).index()).isEqualTo(1);
  }

  // ---------------------------------------------------------------- pipelining

  /** In replicate the leader streams appends without waiting, up to maxInflightMessages. */
  @Test
  void pipelineIsBoundedByMaxInflightMessages() {
    CoreCluster c =
        CoreCluster.builder(3)
            .config(b -> b.maxInflightMessages(3).maxEntriesPerMessage(1))
            .build();
    c.elect(1);
    assertThat(c.raft(1).progress(2).state()).isEqualTo(Progress.State.REPLICATE);
    c.net.holdIf(m -> m.type() == APPEND_RESPONSE);
    c.net.resetCounters();

    c.proposeEach(1, "p", 10);
    c.stabilize();

    assertThat(appendsWithEntries(c, 2)).isEqualTo(3);
    assertThat(c.net.pending(m -> m.type() == APPEND_RESPONSE && m.from() == 2)).hasSize(3);
    assertThat(c.raft(1).progress(2).inflights().count()).isEqualTo(3);
    assertThat(c.raft(2).log().lastIndex()).isEqualTo(1 + 3);

    // Each answer frees a slot; everything gets through, never more than 3 unanswered.
    c.net.releaseHeld();
    int maxOutstanding = 0;
    while (c.deliverOne()) {
      maxOutstanding =
          Math.max(
              maxOutstanding,
              c.net.pending(m -> m.type() == APPEND && m.to() == 2 && !m.entries().isEmpty()).size()
                  + c.net.pending(m -> m.type() == APPEND_RESPONSE && m.from() == 2).size());
    }
    assertThat(maxOutstanding).isLessThanOrEqualTo(3);
    assertThat(appendsWithEntries(c, 2)).isEqualTo(10);
    c.assertLogsEqual(1);
  }

  /** The window is bounded by bytes too: large entries fill it sooner. */
  @Test
  void pipelineIsBoundedByMaxInflightBytes() {
    CoreCluster c =
        CoreCluster.builder(3)
            .config(b -> b.maxInflightMessages(100).maxInflightBytes(2000).maxEntriesPerMessage(1))
            .build();
    c.elect(1);
    c.net.holdIf(m -> m.type() == APPEND_RESPONSE);
    c.net.resetCounters();

    String kb = "x".repeat(1000);
    for (int i = 0; i < 5; i++) {
      c.propose(1, kb + i);
    }
    c.stabilize();

    // 1,033 bytes each (payload + overhead): the second one fills the 2,000-byte window.
    assertThat(appendsWithEntries(c, 2)).isEqualTo(2);
    assertThat(c.raft(1).progress(2).inflights().bytes())
        .isEqualTo(2 * (1001 + Entry.OVERHEAD_BYTES));

    c.net.releaseHeld();
    c.stabilize();
    assertThat(appendsWithEntries(c, 2)).isEqualTo(5);
    c.assertLogsEqual(1);
  }

  private static long appendsWithEntries(CoreCluster c, long to) {
    return c.net.history().stream()
        .map(Network.Sent::message)
        .filter(m -> m.type() == APPEND && m.to() == to && !m.entries().isEmpty())
        .count();
  }

  // ---------------------------------------------------------------- batching

  /** Many proposals in one call travel in one append, up to maxEntriesPerMessage per append. */
  @Test
  void batchesAreBoundedByMaxEntriesPerMessage() {
    CoreCluster c = CoreCluster.builder(3).config(b -> b.maxEntriesPerMessage(30)).build();
    c.elect(1);
    c.net.resetCounters();

    String[] payloads = new String[100];
    Arrays.setAll(payloads, i -> "b" + i);
    c.propose(1, payloads);
    c.stabilize();

    List<Integer> sizes = appendSizes(c, 2);
    assertThat(sizes).containsExactly(30, 30, 30, 10);
    // Each entry crossed the wire once per follower.
    long entryBytes = 0;
    for (long i = 2; i <= 101; i++) {
      entryBytes += c.raft(1).log().entry(i).sizeBytes();
    }
    assertThat(c.net.bytes(APPEND)).isEqualTo(2 * entryBytes);
    assertThat(c.net.sent(APPEND_RESPONSE)).isEqualTo(c.net.sent(APPEND));
    c.assertLogsEqual(1);
    assertThat(c.appliedText(3)).hasSize(100);
  }

  /**
   * Appends are bounded by maxBytesPerMessage; an entry larger than the bound still goes, alone.
   */
  @Test
  void batchesAreBoundedByMaxBytesPerMessage() {
    CoreCluster c = CoreCluster.builder(3).config(b -> b.maxBytesPerMessage(500)).build();
    c.elect(1);
    c.net.resetCounters();

    String hundred = "y".repeat(100);
    String[] payloads = new String[10];
    Arrays.setAll(payloads, i -> hundred);
    c.propose(1, payloads);
    c.propose(1, "z".repeat(2000));
    c.stabilize();

    // 132 bytes per entry: three fit in 500.
    assertThat(appendSizes(c, 2)).containsExactly(3, 3, 3, 1, 1);
    assertThat(
            c.net.history().stream()
                .map(Network.Sent::message)
                .filter(m -> m.type() == APPEND && m.to() == 2 && m.entries().size() > 1))
        .allMatch(m -> m.payloadBytes() <= 500);
    c.assertLogsEqual(1);
  }

  private static List<Integer> appendSizes(CoreCluster c, long to) {
    return c.net.history().stream()
        .map(Network.Sent::message)
        .filter(m -> m.type() == APPEND && m.to() == to && !m.entries().isEmpty())
        .map(m -> m.entries().size())
        .toList();
  }

  // ---------------------------------------------------------------- lost appends

  /**
   * Appends can be lost without any reply. A follower in replicate whose appends vanished is
   * noticed on the leader's heartbeat ticks, probed again from its match index, and caught up.
   */
  @Test
  void lostAppendsInReplicateAreRecoveredByTicking() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    assertThat(c.raft(1).progress(2).state()).isEqualTo(Progress.State.REPLICATE);

    c.net.dropIf(m -> m.type() == APPEND && m.to() == 2);
    c.proposeEach(1, "lost", 5);
    c.stabilize();
    assertThat(c.raft(2).log().lastIndex()).isEqualTo(1);
    assertThat(c.appliedText(1)).hasSize(5);
    assertThat(c.net.dropped()).isPositive();

    c.net.clearDropRules();
    int ticks = 0;
    while (c.raft(2).log().committed() < c.raft(1).log().lastIndex()) {
      c.tick(1);
      assertThat(++ticks).isLessThanOrEqualTo(2 * c.config().heartbeatTicks() + 2);
    }
    c.assertLogsEqual(1);
    assertThat(c.appliedText(2)).hasSize(5);
    assertThat(c.raft(1).progress(2).state()).isEqualTo(Progress.State.REPLICATE);
  }

  /**
   * The stall clock of a follower in replicate starts when its window opens, not at its last
   * acknowledgement: a follower idle for long, then sent an append, is not treated as stalled on
   * the very next heartbeat.
   */
  @Test
  void idleFollowerIsNotMistakenForStalledWhenNewAppendsLeave() {
    CoreCluster c = CoreCluster.of(3);
    c.elect(1);
    c.tick(20);
    Progress pr = c.raft(1).progress(2);
    assertThat(pr.state()).isEqualTo(Progress.State.REPLICATE);

    c.net.holdIf(m -> m.type() == APPEND && m.to() == 2);
    c.propose(1, "slow");
    c.tickMember(1, 1);
    assertThat(pr.state()).isEqualTo(Progress.State.REPLICATE);
    assertThat(pr.inflights().count()).isEqualTo(1);

    // Unanswered for two heartbeat intervals: now it is stalled, and probed again.
    c.tickMember(1, 1);
    assertThat(pr.state()).isEqualTo(Progress.State.PROBE);

    c.net.releaseHeld();
    c.stabilize();
    c.assertLogsEqual(1);
  }
}
