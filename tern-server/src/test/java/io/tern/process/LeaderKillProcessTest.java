package io.tern.process;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.tern.api.Event;
import io.tern.api.KVGrpc;
import io.tern.api.KeyValue;
import io.tern.api.PutRequest;
import io.tern.api.PutResponse;
import io.tern.api.RangeRequest;
import io.tern.api.RangeResponse;
import io.tern.api.WatchCreateRequest;
import io.tern.api.WatchGrpc;
import io.tern.api.WatchRequest;
import io.tern.api.WatchResponse;
import io.tern.process.TernProcessCluster.Member;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three {@code tern server} processes; the leader is SIGKILLed while several clients write, then
 * restarted from its data dir. No acknowledged write may be lost, every member must end with the
 * same store, and watchers that resume after a broken stream from their last revision + 1 (as etcd
 * clients do) must see every revision of the prefix exactly once, in order, with no gap.
 */
class LeaderKillProcessTest {
  private static final ByteString PREFIX = ByteString.copyFromUtf8("load/");
  private static final ByteString PREFIX_END = ByteString.copyFromUtf8("load0");
  private static final Duration PUT_DEADLINE = Duration.ofSeconds(5);
  private static final int WRITERS = 4;

  @TempDir Path data;

  private TernProcessCluster cluster;

  @RegisterExtension
  final TestWatcher printLogsOnFailure =
      new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
          if (cluster != null) {
            System.out.println(cluster.logTails());
          }
        }
      };

  @AfterEach
  void tearDown() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void leaderKilledUnderLoadLosesNoAcknowledgedWriteAndWatchesResumeWithoutGapOrDuplicate()
      throws Exception {
    cluster =
        TernProcessCluster.start(3, data, TernProcessCluster.logDirFor(getClass().getSimpleName()));
    List<Member> ms = cluster.members();
    Member leader = cluster.awaitLeader(ms);
    List<Member> followers = ms.stream().filter(m -> m != leader).toList();
    long startRevision = cluster.awaitConverged() + 1;

    // One watcher on a follower (its stream should survive the leader's death) and one on the
    // leader (its stream breaks with the process; it resumes on another member).
    PrefixWatcher onFollower =
        new PrefixWatcher("follower-watcher", List.of(followers.get(0), followers.get(1), leader));
    PrefixWatcher onLeader =
        new PrefixWatcher("leader-watcher", List.of(leader, followers.get(0), followers.get(1)));
    Load load = new Load(ms);
    try {
      onFollower.start(startRevision);
      onLeader.start(startRevision);
      load.start();
      load.awaitAcked(150);

      cluster.kill(leader); // SIGKILL under load
      int atKill = load.acked.size();
      Member newLeader = cluster.awaitLeader(followers);
      load.awaitAcked(atKill + 150);

      long leaderId = leader.id();
      cluster.restart(leader); // same flags, same data dir: it rejoins
      assertThat(cluster.status(leader).orElseThrow().getHeader().getMemberId())
          .as("member id of the restarted %s", leader)
          .isEqualTo(leaderId);
      int viaRestartedBefore = load.ackedVia(leader);
      load.await(
          "writes acknowledged through the restarted " + leader,
          () -> load.ackedVia(leader) >= viaRestartedBefore + 20);
      load.awaitAcked(load.acked.size() + 100);
      load.stopAndJoin();

      long finalRevision = cluster.awaitConverged();
      System.out.printf(
          "killed leader %s at %d acks; new leader %s; %d acknowledged, %d retried, final"
              + " revision %d; watcher reconnects: follower %d, leader %d%n",
          leader,
          atKill,
          newLeader,
          load.acked.size(),
          load.retries.get(),
          finalRevision,
          onFollower.reconnects.get(),
          onLeader.reconnects.get());
      assertThat(load.unexpected).as("put failures other than UNAVAILABLE/DEADLINE").isEmpty();

      // Every member serves the same store (serializable reads: each its own copy).
      Map<Member, List<KeyValue>> stores = new LinkedHashMap<>();
      for (Member m : ms) {
        RangeResponse r =
            KVGrpc.newBlockingStub(m.channel())
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .range(
                    RangeRequest.newBuilder()
                        .setKey(PREFIX)
                        .setRangeEnd(PREFIX_END)
                        .setSerializable(true)
                        .build());
        assertThat(r.getHeader().getRevision()).as("revision at %s", m).isEqualTo(finalRevision);
        assertThat(r.getMore()).isFalse();
        stores.put(m, r.getKvsList());
      }
      List<KeyValue> store = stores.get(ms.get(0));
      for (Member m : ms) {
        assertThat(stores.get(m))
            .as("store of %s equals store of %s", m, ms.get(0))
            .isEqualTo(store);
      }
      Map<String, KeyValue> byKey = new HashMap<>();
      store.forEach(kv -> byKey.put(kv.getKey().toStringUtf8(), kv));

      // No acknowledged write lost; acknowledged revisions are distinct.
      List<String> lost = new ArrayList<>();
      Map<Long, Ack> ackByRevision = new HashMap<>();
      for (Ack a : load.acked) {
        KeyValue kv = byKey.get(a.key);
        if (kv == null
            || !kv.getValue().toStringUtf8().equals(a.value)
            || kv.getModRevision() < a.revision) {
          lost.add(a + " -> " + kv);
        }
        assertThat(a.revision).as("revision of %s", a).isBetween(startRevision, finalRevision);
        Ack other = ackByRevision.put(a.revision, a);
        assertThat(other).as("two acknowledged puts with revision %d: %s", a.revision, a).isNull();
      }
      assertThat(lost).as("acknowledged writes missing or wrong on every member").isEmpty();

      for (PrefixWatcher w : List.of(onFollower, onLeader)) {
        cluster.await(
            w.name + " to reach revision " + finalRevision + " (at " + w.lastRevision() + ")",
            () -> w.lastRevision() >= finalRevision ? true : null);
        w.close();
        checkWatcher(w, startRevision, finalRevision, ackByRevision, store);
      }
      assertThat(onLeader.reconnects.get())
          .as("the leader's watcher resumed on another member")
          .isPositive();
    } finally {
      load.stopAndJoin();
      onFollower.close();
      onLeader.close();
    }
  }

  /**
   * The watcher saw exactly revisions {@code from..to}, one PUT each, covering every acknowledged
   * put, and replaying its events yields exactly the final store.
   */
  private static void checkWatcher(
      PrefixWatcher w, long from, long to, Map<Long, Ack> acks, List<KeyValue> store) {
    assertThat(w.violations).as("%s: canceled or compacted watches", w.name).isEmpty();
    List<Event> events = List.copyOf(w.events);
    List<Long> revisions = events.stream().map(e -> e.getKv().getModRevision()).toList();
    List<String> order = new ArrayList<>();
    for (int i = 1; i < revisions.size(); i++) {
      if (revisions.get(i) <= revisions.get(i - 1)) {
        order.add("#" + i + ": " + revisions.get(i - 1) + " then " + revisions.get(i));
      }
    }
    assertThat(order).as("%s: revisions not strictly increasing (duplicates)", w.name).isEmpty();
    List<Long> missing = new ArrayList<>();
    Set<Long> seen = new HashSet<>(revisions);
    for (long r = from; r <= to; r++) {
      if (!seen.contains(r)) {
        missing.add(r);
      }
    }
    assertThat(missing).as("%s: revisions never delivered (gaps)", w.name).isEmpty();
    assertThat(revisions).as("%s: revisions beyond the store's", w.name).allMatch(r -> r <= to);

    Map<String, KeyValue> replay = new TreeMap<>();
    Map<Long, Event> byRevision = new HashMap<>();
    for (Event e : events) {
      assertThat(e.getType())
          .as("%s: event type at %s", w.name, e.getKv())
          .isEqualTo(Event.EventType.PUT);
      String key = e.getKv().getKey().toStringUtf8();
      assertThat(key).startsWith(PREFIX.toStringUtf8());
      replay.put(key, e.getKv());
      byRevision.put(e.getKv().getModRevision(), e);
    }
    for (Ack a : acks.values()) {
      Event e = byRevision.get(a.revision);
      assertThat(e).as("%s: event of %s", w.name, a).isNotNull();
      assertThat(e.getKv().getKey().toStringUtf8())
          .as("%s: key at %d", w.name, a.revision)
          .isEqualTo(a.key);
      assertThat(e.getKv().getValue().toStringUtf8())
          .as("%s: value at %d", w.name, a.revision)
          .isEqualTo(a.value);
    }
    assertThat(List.copyOf(replay.values()))
        .as("%s: the store rebuilt from the watched events", w.name)
        .isEqualTo(store);
  }

  // ---------------------------------------------------------------- load

  /** One acknowledged put: the reply was OK with this header revision. */
  record Ack(String key, String value, long revision, String via) {}

  /**
   * {@link #WRITERS} threads putting unique keys, round-robin over the members; a put that fails
   * with UNAVAILABLE or DEADLINE_EXCEEDED (outcome unknown) is retried, same key and value, on the
   * next member.
   */
  private final class Load {
    final Queue<Ack> acked = new ConcurrentLinkedQueue<>();
    final Queue<String> unexpected = new ConcurrentLinkedQueue<>();
    final AtomicInteger retries = new AtomicInteger();
    private final Map<String, AtomicInteger> perMember = new ConcurrentHashMap<>();
    private final List<Member> members;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stop;

    Load(List<Member> members) {
      this.members = members;
      members.forEach(m -> perMember.put(m.name, new AtomicInteger()));
    }

    void start() {
      for (int i = 0; i < WRITERS; i++) {
        int writer = i;
        Thread t = new Thread(() -> write(writer), "writer-" + i);
        threads.add(t);
        t.start();
      }
    }

    int ackedVia(Member m) {
      return perMember.get(m.name).get();
    }

    private void write(int writer) {
      int target = writer % members.size();
      for (int seq = 0; !stop; seq++) {
        String key = String.format("%st%d/%06d", PREFIX.toStringUtf8(), writer, seq);
        String value = "value-" + writer + "-" + seq;
        PutRequest put =
            PutRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8(key))
                .setValue(ByteString.copyFromUtf8(value))
                .build();
        while (!stop) {
          Member m = members.get(target);
          target = (target + 1) % members.size();
          try {
            PutResponse r =
                KVGrpc.newBlockingStub(m.channel())
                    .withDeadlineAfter(PUT_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                    .put(put);
            acked.add(new Ack(key, value, r.getHeader().getRevision(), m.name));
            perMember.get(m.name).incrementAndGet();
            break;
          } catch (StatusRuntimeException e) {
            Status.Code code = e.getStatus().getCode();
            if (code != Status.Code.UNAVAILABLE && code != Status.Code.DEADLINE_EXCEEDED) {
              unexpected.add(key + " at " + m + ": " + e.getStatus());
              break;
            }
            retries.incrementAndGet();
            pause(); // do not spin while the members elect a leader
          }
        }
      }
    }

    private void pause() {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stop = true;
      }
    }

    void awaitAcked(int atLeast) throws InterruptedException {
      await(atLeast + " acknowledged puts", () -> acked.size() >= atLeast);
    }

    void await(String what, BooleanSupplier done) throws InterruptedException {
      cluster.await(
          what
              + " (have "
              + acked.size()
              + " acknowledged, "
              + retries
              + " retried, per member "
              + perMember
              + ", unexpected "
              + unexpected
              + ")",
          () -> {
            assertThat(threads).as("writer threads").allMatch(Thread::isAlive);
            return done.getAsBoolean() ? true : null;
          });
    }

    void stopAndJoin() throws InterruptedException {
      stop = true;
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(t.isAlive()).as("%s stopped", t.getName()).isFalse();
      }
    }
  }

  // ---------------------------------------------------------------- watcher

  /**
   * Watches the prefix on one member; when the stream fails or ends it resumes on the next member
   * of its list with start_revision = last seen revision + 1.
   */
  private static final class PrefixWatcher implements AutoCloseable {
    final String name;
    final Queue<Event> events = new ConcurrentLinkedQueue<>();
    final Queue<String> violations = new ConcurrentLinkedQueue<>();
    final AtomicInteger reconnects = new AtomicInteger();
    private final List<Member> targets;
    private final ScheduledExecutorService retry;
    private int target; // guarded by this
    private int generation; // guarded by this
    private long lastRevision; // guarded by this
    private StreamObserver<WatchRequest> requests; // guarded by this
    private boolean closed; // guarded by this

    PrefixWatcher(String name, List<Member> targets) {
      this.name = name;
      this.targets = targets;
      this.retry =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, name + "-retry");
                t.setDaemon(true);
                return t;
              });
    }

    synchronized long lastRevision() {
      return lastRevision;
    }

    synchronized void start(long startRevision) {
      lastRevision = startRevision - 1;
      connect();
    }

    private synchronized void connect() {
      if (closed) {
        return;
      }
      int gen = ++generation;
      Member m = targets.get(target);
      requests = WatchGrpc.newStub(m.channel()).watch(new Responses(gen, m));
      requests.onNext(
          WatchRequest.newBuilder()
              .setCreateRequest(
                  WatchCreateRequest.newBuilder()
                      .setKey(PREFIX)
                      .setRangeEnd(PREFIX_END)
                      .setStartRevision(lastRevision + 1))
              .build());
    }

    /** The stream {@code gen} broke: resume on the next member shortly. */
    private synchronized void broken(int gen) {
      if (gen != generation || closed) {
        return;
      }
      generation++; // ignore anything more from the broken stream
      target = (target + 1) % targets.size();
      reconnects.incrementAndGet();
      retry.schedule(this::connect, 100, TimeUnit.MILLISECONDS);
    }

    private synchronized void received(int gen, Member m, WatchResponse r) {
      if (gen != generation) {
        return;
      }
      if (r.getCanceled() || r.getCompactRevision() != 0) {
        violations.add(
            "at "
                + m
                + ": canceled ("
                + r.getCancelReason()
                + "), compact "
                + r.getCompactRevision());
        requests.onCompleted();
        broken(gen);
        return;
      }
      for (Event e : r.getEventsList()) {
        events.add(e);
        lastRevision = Math.max(lastRevision, e.getKv().getModRevision());
      }
    }

    private final class Responses implements StreamObserver<WatchResponse> {
      private final int gen;
      private final Member member;

      Responses(int gen, Member member) {
        this.gen = gen;
        this.member = member;
      }

      @Override
      public void onNext(WatchResponse r) {
        received(gen, member, r);
      }

      @Override
      public void onError(Throwable t) {
        broken(gen);
      }

      @Override
      public void onCompleted() {
        broken(gen);
      }
    }

    @Override
    public void close() {
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
        generation++;
        if (requests != null) {
          try {
            requests.onCompleted();
          } catch (RuntimeException ignored) {
            // the stream is already gone
          }
        }
      }
      retry.shutdownNow();
    }
  }
}
