package io.tern.chaos;

import static io.tern.chaos.Cluster.bytes;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.tern.api.KVGrpc;
import io.tern.api.PutRequest;
import io.tern.api.PutResponse;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Many unique appends in flight at once (asynchronous puts to the serving members), so a member
 * that is down falls more than the leader's retained log behind and must install a snapshot when it
 * returns. Every put is recorded like the append workload's and checked the same way.
 */
final class Burst {
  /** Raft entries the down member must fall behind: the 5,000 kept behind a snapshot, plus. */
  static final long ENTRIES = 5_800;

  static final int MAX_PUTS = 15_000;
  static final int IN_FLIGHT = 128;
  static final int CLIENT = 900;

  private final Cluster cluster;
  private final Recorder rec;
  private int rounds;

  Burst(Cluster cluster, Recorder rec) {
    this.cluster = cluster;
    this.rec = rec;
  }

  long size() {
    return ENTRIES;
  }

  private long raftIndex(List<Member> targets) {
    long max = 0;
    for (Member m : targets) {
      max = Math.max(max, cluster.status(m).map(s -> s.getRaftIndex()).orElse(0L));
    }
    return max;
  }

  /**
   * Writes puts until the serving members' Raft index has advanced by {@link #ENTRIES} (at most
   * {@link #MAX_PUTS}, at most 60 s); returns how many were acknowledged.
   */
  int run() throws InterruptedException {
    int round = rounds++;
    List<Member> targets = cluster.members().stream().filter(Member::serving).toList();
    long from = raftIndex(targets);
    Semaphore permits = new Semaphore(IN_FLIGHT);
    AtomicInteger acked = new AtomicInteger();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    for (int i = 0; i < MAX_PUTS && System.nanoTime() < deadline; i++) {
      if (i % 500 == 499 && raftIndex(targets) - from >= ENTRIES) {
        break;
      }
      permits.acquire();
      Member m = targets.get(i % targets.size());
      String key = String.format("%sburst%d/%05d", Workload.APPEND_PREFIX, round, i);
      String value = "b" + round + "-" + i;
      Recorder.Op op = rec.invoke(CLIENT, "append", key, value, null, m.name);
      KVGrpc.newStub(m.channel())
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .put(
              PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value)).build(),
              new StreamObserver<PutResponse>() {
                @Override
                public void onNext(PutResponse r) {
                  rec.ok(op, null, r.getHeader().getRevision());
                  acked.incrementAndGet();
                  permits.release();
                }

                @Override
                public void onCompleted() {}

                @Override
                public void onError(Throwable t) {
                  if (t instanceof StatusRuntimeException e && Workload.definitelyFailed(e)) {
                    rec.fail(op, Workload.describe(e));
                  } else {
                    rec.unknown(op, Workload.describe(t));
                  }
                  permits.release();
                }
              });
    }
    permits.acquire(IN_FLIGHT);
    permits.release(IN_FLIGHT);
    return acked.get();
  }
}
