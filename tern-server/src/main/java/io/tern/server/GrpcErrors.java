package io.tern.server;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.tern.embed.RaftServerException;
import io.tern.embed.ServerClosedException;
import io.tern.kv.KvException;
import io.tern.raft.NotLeaderException;
import io.tern.raft.ProposalDroppedException;
import io.tern.raft.RequestTimeoutException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns the failures of a request into the gRPC status and message an etcd client expects. */
final class GrpcErrors {
  private static final Logger LOG = LoggerFactory.getLogger(GrpcErrors.class);

  static final String NO_LEADER = "etcdserver: no leader";
  static final String LEADER_CHANGED = "etcdserver: leader changed";
  static final String NOT_LEADER = "etcdserver: not leader";
  static final String TIMEOUT = "etcdserver: request timed out";
  static final String STOPPED = "etcdserver: server stopped";
  static final String MEMBER_NOT_FOUND = "etcdserver: member not found";
  static final String MEMBER_EXISTS = "etcdserver: member ID already exist";
  static final String PEER_URL_EXISTS = "etcdserver: Peer URLs already exists";
  static final String BAD_URLS = "etcdserver: given member URLs are invalid";
  static final String NOT_LEARNER = "etcdserver: can only promote a learner member";
  static final String LEARNER_NOT_READY =
      "etcdserver: can only promote a learner member which is in sync with leader";
  static final String BAD_TRANSFEREE = "etcdserver: bad leader transferee";
  static final String TTL_TOO_LARGE = "etcdserver: too large lease TTL";

  private GrpcErrors() {}

  static StatusRuntimeException status(Status.Code code, String message) {
    return Status.fromCode(code).withDescription(message).asRuntimeException();
  }

  /**
   * The status of a refusal of the state machine. etcd's MVCC errors ("mvcc: required revision has
   * been compacted", "... is a future revision") reach clients with the "etcdserver: " prefix (a
   * watch's cancel reason carries them bare, see {@link WatchService}).
   */
  static StatusRuntimeException of(KvException e) {
    String message = e.getMessage();
    if (message.startsWith(MVCC_PREFIX)) {
      message = "etcdserver: " + message;
    }
    return status(Status.Code.valueOf(e.code().name()), message);
  }

  private static final String MVCC_PREFIX = "mvcc: ";

  /** The status a failed request answers with; unexpected failures are logged. */
  static StatusRuntimeException toStatus(Throwable t) {
    Throwable e = unwrap(t);
    if (e instanceof StatusRuntimeException s) {
      return s;
    }
    if (e instanceof StatusException s) {
      return s.getStatus().asRuntimeException(s.getTrailers());
    }
    if (e instanceof KvException k) {
      return of(k);
    }
    if (e instanceof NotLeaderException n) {
      return status(Status.Code.UNAVAILABLE, n.leaderHint() == 0 ? NO_LEADER : LEADER_CHANGED);
    }
    if (e instanceof RequestTimeoutException) {
      return status(Status.Code.UNAVAILABLE, TIMEOUT);
    }
    if (e instanceof ProposalDroppedException) {
      return status(Status.Code.UNAVAILABLE, "etcdserver: request dropped: " + e.getMessage());
    }
    if (e instanceof ServerClosedException
        || e instanceof RaftServerException
        || e instanceof CancellationException) {
      return status(Status.Code.UNAVAILABLE, STOPPED);
    }
    LOG.warn("request failed unexpectedly", e);
    return status(Status.Code.INTERNAL, "etcdserver: " + e);
  }

  static Throwable unwrap(Throwable t) {
    Throwable e = t;
    while ((e instanceof CompletionException || e instanceof ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
