package io.tern.embed;

import io.tern.raft.core.Role;
import java.util.Map;
import java.util.Set;

/**
 * One member's state at one moment, as seen by its own Raft loop.
 *
 * @param id this member
 * @param role its role
 * @param term its current term
 * @param leader the leader it knows of, 0 if none
 * @param commitIndex the highest log index it knows to be committed
 * @param appliedIndex the highest index its state machine holds
 * @param lastIndex the last index of its log
 * @param snapshotsInstalled snapshots received from a leader and installed since this process
 *     started this member
 * @param matchIndex on the leader, the index each member acknowledged; empty elsewhere
 * @param voters the voters of the configuration in force here (the last one in its log; both halves
 *     of a joint configuration)
 * @param learners the learners of that configuration
 * @param membershipChanging whether that configuration is joint or its entry not yet known to be
 *     committed; on the leader: a membership change is under way
 */
public record ServerStatus(
    long id,
    Role role,
    long term,
    long leader,
    long commitIndex,
    long appliedIndex,
    long lastIndex,
    long snapshotsInstalled,
    Map<Long, Long> matchIndex,
    Set<Long> voters,
    Set<Long> learners,
    boolean membershipChanging) {
  public ServerStatus {
    matchIndex = Map.copyOf(matchIndex);
    voters = Set.copyOf(voters);
    learners = Set.copyOf(learners);
  }

  public boolean isLeader() {
    return role == Role.LEADER;
  }

  /** Whether {@code member} is a voter or a learner of the configuration in force here. */
  public boolean isMember(long member) {
    return voters.contains(member) || learners.contains(member);
  }
}
