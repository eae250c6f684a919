package io.tern.chaos;

import static io.tern.chaos.Cluster.bytes;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.tern.api.Compare;
import io.tern.api.KVGrpc;
import io.tern.api.LeaseGrantRequest;
import io.tern.api.LeaseGrantResponse;
import io.tern.api.LeaseGrpc;
import io.tern.api.LeaseKeepAliveRequest;
import io.tern.api.LeaseKeepAliveResponse;
import io.tern.api.LeaseRevokeRequest;
import io.tern.api.PutRequest;
import io.tern.api.PutResponse;
import io.tern.api.RangeRequest;
import io.tern.api.RangeResponse;
import io.tern.api.RequestOp;
import io.tern.api.TxnRequest;
import io.tern.api.TxnResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The client workloads of a run: threads that issue operations to random members (clients do not
 * know where the faults are) and record each in the {@link Recorder}.
 */
abstract class Workload implements Runnable {
  /** Per-request deadline: a request to a partitioned or paused member times out (unknown). */
  static final long DEADLINE_MS = 2_000;

  /** Registers: keys are used in groups, so each key sees a bounded number of operations. */
  static final String REGISTER_PREFIX = "r/";

  static final String APPEND_PREFIX = "a/";
  static final String LEASE_PREFIX = "l/";

  final int client;
  final Cluster cluster;
  final Recorder rec;
  final Random rnd;
  volatile boolean stop;

  Workload(int client, Cluster cluster, Recorder rec, long seed) {
    this.client = client;
    this.cluster = cluster;
    this.rec = rec;
    this.rnd = new Random(seed);
  }

  Member randomMember() {
    List<Member> ms = cluster.members();
    return ms.get(rnd.nextInt(ms.size()));
  }

  /**
   * Whether a failed write certainly had no effect. Only refusals the server decides before
   * proposing (or deterministically at apply) qualify; a timeout, a lost connection or "leader
   * changed" leaves the outcome unknown.
   */
  static boolean definitelyFailed(StatusRuntimeException e) {
    return switch (e.getStatus().getCode()) {
      case INVALID_ARGUMENT,
          NOT_FOUND,
          FAILED_PRECONDITION,
          OUT_OF_RANGE,
          PERMISSION_DENIED,
          UNIMPLEMENTED,
          ALREADY_EXISTS ->
          true;
      default -> false;
    };
  }

  static String describe(Throwable t) {
    if (t instanceof StatusRuntimeException s) {
      Status st = s.getStatus();
      return st.getCode() + (st.getDescription() == null ? "" : ": " + st.getDescription());
    }
    return t.toString();
  }

  void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop = true;
    }
  }

  /** Runs until {@link #stop}. */
  @Override
  public final void run() {
    while (!stop && !Thread.currentThread().isInterrupted()) {
      step();
    }
  }

  abstract void step();

  // ================================================================== registers

  /** Shared key space of the register clients. */
  static final class Keys {
    static final int KEYS_PER_GROUP = 4;
    static final int OPS_PER_GROUP = 240;
    private final AtomicLong ops = new AtomicLong();

    String pick(Random rnd) {
      long group = ops.getAndIncrement() / OPS_PER_GROUP;
      return REGISTER_PREFIX + group + "/" + rnd.nextInt(KEYS_PER_GROUP);
    }
  }

  /** Linearizable reads, writes and compare-and-set (Txn) on registers. */
  static final class Registers extends Workload {
    private final Keys keys;
    private final Map<String, String> lastSeen = new HashMap<>();
    private long seq;

    Registers(int client, Cluster cluster, Recorder rec, long seed, Keys keys) {
      super(client, cluster, rec, seed);
      this.keys = keys;
    }

    @Override
    void step() {
      String key = keys.pick(rnd);
      Member m = randomMember();
      int dice = rnd.nextInt(10);
      if (dice < 4) {
        read(client, cluster, rec, m, key);
      } else if (dice < 7) {
        String value = "c" + client + "-" + (seq++);
        Recorder.Op op = rec.invoke(client, "write", key, value, null, m.name);
        try {
          PutResponse r =
              KVGrpc.newBlockingStub(m.channel())
                  .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
                  .put(PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value)).build());
          rec.ok(op, null, r.getHeader().getRevision());
          lastSeen.put(key, value);
        } catch (StatusRuntimeException e) {
          resolveWriteFailure(op, e);
        }
      } else {
        String expected = lastSeen.get(key);
        String value = "c" + client + "-" + (seq++);
        Recorder.Op op = rec.invoke(client, "cas", key, value, expected, m.name);
        Compare cmp =
            expected == null
                ? Compare.newBuilder()
                    .setKey(bytes(key))
                    .setTarget(Compare.CompareTarget.CREATE)
                    .setResult(Compare.CompareResult.EQUAL)
                    .setCreateRevision(0)
                    .build()
                : Compare.newBuilder()
                    .setKey(bytes(key))
                    .setTarget(Compare.CompareTarget.VALUE)
                    .setResult(Compare.CompareResult.EQUAL)
                    .setValue(bytes(expected))
                    .build();
        try {
          TxnResponse r =
              KVGrpc.newBlockingStub(m.channel())
                  .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
                  .txn(
                      TxnRequest.newBuilder()
                          .addCompare(cmp)
                          .addSuccess(
                              RequestOp.newBuilder()
                                  .setRequestPut(
                                      PutRequest.newBuilder()
                                          .setKey(bytes(key))
                                          .setValue(bytes(value))))
                          .build());
          rec.ok(op, r.getSucceeded(), r.getHeader().getRevision());
          if (r.getSucceeded()) {
            lastSeen.put(key, value);
          }
        } catch (StatusRuntimeException e) {
          resolveWriteFailure(op, e);
        }
      }
    }

    private void read(int client, Cluster cluster, Recorder rec, Member m, String key) {
      Recorder.Op op = rec.invoke(client, "read", key, null, null, m.name);
      String v = Workload.read(rec, op, m, key);
      if (v != null) {
        lastSeen.put(key, v);
      }
    }

    private void resolveWriteFailure(Recorder.Op op, StatusRuntimeException e) {
      if (definitelyFailed(e)) {
        rec.fail(op, describe(e));
      } else {
        rec.unknown(op, describe(e));
      }
    }
  }

  /** A linearizable read of {@code key} at {@code m}, recorded as {@code op}; the value read. */
  static String read(Recorder rec, Recorder.Op op, Member m, String key) {
    try {
      RangeResponse r =
          KVGrpc.newBlockingStub(m.channel())
              .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
              .range(RangeRequest.newBuilder().setKey(bytes(key)).build());
      String v = r.getKvsCount() == 0 ? null : r.getKvs(0).getValue().toStringUtf8();
      rec.ok(op, v, r.getHeader().getRevision());
      return v;
    } catch (StatusRuntimeException e) {
      rec.fail(op, describe(e)); // a read has no effect
      return null;
    }
  }

  // ================================================================== unique appends

  /** Puts of keys never written before; each acknowledged one must survive. */
  static final class Appends extends Workload {
    private long seq;

    Appends(int client, Cluster cluster, Recorder rec, long seed) {
      super(client, cluster, rec, seed);
    }

    @Override
    void step() {
      String key = String.format("%sc%d/%06d", APPEND_PREFIX, client, seq);
      String value = "v" + client + "-" + seq;
      seq++;
      Member m = randomMember();
      Recorder.Op op = rec.invoke(client, "append", key, value, null, m.name);
      try {
        PutResponse r =
            KVGrpc.newBlockingStub(m.channel())
                .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
                .put(PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value)).build());
        rec.ok(op, null, r.getHeader().getRevision());
      } catch (StatusRuntimeException e) {
        if (definitelyFailed(e)) {
          rec.fail(op, describe(e));
        } else {
          rec.unknown(op, describe(e));
        }
        pause(20);
      }
    }
  }

  // ================================================================== leases

  /** What the lease client did with one lease. */
  static final class LeaseRecord {
    final long id;
    final long ttlSeconds;
    final long grantInvoke;
    final List<String> keys = new ArrayList<>();
    // Keep-alives acknowledged with a positive TTL. One with an unknown outcome may not have
    // happened, so it does not move the earliest time the lease may expire.
    final List<Long> keepAliveInvokes = new ArrayList<>();
    long revokeInvoke = -1; // any outcome
    boolean revokeOk;
    String plan;

    LeaseRecord(long id, long ttlSeconds, long grantInvoke) {
      this.id = id;
      this.ttlSeconds = ttlSeconds;
      this.grantInvoke = grantInvoke;
    }

    /**
     * The invocation of the last grant or keep-alive known to have reset the lease's clock: the
     * lease cannot legitimately expire before this plus the TTL.
     */
    synchronized long lastRefresh() {
      long t = grantInvoke;
      for (long k : keepAliveInvokes) {
        t = Math.max(t, k);
      }
      return t;
    }
  }

  /**
   * Grants short leases, attaches two keys to each, then lets it expire, keeps it alive once and
   * lets it expire, or revokes it.
   */
  static final class Leases extends Workload {
    final ConcurrentLinkedQueue<LeaseRecord> leases = new ConcurrentLinkedQueue<>();
    private final List<LeaseRecord> toRevoke = new ArrayList<>();
    private final List<LeaseRecord> toKeepAlive = new ArrayList<>();

    private final boolean lateKeepAlives;

    Leases(int client, Cluster cluster, Recorder rec, long seed, boolean lateKeepAlives) {
      super(client, cluster, rec, seed);
      this.lateKeepAlives = lateKeepAlives;
    }

    @Override
    void step() {
      long ttl = 2 + rnd.nextInt(3);
      Member m = randomMember();
      Recorder.Op op = rec.invoke(client, "lease-grant", "", Long.toString(ttl), null, m.name);
      LeaseGrantResponse g;
      try {
        g =
            LeaseGrpc.newBlockingStub(m.channel())
                .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
                .leaseGrant(LeaseGrantRequest.newBuilder().setTTL(ttl).build());
        rec.ok(op, Long.toHexString(g.getID()), g.getHeader().getRevision());
      } catch (StatusRuntimeException e) {
        rec.unknown(op, describe(e)); // a granted lease we do not know of attaches no key
        pause(200);
        return;
      }
      LeaseRecord lease = new LeaseRecord(g.getID(), g.getTTL(), op.invoke);
      int plan = rnd.nextInt(3);
      lease.plan = plan == 0 ? "expire" : plan == 1 ? "keepalive" : "revoke";
      leases.add(lease);
      for (int k = 0; k < 2; k++) {
        String key = LEASE_PREFIX + Long.toHexString(lease.id) + "/" + k;
        Member pm = randomMember();
        Recorder.Op put = rec.invoke(client, "lease-put", key, "x", null, pm.name);
        synchronized (lease) {
          lease.keys.add(key);
        }
        try {
          PutResponse r =
              KVGrpc.newBlockingStub(pm.channel())
                  .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
                  .put(
                      PutRequest.newBuilder()
                          .setKey(bytes(key))
                          .setValue(bytes("x"))
                          .setLease(lease.id)
                          .build());
          rec.ok(put, null, r.getHeader().getRevision());
        } catch (StatusRuntimeException e) {
          if (definitelyFailed(e)) {
            rec.fail(put, describe(e));
          } else {
            rec.unknown(put, describe(e));
          }
        }
      }
      if (plan == 1) {
        toKeepAlive.add(lease);
      } else if (plan == 2) {
        toRevoke.add(lease);
      }
      // Act on earlier leases, then let time pass so several leases overlap.
      pause(300 + rnd.nextInt(500));
      for (LeaseRecord l : List.copyOf(toKeepAlive)) {
        toKeepAlive.remove(l);
        keepAlive(l);
      }
      for (LeaseRecord l : List.copyOf(toRevoke)) {
        toRevoke.remove(l);
        revoke(l);
      }
    }

    private void keepAlive(LeaseRecord l) {
      if (!lateKeepAlives && rec.now() - l.lastRefresh() > l.ttlSeconds * 500_000_000L) {
        synchronized (l) {
          l.plan = "expire (keep-alive skipped: late)";
        }
        return;
      }
      Member m = randomMember();
      Recorder.Op op =
          rec.invoke(client, "lease-keepalive", "", Long.toHexString(l.id), null, m.name);
      CompletableFuture<LeaseKeepAliveResponse> reply = new CompletableFuture<>();
      StreamObserver<LeaseKeepAliveRequest> requests =
          LeaseGrpc.newStub(m.channel())
              .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
              .leaseKeepAlive(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(LeaseKeepAliveResponse r) {
                      reply.complete(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                      reply.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                      reply.completeExceptionally(new IllegalStateException("stream ended"));
                    }
                  });
      try {
        requests.onNext(LeaseKeepAliveRequest.newBuilder().setID(l.id).build());
        LeaseKeepAliveResponse r = reply.get(DEADLINE_MS + 500, TimeUnit.MILLISECONDS);
        rec.ok(op, Long.toString(r.getTTL()), r.getHeader().getRevision());
        if (r.getTTL() > 0) {
          synchronized (l) {
            l.keepAliveInvokes.add(op.invoke);
          }
        }
        requests.onCompleted();
      } catch (Exception e) {
        rec.unknown(op, describe(e.getCause() == null ? e : e.getCause()));
        try {
          requests.onError(Status.CANCELLED.asRuntimeException());
        } catch (RuntimeException ignored) {
          // already closed
        }
      }
    }

    private void revoke(LeaseRecord l) {
      Member m = randomMember();
      Recorder.Op op = rec.invoke(client, "lease-revoke", "", Long.toHexString(l.id), null, m.name);
      synchronized (l) {
        l.revokeInvoke = op.invoke;
      }
      try {
        var r =
            LeaseGrpc.newBlockingStub(m.channel())
                .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
                .leaseRevoke(LeaseRevokeRequest.newBuilder().setID(l.id).build());
        rec.ok(op, null, r.getHeader().getRevision());
        synchronized (l) {
          l.revokeOk = true;
        }
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
          rec.fail(op, describe(e)); // already expired (or never existed)
        } else {
          rec.unknown(op, describe(e));
        }
      }
    }
  }
}
