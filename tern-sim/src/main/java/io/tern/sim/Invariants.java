package io.tern.sim;

import io.tern.raft.core.Entry;
import io.tern.raft.core.Raft;
import io.tern.raft.core.Role;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.log.RaftLog;
import io.tern.sim.kv.KvStateMachine;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Raft's safety properties (paper Figure 3), checked on the live members after every simulation
 * event, plus the cross-run checks used at the end of a run. A violation throws {@link
 * InvariantViolation}.
 *
 * <ul>
 *   <li>Election safety: at most one leader per term.
 *   <li>Log matching: committed prefixes agree entry by entry across members (checked incrementally
 *       as commit indexes move, and in full by {@link #checkLogMatching()}).
 *   <li>Leader completeness: a new leader's log holds every entry known committed.
 *   <li>State machine safety: no two members apply different entries at one index; only committed
 *       entries are applied.
 *   <li>Commit and applied indexes never go backwards within an incarnation.
 * </ul>
 */
public final class Invariants {
  /** What is known about the committed entry at one index. */
  private record Committed(long term, long requestId, int dataHash, long firstSeenBy) {
    static Committed of(Entry e, long member) {
      return new Committed(e.term(), e.requestId(), Arrays.hashCode(e.data()), member);
    }

    boolean same(Entry e) {
      return term == e.term()
          && requestId == e.requestId()
          && dataHash == Arrays.hashCode(e.data());
    }
  }

  /** Per member and incarnation: how far its committed prefix was checked. */
  private static final class Watch {
    long checkedCommit;
    long lastApplied;
    long lastTerm;
    long lastLeaderTermSeen;
  }

  private final Cluster cluster;
  private final TreeMap<Long, Committed> committed = new TreeMap<>();
  private final Map<Long, Long> leaderOfTerm = new HashMap<>();
  private final Map<Long, Watch> watches = new HashMap<>();
  private long checks;

  Invariants(Cluster cluster) {
    this.cluster = cluster;
  }

  void memberStarted(Cluster.Member m) {
    watches.put(m.id(), new Watch());
  }

  /** Number of per-event checks run. */
  public long checks() {
    return checks;
  }

  /** The highest index known committed anywhere. */
  public long maxCommitted() {
    return committed.isEmpty() ? 0 : committed.lastKey();
  }

  /** The requestId committed at {@code index}, or 0 if unknown. */
  public long committedRequestId(long index) {
    Committed c = committed.get(index);
    return c == null ? 0 : c.requestId;
  }

  /** Runs the per-event checks on every live member. */
  public void checkStep() {
    checks++;
    for (Cluster.Member m : cluster.upMembers()) {
      checkMember(m);
    }
  }

  private void checkMember(Cluster.Member m) {
    Raft core = m.node().core();
    Watch w = watches.get(m.id());
    RaftLog log = core.log();
    if (core.term() < w.lastTerm) {
      fail("term of member %d went back from %d to %d", m.id(), w.lastTerm, core.term());
    }
    w.lastTerm = core.term();
    if (core.role() == Role.LEADER) {
      Long prior = leaderOfTerm.putIfAbsent(core.term(), m.id());
      if (prior != null && prior != m.id()) {
        fail("two leaders in term %d: %d and %d", core.term(), prior, m.id());
      }
      if (w.lastLeaderTermSeen != core.term()) {
        w.lastLeaderTermSeen = core.term();
        checkLeaderCompleteness(m.id(), core);
      }
    }
    long commit = log.committed();
    if (commit < w.checkedCommit) {
      fail("commit index of member %d went back from %d to %d", m.id(), w.checkedCommit, commit);
    }
    for (long i = Math.max(w.checkedCommit + 1, log.firstIndex()); i <= commit; i++) {
      Entry e = log.entry(i);
      Committed c = committed.get(i);
      if (c == null) {
        committed.put(i, Committed.of(e, m.id()));
      } else if (!c.same(e)) {
        fail(
            "member %d committed %s at index %d but member %d committed term %d rid %d there",
            m.id(), e, i, c.firstSeenBy, c.term, c.requestId);
      }
    }
    w.checkedCommit = commit;
    long applied = log.applied();
    if (applied < w.lastApplied) {
      fail("applied index of member %d went back from %d to %d", m.id(), w.lastApplied, applied);
    }
    if (applied > commit) {
      fail("member %d applied %d beyond its commit %d", m.id(), applied, commit);
    }
    w.lastApplied = applied;
  }

  private void checkLeaderCompleteness(long id, Raft core) {
    RaftLog log = core.log();
    for (Map.Entry<Long, Committed> e : committed.entrySet()) {
      long i = e.getKey();
      if (i < log.firstIndex()) {
        continue;
      }
      if (i > log.lastIndex() || !e.getValue().same(log.entry(i))) {
        fail(
            "leader %d of term %d lacks committed entry %d (term %d): its log is %s",
            id, core.term(), i, e.getValue().term, log);
      }
    }
  }

  /** Called on the applier before an entry is applied: it must be the committed one. */
  void applied(Cluster.Member m, Entry e) {
    Committed c = committed.get(e.index());
    if (c == null) {
      // Committed where we could not see it between events (same event): record it now.
      committed.put(e.index(), Committed.of(e, m.id()));
    } else if (!c.same(e)) {
      fail(
          "member %d applied %s at index %d but term %d rid %d is committed there",
          m.id(), e, e.index(), c.term, c.requestId);
    }
  }

  /**
   * Called on the applier after a member's state machine was restored from a snapshot: what the
   * snapshot says was applied at each index must be what was committed there.
   */
  void restored(Cluster.Member m, SnapshotMeta meta) {
    KvStateMachine sm = m.stateMachine();
    if (sm.appliedIndex() != meta.index()) {
      fail(
          "member %d restored snapshot %s but its machine is at %d",
          m.id(), meta, sm.appliedIndex());
    }
    for (Map.Entry<Long, Committed> e : committed.headMap(meta.index(), true).entrySet()) {
      KvStateMachine.Applied a = sm.appliedAt(e.getKey());
      Committed c = e.getValue();
      if (a == null || a.term() != c.term || a.requestId() != c.requestId) {
        fail(
            "member %d restored snapshot %s holding %s at index %d, but term %d rid %d is committed"
                + " there",
            m.id(), meta, a, e.getKey(), c.term, c.requestId);
      }
    }
  }

  /**
   * Log matching (paper 5.3) across every pair of live members, in full: if two logs hold an entry
   * with the same index and term, they are identical up to it.
   */
  public void checkLogMatching() {
    List<Cluster.Member> up = cluster.upMembers();
    for (int a = 0; a < up.size(); a++) {
      for (int b = a + 1; b < up.size(); b++) {
        RaftLog la = up.get(a).node().core().log();
        RaftLog lb = up.get(b).node().core().log();
        long lo = Math.max(la.firstIndex(), lb.firstIndex());
        long hi = Math.min(la.lastIndex(), lb.lastIndex());
        long top = -1;
        for (long i = hi; i >= lo; i--) {
          if (la.term(i) == lb.term(i)) {
            top = i;
            break;
          }
        }
        for (long i = lo; i <= top; i++) {
          if (!la.entry(i).equals(lb.entry(i))) {
            fail(
                "log matching broken between %d and %d at %d (both hold term %d at %d): %s vs %s",
                up.get(a).id(), up.get(b).id(), i, la.term(top), top, la.entry(i), lb.entry(i));
          }
        }
      }
    }
  }

  private static void fail(String fmt, Object... args) {
    throw new InvariantViolation(String.format(fmt, args));
  }

  /** A broken safety property. */
  public static final class InvariantViolation extends AssertionError {
    public InvariantViolation(String message) {
      super(message);
    }
  }
}
