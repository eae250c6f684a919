package io.tern.sim.scenario;

import static io.tern.sim.scenario.ScenarioSupport.MS;
import static io.tern.sim.scenario.ScenarioSupport.SEC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.tern.raft.ProposalDroppedException;
import io.tern.raft.core.Entry;
import io.tern.raft.core.MessageType;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.confchange.ConfChange;
import io.tern.raft.core.log.RaftLog;
import io.tern.raft.node.RaftNode;
import io.tern.raft.node.Snapshot;
import io.tern.sim.Cluster;
import io.tern.sim.SimOptions;
import io.tern.sim.Simulation;
import io.tern.sim.Workload;
import io.tern.sim.check.History;
import io.tern.sim.disk.SimDisk;
import io.tern.sim.disk.SimSnapshotStore;
import io.tern.sim.kv.KvCommand;
import io.tern.sim.kv.KvStateMachine;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Snapshots and log compaction through the real driver: every member snapshots and compacts; a
 * follower that fell behind the compacted log catches up by an installed snapshot, over reliable
 * and lossy networks, while receivers and leaders crash in the middle of transfers; a cluster
 * restarts wholly from snapshots; a member whose log reset was lost in a crash redoes it on
 * restart; a learner joins by snapshot and is promoted. Each scenario checks that snapshots really
 * were taken (and installed where a follower had to catch up by one), then heals, converges and
 * runs the end-of-run checks.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SnapshotScenarioTest {

  /** Snapshots every 20 applied entries, keeping 5 behind each, in 1 KiB chunks. */
  private static SimOptions snapshotting() {
    return SimOptions.defaults().withSnapshots(20, 5, 1024);
  }

  private static SimOptions unreliable(SimOptions o) {
    return o.withNetwork(100_000, 5_000_000, 0.1, 0.05);
  }

  private static Workload workload(ScenarioSupport s, History history) {
    return new Workload(
        s.cluster, history, Workload.Settings.defaults().withClients(3, 4).withTimeout(400 * MS));
  }

  // ---------------------------------------------------------------- 1. basic

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {801, 802})
  void everyMemberSnapshotsAndCompactsItsLog(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed, snapshotting());
    Installs installs = new Installs(s);
    History history = new History();
    Workload w = workload(s, history);
    w.start();
    s.awaitLeader();
    s.run(2 * SEC);
    Bulk bulk = new Bulk(s);
    bulk.commit(100);

    // A snapshot on demand, at a follower: it covers everything applied there.
    long leader = s.awaitLeader();
    long f = s.others(leader).get(0);
    long appliedBefore = s.sm(f).appliedIndex();
    CompletableFuture<Long> onDemand = s.cluster.node(f).snapshot();
    assertThat(s.runUntil(onDemand::isDone, SEC)).isTrue();
    assertThat(ScenarioSupport.outcome(onDemand)).startsWith("ok");
    assertThat(onDemand.join()).isGreaterThanOrEqualTo(appliedBefore);
    assertThat(s.cluster.member(f).snapshots().latest().meta().index())
        .isGreaterThanOrEqualTo(onDemand.join());

    s.run(SEC);
    w.drain();
    s.awaitConverged(5 * SEC);
    leader = s.cluster.leader();
    long committed = s.core(leader).log().committed();
    assertThat(committed).as("entries committed").isGreaterThan(200);
    for (Cluster.Member m : s.cluster.members()) {
      SimSnapshotStore store = m.snapshots();
      RaftLog log = m.node().core().log();
      assertThat(store.snapshotsCommitted())
          .as("snapshots taken by %d", m.id())
          .isGreaterThanOrEqualTo(committed / 20 / 2);
      Snapshot latest = store.latest();
      assertThat(latest).isNotNull();
      assertThat(latest.meta().index())
          .as("latest snapshot of %d", m.id())
          .isGreaterThan(committed - 2 * 20);
      assertThat(log.firstIndex()).as("log of %d compacted", m.id()).isGreaterThan(1);
      assertThat(log.firstIndex() - 1)
          .as("log of %d keeps the trailing entries behind its snapshot", m.id())
          .isLessThanOrEqualTo(latest.meta().index() - 5);
      assertThat(m.disk().durableFirstIndex())
          .as("durable log of %d compacted", m.id())
          .isGreaterThan(1);
    }
    assertSameState(s);
    bulk.assertAcknowledgedApplied();
    s.finalChecks(history);
    System.out.printf(
        Locale.ROOT,
        "basic seed %d: committed %d, snapshots %s, installs %s%n",
        seed,
        committed,
        snapshotCounts(s),
        installs.all());
  }

  // ---------------------------------------------------------------- 2, 3. disconnected follower

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {811, 812})
  void disconnectedFollowerCatchesUpBySnapshot(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed, snapshotting());
    catchUpAfterDisconnects(s, 2);
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {821, 822})
  void disconnectedFollowerCatchesUpBySnapshotOverLossyNetwork(long seed) {
    ScenarioSupport s =
        ScenarioSupport.start(seed, unreliable(SimOptions.defaults().withSnapshots(20, 5, 64)));
    long resent = catchUpAfterDisconnects(s, 2);
    assertThat(resent).as("chunks sent again after losses").isPositive();
    var net = s.cluster.network();
    assertThat(net.messagesDropped()).isPositive();
    assertThat(net.messagesDuplicated()).isPositive();
  }

  /**
   * {@code rounds} times: a follower is cut off while many entries commit and the leader compacts
   * past its log; reconnected, it must install a snapshot and catch up. Returns how many chunks
   * were sent beyond those the installed snapshots needed (resends), over the rounds.
   */
  private static long catchUpAfterDisconnects(ScenarioSupport s, int rounds) {
    long extraChunks = 0;
    Installs installs = new Installs(s);
    History history = new History();
    Workload w = workload(s, history);
    w.start();
    Bulk bulk = new Bulk(s);
    s.awaitLeader();
    bulk.commit(20);
    for (int round = 0; round < rounds; round++) {
      long leader = s.awaitLeader();
      long f = s.others(leader).get(round % 2);
      s.cluster.network().isolate(f);
      bulk.commit(150);
      long fLast = lastIndex(s, f);
      compactPast(s, bulk, f);
      leader = s.awaitLeaderOtherThan(f);
      assertThat(s.core(leader).log().firstIndex())
          .as("leader %d compacted past the cut-off follower %d (last %d)", leader, f, fLast)
          .isGreaterThan(fLast + 1);
      long before = installs.of(f);
      s.cluster.network().reset();
      s.cluster.network().rejoin(f);
      long l = leader;
      boolean caughtUp =
          s.runUntil(() -> installs.of(f) > before && caughtUp(s, s.cluster.leader(), f), 10 * SEC);
      assertThat(caughtUp)
          .as("follower %d installed a snapshot and caught up: %s", f, s.describe())
          .isTrue();
      long chunks = s.cluster.network().countsByType().getOrDefault(MessageType.SNAPSHOT_CHUNK, 0L);
      Snapshot got = s.cluster.member(f).snapshots().latest();
      long needed =
          (got.size() + s.options.snapshotChunkBytes() - 1) / s.options.snapshotChunkBytes();
      // (Fewer when a transfer begun before the cut resumed where it stopped.)
      extraChunks += Math.max(0, chunks - needed);
      assertThat(s.core(f).log().firstIndex()).isGreaterThan(fLast + 1);
      System.out.printf(
          Locale.ROOT,
          "seed %d round %d: follower %d (last %d) installed %d snapshots from %d, the last %d"
              + " bytes at %d; %d chunks sent for %d needed%n",
          s.sim.seed(),
          round,
          f,
          fLast,
          installs.of(f) - before,
          l,
          got.size(),
          got.meta().index(),
          chunks,
          needed);
    }
    s.cluster.network().heal();
    s.run(SEC);
    w.drain();
    s.awaitConverged(10 * SEC);
    assertCompactedEverywhere(s);
    assertSameState(s);
    bulk.assertAcknowledgedApplied();
    s.finalChecks(history);
    return extraChunks;
  }

  // ---------------------------------------------------------------- 4. crashes during transfers

  /**
   * Small chunks one at a time: the receiver crashes after a few chunks arrived (several times),
   * then crashes at random moments of its transfers, then the leader crashes mid-transfer and the
   * new leader sends its own snapshot.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {831, 832})
  void receiversAndLeaderCrashMidTransfer(long seed) {
    SimOptions o =
        SimOptions.defaults().withSnapshots(20, 5, 64).toBuilder().snapshotWindowChunks(1).build();
    ScenarioSupport s = ScenarioSupport.start(seed, o);
    Installs installs = new Installs(s);
    History history = new History();
    Workload w = workload(s, history);
    w.start();
    Bulk bulk = new Bulk(s);
    long leader = s.awaitLeader();
    bulk.commit(20);

    // (a) The receiver crashes after a few chunks arrived, three times; then it completes.
    long f = s.others(leader).get(0);
    s.cluster.crash(f);
    bulk.commit(150);
    compactPast(s, bulk, f);
    for (int i = 0; i < 3; i++) {
      // Any snapshot sent now is at or after the leader's compaction point; f's own are before.
      long sentFrom = s.core(s.cluster.leader()).log().firstIndex() - 1;
      long progress = crashReceiverAfterSomeChunks(s, f, 3 + s.random.nextInt(6));
      assertThat(progress)
          .as("bytes of the snapshot %d acknowledged before its crash", f)
          .isPositive();
      Snapshot held = s.cluster.member(f).snapshots().latest();
      assertThat(held == null ? 0 : held.meta().index())
          .as("a partial transfer stores nothing")
          .isLessThan(sentFrom);
      bulk.commit(20);
    }
    s.cluster.start(f);
    awaitInstalledAndCaughtUp(s, installs, f, 0);

    // (b) Crashes at random moments while it catches up again and again.
    int midTransfer = 0;
    long installedBefore = 0;
    for (int i = 0; i < 6; i++) {
      if (i > 0 && midCatchUp(s, f)) {
        midTransfer++;
      }
      s.cluster.crash(f);
      bulk.commit(40);
      compactPast(s, bulk, f);
      installedBefore = installs.of(f);
      s.cluster.start(f);
      s.run(s.random.nextLong(200 * MS));
    }
    assertThat(midTransfer).as("crashes of %d while it was being sent a snapshot", f).isPositive();
    awaitInstalledAndCaughtUp(s, installs, f, installedBefore);

    // (c) The leader crashes mid-transfer; the new leader sends its own snapshot.
    leader = s.awaitLeader();
    long g = s.others(leader).get(0);
    s.cluster.crash(g);
    bulk.commit(150);
    compactPast(s, bulk, g);
    long before = installs.of(g);
    crashLeaderMidTransfer(s, g, 3 + s.random.nextInt(6));
    long newLeader = s.awaitLeader();
    assertThat(newLeader).isNotEqualTo(leader);
    awaitInstalledAndCaughtUp(s, installs, g, before);
    s.cluster.start(leader);

    s.run(SEC);
    w.drain();
    s.awaitConverged(10 * SEC);
    assertCompactedEverywhere(s);
    assertSameState(s);
    bulk.assertAcknowledgedApplied();
    s.finalChecks(history);
  }

  /**
   * Starts {@code f}, which is down and behind the leader's compacted log, runs until it sent
   * {@code acks} chunk acknowledgements, then crashes it; returns the highest offset it
   * acknowledged in that incarnation (from the trace). Only {@code f} can be receiving a snapshot:
   * while it is behind, every commit needs the other follower.
   */
  private static long crashReceiverAfterSomeChunks(ScenarioSupport s, long f, int acks) {
    s.sim.enableTraceLog(50_000);
    s.cluster.network().reset();
    s.cluster.start(f);
    RaftNode node = s.cluster.node(f);
    boolean partial =
        s.runUntil(() -> chunkAcks(s) >= acks || node.snapshotsInstalled() > 0, 5 * SEC);
    assertThat(partial).as("transfer to %d started: %s", f, s.describe()).isTrue();
    assertThat(node.snapshotsInstalled()).as("transfer to %d still in progress", f).isZero();
    long progress = ackedOffset(s, f);
    s.cluster.crash(f);
    s.sim.enableTraceLog(0);
    return progress;
  }

  /** Like {@link #crashReceiverAfterSomeChunks} but the leader crashes, not the receiver. */
  private static void crashLeaderMidTransfer(ScenarioSupport s, long f, int acks) {
    long leader = s.cluster.leader();
    s.sim.enableTraceLog(50_000);
    s.cluster.network().reset();
    s.cluster.start(f);
    RaftNode node = s.cluster.node(f);
    assertThat(s.runUntil(() -> chunkAcks(s) >= acks || node.snapshotsInstalled() > 0, 5 * SEC))
        .isTrue();
    assertThat(node.snapshotsInstalled()).isZero();
    assertThat(ackedOffset(s, f)).isPositive();
    s.cluster.crash(leader);
    s.sim.enableTraceLog(0);
  }

  /** Whether {@code f}'s incarnation has not installed the snapshot it needs yet. */
  private static boolean midCatchUp(ScenarioSupport s, long f) {
    long leader = s.cluster.leader();
    return leader != 0
        && s.cluster.node(f).snapshotsInstalled() == 0
        && s.core(f).log().lastIndex() < s.core(leader).log().firstIndex() - 1;
  }

  private static long chunkAcks(ScenarioSupport s) {
    return s.cluster.network().countsByType().getOrDefault(MessageType.SNAPSHOT_CHUNK_ACK, 0L);
  }

  private static final Pattern ACK_NEXT = Pattern.compile(" next=(\\d+)");

  /** The highest offset {@code f} acknowledged as received, in the trace since it last started. */
  private static long ackedOffset(ScenarioSupport s, long f) {
    long max = 0;
    String ackFrom = "net.send SNAPSHOT_CHUNK_ACK " + f + "->";
    for (String line : s.sim.traceTail(50_000)) {
      if (line.contains("cluster.start " + f + " ")) {
        max = 0;
      } else if (line.contains(ackFrom) && !line.contains("resend")) {
        Matcher m = ACK_NEXT.matcher(line);
        if (m.find()) {
          max = Math.max(max, Long.parseLong(m.group(1)));
        }
      }
    }
    return max;
  }

  /** The last index of {@code id}'s log: in memory if it is up, else on its disk. */
  private static long lastIndex(ScenarioSupport s, long id) {
    return s.cluster.isUp(id)
        ? s.core(id).log().lastIndex()
        : s.cluster.member(id).disk().durableLastIndex();
  }

  /**
   * Commits until every live member but {@code target} has compacted its log past {@code target}'s
   * last index, so that whoever leads must send {@code target} a snapshot. Compaction happens when
   * a snapshot is taken, and a leader does not compact past a snapshot it is still sending: a
   * transfer begun just before {@code target} was cut off or crashed holds it back until the sender
   * gives up (or a transfer whose last acknowledgement was lost until a resent chunk is answered).
   */
  private static void compactPast(ScenarioSupport s, Bulk bulk, long target) {
    long deadline = s.sim.now() + 5 * SEC;
    while (true) {
      long last = lastIndex(s, target);
      boolean done = true;
      for (long id : s.cluster.upIds()) {
        if (id != target && s.core(id).log().firstIndex() <= last + 1) {
          done = false;
        }
      }
      if (done) {
        return;
      }
      if (s.sim.now() > deadline) {
        fail("members did not compact past %d's last index %d: %s", target, last, s.describe());
      }
      bulk.commit((int) s.options.snapshotEntries());
      s.run(20 * MS);
    }
  }

  private static void awaitInstalledAndCaughtUp(
      ScenarioSupport s, Installs installs, long f, long before) {
    boolean ok =
        s.runUntil(
            () ->
                s.cluster.isUp(f) && installs.of(f) > before && caughtUp(s, s.cluster.leader(), f),
            10 * SEC);
    assertThat(ok)
        .as("%d installed a snapshot (%d before) and caught up: %s", f, before, s.describe())
        .isTrue();
  }

  // ---------------------------------------------------------------- 5. everything combined

  static LongStream combinedSeeds() {
    return LongStream.rangeClosed(
        Long.getLong("snapSeedFrom", 8501), Long.getLong("snapSeedTo", 8520));
  }

  /**
   * A lossy network, members crashing and restarting (the leader too, and members in the middle of
   * transfers), cut-off followers, torn unsynced tails, and snapshot settings drawn from the seed.
   */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("combinedSeeds")
  void lossyNetworkAndCrashes(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    SimOptions o =
        SimOptions.defaults()
            .withSize(r.nextInt(4) == 0 ? 5 : 3)
            .withNetwork(
                100_000,
                1_000_000 + r.nextInt(4_000_000),
                0.02 + 0.08 * r.nextDouble(),
                0.05 * r.nextDouble())
            .withSnapshots(
                10 + r.nextInt(30), r.nextInt(6), new int[] {32, 64, 256, 1024}[r.nextInt(4)])
            .toBuilder()
            .snapshotWindowChunks(1 + r.nextInt(4))
            .partialPersistOnCrash(r.nextBoolean())
            .build();
    ScenarioSupport s = ScenarioSupport.start(seed, o);
    Installs installs = new Installs(s);
    History history = new History();
    Workload w = workload(s, history);
    w.start();
    Bulk bulk = new Bulk(s);
    var net = s.cluster.network();
    long until = s.sim.now() + 2 * SEC;
    int crashes = 0;
    int duringCatchUp = 0;
    while (s.sim.now() < until) {
      s.run(20 * MS + s.random.nextLong(150 * MS));
      List<Long> up = new ArrayList<>(s.cluster.upIds());
      List<Long> down = new ArrayList<>(s.cluster.ids());
      down.removeAll(up);
      long leader = s.cluster.leader();
      boolean catchingUp = anyMidCatchUp(s);
      int crashesBefore = crashes;
      int dice = s.random.nextInt(100);
      if (dice < 15 && up.size() > 1) {
        s.cluster.crash(s.pick(up));
        crashes++;
      } else if (dice < 40 && !down.isEmpty()) {
        s.cluster.start(s.pick(down));
      } else if (dice < 50 && leader != 0) {
        net.isolate(s.pick(s.others(leader)));
      } else if (dice < 58 && leader != 0) {
        s.cluster.crash(leader);
        crashes++;
      } else if (dice < 70) {
        net.heal();
      } else if (dice < 75 && !up.isEmpty()) {
        s.cluster.node(s.pick(up)).snapshot();
      } else if (dice < 85 && !up.isEmpty()) {
        s.cluster.restart(s.pick(up));
        crashes++;
      } else {
        bulk.propose(10);
      }
      if (catchingUp && crashes > crashesBefore) {
        duringCatchUp++;
      }
    }
    // A follower far behind, crashed once in the middle of catching up.
    s.cluster.healAll();
    long leader = s.awaitLeader();
    long f = s.pick(s.others(leader));
    long before = installs.of(f);
    s.cluster.crash(f);
    bulk.commit((int) (3 * o.snapshotEntries() + 20));
    compactPast(s, bulk, f);
    s.cluster.start(f);
    s.run(s.random.nextLong(100 * MS));
    boolean restartedMidCatchUp = midCatchUp(s, f);
    s.cluster.restart(f);
    crashes += 2;
    s.cluster.healAll();
    awaitInstalledAndCaughtUp(s, installs, f, before);

    s.run(SEC);
    w.drain();
    s.awaitConverged(10 * SEC);
    assertThat(crashes).isGreaterThanOrEqualTo(3);
    assertThat(net.messagesDropped()).isPositive();
    assertCompactedEverywhere(s);
    assertSameState(s);
    bulk.assertAcknowledgedApplied();
    s.finalChecks(history);
    long taken = 0;
    for (Cluster.Member m : s.cluster.members()) {
      taken += m.snapshots().snapshotsCommitted();
    }
    System.out.printf(
        Locale.ROOT,
        "combined seed %d: %d members, snapshots every %d keeping %d, %d-byte chunks x%d,"
            + " partial flush %b;"
            + " %d crashes (%d of them with a member catching up), follower restarted mid"
            + " catch-up %b; %d snapshots stored, installs %s; %d ops acknowledged%n",
        seed,
        o.size(),
        o.snapshotEntries(),
        o.snapshotTrailingEntries(),
        o.snapshotChunkBytes(),
        o.snapshotWindowChunks(),
        o.partialPersistOnCrash(),
        crashes,
        duringCatchUp,
        restartedMidCatchUp,
        taken,
        installs.all(),
        w.acknowledged());
  }

  /** Whether some live member other than the leader still needs a snapshot to catch up. */
  private static boolean anyMidCatchUp(ScenarioSupport s) {
    long leader = s.cluster.leader();
    for (long id : s.cluster.upIds()) {
      if (id != leader && midCatchUp(s, id)) {
        return true;
      }
    }
    return false;
  }

  // ---------------------------------------------------------------- 6. whole-cluster restart

  @ParameterizedTest(name = "seed {0}, partial flush {1}")
  @CsvSource({"861, false", "862, true"})
  void wholeClusterRestartsFromSnapshotsAndLogs(long seed, boolean partialFlush) {
    SimOptions o = snapshotting().toBuilder().partialPersistOnCrash(partialFlush).build();
    ScenarioSupport s = ScenarioSupport.start(seed, o);
    Installs installs = new Installs(s);
    History history = new History();
    Workload w = workload(s, history);
    w.start();
    Bulk bulk = new Bulk(s);
    s.awaitLeader();
    for (int round = 0; round < 3; round++) {
      bulk.commit(80);
      // Every member's compaction made it to its disk (a compaction not yet synced is lost).
      assertThat(
              s.runUntil(
                  () ->
                      s.cluster.members().stream().allMatch(m -> m.disk().durableFirstIndex() > 1),
                  5 * SEC))
          .as("durable compaction everywhere: %s", s.describe())
          .isTrue();
      s.run(s.random.nextLong(50 * MS));
      // Everyone crashes, some proposals in flight.
      bulk.propose(10);
      s.run(s.random.nextLong(5 * MS));
      for (long id : s.cluster.ids()) {
        s.cluster.crash(id);
      }
      for (long id : s.cluster.ids()) {
        Cluster.Member m = s.cluster.member(id);
        Snapshot latest = m.snapshots().latest();
        assertThat(latest).as("snapshot of %d", id).isNotNull();
        assertThat(m.disk().durableFirstIndex())
            .as(
                "durable log of %d compacted (round %d, snapshot %s, %d compactions, %d unsynced"
                    + " writes lost)",
                id, round, latest.meta(), m.disk().compactions(), m.disk().writesLost())
            .isGreaterThan(1);
        s.cluster.start(id);
        // The state machine is restored from the snapshot before the node starts.
        assertThat(s.sm(id).appliedIndex())
            .as("state machine of %d restored from its snapshot", id)
            .isEqualTo(latest.meta().index());
        assertThat(s.core(id).log().applied()).isEqualTo(latest.meta().index());
        assertThat(s.core(id).log().firstIndex()).isGreaterThan(1);
        assertThat(s.core(id).log().firstIndex() - 1).isLessThanOrEqualTo(latest.meta().index());
      }
      s.awaitLeader();
      bulk.commit(20);
    }
    s.run(SEC);
    w.drain();
    s.awaitConverged(5 * SEC);
    assertSameState(s);
    bulk.assertAcknowledgedApplied();
    s.finalChecks(history);
    System.out.printf(
        Locale.ROOT,
        "restart seed %d: snapshots %s, installs %s%n",
        seed,
        snapshotCounts(s),
        installs.all());
  }

  // ---------------------------------------------------------------- 7. lost log reset

  /**
   * A member installs a snapshot, which its store keeps, but crashes before the log reset that goes
   * with it is durable: on restart it must redo the reset (its log starts right after the snapshot)
   * rather than keep a log the snapshot contradicts. With {@code deposedLeader}, the member is a
   * cut-off leader whose log holds uncommitted entries of its old term at indexes the snapshot
   * covers. With {@code crashAgain}, the reset redone at the first restart is lost too, in a second
   * crash before it is durable.
   */
  @ParameterizedTest(name = "seed {0}, deposed leader {1}, redone reset lost too {2}")
  @CsvSource({"871, false, false", "872, true, false", "873, false, true", "874, true, true"})
  void snapshotInstalledButLogResetLostInCrash(
      long seed, boolean deposedLeader, boolean crashAgain) {
    ScenarioSupport s = ScenarioSupport.start(seed, snapshotting());
    History history = new History();
    Workload w = workload(s, history);
    w.start();
    Bulk bulk = new Bulk(s);
    long leader = s.awaitLeader();
    bulk.commit(30);
    long f = deposedLeader ? leader : s.others(leader).get(0);
    s.cluster.network().isolate(f);
    if (deposedLeader) {
      for (int i = 0; i < 5; i++) {
        bulk.proposeAt(f);
      }
      s.run(5 * MS);
    }
    s.awaitLeaderOtherThan(f);
    bulk.commit(120);
    compactPast(s, bulk, f);

    // Slow fsyncs on f: the reset stays unsynced long enough to crash in between.
    SimDisk disk = s.cluster.member(f).disk();
    SimSnapshotStore store = s.cluster.member(f).snapshots();
    disk.fsyncLatency(20 * MS, 30 * MS);
    long resetsBefore = disk.resets();
    s.cluster.network().rejoin(f);
    RaftNode node = s.cluster.node(f);
    boolean window =
        s.runUntil(
            () ->
                node.snapshotsInstalled() > 0
                    && disk.resets() > resetsBefore
                    && disk.unsyncedWrites() > 0
                    && durableBaseIndex(disk) < store.latest().meta().index(),
            10 * SEC);
    assertThat(window).as("%d installed a snapshot, reset unsynced: %s", f, s.describe()).isTrue();
    SnapshotMeta snap = store.latest().meta();
    s.cluster.crash(f);
    assertThat(durableBaseIndex(disk)).as("the reset was lost").isLessThan(snap.index());
    if (deposedLeader) {
      // The durable log holds entries of its old term at indexes where others committed others.
      KvStateMachine committedState = s.sm(s.cluster.leader());
      int contradicting = 0;
      for (Entry e : disk.durableState().entries()) {
        long committedTerm = committedState.appliedTermAt(e.index());
        if (e.index() <= snap.index() && committedTerm != -1 && committedTerm != e.term()) {
          contradicting++;
        }
      }
      assertThat(contradicting).as("stale entries left in the durable log of %d", f).isPositive();
    }

    if (crashAgain) {
      long resets = disk.resets();
      s.cluster.start(f);
      assertThat(disk.resets()).as("the reset is redone").isEqualTo(resets + 1);
      assertThat(s.core(f).log().snapshotIndex()).isEqualTo(snap.index());
      s.cluster.crash(f);
      assertThat(durableBaseIndex(disk)).as("the redone reset was lost").isLessThan(snap.index());
    }
    disk.fsyncLatency(s.options.minFsyncNanos(), s.options.maxFsyncNanos());
    long resetsAtRestart = disk.resets();
    s.cluster.start(f);
    RaftLog log = s.core(f).log();
    assertThat(log.snapshotIndex())
        .as("log of %d starts at the snapshot", f)
        .isEqualTo(snap.index());
    assertThat(log.snapshotTerm()).isEqualTo(snap.term());
    assertThat(log.lastIndex()).isEqualTo(snap.index());
    assertThat(s.sm(f).appliedIndex()).isEqualTo(snap.index());
    assertThat(disk.resets()).as("the reset is redone").isEqualTo(resetsAtRestart + 1);
    assertThat(s.runUntil(() -> durableBaseIndex(disk) >= snap.index(), SEC)).isTrue();

    s.run(SEC);
    w.drain();
    s.awaitConverged(5 * SEC);
    assertSameState(s);
    bulk.assertAcknowledgedApplied();
    s.finalChecks(history);
    // Its stale entries were never applied anywhere: the applied logs are equal (checked above).
  }

  private static long durableBaseIndex(SimDisk disk) {
    return disk.durableBase() == null ? 0 : disk.durableBase().index();
  }

  // ---------------------------------------------------------------- 8. learner

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {881, 882})
  void learnerCatchesUpFromSnapshotThenIsPromoted(long seed) {
    ScenarioSupport s =
        ScenarioSupport.start(seed, SimOptions.defaults().withSnapshots(100, 10, 1024));
    Installs installs = new Installs(s);
    History history = new History();
    Workload w = workload(s, history);
    w.start();
    Bulk bulk = new Bulk(s);
    s.awaitLeader();
    // Beyond the default maxPromotionLag (1000): a learner that holds nothing may not be promoted.
    bulk.commit(1100);
    long leader = s.awaitLeader();
    assertThat(s.core(leader).log().lastIndex()).isGreaterThan(1000);
    assertThat(s.core(leader).log().firstIndex()).isGreaterThan(100);

    long learner = s.cluster.addMember();
    s.cluster.network().isolate(learner);
    changeOk(s, ConfChange.addLearner(learner));
    leader = s.awaitLeader();
    long lag = s.core(leader).log().lastIndex() - s.core(leader).progress(learner).match();
    assertThat(lag).isGreaterThan(s.core(leader).config().maxPromotionLag());
    CompletableFuture<Object> refused =
        s.cluster.node(leader).changeMembership(List.of(ConfChange.promote(learner)));
    assertThat(s.runUntil(refused::isDone, SEC)).isTrue();
    assertThat(cause(refused))
        .isInstanceOf(ProposalDroppedException.class)
        .hasMessageContaining("behind");
    assertThat(s.core(leader).membership().learners()).containsExactly(learner);

    s.cluster.network().rejoin(learner);
    awaitInstalledAndCaughtUp(s, installs, learner, 0);
    assertThat(s.core(learner).log().firstIndex())
        .as("the learner's log starts after the snapshot it installed")
        .isGreaterThan(100);
    assertThat(s.cluster.member(learner).snapshots().snapshotsCommitted()).isPositive();
    // The leader judges the lag by what the learner acknowledged: wait for its appends' answers.
    long installedAt = s.cluster.member(learner).snapshots().latest().meta().index();
    assertThat(
            s.runUntil(
                () -> {
                  long l = s.cluster.leader();
                  return l != 0 && s.core(l).progress(learner).match() >= installedAt;
                },
                2 * SEC))
        .as("leader saw %d past its snapshot: %s", learner, s.describe())
        .isTrue();

    changeOk(s, ConfChange.promote(learner));
    leader = s.awaitLeader();
    assertThat(s.core(leader).membership().isVoter(learner)).isTrue();
    assertThat(s.core(leader).membership().learners()).isEmpty();
    long l = leader;
    assertThat(s.runUntil(() -> s.core(learner).membership().isVoter(learner), SEC)).isTrue();
    bulk.commit(30);
    assertThat(s.runUntil(() -> caughtUp(s, l, learner), 2 * SEC)).isTrue();

    s.run(SEC);
    w.drain();
    s.awaitConverged(5 * SEC);
    assertSameState(s);
    bulk.assertAcknowledgedApplied();
    s.finalChecks(history);
  }

  private static void changeOk(ScenarioSupport s, ConfChange change) {
    long leader = s.awaitLeader();
    CompletableFuture<Object> f = s.cluster.node(leader).changeMembership(List.of(change));
    s.runUntil(f::isDone, 3 * SEC);
    assertThat(ScenarioSupport.outcome(f))
        .as("%s at %d: %s", change, leader, s.describe())
        .startsWith("ok");
  }

  private static Throwable cause(CompletableFuture<?> f) {
    assertThat(f).isDone();
    return f.handle((v, e) -> e instanceof CompletionException ? e.getCause() : e).join();
  }

  // ---------------------------------------------------------------- 9. throughput

  /**
   * A large snapshot (1,000 keys of 4 KiB) streamed to a fresh learner in 16 KiB chunks, 4 in
   * flight, over the reliable network; prints the simulated transfer time and throughput. The
   * simulated network has latency but no bandwidth limit, so this measures the protocol's
   * round-trip bound (window x chunk per round trip), not a real network.
   */
  @Test
  void largeSnapshotTransferThroughput() {
    SimOptions o = SimOptions.defaults().withSnapshots(200, 10, 16 * 1024);
    ScenarioSupport s = ScenarioSupport.start(891, o);
    Installs installs = new Installs(s);
    s.awaitLeader();
    int keys = 1000;
    int valueBytes = 4096;
    List<KvCommand> writes = new ArrayList<>();
    for (int i = 0; i < keys; i++) {
      writes.add(KvCommand.put("large" + i, value(i, valueBytes)));
    }
    commitAll(s, writes);
    long leader = s.awaitLeader();
    assertThat(s.core(leader).log().firstIndex()).isGreaterThan(500);
    assertThat(s.sm(leader).size()).isGreaterThanOrEqualTo(keys);

    long learner = s.cluster.addMember();
    var net = s.cluster.network();
    net.reset();
    CompletableFuture<Object> add =
        s.cluster.node(leader).changeMembership(List.of(ConfChange.addLearner(learner)));
    boolean started =
        s.runUntil(
            () -> net.countsByType().getOrDefault(MessageType.SNAPSHOT_CHUNK, 0L) > 0, 2 * SEC);
    assertThat(started).as("transfer started: %s", s.describe()).isTrue();
    long t0 = s.sim.now();
    RaftNode node = s.cluster.node(learner);
    assertThat(s.runUntil(() -> node.snapshotsInstalled() > 0, 10 * SEC))
        .as("snapshot installed: %s", s.describe())
        .isTrue();
    long t1 = s.sim.now();
    assertThat(ScenarioSupport.succeeded(add)).isTrue();
    Snapshot snap = s.cluster.member(learner).snapshots().latest();
    long chunks = net.countsByType().getOrDefault(MessageType.SNAPSHOT_CHUNK, 0L);
    double seconds = (t1 - t0) / 1e9;
    double mbPerSec = snap.size() / 1e6 / seconds;
    System.out.printf(
        Locale.ROOT,
        "snapshot transfer: %d bytes (%.2f MB) at index %d in %d chunks (%d needed) of %d bytes,"
            + " window %d, latency %s-%s: %s simulated => %.1f MB/s (simulated)%n",
        snap.size(),
        snap.size() / 1e6,
        snap.meta().index(),
        chunks,
        (snap.size() + o.snapshotChunkBytes() - 1) / o.snapshotChunkBytes(),
        o.snapshotChunkBytes(),
        o.snapshotWindowChunks(),
        Simulation.formatTime(o.minLatencyNanos()),
        Simulation.formatTime(o.maxLatencyNanos()),
        Simulation.formatTime(t1 - t0),
        mbPerSec);
    assertThat(snap.size()).isGreaterThan((long) keys * valueBytes);
    assertThat(installs.of(learner)).isEqualTo(1);

    long l = leader;
    assertThat(s.runUntil(() -> caughtUp(s, l, learner), 5 * SEC)).isTrue();
    assertThat(s.sm(learner).digest()).isEqualTo(s.sm(leader).digest());
    s.awaitConverged(5 * SEC);
    assertSameState(s);
    s.finalChecks(new History());
  }

  private static String value(int i, int size) {
    StringBuilder sb = new StringBuilder(size).append(i).append(':');
    while (sb.length() < size) {
      sb.append((char) ('a' + (sb.length() * 7 + i) % 26));
    }
    return sb.toString();
  }

  /** Commits every command (at the leader, in batches), retrying those that fail. */
  private static void commitAll(ScenarioSupport s, List<KvCommand> cmds) {
    int next = 0;
    long deadline = s.sim.now() + 60 * SEC;
    List<KvCommand> retry = new ArrayList<>();
    while (next < cmds.size() || !retry.isEmpty()) {
      if (s.sim.now() > deadline) {
        fail("commitAll did not finish: %s", s.describe());
      }
      long l = s.cluster.leader();
      if (l == 0) {
        s.run(10 * MS);
        continue;
      }
      List<KvCommand> batch = new ArrayList<>(retry);
      retry.clear();
      while (batch.size() < 50 && next < cmds.size()) {
        batch.add(cmds.get(next++));
      }
      List<CompletableFuture<Object>> fs = new ArrayList<>();
      for (KvCommand c : batch) {
        fs.add(s.propose(l, c));
      }
      s.runUntil(() -> fs.stream().allMatch(CompletableFuture::isDone), 5 * SEC);
      for (int i = 0; i < batch.size(); i++) {
        if (!ScenarioSupport.succeeded(fs.get(i))) {
          retry.add(batch.get(i));
        }
      }
    }
  }

  // ---------------------------------------------------------------- shared checks

  /** Whether {@code member} applied everything {@code leader} committed (and the leader did). */
  private static boolean caughtUp(ScenarioSupport s, long leader, long member) {
    if (leader == 0 || !s.cluster.isUp(leader) || !s.cluster.isUp(member)) {
      return false;
    }
    long c = s.core(leader).log().committed();
    return c > 0 && s.sm(member).appliedIndex() == c && s.sm(leader).appliedIndex() == c;
  }

  /** Every live configured member has taken or received a snapshot and compacted its log. */
  private static void assertCompactedEverywhere(ScenarioSupport s) {
    for (Cluster.Member m : s.cluster.upConfiguredMembers()) {
      assertThat(m.snapshots().snapshotsCommitted()).as("snapshots of %d", m.id()).isPositive();
      assertThat(m.node().core().log().firstIndex())
          .as("log of %d compacted", m.id())
          .isGreaterThan(1);
    }
  }

  private static void assertSameState(ScenarioSupport s) {
    List<Cluster.Member> up = s.cluster.upConfiguredMembers();
    KvStateMachine first = up.get(0).stateMachine();
    for (Cluster.Member m : up) {
      assertThat(m.stateMachine().digest()).as("state of %d", m.id()).isEqualTo(first.digest());
      assertThat(m.stateMachine().appliedLog())
          .as("applied log of %d", m.id())
          .isEqualTo(first.appliedLog());
    }
  }

  private static Map<Long, Long> snapshotCounts(ScenarioSupport s) {
    Map<Long, Long> out = new TreeMap<>();
    for (Cluster.Member m : s.cluster.members()) {
      out.put(m.id(), m.snapshots().snapshotsCommitted());
    }
    return out;
  }

  /**
   * Snapshots installed from a leader by each member over all its incarnations ({@link
   * RaftNode#snapshotsInstalled()} counts one incarnation): every node object seen after an event
   * is remembered.
   */
  private static final class Installs {
    private final Cluster cluster;
    private final Map<Long, Set<RaftNode>> nodes = new TreeMap<>();

    Installs(ScenarioSupport s) {
      this.cluster = s.cluster;
      s.afterEveryEvent(this::observe);
    }

    void observe() {
      for (Cluster.Member m : cluster.members()) {
        if (m.isUp()) {
          nodes
              .computeIfAbsent(m.id(), k -> Collections.newSetFromMap(new IdentityHashMap<>()))
              .add(m.node());
        }
      }
    }

    long of(long id) {
      observe();
      long n = 0;
      for (RaftNode node : nodes.getOrDefault(id, Set.of())) {
        n += node.snapshotsInstalled();
      }
      return n;
    }

    Map<Long, Long> all() {
      Map<Long, Long> out = new TreeMap<>();
      for (long id : cluster.ids()) {
        out.put(id, of(id));
      }
      return out;
    }
  }

  /**
   * Load outside the workload's keys (so the linearizability check is unaffected): PUTs of fresh
   * values, proposed at the leader; those acknowledged must be applied once everywhere at the end.
   */
  private static final class Bulk {
    private final ScenarioSupport s;
    private final List<KvCommand> acknowledged = new ArrayList<>();
    private long seq;

    Bulk(ScenarioSupport s) {
      this.s = s;
    }

    private KvCommand next() {
      long n = ++seq;
      return KvCommand.put("bulk" + (n % 11), "b" + n);
    }

    private CompletableFuture<Object> proposeAt(long member) {
      KvCommand c = next();
      CompletableFuture<Object> f = s.propose(member, c);
      f.thenRun(() -> acknowledged.add(c));
      return f;
    }

    /** Proposes {@code n} at the current leader (if any) without waiting. */
    void propose(int n) {
      long l = s.cluster.leader();
      if (l == 0) {
        return;
      }
      for (int i = 0; i < n; i++) {
        proposeAt(l);
      }
    }

    /** Runs until {@code n} more proposals were acknowledged (at successive leaders). */
    void commit(int n) {
      int done = 0;
      long deadline = s.sim.now() + 30 * SEC;
      while (done < n) {
        if (s.sim.now() > deadline) {
          fail("only %d of %d bulk proposals acknowledged: %s", done, n, s.describe());
        }
        long l = s.cluster.leader();
        if (l == 0) {
          s.run(10 * MS);
          continue;
        }
        List<CompletableFuture<Object>> fs = new ArrayList<>();
        for (int i = 0; i < Math.min(50, n - done); i++) {
          fs.add(proposeAt(l));
        }
        s.runUntil(() -> fs.stream().allMatch(CompletableFuture::isDone), 3 * SEC);
        for (CompletableFuture<Object> f : fs) {
          if (ScenarioSupport.succeeded(f)) {
            done++;
          }
        }
      }
    }

    /** Every acknowledged bulk PUT is applied exactly once on every live configured member. */
    void assertAcknowledgedApplied() {
      for (Cluster.Member m : s.cluster.upConfiguredMembers()) {
        Map<Long, Integer> times = new HashMap<>();
        for (KvStateMachine.Applied a : m.stateMachine().appliedLog()) {
          times.merge(a.dataHash(), 1, Integer::sum);
        }
        for (KvCommand c : acknowledged) {
          assertThat(times.getOrDefault(KvStateMachine.hash(c.encode()), 0))
              .as("acknowledged %s applied at %d", c, m.id())
              .isEqualTo(1);
        }
      }
    }
  }
}
