package io.tern.embed;

import io.tern.raft.core.Role;
import java.util.Map;

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
    Map<Long, Long> matchIndex) {
  public ServerStatus {
    matchIndex = Map.copyOf(matchIndex);
  }

  public boolean isLeader() {
    return role == Role.LEADER;
  }
}
