package io.tern.server;

import io.tern.api.InternalRequest;
import io.tern.api.MemberAttributes;
import io.tern.api.MemberRemove;
import io.tern.embed.ServerStatus;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On the leader, makes the replicated member table agree with the Raft configuration, which decides
 * who votes. The two are separate log entries, so they can part: a membership change whose second
 * step failed or timed out, or a member's {@link MemberPublisher} write of its name and client URLs
 * that was computed from a table read before a promotion (or removal) and applied after it — every
 * {@code member_put} replaces the whole entry, so such a write turns a promoted voter back into a
 * learner, or brings a removed member back. Nothing else would ever repair that: the member stays a
 * "learner" that cannot be promoted (Raft refuses: already a voter), or a member that cannot be
 * removed (Raft refuses: not a member).
 *
 * <p>Runs with the publisher (every 500 ms and after each table change), only while no membership
 * change is under way in Raft, after a linearizable barrier so the table holds everything
 * committed:
 *
 * <ul>
 *   <li>a Raft voter the table names as a learner is recorded as a voter at once (any promotion in
 *       progress writes the same);
 *   <li>a Raft member missing from the table gets its entry back (its last attributes seen here, or
 *       its Raft peer address), a table entry Raft does not know is dropped, and a Raft learner the
 *       table names as a voter is recorded as a learner, each only once the difference has lasted
 *       {@link #GRACE_NANOS} under the same leader: {@link ClusterService} changes the table and
 *       Raft one after the other, and must not be undone between its two steps.
 * </ul>
 *
 * Every repair is logged as a warning: it means a change did not complete as one.
 */
final class MemberReconciler {
  private static final Logger LOG = LoggerFactory.getLogger(MemberReconciler.class);

  static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);

  private final EtcdServer server;
  private final AtomicBoolean running = new AtomicBoolean();

  // Used only by the one run that holds `running`.
  private final Map<String, Long> firstSeen = new HashMap<>();
  private final Map<Long, MemberAttributes> lastSeen = new HashMap<>();
  private long term;

  MemberReconciler(EtcdServer server) {
    this.server = server;
  }

  void run() {
    if (server.isClosed() || !server.raft().isLeader() || !running.compareAndSet(false, true)) {
      return;
    }
    CompletableFuture<Object> f;
    try {
      f =
          server
              .linearizableBarrier()
              .thenCompose(ignored -> server.status())
              .thenComposeAsync(this::reconcile, server.workers());
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete(
        (r, t) -> {
          running.set(false);
          if (t != null) {
            LOG.debug(
                "reconciling the member table failed (retrying): {}",
                GrpcErrors.unwrap(t).toString());
          }
        });
  }

  private CompletableFuture<Object> reconcile(ServerStatus s) {
    List<MemberAttributes> table = server.members();
    if (!s.isLeader() || table.isEmpty()) {
      firstSeen.clear(); // an empty table is MemberPublisher's to bootstrap
      return CompletableFuture.completedFuture(null);
    }
    if (s.term() != term) {
      firstSeen.clear();
      term = s.term();
    }
    Map<Long, MemberAttributes> byId = new HashMap<>();
    for (MemberAttributes m : table) {
      byId.put(m.getId(), m);
      lastSeen.put(m.getId(), m);
    }
    if (s.membershipChanging()) {
      firstSeen.clear();
      return CompletableFuture.completedFuture(null);
    }
    long now = System.nanoTime();
    Set<String> seen = new HashSet<>();
    List<CompletableFuture<Object>> repairs = new ArrayList<>();
    Set<Long> raftMembers = new TreeSet<>(s.voters());
    raftMembers.addAll(s.learners());
    for (long id : raftMembers) {
      boolean learner = s.learners().contains(id);
      MemberAttributes m = byId.get(id);
      if (m == null) {
        if (lasted("missing " + id, now, seen)) {
          MemberAttributes entry = recreate(id, learner);
          if (entry != null) {
            warn(id, "is in the Raft configuration but not in the member table; adding it", entry);
            repairs.add(put(entry));
          }
        }
      } else if (m.getIsLearner() != learner && (!learner || lasted("learner " + id, now, seen))) {
        warn(
            id,
            learner
                ? "is a learner in the Raft configuration but a voter in the member table;"
                    + " recording it as a learner"
                : "is a voter in the Raft configuration but a learner in the member table;"
                    + " recording it as a voter",
            m);
        repairs.add(put(m.toBuilder().setIsLearner(learner).build()));
      }
    }
    for (MemberAttributes m : table) {
      if (!raftMembers.contains(m.getId()) && lasted("stale " + m.getId(), now, seen)) {
        warn(m.getId(), "is in the member table but not in the Raft configuration; dropping it", m);
        repairs.add(remove(m.getId()));
      }
    }
    firstSeen.keySet().retainAll(seen);
    lastSeen.keySet().retainAll(union(raftMembers, byId));
    return CompletableFuture.allOf(repairs.toArray(CompletableFuture[]::new)).thenApply(x -> null);
  }

  private static Set<Long> union(Set<Long> a, Map<Long, ?> b) {
    Set<Long> out = new HashSet<>(a);
    out.addAll(b.keySet());
    return out;
  }

  /** Whether the difference named {@code key} has been seen for the grace period. */
  private boolean lasted(String key, long now, Set<String> seen) {
    seen.add(key);
    long first = firstSeen.computeIfAbsent(key, k -> now);
    return now - first >= GRACE_NANOS;
  }

  /** The entry of a Raft member the table lost: as last seen here, else from its peer address. */
  private MemberAttributes recreate(long id, boolean learner) {
    MemberAttributes last = lastSeen.get(id);
    if (last != null) {
      return last.toBuilder().setIsLearner(learner).build();
    }
    InetSocketAddress a = server.raft().peerAddresses().get(id);
    if (a == null) {
      LOG.warn(
          "member {} is in the Raft configuration but not in the member table, and its peer"
              + " address is unknown here",
          Long.toHexString(id));
      return null;
    }
    return MemberAttributes.newBuilder()
        .setId(id)
        .addPeerUrls(new PeerUrl(a.getHostString(), a.getPort()).toString())
        .setIsLearner(learner)
        .build();
  }

  private static void warn(long id, String what, MemberAttributes m) {
    LOG.warn(
        "member {} ({} {}) {}",
        Long.toHexString(id),
        m.getName().isEmpty() ? "unnamed" : m.getName(),
        m.getPeerUrlsList(),
        what);
  }

  private CompletableFuture<Object> put(MemberAttributes m) {
    return server.writeRaw(InternalRequest.newBuilder().setMemberPut(m));
  }

  private CompletableFuture<Object> remove(long id) {
    return server.writeRaw(
        InternalRequest.newBuilder().setMemberRemove(MemberRemove.newBuilder().setId(id)));
  }
}
