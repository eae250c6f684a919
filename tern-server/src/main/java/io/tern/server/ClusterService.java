package io.tern.server;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.tern.api.ClusterGrpc;
import io.tern.api.InternalRequest;
import io.tern.api.Member;
import io.tern.api.MemberAddRequest;
import io.tern.api.MemberAddResponse;
import io.tern.api.MemberAttributes;
import io.tern.api.MemberListRequest;
import io.tern.api.MemberListResponse;
import io.tern.api.MemberPromoteRequest;
import io.tern.api.MemberPromoteResponse;
import io.tern.api.MemberRemove;
import io.tern.api.MemberRemoveRequest;
import io.tern.api.MemberRemoveResponse;
import io.tern.api.MemberUpdateRequest;
import io.tern.api.MemberUpdateResponse;
import io.tern.embed.ServerStatus;
import io.tern.raft.NotLeaderException;
import io.tern.raft.ProposalDroppedException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's Cluster service. The member table (names and URLs) is replicated state of the KV store;
 * the Raft configuration is changed alongside it. Changes run on the leader: a follower forwards
 * them to the leader's client URL.
 */
final class ClusterService extends ClusterGrpc.ClusterImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterService.class);

  private final EtcdServer server;

  ClusterService(EtcdServer server) {
    this.server = server;
  }

  @Override
  public void memberList(MemberListRequest request, StreamObserver<MemberListResponse> out) {
    CompletableFuture<Void> ready =
        request.getLinearizable()
            ? server.linearizableBarrier()
            : CompletableFuture.completedFuture(null);
    Replies.send(
        out,
        ready.thenApply(
            ignored ->
                MemberListResponse.newBuilder()
                    .setHeader(server.header(server.kv().revision()))
                    .addAllMembers(members())
                    .build()),
        server.workers());
  }

  @Override
  public void memberAdd(MemberAddRequest request, StreamObserver<MemberAddResponse> out) {
    List<PeerUrl> urls;
    try {
      urls = parseUrls(request.getPeerURLsList());
    } catch (RuntimeException e) {
      Replies.fail(out, e);
      return;
    }
    Replies.send(
        out,
        server.onLeader(
            () -> add(urls, request.getIsLearner()),
            (url, leader) -> LeaderClients.call(leaderStub(url)::memberAdd, request)),
        server.workers());
  }

  private CompletableFuture<MemberAddResponse> add(List<PeerUrl> urls, boolean learner) {
    return server
        .linearizableBarrier()
        .thenCompose(ignored -> server.status())
        .thenComposeAsync(
            status -> {
              checkUrlsFree(urls, 0);
              long id = MemberIds.memberId(urls, server.config().initialClusterToken());
              if (server.member(id).isPresent() || status.isMember(id)) {
                throw GrpcErrors.status(Status.Code.FAILED_PRECONDITION, GrpcErrors.MEMBER_EXISTS);
              }
              MemberAttributes m =
                  MemberAttributes.newBuilder()
                      .setId(id)
                      .addAllPeerUrls(urls.stream().map(PeerUrl::toString).toList())
                      .setIsLearner(learner)
                      .build();
              LOG.info(
                  "adding member {} at {}{}",
                  Long.toHexString(id),
                  urls,
                  learner ? " as a learner" : "");
              AtomicBoolean raftAsked = new AtomicBoolean();
              return putMember(m)
                  .thenCompose(
                      x -> {
                        raftAsked.set(true);
                        return server.raft().addMember(id, urls.get(0).address(), learner);
                      })
                  .handle(
                      (x, t) -> {
                        if (t == null) {
                          return CompletableFuture.completedFuture(
                              MemberAddResponse.newBuilder()
                                  .setHeader(server.header(server.kv().revision()))
                                  .setMember(toMember(m))
                                  .addAllMembers(members())
                                  .build());
                        }
                        if (raftAsked.get() && !notProposed(t)) {
                          // The change may still commit: MemberReconciler settles the table
                          // against the configuration Raft ends up with.
                          LOG.warn(
                              "adding member {}: outcome unknown ({})",
                              Long.toHexString(id),
                              GrpcErrors.unwrap(t).toString());
                          return CompletableFuture.<MemberAddResponse>failedFuture(t);
                        }
                        // The table must not name a member Raft does not know: take it out again.
                        return removeMember(id)
                            .handle((y, u) -> null)
                            .thenCompose(y -> CompletableFuture.<MemberAddResponse>failedFuture(t));
                      })
                  .thenCompose(f -> f);
            },
            server.workers());
  }

  /**
   * Whether a Raft membership change failed before it was proposed (refused, or not the leader), so
   * it can never take effect; any other failure (a timeout, say) leaves its outcome unknown.
   */
  static boolean notProposed(Throwable t) {
    Throwable e = GrpcErrors.unwrap(t);
    return e instanceof ProposalDroppedException || e instanceof NotLeaderException;
  }

  /** The Cluster stub of the leader at {@code url}, for a call forwarded from this member. */
  private ClusterGrpc.ClusterStub leaderStub(PeerUrl url) {
    return server.leaderClients().stub(url, server.memberId(), ClusterGrpc::newStub);
  }

  @Override
  public void memberRemove(MemberRemoveRequest request, StreamObserver<MemberRemoveResponse> out) {
    Replies.send(
        out,
        server.onLeader(
            () -> remove(request.getID()),
            (url, leader) -> LeaderClients.call(leaderStub(url)::memberRemove, request)),
        server.workers());
  }

  private CompletableFuture<MemberRemoveResponse> remove(long id) {
    return server
        .linearizableBarrier()
        .thenCompose(ignored -> server.status())
        .thenComposeAsync(
            status -> {
              MemberAttributes m = existing(id);
              if (status.isLeader() && !status.isMember(id) && !status.membershipChanging()) {
                // The table names a member the Raft configuration does not have (a change whose
                // two steps did not both happen): only the table is left to change.
                LOG.warn(
                    "removing member {}, which only the member table names", Long.toHexString(id));
                return removeMember(id).thenApply(x -> removed());
              }
              LOG.info("removing member {}", Long.toHexString(id));
              AtomicBoolean raftAsked = new AtomicBoolean();
              return removeMember(id)
                  .thenCompose(
                      x -> {
                        raftAsked.set(true);
                        return server.raft().removeMember(id);
                      })
                  .handle(
                      (x, t) -> {
                        if (t == null) {
                          return CompletableFuture.completedFuture(removed());
                        }
                        if (raftAsked.get() && !notProposed(t)) {
                          LOG.warn(
                              "removing member {}: outcome unknown ({})",
                              Long.toHexString(id),
                              GrpcErrors.unwrap(t).toString());
                          return CompletableFuture.<MemberRemoveResponse>failedFuture(t);
                        }
                        return putMember(m)
                            .handle((y, u) -> null)
                            .thenCompose(
                                y -> CompletableFuture.<MemberRemoveResponse>failedFuture(t));
                      })
                  .thenCompose(f -> f);
            },
            server.workers());
  }

  private MemberRemoveResponse removed() {
    return MemberRemoveResponse.newBuilder()
        .setHeader(server.header(server.kv().revision()))
        .addAllMembers(members())
        .build();
  }

  @Override
  public void memberUpdate(MemberUpdateRequest request, StreamObserver<MemberUpdateResponse> out) {
    List<PeerUrl> urls;
    try {
      urls = parseUrls(request.getPeerURLsList());
    } catch (RuntimeException e) {
      Replies.fail(out, e);
      return;
    }
    Replies.send(
        out,
        server.onLeader(
            () ->
                server
                    .linearizableBarrier()
                    .thenCompose(
                        ignored -> {
                          MemberAttributes m = existing(request.getID());
                          checkUrlsFree(urls, request.getID());
                          return putMember(
                              m.toBuilder()
                                  .clearPeerUrls()
                                  .addAllPeerUrls(urls.stream().map(PeerUrl::toString).toList())
                                  .build());
                        })
                    .thenApply(
                        x ->
                            MemberUpdateResponse.newBuilder()
                                .setHeader(server.header(server.kv().revision()))
                                .addAllMembers(members())
                                .build()),
            (url, leader) -> LeaderClients.call(leaderStub(url)::memberUpdate, request)),
        server.workers());
  }

  @Override
  public void memberPromote(
      MemberPromoteRequest request, StreamObserver<MemberPromoteResponse> out) {
    Replies.send(
        out,
        server.onLeader(
            () -> promote(request.getID()),
            (url, leader) -> LeaderClients.call(leaderStub(url)::memberPromote, request)),
        server.workers());
  }

  private CompletableFuture<MemberPromoteResponse> promote(long id) {
    return server
        .linearizableBarrier()
        .thenCompose(ignored -> server.status())
        .thenComposeAsync(
            status -> {
              MemberAttributes m = existing(id);
              if (!m.getIsLearner()) {
                throw GrpcErrors.status(Status.Code.FAILED_PRECONDITION, GrpcErrors.NOT_LEARNER);
              }
              if (status.isLeader()
                  && status.voters().contains(id)
                  && !status.learners().contains(id)) {
                // Raft already made it a voter, the table did not follow (the promotion's second
                // step failed, or a stale write undid it): record what Raft decided.
                LOG.warn(
                    "promoting member {}, which the Raft configuration already has as a voter",
                    Long.toHexString(id));
                return markVoter(id);
              }
              requireInSync(status, id);
              return server
                  .raft()
                  .promote(id)
                  .exceptionallyCompose(
                      t ->
                          CompletableFuture.failedFuture(
                              GrpcErrors.unwrap(t) instanceof ProposalDroppedException
                                  ? GrpcErrors.status(
                                      Status.Code.FAILED_PRECONDITION, GrpcErrors.LEARNER_NOT_READY)
                                  : t))
                  .thenCompose(x -> markVoter(id));
            },
            server.workers())
        .thenApply(
            x ->
                MemberPromoteResponse.newBuilder()
                    .setHeader(server.header(server.kv().revision()))
                    .addAllMembers(members())
                    .build());
  }

  /**
   * Records member {@code id} as a voter in the table, keeping its other attributes as they are.
   */
  private CompletableFuture<Object> markVoter(long id) {
    return putMember(existing(id).toBuilder().setIsLearner(false).build());
  }

  /**
   * Like etcd, a learner is promoted only once it holds at least {@value #LEARNER_READY_PERCENT}%
   * of the log the leader holds (its acknowledged index against the leader's), so a learner that
   * never connected cannot become a voter and enlarge the quorum. The Raft core's own check (within
   * a fixed number of entries of the leader) passes such a learner while the log is short.
   */
  static void requireInSync(ServerStatus status, long id) {
    if (!status.isLeader()) {
      throw GrpcErrors.status(Status.Code.UNAVAILABLE, GrpcErrors.LEADER_CHANGED);
    }
    Long learnerMatch = status.matchIndex().get(id);
    long leaderMatch = status.matchIndex().getOrDefault(status.id(), status.lastIndex());
    if (learnerMatch == null || learnerMatch * 100 < leaderMatch * LEARNER_READY_PERCENT) {
      throw GrpcErrors.status(Status.Code.FAILED_PRECONDITION, GrpcErrors.LEARNER_NOT_READY);
    }
  }

  static final long LEARNER_READY_PERCENT = 90;

  // ---------------------------------------------------------------- helpers

  private CompletableFuture<Object> putMember(MemberAttributes m) {
    return server.writeRaw(InternalRequest.newBuilder().setMemberPut(m));
  }

  private CompletableFuture<Object> removeMember(long id) {
    return server.writeRaw(
        InternalRequest.newBuilder().setMemberRemove(MemberRemove.newBuilder().setId(id)));
  }

  private MemberAttributes existing(long id) {
    Optional<MemberAttributes> m = server.member(id);
    if (m.isEmpty()) {
      throw GrpcErrors.status(Status.Code.NOT_FOUND, GrpcErrors.MEMBER_NOT_FOUND);
    }
    return m.get();
  }

  /** Refuses URLs another member (other than {@code self}) already uses. */
  private void checkUrlsFree(List<PeerUrl> urls, long self) {
    Set<String> wanted = new HashSet<>(urls.stream().map(PeerUrl::toString).toList());
    for (MemberAttributes m : server.members()) {
      if (m.getId() == self) {
        continue;
      }
      for (String u : m.getPeerUrlsList()) {
        if (wanted.contains(normalize(u))) {
          throw GrpcErrors.status(Status.Code.FAILED_PRECONDITION, GrpcErrors.PEER_URL_EXISTS);
        }
      }
    }
  }

  private static String normalize(String url) {
    try {
      return PeerUrl.parse("peer URL", url).toString();
    } catch (IllegalArgumentException e) {
      return url;
    }
  }

  private static List<PeerUrl> parseUrls(List<String> urls) {
    if (urls.isEmpty()) {
      throw GrpcErrors.status(Status.Code.INVALID_ARGUMENT, GrpcErrors.BAD_URLS);
    }
    List<PeerUrl> parsed = new ArrayList<>();
    for (String u : urls) {
      try {
        parsed.add(PeerUrl.parse("peer URL", u));
      } catch (IllegalArgumentException e) {
        throw GrpcErrors.status(Status.Code.INVALID_ARGUMENT, GrpcErrors.BAD_URLS);
      }
    }
    return parsed;
  }

  private List<Member> members() {
    return server.members().stream().map(ClusterService::toMember).toList();
  }

  static Member toMember(MemberAttributes m) {
    return Member.newBuilder()
        .setID(m.getId())
        .setName(m.getName())
        .addAllPeerURLs(m.getPeerUrlsList())
        .addAllClientURLs(m.getClientUrlsList())
        .setIsLearner(m.getIsLearner())
        .build();
  }
}
