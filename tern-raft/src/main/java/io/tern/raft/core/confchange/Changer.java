package io.tern.raft.core.confchange;

import io.tern.raft.core.quorum.JointConfig;
import io.tern.raft.core.quorum.MajorityConfig;
import io.tern.raft.core.tracker.Membership;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Computes the next configuration of a membership change (Raft thesis chapter 4). Pure functions:
 * the argument is never changed, and a refused change throws {@link ConfChangeException}.
 *
 * <p>Rules shared by {@link #enterJoint} and {@link #simple}:
 *
 * <ul>
 *   <li>the current configuration must not be joint: one change at a time (thesis section 4.1);
 *   <li>the batch must not be empty, and may name each member at most once;
 *   <li>each change must fit the member's standing in the current configuration, as listed on
 *       {@link ConfChange}; so a batch means the same in any order;
 *   <li>the resulting configuration must have at least one voter.
 * </ul>
 *
 * <p><b>Demotion.</b> A voter that {@link ConfChange.Type#DEMOTE DEMOTE}s through joint consensus
 * must keep voting in the outgoing half until the joint configuration is left, yet must already be
 * a learner of the incoming configuration. {@link Membership} holds it as both: a learner (which it
 * forbids only for incoming voters) that is still an outgoing voter. {@link #demoting} names these
 * members; {@link #leaveJoint} turns them into plain learners. A demotion is one change: {@code
 * REMOVE} then {@code ADD_LEARNER} of the same member in one batch is refused as a repeated member.
 */
public final class Changer {
  private Changer() {}

  /**
   * Applies a batch through joint consensus (thesis section 4.3): the result is joint, with the
   * current voters as the outgoing half and the current voters with the batch applied as the
   * incoming half. Learner changes take effect at once; a demoted voter stays in the outgoing half
   * and is a learner as well (see the class comment).
   *
   * <p>Refused, beyond the shared rules, when the current configuration has no voters: a joint
   * configuration needs an outgoing half.
   *
   * @throws ConfChangeException if the batch is refused
   */
  public static Membership enterJoint(Membership current, List<ConfChange> changes) {
    requireNotJoint(current, "enter joint consensus");
    MajorityConfig outgoing = current.voters().incoming();
    if (outgoing.isEmpty()) {
      throw new ConfChangeException(
          "cannot enter joint consensus from a configuration with no voters");
    }
    Next next = apply(current, changes);
    return new Membership(
        new JointConfig(new MajorityConfig(next.voters()), outgoing), next.learners());
  }

  /**
   * Leaves a joint configuration (thesis section 4.3): the incoming voters become the whole voter
   * set, outgoing-only voters stop voting, and those being demoted remain learners.
   *
   * @throws ConfChangeException if {@code current} is not joint, or its incoming half has no voters
   */
  public static Membership leaveJoint(Membership current) {
    Objects.requireNonNull(current, "current");
    if (!current.voters().isJoint()) {
      throw new ConfChangeException("not in joint consensus: " + current + " has nothing to leave");
    }
    if (current.voters().incoming().isEmpty()) {
      throw new ConfChangeException(
          "cannot leave joint consensus into a configuration with no voters: " + current);
    }
    return new Membership(
        new JointConfig(current.voters().incoming(), MajorityConfig.EMPTY), current.learners());
  }

  /**
   * Applies a batch directly, without a joint phase (thesis section 4.1). Safe only because the
   * voter set changes by at most one member: then every majority of the old voters intersects every
   * majority of the new ones, so the two cannot decide independently. Any number of learners may be
   * added or removed in the same batch, since learners take no part in majorities.
   *
   * <p>Unlike {@link #enterJoint}, starting from no voters is allowed: adding the first voter.
   *
   * @throws ConfChangeException if the batch is refused by the shared rules, or adds, removes,
   *     promotes or demotes more than one voter in total
   */
  public static Membership simple(Membership current, List<ConfChange> changes) {
    requireNotJoint(current, "make a simple change");
    Next next = apply(current, changes);
    Set<Long> before = current.voters().incoming().voters();
    TreeSet<Long> changed = new TreeSet<>();
    for (long id : before) {
      if (!next.voters().contains(id)) {
        changed.add(id);
      }
    }
    for (long id : next.voters()) {
      if (!before.contains(id)) {
        changed.add(id);
      }
    }
    if (changed.size() > 1) {
      throw new ConfChangeException(
          "a simple change may change at most one voter, but "
              + changes
              + " changes voters "
              + changed
              + "; use joint consensus");
    }
    return new Membership(
        new JointConfig(new MajorityConfig(next.voters()), MajorityConfig.EMPTY), next.learners());
  }

  /**
   * The members being demoted in a joint configuration: learners of the incoming configuration that
   * still vote in the outgoing half. Empty when not joint.
   */
  public static Set<Long> demoting(Membership m) {
    TreeSet<Long> ids = new TreeSet<>();
    for (long id : m.learners()) {
      if (m.voters().outgoing().contains(id)) {
        ids.add(id);
      }
    }
    return ids;
  }

  /** Voters and learners of a non-joint configuration after a batch. */
  private record Next(Set<Long> voters, Set<Long> learners) {}

  private static void requireNotJoint(Membership current, String what) {
    Objects.requireNonNull(current, "current");
    if (current.voters().isJoint()) {
      throw new ConfChangeException(
          "cannot " + what + " while in joint consensus " + current + "; leave it first");
    }
  }

  /** Checks every change against {@code current} (not against earlier changes of the batch). */
  private static Next apply(Membership current, List<ConfChange> changes) {
    Objects.requireNonNull(changes, "changes");
    if (changes.isEmpty()) {
      throw new ConfChangeException("empty batch: no change to make");
    }
    MajorityConfig voters = current.voters().incoming();
    Set<Long> learners = current.learners();
    TreeSet<Long> nextVoters = new TreeSet<>(voters.voters());
    TreeSet<Long> nextLearners = new TreeSet<>(learners);
    Set<Long> seen = new HashSet<>();
    for (ConfChange c : changes) {
      long id = c.member();
      if (!seen.add(id)) {
        throw new ConfChangeException(
            "member " + id + " appears more than once in " + changes + "; one change per member");
      }
      boolean voter = voters.contains(id);
      boolean learner = learners.contains(id);
      switch (c.type()) {
        case ADD_VOTER -> {
          if (voter || learner) {
            throw refused(c, voter ? "it is already a voter" : "it is a learner; PROMOTE it");
          }
          nextVoters.add(id);
        }
        case ADD_LEARNER -> {
          if (voter || learner) {
            throw refused(c, learner ? "it is already a learner" : "it is a voter; DEMOTE it");
          }
          nextLearners.add(id);
        }
        case REMOVE -> {
          if (!voter && !learner) {
            throw refused(c, "it is not a member");
          }
          nextVoters.remove(id);
          nextLearners.remove(id);
        }
        case PROMOTE -> {
          if (!learner) {
            throw refused(c, voter ? "it is already a voter" : "it is not a member");
          }
          nextLearners.remove(id);
          nextVoters.add(id);
        }
        case DEMOTE -> {
          if (!voter) {
            throw refused(c, learner ? "it is already a learner" : "it is not a member");
          }
          nextVoters.remove(id);
          nextLearners.add(id);
        }
      }
    }
    if (nextVoters.isEmpty()) {
      throw new ConfChangeException(changes + " would leave no voters");
    }
    return new Next(nextVoters, nextLearners);
  }

  private static ConfChangeException refused(ConfChange c, String why) {
    return new ConfChangeException("cannot " + c + ": " + why);
  }
}
