package io.tern.raft.core.confchange;

import java.util.Objects;

/**
 * One membership change of one member. Each type is allowed from exactly one kind of standing in
 * the current configuration, so a batch never depends on the order of its changes:
 *
 * <ul>
 *   <li>{@link Type#ADD_VOTER}: a non-member becomes a voter;
 *   <li>{@link Type#ADD_LEARNER}: a non-member becomes a learner;
 *   <li>{@link Type#REMOVE}: a voter or a learner stops being a member;
 *   <li>{@link Type#PROMOTE}: a learner becomes a voter;
 *   <li>{@link Type#DEMOTE}: a voter becomes a learner.
 * </ul>
 *
 * @param member the member's id; never 0, which Raft reserves for "no member"
 */
public record ConfChange(Type type, long member) {
  public enum Type {
    ADD_VOTER,
    ADD_LEARNER,
    REMOVE,
    /** A learner becomes a voter (Raft thesis section 4.2.1: add it as a learner first). */
    PROMOTE,
    /** A voter becomes a learner and keeps receiving the log. */
    DEMOTE
  }

  /**
   * @throws IllegalArgumentException if {@code member} is 0
   */
  public ConfChange {
    Objects.requireNonNull(type, "type");
    if (member == 0) {
      throw new IllegalArgumentException("member id 0 is reserved for no member");
    }
  }

  public static ConfChange addVoter(long member) {
    return new ConfChange(Type.ADD_VOTER, member);
  }

  public static ConfChange addLearner(long member) {
    return new ConfChange(Type.ADD_LEARNER, member);
  }

  public static ConfChange remove(long member) {
    return new ConfChange(Type.REMOVE, member);
  }

  public static ConfChange promote(long member) {
    return new ConfChange(Type.PROMOTE, member);
  }

  public static ConfChange demote(long member) {
    return new ConfChange(Type.DEMOTE, member);
  }

  /** The type and the member, e.g. {@code ADD_VOTER 4}. */
  @Override
  public String toString() {
    return type + " " + member;
  }
}
