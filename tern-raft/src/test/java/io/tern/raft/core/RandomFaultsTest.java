package io.tern.raft.core;

import static io.tern.raft.core.Cores.entries;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The safety properties of the Raft paper under randomized faults: many seeded runs of a 5-member
 * cluster with partitions, lost, duplicated and reordered messages, crashes and restarts, and
 * (optionally) writes that become durable late and are lost on a crash. The properties are checked
 * after every step, then the healed cluster must converge.
 */
class RandomFaultsTest {

  /**
   * Raft paper 5.3 (Log Matching), 5.4 (Leader Completeness), 5.4.3 (State Machine Safety), 5.2
   * (Election Safety) and Figure 3 (Leader Append-Only), checked after every step of randomized
   * runs with partitions, message loss, duplication and reordering, crashes and restarts. Seeds:
   * -Dtern.core.seeds (25).
   */
  @ParameterizedTest(name = "preVote+checkQuorum={0} asyncWrites={1}")
  @CsvSource({"false, false", "true, false", "false, true", "true, true"})
  void safetyPropertiesHoldUnderRandomFaults(boolean preVoteAndCheckQuorum, boolean asyncWrites) {
    long seeds = Long.getLong("tern.core.seeds", 25);
    for (long seed = 1; seed <= seeds; seed++) {
      runRandomFaults(seed, preVoteAndCheckQuorum, asyncWrites);
    }
  }

  /**
   * With asyncWrites, a member's writes become durable only when flushed (at random moments), the
   * messages that depend on them wait until then, and a crash loses what was not flushed.
   */
  private static void runRandomFaults(long seed, boolean extras, boolean asyncWrites) {
    CoreCluster c =
        CoreCluster.builder(5)
            .seed(seed)
            .config(b -> b.preVote(extras).checkQuorum(extras).maxEntriesPerMessage(3))
            .build();
    for (long id : c.ids()) {
      c.member(id).syncWrites = !asyncWrites;
    }
    Random rnd = new Random(seed);
    Map<Long, Entry> committed = new HashMap<>();
    Map<Long, Long> committedInTerm = new HashMap<>();
    Map<Long, List<Entry>> leaderLogs = new HashMap<>();
    Map<Long, Long> leaderTerms = new HashMap<>();
    int proposals = 0;
    for (int step = 0; step < 400; step++) {
      int action = rnd.nextInt(100);
      List<Long> ids = new ArrayList<>(c.ids());
      long someone = ids.get(rnd.nextInt(ids.size()));
      if (action < 40) {
        c.tickAll();
      } else if (action < 65) {
        // At the leader, or at a follower that forwards it.
        long l = c.leader();
        CoreMember m = c.member(someone);
        if (m.up && m.raft.role() == Role.FOLLOWER && m.raft.leader() != 0) {
          c.propose(someone, "s" + seed + "-" + proposals++);
        } else if (l != 0) {
          c.propose(l, "s" + seed + "-" + proposals++);
        }
      } else if (action < 70) {
        Set<Long> group = new HashSet<>();
        for (long id : ids) {
          if (rnd.nextBoolean()) {
            group.add(id);
          }
        }
        c.net.heal();
        c.net.partition(ids, group);
      } else if (action < 78) {
        c.heal();
      } else if (action < 82) {
        if (c.member(someone).up) {
          c.crash(someone);
        } else {
          c.restart(someone);
        }
      } else if (action < 86) {
        // Lose a few messages on the wire.
        c.net.take(m -> rnd.nextInt(4) == 0);
      } else if (action < 90) {
        // Duplicate a few.
        for (Message m : c.net.pending(m -> rnd.nextInt(4) == 0)) {
          c.net.duplicate(m);
        }
      } else if (action < 94) {
        // Deliver a few out of order.
        for (int i = rnd.nextInt(5); i > 0 && c.deliverAny(rnd); i--) {}
      }
      if (asyncWrites && c.member(someone).up && rnd.nextInt(3) > 0) {
        c.flush(someone);
      }
      // Deliver part of what is queued, in order.
      int n = rnd.nextInt(20);
      for (int i = 0; i < n && c.deliverOne(); i++) {}

      checkSafety(c, committed, committedInTerm, leaderLogs, leaderTerms, seed, step);
    }
    // Afterwards, a healed cluster converges and commits what it was given.
    c.heal();
    for (long id : c.ids()) {
      if (!c.member(id).up) {
        c.restart(id);
      }
      c.member(id).syncWrites = true;
      c.flush(id);
    }
    int et = c.config().electionTicks();
    c.tickUntilLeader(20 * et);
    // A proposal made to a leader that is then deposed may be lost; like a client, propose again
    // to any new leader whose log lacks it. Without pre-vote a member left at a higher term
    // rejoins only through a new election.
    long proposedInTerm = -1;
    for (int i = 0; i < 10 * et && !converged(c); i++) {
      long l = c.leader();
      if (l != 0 && c.raft(l).term() != proposedInTerm && !holds(c.raft(l), "final")) {
        c.propose(l, "final");
        proposedInTerm = c.raft(l).term();
      }
      c.tick(1);
    }
    checkSafety(c, committed, committedInTerm, leaderLogs, leaderTerms, seed, -1);
    long leader = c.leader();
    c.assertLogsEqual(leader);
    for (long id : c.ids()) {
      assertThat(c.appliedText(id)).as("seed %d member %d", seed, id).contains("final");
    }
  }

  private static boolean holds(Raft r, String payload) {
    return entries(r).stream().anyMatch(e -> CoreCluster.text(e).equals(payload));
  }

  private static boolean converged(CoreCluster c) {
    long leader = c.leader();
    if (leader == 0 || !holds(c.raft(leader), "final")) {
      return false;
    }
    long last = c.raft(leader).log().lastIndex();
    for (long id : c.ids()) {
      Raft r = c.raft(id);
      if (r.leader() != leader || r.log().lastIndex() != last || r.log().applied() != last) {
        return false;
      }
    }
    return true;
  }

  private static void checkSafety(
      CoreCluster c,
      Map<Long, Entry> committed,
      Map<Long, Long> committedInTerm,
      Map<Long, List<Entry>> leaderLogs,
      Map<Long, Long> leaderTerms,
      long seed,
      int step) {
    String where = "seed " + seed + " step " + step + "\n" + c;
    c.assertLogMatching();
    for (long id : c.ids()) {
      CoreMember m = c.member(id);
      if (!m.up) {
        leaderLogs.remove(id);
        continue;
      }
      Raft r = m.raft;
      for (long i = 1; i <= r.log().committed(); i++) {
        Entry e = r.log().entry(i);
        Entry prev = committed.putIfAbsent(i, e);
        assertThat(prev == null || prev.equals(e))
            .as("committed entry %d differs; %s", i, where)
            .isTrue();
        committedInTerm.merge(i, r.term(), Math::min);
      }
    }
    for (long id : c.ids()) {
      CoreMember m = c.member(id);
      if (!m.up || m.raft.role() != Role.LEADER) {
        leaderLogs.remove(id);
        continue;
      }
      Raft r = m.raft;
      List<Entry> now = entries(r);
      // Leader Append-Only: within one term of leadership the log only grows.
      List<Entry> before = leaderLogs.get(id);
      if (before != null && leaderTerms.get(id) == r.term()) {
        assertThat(now.subList(0, Math.min(now.size(), before.size())))
            .as("leader %d rewrote its log; %s", id, where)
            .isEqualTo(before);
        assertThat(now.size()).isGreaterThanOrEqualTo(before.size());
      }
      leaderLogs.put(id, now);
      leaderTerms.put(id, r.term());
      // Leader Completeness: entries committed in earlier terms are in every later leader's log.
      for (Map.Entry<Long, Entry> ce : committed.entrySet()) {
        if (committedInTerm.get(ce.getKey()) < r.term()) {
          assertThat(r.log().lastIndex())
              .as("leader %d lacks %s; %s", id, ce.getValue(), where)
              .isGreaterThanOrEqualTo(ce.getKey());
          assertThat(r.log().entry(ce.getKey()))
              .as("leader %d; %s", id, where)
              .isEqualTo(ce.getValue());
        }
      }
    }
  }
}
