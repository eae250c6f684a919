package io.tern.server;

import io.tern.api.InternalRequest;
import io.tern.api.LeaseExpire;
import io.tern.embed.RaftServer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's lease expiry: run periodically on the server's timer. A member that becomes leader
 * first gives every lease a full TTL from now (expiry times are local and the previous leader's are
 * lost), then proposes the revocation of leases that expired.
 */
final class LeaseExpiry {
  private static final Logger LOG = LoggerFactory.getLogger(LeaseExpiry.class);

  /** Revocations proposed per run at most. */
  static final int MAX_REVOKES_PER_RUN = 100;

  private final EtcdServer server;
  private final Set<Long> revoking = ConcurrentHashMap.newKeySet();
  private boolean leading;

  LeaseExpiry(EtcdServer server) {
    this.server = server;
  }

  void run() {
    try {
      RaftServer raft = server.raft();
      if (server.isClosed() || raft == null || !raft.isLeader()) {
        leading = false;
        return;
      }
      long now = System.nanoTime();
      if (!leading) {
        leading = true;
        server.kv().extendAllLeases(now);
        return;
      }
      for (long id : server.kv().expiredLeases(now, MAX_REVOKES_PER_RUN)) {
        if (!revoking.add(id)) {
          continue;
        }
        LOG.debug("lease {} expired; revoking it", Long.toHexString(id));
        server
            .writeRaw(
                InternalRequest.newBuilder()
                    .setLeaseExpire(
                        LeaseExpire.newBuilder()
                            .setId(id)
                            .setRenewedIndex(server.kv().leaseRenewedIndex(id))))
            .whenComplete((r, t) -> revoking.remove(id));
      }
    } catch (RuntimeException e) {
      LOG.warn("lease expiry failed; retrying", e);
    }
  }
}
