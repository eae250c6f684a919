package io.tern.raft.node;

import io.tern.raft.core.Role;
import java.util.Map;

/**
 * A member's state at one moment.
 *
 * @param matchIndex on the leader, each member's acknowledged index; empty elsewhere
 */
public record NodeStatus(
    long id,
    Role role,
    long term,
    long leader,
    long commitIndex,
    long appliedIndex,
    long lastIndex,
    Map<Long, Long> matchIndex) {}
