package io.tern.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.random.RandomGenerator;

/**
 * Random fault injection over a {@link Cluster}: crashes (losing unsynced writes), restarts, random
 * partitions, isolating or crashing the leader, one-way link cuts, healing. Each call to {@link
 * #randomAction()} draws one fault from the given random source.
 */
public final class Faults {
  private final Cluster cluster;
  private final RandomGenerator r;

  public Faults(Cluster cluster, RandomGenerator r) {
    this.cluster = cluster;
    this.r = r;
  }

  public void randomAction() {
    List<Long> ids = new ArrayList<>(cluster.ids());
    long any = ids.get(r.nextInt(ids.size()));
    switch (r.nextInt(10)) {
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
      default -> cluster.restart(any);
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
