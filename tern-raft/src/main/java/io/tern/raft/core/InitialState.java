package io.tern.raft.core;

import io.tern.raft.core.tracker.Membership;
import java.util.List;
import java.util.Objects;

/**
 * What a core starts from: durable hard state and log (entries from snapshotIndex + 1), the
 * membership in force, and the index the state machine already holds.
 */
public record InitialState(
    HardState hardState,
    long snapshotIndex,
    long snapshotTerm,
    List<Entry> entries,
    Membership membership,
    long applied) {
  public InitialState {
    Objects.requireNonNull(hardState, "hardState");
    Objects.requireNonNull(membership, "membership");
    entries = List.copyOf(entries);
  }

  /** A brand-new member of a cluster whose initial voters are {@code membership}. */
  public static InitialState fresh(Membership membership) {
    return new InitialState(HardState.EMPTY, 0, 0, List.of(), membership, 0);
  }
}
