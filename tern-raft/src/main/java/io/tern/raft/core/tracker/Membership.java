package io.tern.raft.core.tracker;

import io.tern.raft.core.quorum.JointConfig;
import io.tern.raft.core.quorum.MajorityConfig;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/**
 * A cluster configuration: the voters (joint while a change is in progress) and the learners, which
 * receive the log but do not vote. Immutable.
 *
 * <p>Invariant: a learner is not a voter of the incoming configuration.
 */
public record Membership(JointConfig voters, Set<Long> learners) {
  public Membership {
    learners = Collections.unmodifiableSet(new TreeSet<>(learners));
    for (long l : learners) {
      if (voters.incoming().contains(l)) {
        throw new IllegalArgumentException("member " + l + " is both voter and learner");
      }
    }
  }

  /** A plain (non-joint) configuration of the given voters and no learners. */
  public static Membership ofVoters(long... ids) {
    return new Membership(new JointConfig(MajorityConfig.of(ids), MajorityConfig.EMPTY), Set.of());
  }

  /** Every member: voters of both halves and learners, in id order. */
  public Set<Long> members() {
    TreeSet<Long> all = new TreeSet<>(voters.ids());
    all.addAll(learners);
    return Collections.unmodifiableSet(all);
  }

  public boolean isVoter(long id) {
    return voters.contains(id);
  }

  @Override
  public String toString() {
    return "voters=" + voters + (learners.isEmpty() ? "" : " learners=" + learners);
  }
}
