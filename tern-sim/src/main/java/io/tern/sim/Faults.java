package io.tern.sim;

import io.tern.raft.core.confchange.ConfChange;
import io.tern.raft.core.tracker.Membership;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.random.RandomGenerator;

/**
 * Random fault injection over a {@link Cluster}: crashes (losing unsynced writes), restarts, random
 * partitions, isolating or crashing the leader, one-way link cuts, healing, leadership transfers,
 * membership changes and snapshots on demand. Each call to {@link #randomAction()} draws one fault
 * from the given random source.
 */
public final class Faults {
  /** Members ever started, added ones included, in one run. */
  private static final int MAX_MEMBERS = 8;

  private final Cluster cluster;
  private final RandomGenerator r;
  private int membershipChanges;
  private int membershipChangesApplied;

  public Faults(Cluster cluster, RandomGenerator r) {
    this.cluster = cluster;
    this.r = r;
  }

  /** Membership changes asked for, and those that completed. */
  public String membershipSummary() {
    return membershipChangesApplied + "/" + membershipChanges + " membership changes applied";
  }

  public void randomAction() {
    List<Long> ids = new ArrayList<>(cluster.ids());
    long any = ids.get(r.nextInt(ids.size()));
    switch (r.nextInt(13)) {
      case 0 -> cluster.crash(any);
      case 1, 2 -> startOneDown();
      case 3 -> {
        Set<Long> side = new TreeSet<>();
        for (long id : ids) {
          if (r.nextBoolean()) {
            side.add(id);
          }
        }
        Set<Long> other = new TreeSet<>(ids);
        other.removeAll(side);
        cluster.network().partition(side, other);
      }
      case 4 -> {
        long leader = cluster.leader();
        if (leader != 0) {
          cluster.network().isolate(leader);
        }
      }
      case 5 -> {
        long other = ids.get(r.nextInt(ids.size()));
        if (other != any) {
          cluster.network().cut(any, other);
        }
      }
      case 6 -> cluster.network().heal();
      case 7 -> {
        long leader = cluster.leader();
        if (leader != 0) {
          cluster.crash(leader);
        }
      }
      case 8 -> {
        long leader = cluster.leader();
        if (leader != 0) {
          // To a named member (maybe cut off, maybe itself) or, with 0, the most up to date.
          cluster.node(leader).transferLeadership(r.nextBoolean() ? any : 0);
        }
      }
      case 9, 10 -> changeMembership();
      case 11 -> {
        if (cluster.isUp(any)) {
          cluster.node(any).snapshot(); // on demand; failures (a crash meanwhile) are fine
        }
      }
      default -> cluster.restart(any);
    }
  }

  /**
   * Through the leader: adds a brand-new member (as learner or voter), promotes a learner, or
   * removes a member (possibly the leader itself); sometimes two changes at once, through joint
   * consensus. Refusals (a change in flight, a lagging learner) are part of the test.
   */
  private void changeMembership() {
    long leader = cluster.leader();
    if (leader == 0) {
      return;
    }
    Membership current = cluster.node(leader).core().membership();
    List<Long> voters = new ArrayList<>(current.voters().incoming().voters());
    List<Long> learners = new ArrayList<>(current.learners());
    List<ConfChange> changes = new ArrayList<>();
    int dice = r.nextInt(4);
    if (dice == 0 && cluster.ids().size() < MAX_MEMBERS) {
      long id = cluster.addMember();
      changes.add(r.nextBoolean() ? ConfChange.addLearner(id) : ConfChange.addVoter(id));
    } else if (dice == 1 && !learners.isEmpty()) {
      changes.add(ConfChange.promote(learners.get(r.nextInt(learners.size()))));
    } else if (voters.size() > 2) {
      changes.add(ConfChange.remove(voters.get(r.nextInt(voters.size()))));
    }
    if (!changes.isEmpty() && r.nextInt(3) == 0 && cluster.ids().size() < MAX_MEMBERS) {
      changes.add(ConfChange.addVoter(cluster.addMember()));
    }
    if (!changes.isEmpty()) {
      membershipChanges++;
      cluster
          .node(leader)
          .changeMembership(changes)
          .whenComplete(
              (ok, err) -> {
                if (err == null) {
                  membershipChangesApplied++;
                }
              });
    }
  }

  private void startOneDown() {
    for (Cluster.Member m : cluster.members()) {
      if (!m.isUp()) {
        cluster.start(m.id());
        return;
      }
    }
  }
}
