package io.tern.raft.core.confchange;

import io.tern.raft.core.quorum.JointConfig;
import io.tern.raft.core.quorum.MajorityConfig;
import io.tern.raft.core.tracker.Membership;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A deliberately naive model of the membership rules, to check {@link Changer} against: plain sets,
 * a role per member, and a table of which role each change type starts from and ends in. {@link
 * Optional#empty()} means refused.
 *
 * @param voters the incoming voters
 * @param outgoing the outgoing voters, empty when not joint
 * @param learners the learners, including outgoing voters being demoted
 */
record NaiveMembership(Set<Long> voters, Set<Long> outgoing, Set<Long> learners) {
  enum Role {
    NONE,
    VOTER,
    LEARNER
  }

  NaiveMembership {
    voters = Set.copyOf(voters);
    outgoing = Set.copyOf(outgoing);
    learners = Set.copyOf(learners);
  }

  static NaiveMembership of(Membership m) {
    return new NaiveMembership(
        m.voters().incoming().voters(), m.voters().outgoing().voters(), m.learners());
  }

  Membership toMembership() {
    return new Membership(
        new JointConfig(new MajorityConfig(voters), new MajorityConfig(outgoing)), learners);
  }

  boolean joint() {
    return !outgoing.isEmpty();
  }

  Role role(long id) {
    if (voters.contains(id)) {
      return Role.VOTER;
    }
    return learners.contains(id) ? Role.LEARNER : Role.NONE;
  }

  static Role from(ConfChange.Type type) {
    return switch (type) {
      case ADD_VOTER, ADD_LEARNER -> Role.NONE;
      case REMOVE -> null; // any member
      case PROMOTE -> Role.LEARNER;
      case DEMOTE -> Role.VOTER;
    };
  }

  static Role to(ConfChange.Type type) {
    return switch (type) {
      case ADD_VOTER, PROMOTE -> Role.VOTER;
      case ADD_LEARNER, DEMOTE -> Role.LEARNER;
      case REMOVE -> Role.NONE;
    };
  }

  /** The roles after the batch, or null if any change does not fit. */
  private Map<Long, Role> rolesAfter(List<ConfChange> batch) {
    if (batch.isEmpty()) {
      return null;
    }
    for (int i = 0; i < batch.size(); i++) {
      for (int j = i + 1; j < batch.size(); j++) {
        if (batch.get(i).member() == batch.get(j).member()) {
          return null;
        }
      }
    }
    Map<Long, Role> roles = new HashMap<>();
    for (long id : voters) {
      roles.put(id, Role.VOTER);
    }
    for (long id : learners) {
      roles.put(id, Role.LEARNER);
    }
    for (ConfChange c : batch) {
      Role now = role(c.member());
      Role required = from(c.type());
      boolean fits = required == null ? now != Role.NONE : now == required;
      if (!fits) {
        return null;
      }
      roles.put(c.member(), to(c.type()));
    }
    return roles;
  }

  private static Set<Long> withRole(Map<Long, Role> roles, Role role) {
    Set<Long> ids = new TreeSet<>();
    roles.forEach(
        (id, r) -> {
          if (r == role) {
            ids.add(id);
          }
        });
    return ids;
  }

  Optional<NaiveMembership> enterJoint(List<ConfChange> batch) {
    if (joint() || voters.isEmpty()) {
      return Optional.empty();
    }
    Map<Long, Role> roles = rolesAfter(batch);
    if (roles == null || withRole(roles, Role.VOTER).isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new NaiveMembership(withRole(roles, Role.VOTER), voters, withRole(roles, Role.LEARNER)));
  }

  Optional<NaiveMembership> leaveJoint() {
    if (!joint() || voters.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new NaiveMembership(voters, Set.of(), learners));
  }

  Optional<NaiveMembership> simple(List<ConfChange> batch) {
    if (joint()) {
      return Optional.empty();
    }
    Map<Long, Role> roles = rolesAfter(batch);
    if (roles == null) {
      return Optional.empty();
    }
    Set<Long> next = withRole(roles, Role.VOTER);
    int differ = 0;
    for (long id : roles.keySet()) {
      if (voters.contains(id) != next.contains(id)) {
        differ++;
      }
    }
    if (next.isEmpty() || differ > 1) {
      return Optional.empty();
    }
    return Optional.of(new NaiveMembership(next, Set.of(), withRole(roles, Role.LEARNER)));
  }
}
