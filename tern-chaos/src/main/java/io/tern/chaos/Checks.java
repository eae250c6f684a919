package io.tern.chaos;

import io.tern.api.Event;
import io.tern.sim.check.LinearizabilityChecker;
import io.tern.sim.check.OpKind;
import io.tern.sim.check.Operation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/** The checkers that need no RPC: each reads the recorded history and the final observations. */
final class Checks {
  private Checks() {}

  // ------------------------------------------------------------------ linearizability

  /**
   * Maps the register operations (reads, writes, compare-and-set, and the final reads) to the
   * simulator's model and runs its checker. Failed reads are left out (no effect); failed writes
   * are FAIL; timed-out writes are UNKNOWN (they may take effect at any later time, or never).
   */
  static CheckResult linearizability(List<Recorder.Op> ops, long maxStepsPerKey) {
    List<Operation> mapped = new ArrayList<>();
    for (Recorder.Op op : ops) {
      OpKind kind =
          switch (op.type) {
            case "read", "final-read" -> OpKind.GET;
            case "write" -> OpKind.PUT;
            case "cas" -> OpKind.CAS;
            default -> null;
          };
      if (kind == null) {
        continue;
      }
      // The history's ids, so an explanation names the lines of history.jsonl.
      Operation o =
          Operation.pending(op.id, op.client, kind, op.key, op.value, op.expected, op.invoke);
      switch (op.status()) {
        case OK -> o = o.withOk(op.output(), op.complete());
        case FAIL -> {
          if (kind == OpKind.GET) {
            continue;
          }
          o = o.withFail(op.complete());
        }
        case UNKNOWN, PENDING -> {
          if (kind == OpKind.GET) {
            continue;
          }
          o = o.withUnknown();
        }
      }
      mapped.add(o);
    }
    LinearizabilityChecker.Result r = LinearizabilityChecker.check(mapped, maxStepsPerKey);
    List<String> problems = new ArrayList<>();
    if (!r.ok()) {
      problems.add(r.verdict() + " on key " + r.key() + ": " + r.explanation());
    }
    return CheckResult.of(
        "linearizability", mapped.size() + " register ops; " + firstLine(r.toString()), problems);
  }

  private static String firstLine(String s) {
    int i = s.indexOf('\n');
    return i < 0 ? s : s.substring(0, i);
  }

  // ------------------------------------------------------------------ lost writes

  /**
   * Every acknowledged unique append is in the final store with its value; nothing is in the store
   * that no client wrote.
   */
  static CheckResult lostWrites(List<Recorder.Op> ops, Map<String, String> finalStore) {
    List<String> problems = new ArrayList<>();
    Map<String, Recorder.Op> invoked = new HashMap<>();
    int acked = 0;
    int unknown = 0;
    int unknownPresent = 0;
    for (Recorder.Op op : ops) {
      if (!op.type.equals("append")) {
        continue;
      }
      invoked.put(op.key, op);
      String v = finalStore.get(op.key);
      switch (op.status()) {
        case OK -> {
          acked++;
          if (!op.value.equals(v)) {
            problems.add(
                "lost acknowledged append "
                    + op.key
                    + "="
                    + op.value
                    + " (revision "
                    + op.revision()
                    + " via "
                    + op.member
                    + "): final value "
                    + v);
          }
        }
        case FAIL -> {
          if (v != null) {
            problems.add("failed append " + op.key + " (" + op.error() + ") is present");
          }
        }
        default -> {
          unknown++;
          if (v != null) {
            unknownPresent++;
          }
        }
      }
    }
    for (Map.Entry<String, String> e : finalStore.entrySet()) {
      Recorder.Op op = invoked.get(e.getKey());
      if (op == null || !op.value.equals(e.getValue())) {
        problems.add(
            "final store holds " + e.getKey() + "=" + e.getValue() + " that no client wrote");
      }
    }
    return CheckResult.of(
        "no-lost-writes",
        acked
            + " acknowledged appends all present; "
            + unknown
            + " with unknown outcome ("
            + unknownPresent
            + " took effect); registers' final values are checked by"
            + " linearizability (final reads)",
        problems);
  }

  // ------------------------------------------------------------------ watches

  /**
   * Every watcher delivered exactly the reference events (a single watch from the start revision,
   * read after healing) in revision order, without gap or duplicate; the reference agrees with the
   * acknowledged writes and replays to the final store.
   */
  static CheckResult watches(
      List<PrefixWatcher> watchers,
      Map<String, List<PrefixWatcher.Received>> references,
      Map<String, Map<String, String>> finalStores,
      List<Recorder.Op> ops) {
    List<String> problems = new ArrayList<>();
    StringBuilder what = new StringBuilder();
    for (PrefixWatcher w : watchers) {
      List<PrefixWatcher.Received> ref = references.get(w.prefix);
      List<PrefixWatcher.Received> got = w.snapshot();
      w.violations.forEach(v -> problems.add(w.name + ": " + v));
      // Order and duplicates.
      Set<String> seen = new HashSet<>();
      long prev = 0;
      for (int i = 0; i < got.size(); i++) {
        PrefixWatcher.Received e = got.get(i);
        if (!seen.add(e.revision() + " " + e.key())) {
          problems.add(w.name + ": duplicate event #" + i + " " + e);
        }
        if (e.revision() < prev) {
          problems.add(w.name + ": event #" + i + " revision " + e.revision() + " after " + prev);
        }
        prev = Math.max(prev, e.revision());
      }
      // Same events as the reference.
      List<String> want = ref.stream().map(Checks::identity).toList();
      List<String> have = got.stream().map(Checks::identity).toList();
      Set<String> haveSet = new HashSet<>(have);
      Set<String> wantSet = new HashSet<>(want);
      int missing = 0;
      for (String s : want) {
        if (!haveSet.contains(s)) {
          if (missing++ < 10) {
            problems.add(w.name + ": missing event (gap) " + s);
          }
        }
      }
      int extra = 0;
      for (String s : have) {
        if (!wantSet.contains(s)) {
          if (extra++ < 10) {
            problems.add(w.name + ": event not in the cluster's history " + s);
          }
        }
      }
      if (missing > 10 || extra > 10) {
        problems.add(w.name + ": " + missing + " missing, " + extra + " unexpected events in all");
      }
      what.append(w.name)
          .append(": ")
          .append(got.size())
          .append(" events, ")
          .append(w.reconnects.get())
          .append(" reconnects; ");
    }
    // The reference against the clients' acknowledged writes and the final store.
    for (Map.Entry<String, List<PrefixWatcher.Received>> e : references.entrySet()) {
      String prefix = e.getKey();
      Map<String, String> replay = new TreeMap<>();
      Map<String, PrefixWatcher.Received> byKeyRev = new HashMap<>();
      for (PrefixWatcher.Received r : e.getValue()) {
        if (r.type() == Event.EventType.PUT) {
          replay.put(r.key(), r.value());
        } else {
          replay.remove(r.key());
        }
        byKeyRev.put(r.key() + "@" + r.revision(), r);
      }
      Map<String, String> fin = finalStores.get(prefix);
      if (fin != null && !replay.equals(fin)) {
        problems.add(
            "reference watch of "
                + prefix
                + " does not replay to the final store ("
                + replay.size()
                + " vs "
                + fin.size()
                + " keys)");
      }
      for (Recorder.Op op : ops) {
        if (op.status() == Recorder.Status.OK
            && op.key.startsWith(prefix)
            && (op.type.equals("append") || op.type.equals("lease-put"))) {
          PrefixWatcher.Received r = byKeyRev.get(op.key + "@" + op.revision());
          if (r == null
              || r.type() != Event.EventType.PUT
              || !Objects.equals(r.value(), op.value)) {
            problems.add(
                "acknowledged "
                    + op.type
                    + " "
                    + op.key
                    + " at revision "
                    + op.revision()
                    + " has no matching event: "
                    + r);
          }
        }
      }
      what.append("reference ")
          .append(prefix)
          .append(": ")
          .append(e.getValue().size())
          .append(" events; ");
    }
    return CheckResult.of("watch", what.toString(), problems);
  }

  private static String identity(PrefixWatcher.Received r) {
    return r.revision() + " " + r.type() + " " + r.key() + "=" + r.value();
  }

  // ------------------------------------------------------------------ leases

  /**
   * Every key attached to a lease is deleted exactly once (a DELETE event after its PUT), not
   * before the lease could have expired (the last grant or keep-alive the client sent, plus the
   * TTL, shortened by the allowed clock-rate skew) unless the client revoked it; at the end no
   * leased key is left.
   */
  static CheckResult leases(
      List<Workload.LeaseRecord> leases,
      List<PrefixWatcher.Received> reference,
      List<PrefixWatcher.Received> observed,
      Map<String, String> finalLeaseStore,
      double rateTolerance) {
    List<String> problems = new ArrayList<>();
    Map<String, List<PrefixWatcher.Received>> byKey = new HashMap<>();
    for (PrefixWatcher.Received r : reference) {
      byKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r);
    }
    Map<String, Long> firstSeenDelete = new HashMap<>();
    for (PrefixWatcher.Received r : observed) {
      if (r.type() == Event.EventType.DELETE) {
        firstSeenDelete.merge(r.key(), r.time(), Math::min);
      }
    }
    int expired = 0;
    int revoked = 0;
    for (Workload.LeaseRecord l : leases) {
      List<String> keys;
      long bound;
      synchronized (l) {
        keys = List.copyOf(l.keys);
        long expiry = l.lastRefresh() + (long) (l.ttlSeconds * 1e9 * (1 - rateTolerance));
        bound = l.revokeInvoke >= 0 ? Math.min(l.revokeInvoke, expiry) : expiry;
      }
      for (String key : keys) {
        List<PrefixWatcher.Received> evs = byKey.getOrDefault(key, List.of());
        long puts = evs.stream().filter(e -> e.type() == Event.EventType.PUT).count();
        long deletes = evs.stream().filter(e -> e.type() == Event.EventType.DELETE).count();
        if (puts == 0) {
          if (deletes != 0) {
            problems.add(key + ": deleted but never put: " + evs);
          }
          continue;
        }
        if (puts != 1 || deletes != 1 || evs.get(1).type() != Event.EventType.DELETE) {
          problems.add(
              key
                  + " (lease "
                  + Long.toHexString(l.id)
                  + ", "
                  + l.plan
                  + "): expected"
                  + " one PUT then one DELETE, history "
                  + evs);
          continue;
        }
        Long seen = firstSeenDelete.get(key);
        if (seen != null && seen < bound) {
          problems.add(
              String.format(
                  "%s (lease %x, ttl %d s, %s): DELETE observed at %.3f s, before the earliest"
                      + " allowed %.3f s (last refresh sent at %.3f s)",
                  key, l.id, l.ttlSeconds, l.plan, seen / 1e9, bound / 1e9, l.lastRefresh() / 1e9));
        }
        if (l.revokeOk) {
          revoked++;
        } else {
          expired++;
        }
      }
    }
    for (String key : finalLeaseStore.keySet()) {
      problems.add(key + " is still present after every lease's TTL elapsed");
    }
    return CheckResult.of(
        "leases",
        leases.size()
            + " leases; "
            + expired
            + " keys deleted by expiry, "
            + revoked
            + " by revoke, each exactly once; clock-rate tolerance "
            + rateTolerance,
        problems);
  }
}
