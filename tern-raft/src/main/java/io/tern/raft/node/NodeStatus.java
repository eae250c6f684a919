package io.tern.raft.node;

import io.tern.raft.core.Role;
import io.tern.raft.core.tracker.Membership;
import java.util.Map;

/**
 * A member's state at one moment.
 *
 * @param matchIndex on the leader, each member's acknowledged index; empty elsewhere
 * @param membership the configuration in force here (the last one appended to its log)
 * @param membershipChanging whether that configuration is joint or not yet known to be committed
 *     (on the leader: a membership change is under way)
 */
public record NodeStatus(
    long id,
    Role role,
    long term,
    long leader,
    long commitIndex,
    long appliedIndex,
    long lastIndex,
    Map<Long, Long> matchIndex,
    Membership membership,
    boolean membershipChanging) {}
