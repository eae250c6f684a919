package io.tern.kv;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The member-local side of leases: each lease's granted TTL (a mirror of the replicated table) and
 * its expiry on this member's monotonic clock, which is not replicated: applying a grant or a
 * keep-alive sets it to now + TTL, and a new leader extends every lease. Written on the apply
 * thread, read from any.
 */
final class LeaseClocks {
  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private record Clock(long ttlSeconds, long expiryNanos) {}

  private final Map<Long, Clock> leases = new ConcurrentHashMap<>();

  void clear() {
    leases.clear();
  }

  /** Starts (or restarts) the lease's clock: it expires {@code ttl} seconds after {@code now}. */
  void renew(long id, long ttlSeconds, long nowNanos) {
    leases.put(id, new Clock(ttlSeconds, nowNanos + ttlSeconds * NANOS_PER_SECOND));
  }

  void remove(long id) {
    leases.remove(id);
  }

  List<Long> ids() {
    List<Long> ids = new ArrayList<>(leases.keySet());
    ids.sort(null);
    return ids;
  }

  /** Whole seconds left (0 once expired), or -1 for an unknown lease. */
  long remainingSeconds(long id, long nowNanos) {
    Clock c = leases.get(id);
    if (c == null) {
      return -1;
    }
    return Math.max(0, (c.expiryNanos() - nowNanos) / NANOS_PER_SECOND);
  }

  /** Up to {@code max} leases expired at {@code now}, the longest expired first. */
  List<Long> expired(long nowNanos, int max) {
    List<Map.Entry<Long, Clock>> due = new ArrayList<>();
    for (Map.Entry<Long, Clock> e : leases.entrySet()) {
      if (e.getValue().expiryNanos() - nowNanos <= 0) {
        due.add(e);
      }
    }
    due.sort(
        Comparator.comparingLong((Map.Entry<Long, Clock> e) -> e.getValue().expiryNanos())
            .thenComparing(Map.Entry::getKey));
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < due.size() && i < max; i++) {
      out.add(due.get(i).getKey());
    }
    return out;
  }

  void extendAll(long nowNanos) {
    leases.replaceAll(
        (id, c) -> new Clock(c.ttlSeconds(), nowNanos + c.ttlSeconds() * NANOS_PER_SECOND));
  }
}
