package io.tern.server;

import io.grpc.stub.StreamObserver;
import io.tern.api.AlarmMember;
import io.tern.api.AlarmRequest;
import io.tern.api.AlarmType;
import io.tern.api.CompactionRequest;
import io.tern.api.CompactionResponse;
import io.tern.api.DeleteRangeRequest;
import io.tern.api.DeleteRangeResponse;
import io.tern.api.InternalRequest;
import io.tern.api.KVGrpc;
import io.tern.api.PutRequest;
import io.tern.api.PutResponse;
import io.tern.api.RangeRequest;
import io.tern.api.RangeResponse;
import io.tern.api.RequestOp;
import io.tern.api.TxnRequest;
import io.tern.api.TxnResponse;
import io.tern.embed.ServerClosedException;
import io.tern.kv.KvException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's KV service. Writes are checked first (size, keys, transaction shape, space quota) and then
 * replicated; linearizable ranges wait for a ReadIndex round, serializable ones read this member's
 * store at once.
 */
final class KvService extends KVGrpc.KVImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(KvService.class);

  private final EtcdServer server;

  KvService(EtcdServer server) {
    this.server = server;
  }

  @Override
  public void range(RangeRequest request, StreamObserver<RangeResponse> out) {
    try {
      checkSize(request.getSerializedSize());
      if (request.getKey().isEmpty()) {
        throw KvException.keyNotProvided();
      }
    } catch (KvException e) {
      Replies.fail(out, e);
      return;
    }
    if (request.getSerializable()) {
      // Off the Netty thread: a range may read much of the store.
      try {
        server
            .workers()
            .execute(
                () -> Replies.sendNow(out, () -> server.withHeader(server.kv().range(request))));
      } catch (RejectedExecutionException e) {
        Replies.fail(out, new ServerClosedException(server.memberId()));
      }
      return;
    }
    // A single key (one lookup, usually answered from apply's memory of newest versions) is read
    // here on the leader's lease when it can be (no thread hand-off at all), else on the apply
    // thread that completes the barrier. A range that may read much of the store moves to a worker,
    // which reads it on the lease or after the barrier.
    if (request.getRangeEnd().isEmpty()) {
      if (!answeredOnLease(request, out)) {
        Replies.sendWhenDone(
            out, server.linearizableBarrierOnApply().thenApply(ignored -> rangeOrThrow(request)));
      }
      return;
    }
    try {
      server
          .workers()
          .execute(
              () -> {
                if (!answeredOnLease(request, out)) {
                  Replies.sendWhenDone(
                      out,
                      server.linearizableBarrier().thenApply(ignored -> rangeOrThrow(request)));
                }
              });
    } catch (RejectedExecutionException e) {
      Replies.fail(out, new ServerClosedException(server.memberId()));
    }
  }

  /** Reads {@code request} on this thread and answers it if the leader's lease allows. */
  private boolean answeredOnLease(RangeRequest request, StreamObserver<RangeResponse> out) {
    Optional<Replies.Outcome<RangeResponse>> onLease =
        server.readOnLease(
            () -> Replies.capture(() -> server.withHeader(server.kv().range(request))));
    onLease.ifPresent(answer -> answer.sendTo(out));
    return onLease.isPresent();
  }

  private RangeResponse rangeOrThrow(RangeRequest request) {
    try {
      return server.withHeader(server.kv().range(request));
    } catch (KvException e) {
      throw new CompletionException(e);
    }
  }

  @Override
  public void put(PutRequest request, StreamObserver<PutResponse> out) {
    propose(InternalRequest.newBuilder().setPut(request), PutResponse.class, true, out);
  }

  @Override
  public void deleteRange(DeleteRangeRequest request, StreamObserver<DeleteRangeResponse> out) {
    propose(
        InternalRequest.newBuilder().setDeleteRange(request),
        DeleteRangeResponse.class,
        false,
        out);
  }

  @Override
  public void txn(TxnRequest request, StreamObserver<TxnResponse> out) {
    propose(InternalRequest.newBuilder().setTxn(request), TxnResponse.class, hasPut(request), out);
  }

  @Override
  public void compact(CompactionRequest request, StreamObserver<CompactionResponse> out) {
    propose(
        InternalRequest.newBuilder().setCompaction(request), CompactionResponse.class, false, out);
  }

  private <T extends com.google.protobuf.Message> void propose(
      InternalRequest.Builder request, Class<T> type, boolean quotaApplies, StreamObserver<T> out) {
    CompletableFuture<Void> checked;
    try {
      checked = checkWrite(server, request.build(), quotaApplies);
    } catch (KvException e) {
      Replies.fail(out, e);
      return;
    }
    Replies.sendWhenDone(out, checked.thenCompose(x -> server.write(request, type)));
  }

  /**
   * The checks etcd makes before proposing a write: the request's size, its well-formedness, and
   * (for writes that grow the store) the space quota. Past the quota, like etcd, the write is
   * refused once the NOSPACE alarm is raised (applied here), so a client told "database space
   * exceeded" finds the alarm listed; the returned future then fails with that error.
   *
   * @throws KvException if the request is malformed or too large
   */
  static CompletableFuture<Void> checkWrite(
      EtcdServer server, InternalRequest request, boolean quotaApplies) throws KvException {
    server.kv().validate(request);
    if (quotaApplies && server.kv().overQuota()) {
      return raiseNoSpace(server)
          .thenCompose(x -> CompletableFuture.failedFuture(KvException.noSpace()));
    }
    return CompletableFuture.completedFuture(null);
  }

  private void checkSize(int bytes) throws KvException {
    if (bytes > server.config().maxRequestBytes()) {
      throw KvException.requestTooLarge();
    }
  }

  /**
   * Proposes the NOSPACE alarm for this member unless it is already raised; completes (never
   * exceptionally: a failure is logged) once it is applied here.
   */
  static CompletableFuture<Void> raiseNoSpace(EtcdServer server) {
    List<AlarmMember> alarms = server.kv().alarms();
    boolean raised =
        alarms.stream()
            .anyMatch(
                a -> a.getMemberID() == server.memberId() && a.getAlarm() == AlarmType.NOSPACE);
    if (raised) {
      return CompletableFuture.completedFuture(null);
    }
    LOG.warn(
        "member {}: the store exceeds its quota; raising the NOSPACE alarm",
        Long.toHexString(server.memberId()));
    AlarmRequest alarm =
        AlarmRequest.newBuilder()
            .setAction(AlarmRequest.AlarmAction.ACTIVATE)
            .setMemberID(server.memberId())
            .setAlarm(AlarmType.NOSPACE)
            .build();
    return server
        .writeRaw(InternalRequest.newBuilder().setAlarm(alarm))
        .handle(
            (r, t) -> {
              if (t != null) {
                LOG.warn("raising the NOSPACE alarm failed: {}", GrpcErrors.unwrap(t).toString());
              }
              return null;
            });
  }

  private static boolean hasPut(TxnRequest t) {
    for (List<RequestOp> branch : List.of(t.getSuccessList(), t.getFailureList())) {
      for (RequestOp op : branch) {
        if (op.hasRequestPut() || (op.hasRequestTxn() && hasPut(op.getRequestTxn()))) {
          return true;
        }
      }
    }
    return false;
  }
}
