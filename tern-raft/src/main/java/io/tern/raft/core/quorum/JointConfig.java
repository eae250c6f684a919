package io.tern.raft.core.quorum;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The voters of a cluster, possibly in the middle of a membership change by joint consensus (Raft
 * thesis section 4.3; paper section 6): while joint, "agreement (for elections and entry
 * commitment) requires separate majorities from both the old and new configurations". Outside a
 * change the outgoing half is {@link MajorityConfig#EMPTY} and only the incoming majority decides.
 *
 * <p>Invariant: neither half is null; {@link #isJoint()} exactly when the outgoing half has voters.
 * The same thread-confinement as {@link MajorityConfig} applies.
 */
public final class JointConfig {
  /** No voters at all: nothing can be committed. */
  public static final JointConfig EMPTY =
      new JointConfig(MajorityConfig.EMPTY, MajorityConfig.EMPTY);

  private final MajorityConfig incoming;
  private final MajorityConfig outgoing;
  private final Set<Long> ids;

  /**
   * @param incoming the configuration being moved to (C_new), or the only one when not joint
   * @param outgoing the configuration being left (C_old), or {@link MajorityConfig#EMPTY}
   */
  public JointConfig(MajorityConfig incoming, MajorityConfig outgoing) {
    this.incoming = Objects.requireNonNull(incoming, "incoming");
    this.outgoing = Objects.requireNonNull(outgoing, "outgoing");
    this.ids = union(incoming, outgoing);
  }

  /** A non-joint configuration of the given voters. */
  public static JointConfig of(long... voters) {
    return new JointConfig(MajorityConfig.of(voters), MajorityConfig.EMPTY);
  }

  private static Set<Long> union(MajorityConfig a, MajorityConfig b) {
    TreeSet<Long> sorted = new TreeSet<>(a.voters());
    sorted.addAll(b.voters());
    return Collections.unmodifiableSet(new LinkedHashSet<>(sorted));
  }

  public MajorityConfig incoming() {
    return incoming;
  }

  public MajorityConfig outgoing() {
    return outgoing;
  }

  /** True while a membership change is in progress (the outgoing half has voters). */
  public boolean isJoint() {
    return !outgoing.isEmpty();
  }

  /** Every voter of either half, unmodifiable, iterating in ascending id order. */
  public Set<Long> ids() {
    return ids;
  }

  public boolean contains(long id) {
    return incoming.contains(id) || outgoing.contains(id);
  }

  /**
   * The largest index acknowledged by a majority of each half (Raft thesis section 4.3): the
   * smaller of the two halves' committed indexes, where an empty half imposes no bound. With no
   * voters at all the result is 0, since nothing can be committed without voters.
   *
   * <p>Does not allocate.
   */
  public long committedIndex(AckedIndexer acked) {
    if (incoming.isEmpty() && outgoing.isEmpty()) {
      return 0;
    }
    return Math.min(incoming.committedIndex(acked), outgoing.committedIndex(acked));
  }

  /**
   * Tallies an election that must be won in each half separately (Raft thesis section 4.3): won
   * when both halves are won, lost as soon as either half is lost, pending otherwise. Vote map
   * semantics are those of {@link MajorityConfig#voteResult}; a voter in both halves casts one vote
   * that counts in each.
   */
  public VoteResult voteResult(Map<Long, Boolean> votes) {
    VoteResult in = incoming.voteResult(votes);
    VoteResult out = outgoing.voteResult(votes);
    if (in == VoteResult.LOST || out == VoteResult.LOST) {
      return VoteResult.LOST;
    }
    if (in == VoteResult.WON && out == VoteResult.WON) {
      return VoteResult.WON;
    }
    return VoteResult.PENDING;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof JointConfig other
        && incoming.equals(other.incoming)
        && outgoing.equals(other.outgoing);
  }

  @Override
  public int hashCode() {
    return 31 * incoming.hashCode() + outgoing.hashCode();
  }

  /**
   * The incoming half, then {@code &&} and the outgoing half when joint: {@code (1 2 3)&&(1 2 4)}.
   */
  @Override
  public String toString() {
    return isJoint() ? incoming + "&&" + outgoing : incoming.toString();
  }
}
