package io.tern.server;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.tern.api.InternalRequest;
import io.tern.api.LeaseGrantRequest;
import io.tern.api.LeaseGrantResponse;
import io.tern.api.LeaseGrpc;
import io.tern.api.LeaseKeepAliveRequest;
import io.tern.api.LeaseKeepAliveResponse;
import io.tern.api.LeaseLeasesRequest;
import io.tern.api.LeaseLeasesResponse;
import io.tern.api.LeaseRevokeRequest;
import io.tern.api.LeaseRevokeResponse;
import io.tern.api.LeaseStatus;
import io.tern.api.LeaseTimeToLiveRequest;
import io.tern.api.LeaseTimeToLiveResponse;
import io.tern.kv.KvException;
import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * etcd's Lease service. Grants, revokes and keep-alives are replicated through Raft, so every
 * member knows every lease; expiry is decided by the leader ({@link LeaseExpiry}).
 */
final class LeaseService extends LeaseGrpc.LeaseImplBase {
  /** etcd's largest lease TTL, in seconds. */
  static final long MAX_TTL_SECONDS = 9_000_000_000L;

  /** Lease ids this member picks: member bits above a counter of this many bits. */
  private static final int COUNTER_BITS = 40;

  private final EtcdServer server;
  private final long idPrefix;
  private final AtomicLong counter;
  private final long minTtlSeconds;

  LeaseService(EtcdServer server) {
    this.server = server;
    this.idPrefix = (server.memberId() & ((1L << (63 - COUNTER_BITS)) - 1)) << COUNTER_BITS;
    this.counter = new AtomicLong(new SecureRandom().nextLong() & ((1L << COUNTER_BITS) - 1));
    // Like etcd: a lease must outlive a leader election, or it could expire while nobody leads.
    this.minTtlSeconds = (server.config().electionMillis() * 3 / 2 + 999) / 1000;
  }

  @Override
  public void leaseGrant(LeaseGrantRequest request, StreamObserver<LeaseGrantResponse> out) {
    if (request.getTTL() > MAX_TTL_SECONDS) {
      Replies.fail(out, GrpcErrors.status(Status.Code.OUT_OF_RANGE, GrpcErrors.TTL_TOO_LARGE));
      return;
    }
    Replies.send(out, grant(request, request.getID() == 0 ? 3 : 1), server.workers());
  }

  private CompletableFuture<LeaseGrantResponse> grant(LeaseGrantRequest request, int attempts) {
    LeaseGrantRequest.Builder b = request.toBuilder();
    b.setTTL(Math.max(request.getTTL(), minTtlSeconds));
    if (request.getID() == 0) {
      b.setID(pickId());
    }
    InternalRequest.Builder proposal = InternalRequest.newBuilder().setLeaseGrant(b);
    CompletableFuture<Void> checked;
    try {
      checked = KvService.checkWrite(server, proposal.build(), true);
    } catch (KvException e) {
      return CompletableFuture.failedFuture(e);
    }
    CompletableFuture<LeaseGrantResponse> f =
        checked.thenCompose(x -> server.write(proposal, LeaseGrantResponse.class));
    if (attempts <= 1) {
      return f;
    }
    // An id picked here may have been granted meanwhile through another member: pick again.
    return f.handle(
            (r, t) -> {
              if (t != null
                  && GrpcErrors.unwrap(t) instanceof KvException k
                  && KvException.LEASE_EXISTS.equals(k.getMessage())) {
                return grant(request, attempts - 1);
              }
              return t == null
                  ? CompletableFuture.completedFuture(r)
                  : CompletableFuture.<LeaseGrantResponse>failedFuture(t);
            })
        .thenCompose(x -> x);
  }

  /** A positive lease id not known here: this member's bits and a counter. */
  private long pickId() {
    while (true) {
      long id = idPrefix | (counter.incrementAndGet() & ((1L << COUNTER_BITS) - 1));
      if (id > 0 && server.kv().lease(id).isEmpty()) {
        return id;
      }
    }
  }

  @Override
  public void leaseRevoke(LeaseRevokeRequest request, StreamObserver<LeaseRevokeResponse> out) {
    Replies.send(
        out,
        server.write(
            InternalRequest.newBuilder().setLeaseRevoke(request), LeaseRevokeResponse.class),
        server.workers());
  }

  @Override
  public StreamObserver<LeaseKeepAliveRequest> leaseKeepAlive(
      StreamObserver<LeaseKeepAliveResponse> responses) {
    ServerCallStreamObserver<LeaseKeepAliveResponse> out =
        (ServerCallStreamObserver<LeaseKeepAliveResponse>) responses;
    StreamSender<LeaseKeepAliveResponse> sender =
        new StreamSender<>(out, server.workers(), 16L << 20, () -> {});
    out.setOnCancelHandler(() -> sender.finish(null));
    return new StreamObserver<>() {
      @Override
      public void onNext(LeaseKeepAliveRequest request) {
        server
            .write(
                InternalRequest.newBuilder().setLeaseKeepAlive(request),
                LeaseKeepAliveResponse.class)
            .whenComplete(
                (r, t) -> {
                  if (t == null) {
                    sender.send(r);
                  } else if (GrpcErrors.unwrap(t) instanceof KvException k
                      && k.code() == KvException.Code.NOT_FOUND) {
                    sender.send(
                        LeaseKeepAliveResponse.newBuilder()
                            .setHeader(server.header(server.kv().revision()))
                            .setID(request.getID())
                            .setTTL(0)
                            .build());
                  } else {
                    sender.finish(GrpcErrors.toStatus(t).getStatus());
                  }
                });
      }

      @Override
      public void onError(Throwable t) {
        sender.finish(null);
      }

      @Override
      public void onCompleted() {
        sender.finish(Status.OK);
      }
    };
  }

  @Override
  public void leaseTimeToLive(
      LeaseTimeToLiveRequest request, StreamObserver<LeaseTimeToLiveResponse> out) {
    CompletableFuture<LeaseTimeToLiveResponse> f =
        server
            .linearizableBarrier()
            .thenApply(
                ignored -> {
                  LeaseTimeToLiveResponse.Builder r =
                      LeaseTimeToLiveResponse.newBuilder()
                          .setHeader(server.header(server.kv().revision()))
                          .setID(request.getID());
                  var lease = server.kv().lease(request.getID());
                  if (lease.isEmpty()) {
                    return r.setTTL(-1).build();
                  }
                  r.setTTL(lease.get().remainingTtl()).setGrantedTTL(lease.get().grantedTtl());
                  if (request.getKeys()) {
                    r.addAllKeys(lease.get().keys());
                  }
                  return r.build();
                });
    Replies.send(out, f, server.workers());
  }

  @Override
  public void leaseLeases(LeaseLeasesRequest request, StreamObserver<LeaseLeasesResponse> out) {
    CompletableFuture<LeaseLeasesResponse> f =
        server
            .linearizableBarrier()
            .thenApply(
                ignored -> {
                  LeaseLeasesResponse.Builder r =
                      LeaseLeasesResponse.newBuilder()
                          .setHeader(server.header(server.kv().revision()));
                  for (long id : server.kv().leaseIds()) {
                    r.addLeases(LeaseStatus.newBuilder().setID(id));
                  }
                  return r.build();
                });
    Replies.send(out, f, server.workers());
  }
}
