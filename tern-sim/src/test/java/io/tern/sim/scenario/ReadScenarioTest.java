package io.tern.sim.scenario;

import static io.tern.sim.scenario.ScenarioSupport.MS;
import static io.tern.sim.scenario.ScenarioSupport.SEC;
import static org.assertj.core.api.Assertions.assertThat;

import io.tern.raft.core.Role;
import io.tern.raft.node.ReadMode;
import io.tern.sim.SimOptions;
import io.tern.sim.check.History;
import io.tern.sim.check.LinearizabilityChecker;
import io.tern.sim.check.OpKind;
import io.tern.sim.check.Operation;
import io.tern.sim.kv.KvCommand;
import io.tern.sim.kv.KvStateMachine;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Linearizable reads (ReadIndex and leases) never return stale data across leader changes. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReadScenarioTest {
  private static final String KEY = "x";

  /** Writes {@code value} through {@code member}, recording it; returns the completed operation. */
  private static Operation write(
      ScenarioSupport s, History h, int client, long member, String value) {
    long op = h.invoke(client, OpKind.PUT, KEY, value, null, s.sim.now());
    CompletableFuture<Object> f = s.propose(member, KvCommand.put(KEY, value));
    s.runUntil(f::isDone, 3 * SEC);
    record(s, h, op, f);
    return h.get(op);
  }

  /** Starts a read through {@code member}, recording it when it completes. */
  private static CompletableFuture<String> read(
      ScenarioSupport s, History h, int client, long member, ReadMode mode) {
    long op = h.invoke(client, OpKind.GET, KEY, null, null, s.sim.now());
    KvStateMachine sm = s.sm(member);
    CompletableFuture<String> f = s.cluster.node(member).read(mode, () -> sm.get(KEY));
    f.whenComplete((v, e) -> record(s, h, op, f));
    return f;
  }

  /**
   * A get answered on the caller's thread by {@code RaftNode.tryLeaseRead}, recorded as an
   * operation of {@code client} that completes at once; empty (recorded as failed) when refused.
   */
  private static Optional<String> fastRead(ScenarioSupport s, History h, int client, long member) {
    long op = h.invoke(client, OpKind.GET, KEY, null, null, s.sim.now());
    KvStateMachine sm = s.sm(member);
    Optional<Optional<String>> v =
        s.cluster.node(member).tryLeaseRead(() -> Optional.ofNullable(sm.get(KEY)));
    if (v.isPresent()) {
      h.ok(op, v.get().orElse(null), s.sim.now());
      return Optional.of(v.get().orElse(""));
    }
    h.fail(op, s.sim.now());
    return Optional.empty();
  }

  private static void record(ScenarioSupport s, History h, long op, CompletableFuture<?> f) {
    if (h.get(op).status() != io.tern.sim.check.OpStatus.PENDING) {
      return;
    }
    if (!f.isDone()) {
      h.unknown(op);
    } else if (ScenarioSupport.succeeded(f)) {
      h.ok(op, f.join(), s.sim.now());
    } else if (h.get(op).kind() == OpKind.GET) {
      h.fail(op, s.sim.now());
    } else {
      h.unknown(op);
    }
  }

  private static void assertLinearizable(History h) {
    LinearizabilityChecker.Result r = LinearizabilityChecker.check(h);
    assertThat(r.verdict()).as("%s\n%s", r, h.dump()).isEqualTo(LinearizabilityChecker.Verdict.OK);
  }

  /**
   * The leader is cut off with a client attached; a new majority leader takes a write; a ReadIndex
   * read through the old leader must not return (it fails or times out) rather than return the old
   * value. Without check-quorum the old leader even keeps believing it leads.
   */
  @ParameterizedTest(name = "seed {0}, checkQuorum={1}")
  @CsvSource({"401, true", "402, true", "403, false", "404, false"})
  void readIndexThroughACutOffLeaderDoesNotReturnStaleData(long seed, boolean checkQuorum) {
    ScenarioSupport s =
        ScenarioSupport.start(seed, SimOptions.defaults().withProtocol(true, checkQuorum, false));
    History h = new History();
    long l1 = s.awaitLeader();
    assertThat(write(s, h, 0, l1, "v1").status()).isEqualTo(io.tern.sim.check.OpStatus.OK);

    s.cluster.network().isolate(l1);
    long l2 = s.awaitLeaderOtherThan(l1);
    assertThat(write(s, h, 1, l2, "v2").status()).isEqualTo(io.tern.sim.check.OpStatus.OK);

    if (!checkQuorum) {
      assertThat(s.role(l1))
          .as("the cut-off leader still believes it leads")
          .isEqualTo(Role.LEADER);
    }
    CompletableFuture<String> stale = read(s, h, 0, l1, ReadMode.READ_INDEX);
    s.runUntil(stale::isDone, 3 * SEC);
    assertThat(ScenarioSupport.outcome(stale))
        .as("a read through the cut-off leader must not succeed")
        .doesNotStartWith("ok");

    // Healed: the old leader follows and its reads see the new value.
    s.cluster.network().heal();
    assertThat(s.runUntil(() -> s.core(l1).leader() == l2, 2 * SEC)).isTrue();
    CompletableFuture<String> fresh = read(s, h, 0, l1, ReadMode.READ_INDEX);
    s.runUntil(fresh::isDone, 3 * SEC);
    assertThat(ScenarioSupport.outcome(fresh)).isEqualTo("ok: v2");
    assertLinearizable(h);
  }

  /**
   * Regression (chaos run seed-1-20261202-014628): a leader with lease reads is stopped (SIGSTOP)
   * for longer than an election timeout while the others elect a new leader and commit a write. Its
   * ticks stop too, so by its tick count the lease still holds when it resumes; a read queued
   * during the pause must not be served from that lease (it must go through ReadIndex, which cannot
   * succeed while it is cut off), because the lease expired in real time.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {421, 422, 423})
  void aLeaseReadQueuedWhileTheLeaderWasPausedIsNotServedFromTheExpiredLease(long seed) {
    ScenarioSupport s =
        ScenarioSupport.start(seed, SimOptions.defaults().withProtocol(true, true, true));
    History h = new History();
    long l1 = s.awaitLeader();
    assertThat(write(s, h, 0, l1, "v1").status()).isEqualTo(io.tern.sim.check.OpStatus.OK);
    s.run(50 * MS); // heartbeat rounds acknowledged: l1 holds a lease

    s.cluster.member(l1).scheduler().pause(3 * SEC);
    s.cluster.network().isolate(l1);
    long l2 = s.awaitLeaderOtherThan(l1);
    assertThat(write(s, h, 2, l2, "v2").status()).isEqualTo(io.tern.sim.check.OpStatus.OK);
    // Queued on the paused leader's loop; it runs when the pause ends.
    CompletableFuture<String> stale = read(s, h, 1, l1, ReadMode.LEASE);
    s.runUntil(stale::isDone, 10 * SEC);
    assertThat(ScenarioSupport.outcome(stale))
        .as("a lease read at a leader resumed after its lease expired in real time")
        .doesNotStartWith("ok");
    assertLinearizable(h);
  }

  /**
   * Lease reads at a leader that gets cut off: it serves them from its lease only while the lease
   * holds, and the lease ends before the rest can elect a new leader, so no stale value is ever
   * returned.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {411, 412, 413, 414})
  void leaseReadsAtACutOffLeaderStopBeforeANewLeaderIsElected(long seed) {
    ScenarioSupport s =
        ScenarioSupport.start(seed, SimOptions.defaults().withProtocol(true, true, true));
    History h = new History();
    long l1 = s.awaitLeader();
    assertThat(write(s, h, 0, l1, "v1").status()).isEqualTo(io.tern.sim.check.OpStatus.OK);

    long[] newLeaderAt = {-1};
    s.afterEveryEvent(
        () -> {
          if (newLeaderAt[0] < 0) {
            for (long id : s.others(l1)) {
              if (s.cluster.isUp(id) && s.role(id) == Role.LEADER) {
                newLeaderAt[0] = s.sim.now();
              }
            }
          }
        });

    // A client reads through l1 every 2 ms, with a lease; completion times of successful reads.
    List<CompletableFuture<String>> reads = new ArrayList<>();
    List<Long> servedAt = new ArrayList<>();
    List<String> servedValues = new ArrayList<>();
    boolean[] reading = {true};
    Runnable[] next = new Runnable[1];
    next[0] =
        () -> {
          if (!reading[0]) {
            return;
          }
          CompletableFuture<String> f = read(s, h, 1, l1, ReadMode.LEASE);
          reads.add(f);
          f.whenComplete(
              (v, e) -> {
                if (e == null) {
                  servedAt.add(s.sim.now());
                  servedValues.add(v);
                }
                s.sim.at(2 * MS, next[0]);
              });
        };
    s.sim.at(0, next[0]);
    s.run(100 * MS);
    assertThat(servedAt).as("lease reads served before the cut").hasSizeGreaterThan(10);
    assertThat(reads).filteredOn(CompletableFuture::isDone).allMatch(ScenarioSupport::succeeded);

    s.cluster.network().isolate(l1);
    long cutAt = s.sim.now();
    long l2 = s.awaitLeaderOtherThan(l1);
    Operation v2 = write(s, h, 2, l2, "v2");
    assertThat(v2.status()).isEqualTo(io.tern.sim.check.OpStatus.OK);
    s.run(500 * MS);
    reading[0] = false;
    s.runUntil(() -> reads.stream().allMatch(CompletableFuture::isDone), 3 * SEC);

    assertThat(servedValues).as("values served by the old leader").containsOnly("v1");
    long lastServed = servedAt.get(servedAt.size() - 1);
    assertThat(lastServed).as("the lease outlived the cut for a little while").isGreaterThan(cutAt);
    assertThat(newLeaderAt[0]).isPositive();
    assertThat(lastServed)
        .as(
            "last lease read served by the old leader (cut at %d) vs new leader at %d",
            cutAt, newLeaderAt[0])
        .isLessThan(newLeaderAt[0]);
    assertThat(lastServed - cutAt)
        .as("lease lasts less than an election timeout")
        .isLessThan(s.electionTimeout());
    assertLinearizable(h);
  }

  /**
   * Lease reads on the caller's thread ({@code tryLeaseRead}) at a leader that gets cut off: served
   * only while the lease holds, which ends before the others elect a new leader; never at a
   * follower; and the new leader serves them too once it holds a lease of its own.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {431, 432, 433, 434})
  void callerThreadLeaseReadsStopAtACutOffLeaderBeforeANewLeaderIsElected(long seed) {
    ScenarioSupport s =
        ScenarioSupport.start(seed, SimOptions.defaults().withProtocol(true, true, true));
    History h = new History();
    long l1 = s.awaitLeader();
    assertThat(write(s, h, 0, l1, "v1").status()).isEqualTo(io.tern.sim.check.OpStatus.OK);
    long[] newLeaderAt = {-1};
    long[] newLeader = {0};
    s.afterEveryEvent(
        () -> {
          if (newLeaderAt[0] < 0) {
            for (long id : s.others(l1)) {
              if (s.cluster.isUp(id) && s.role(id) == Role.LEADER) {
                newLeaderAt[0] = s.sim.now();
                newLeader[0] = id;
              }
            }
          }
        });
    List<Long> servedAt = new ArrayList<>();
    List<String> served = new ArrayList<>();
    int[] servedByNewLeader = {0};
    boolean[] reading = {true};
    Runnable[] next = new Runnable[1];
    next[0] =
        () -> {
          if (!reading[0]) {
            return;
          }
          fastRead(s, h, 1, l1)
              .ifPresent(
                  v -> {
                    servedAt.add(s.sim.now());
                    served.add(v);
                  });
          for (long id : s.others(l1)) {
            if (s.role(id) != Role.LEADER) {
              assertThat(fastRead(s, h, 3, id)).as("a follower's lease read").isEmpty();
            } else if (fastRead(s, h, 3, id).isPresent()) {
              servedByNewLeader[0]++;
            }
          }
          s.sim.at(MS, next[0]);
        };
    s.sim.at(0, next[0]);
    s.run(100 * MS);
    assertThat(servedAt).as("lease reads served before the cut").hasSizeGreaterThan(50);

    s.cluster.network().isolate(l1);
    long cutAt = s.sim.now();
    long l2 = s.awaitLeaderOtherThan(l1);
    assertThat(write(s, h, 2, l2, "v2").status()).isEqualTo(io.tern.sim.check.OpStatus.OK);
    s.run(500 * MS);
    reading[0] = false;

    assertThat(served).as("values served by the old leader").containsOnly("v1");
    long lastServed = servedAt.get(servedAt.size() - 1);
    assertThat(lastServed).as("the lease outlived the cut for a little while").isGreaterThan(cutAt);
    assertThat(lastServed)
        .as(
            "last read served by the old leader (cut at %d), new leader at %d",
            cutAt, newLeaderAt[0])
        .isLessThan(newLeaderAt[0]);
    assertThat(servedByNewLeader[0]).as("lease reads served by the new leader").isPositive();
    assertLinearizable(h);
  }

  /**
   * The loop of a leader holding a lease stalls (its scheduler is paused) while another thread
   * keeps asking for lease reads: the lease it published expires by the clock before the others
   * elect a new leader, and reads are refused from then on even though the loop never withdrew it.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {441, 442, 443})
  void callerThreadLeaseReadsAtAStalledLeaderEndWithTheLeaseByTheClock(long seed) {
    ScenarioSupport s =
        ScenarioSupport.start(seed, SimOptions.defaults().withProtocol(true, true, true));
    History h = new History();
    long l1 = leaderServingV1OnItsLease(s, h);

    s.cluster.member(l1).scheduler().pause(3 * SEC);
    s.cluster.network().isolate(l1);
    long stalledAt = s.sim.now();
    long lastServed = stalledAt;
    long l2 = 0;
    while (l2 == 0) {
      if (fastRead(s, h, 1, l1).isPresent()) {
        lastServed = s.sim.now();
      }
      s.run(MS);
      for (long id : s.others(l1)) {
        if (s.role(id) == Role.LEADER) {
          l2 = id;
        }
      }
      assertThat(s.sim.now() - stalledAt).as("a new leader within 3 s").isLessThan(3 * SEC);
    }
    long electedAt = s.sim.now();
    assertThat(write(s, h, 2, l2, "v2").status()).isEqualTo(io.tern.sim.check.OpStatus.OK);
    assertThat(lastServed).as("last read served by the stalled leader").isLessThan(electedAt);
    assertThat(fastRead(s, h, 1, l1)).as("a read at the stalled leader after v2").isEmpty();
    assertLinearizable(h);
  }

  /**
   * A leadership transfer: from the moment the leader sends TIMEOUT_NOW (which lets its target win
   * votes that ignore the lease), it serves no lease read on the caller's thread.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {451, 452, 453})
  void aLeadershipTransferEndsCallerThreadLeaseReadsBeforeTimeoutNowLeaves(long seed) {
    ScenarioSupport s =
        ScenarioSupport.start(seed, SimOptions.defaults().withProtocol(true, true, true));
    History h = new History();
    long l1 = leaderServingV1OnItsLease(s, h);

    long before = timeoutNowsSent(s);
    int[] checkedAfterTimeoutNow = {0};
    s.afterEveryEvent(
        () -> {
          if (timeoutNowsSent(s) > before) {
            checkedAfterTimeoutNow[0]++;
            assertThat(fastRead(s, h, 1, l1))
                .as("a lease read at the transferring leader after TIMEOUT_NOW")
                .isEmpty();
          }
        });
    long target = s.plus(l1, 1);
    CompletableFuture<Long> transfer = s.cluster.node(l1).transferLeadership(target);
    assertThat(s.runUntil(transfer::isDone, 2 * SEC)).isTrue();
    assertThat(transfer.join()).isEqualTo(target);
    assertThat(write(s, h, 2, target, "v2").status()).isEqualTo(io.tern.sim.check.OpStatus.OK);
    s.run(100 * MS);
    assertThat(checkedAfterTimeoutNow[0]).isPositive();
    assertLinearizable(h);
  }

  /** Writes v1 through the leader and waits until it answers lease reads on the caller's thread. */
  private static long leaderServingV1OnItsLease(ScenarioSupport s, History h) {
    long l1 = s.awaitLeader();
    assertThat(write(s, h, 0, l1, "v1").status()).isEqualTo(io.tern.sim.check.OpStatus.OK);
    s.run(50 * MS);
    assertThat(fastRead(s, h, 1, l1)).contains("v1");
    return l1;
  }

  private static long timeoutNowsSent(ScenarioSupport s) {
    return s.cluster
        .network()
        .countsByType()
        .getOrDefault(io.tern.raft.core.MessageType.TIMEOUT_NOW, 0L);
  }

  /**
   * A write committed (and acknowledged) by the old leader just before it is cut off, known
   * committed only to it. The new leader holds the entry but does not yet know it is committed
   * until it commits an entry of its own term. A lease read at the new leader in that window must
   * not miss the write.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {421, 422, 423})
  void leaseReadAtANewLeaderSeesWritesTheOldLeaderCommitted(long seed) {
    // Slow fsyncs stretch the new leader's first commit (acks wait for them), heartbeats do not.
    SimOptions options =
        SimOptions.defaults().withProtocol(true, true, true).withFsync(20 * MS, 20 * MS);
    ScenarioSupport s = ScenarioSupport.start(seed, options);
    History h = new History();
    long a = s.awaitLeader();
    write(s, h, 0, a, "v1");
    long b = s.plus(a, 1);
    long c = s.plus(a, 2);

    // c stops hearing from a, so only a and b will hold v2.
    s.cluster.network().cut(a, c);
    long op = h.invoke(0, OpKind.PUT, KEY, "v2", null, s.sim.now());
    KvCommand w2 = KvCommand.put(KEY, "v2");
    CompletableFuture<Object> f = s.propose(a, w2);
    boolean committed =
        s.runUntil(
            () -> {
              long i = s.logIndexOf(a, w2);
              return i > 0 && s.core(a).log().committed() >= i;
            },
            2 * SEC);
    assertThat(committed).isTrue();
    // Cut a off the moment it commits v2: the commit index does not reach b.
    s.cluster.network().isolate(a);
    long idx = s.logIndexOf(a, w2);
    assertThat(s.logIndexOf(b, w2)).isEqualTo(idx);
    assertThat(s.core(b).log().committed()).as("b does not know v2 is committed").isLessThan(idx);
    assertThat(s.logIndexOf(c, w2)).isNegative();
    s.runUntil(f::isDone, SEC);
    record(s, h, op, f);
    assertThat(h.get(op).status())
        .as("v2 acknowledged by a")
        .isEqualTo(io.tern.sim.check.OpStatus.OK);

    // b must win (c lacks v2). Read at b with a lease, every millisecond, from its election on.
    assertThat(s.runUntil(() -> s.role(b) == Role.LEADER, 3 * SEC)).as(s.describe()).isTrue();
    List<CompletableFuture<String>> reads = new ArrayList<>();
    int beforeCommitInTerm = 0;
    long until = s.sim.now() + 200 * MS;
    while (s.sim.now() < until) {
      var log = s.core(b).log();
      if (log.committed() < idx) {
        beforeCommitInTerm++;
      }
      reads.add(read(s, h, 1, b, ReadMode.LEASE));
      s.run(MS);
    }
    s.runUntil(() -> reads.stream().allMatch(CompletableFuture::isDone), 3 * SEC);

    assertThat(beforeCommitInTerm).as("reads issued before b knew v2 committed").isPositive();
    for (CompletableFuture<String> r : reads) {
      if (ScenarioSupport.succeeded(r)) {
        assertThat(r.join()).as("lease read at the new leader b: %s", s.describe()).isEqualTo("v2");
      }
    }
    assertThat(reads).anyMatch(ScenarioSupport::succeeded);
    assertLinearizable(h);
  }
}
