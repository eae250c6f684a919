package io.tern.server;

import io.tern.api.InternalRequest;
import io.tern.api.MaintenanceGrpc;
import io.tern.api.MemberAttributes;
import io.tern.api.MemberPublish;
import io.tern.api.StatusRequest;
import io.tern.embed.RaftServer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this member's entry in the replicated member table current; run on the server's timer and
 * after every change of the table.
 *
 * <ul>
 *   <li>Bootstrap: while the table is empty (a new cluster), the leader records every initial
 *       member (name and peer URLs; client URLs of its own).
 *   <li>Publish: a member whose entry lacks its current name or client URLs proposes them (peer
 *       URLs and learner state are the cluster's to change, through the Cluster service).
 *   <li>A member that joined a running cluster learns the cluster id from another member.
 *   <li>On the leader, {@link MemberReconciler} makes the table agree with the Raft configuration.
 * </ul>
 *
 * Every proposal is idempotent, so races between members (two leaders bootstrapping, a bootstrap
 * overwriting a published entry) converge on the next run.
 */
final class MemberPublisher {
  private static final Logger LOG = LoggerFactory.getLogger(MemberPublisher.class);

  private final EtcdServer server;
  private final AtomicBoolean inFlight = new AtomicBoolean();
  private final AtomicBoolean askingClusterId = new AtomicBoolean();
  private final MemberReconciler reconciler;

  MemberPublisher(EtcdServer server) {
    this.server = server;
    this.reconciler = new MemberReconciler(server);
  }

  void run() {
    RaftServer raft = server.raft();
    if (server.isClosed() || raft == null) {
      return;
    }
    try {
      if (raft.isLeader()) {
        reconciler.run();
      }
      List<MemberAttributes> table = server.members();
      if (table.isEmpty()) {
        if (raft.isLeader() && inFlight.compareAndSet(false, true)) {
          bootstrap().whenComplete((r, t) -> done(t, "recording the initial members"));
        }
        return;
      }
      Optional<MemberAttributes> me = server.member(server.memberId());
      if (me.isEmpty()) {
        return; // not added yet, or removed
      }
      MemberAttributes desired = withOwnAttributes(me.get());
      if (!desired.equals(me.get()) && inFlight.compareAndSet(false, true)) {
        LOG.info(
            "member {} publishing its name '{}' and client URLs {}",
            Long.toHexString(server.memberId()),
            desired.getName(),
            desired.getClientUrlsList());
        server
            .writeRaw(
                InternalRequest.newBuilder()
                    .setMemberPublish(
                        MemberPublish.newBuilder()
                            .setId(desired.getId())
                            .setName(desired.getName())
                            .addAllClientUrls(desired.getClientUrlsList())))
            .whenComplete((r, t) -> done(t, "publishing the member's attributes"));
      }
      if (server.clusterId() == 0) {
        learnClusterId(table);
      }
    } catch (RuntimeException e) {
      inFlight.set(false);
      LOG.warn("updating the member table failed; retrying", e);
    }
  }

  private void done(Throwable t, String what) {
    inFlight.set(false);
    if (t != null) {
      LOG.debug("{} failed (retrying): {}", what, GrpcErrors.unwrap(t).toString());
    }
  }

  private MemberAttributes withOwnAttributes(MemberAttributes m) {
    return m.toBuilder()
        .setName(server.config().name())
        .clearClientUrls()
        .addAllClientUrls(clientUrls())
        .build();
  }

  private List<String> clientUrls() {
    return server.config().advertiseClientUrls().stream().map(PeerUrl::toString).toList();
  }

  /** On the leader, once the table is known to be empty: every initial member. */
  private CompletableFuture<Void> bootstrap() {
    return server
        .linearizableBarrier()
        .thenCompose(
            ignored -> {
              if (!server.members().isEmpty()) {
                return CompletableFuture.completedFuture(null);
              }
              List<CompletableFuture<Object>> puts = new ArrayList<>();
              for (MemberAttributes m : initialMembers()) {
                puts.add(put(m));
              }
              LOG.info("recording the cluster's {} initial members", puts.size());
              return CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new));
            });
  }

  /** The voters this member started with, named as in {@code --initial-cluster}. */
  private List<MemberAttributes> initialMembers() {
    Map<Long, PeerUrl> voters = server.identityVoters();
    List<MemberAttributes> out = new ArrayList<>();
    String token = server.config().initialClusterToken();
    for (Map.Entry<Long, PeerUrl> v : voters.entrySet()) {
      MemberAttributes.Builder m =
          MemberAttributes.newBuilder().setId(v.getKey()).addPeerUrls(v.getValue().toString());
      for (Map.Entry<String, List<PeerUrl>> e : server.config().initialCluster().entrySet()) {
        if (MemberIds.memberId(e.getValue(), token) == v.getKey()) {
          m.setName(e.getKey())
              .clearPeerUrls()
              .addAllPeerUrls(e.getValue().stream().map(PeerUrl::toString).toList());
        }
      }
      out.add(v.getKey() == server.memberId() ? withOwnAttributes(m.build()) : m.build());
    }
    return out;
  }

  private CompletableFuture<Object> put(MemberAttributes m) {
    return server.writeRaw(InternalRequest.newBuilder().setMemberPut(m));
  }

  /** A member that joined asks another for the cluster id. */
  private void learnClusterId(List<MemberAttributes> table) {
    for (MemberAttributes m : table) {
      if (m.getId() == server.memberId() || m.getClientUrlsCount() == 0) {
        continue;
      }
      if (!askingClusterId.compareAndSet(false, true)) {
        return;
      }
      PeerUrl url;
      try {
        url = PeerUrl.parse("member table", m.getClientUrls(0));
      } catch (IllegalArgumentException e) {
        askingClusterId.set(false);
        continue;
      }
      LeaderClients.call(
              server.leaderClients().stub(url, server.memberId(), MaintenanceGrpc::newStub)::status,
              StatusRequest.getDefaultInstance())
          .whenComplete(
              (r, t) -> {
                askingClusterId.set(false);
                if (r != null) {
                  try {
                    server.learnClusterId(r.getHeader().getClusterId());
                  } catch (IOException e) {
                    LOG.warn("recording the cluster id failed", e);
                  }
                }
              });
      return;
    }
  }
}
