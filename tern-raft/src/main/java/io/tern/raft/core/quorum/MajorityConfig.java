package io.tern.raft.core.quorum;

import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A set of voters that decides by simple majority: {@code n / 2 + 1} of {@code n} voters (Raft
 * paper sections 5.2 and 5.3). Any two majorities of the same set intersect, which is what makes a
 * committed entry survive into every later leader's log (section 5.4).
 *
 * <p>Invariant: voter ids are non-zero, distinct and held in ascending order.
 *
 * <p>Immutable as a value, but {@link #committedIndex} sorts into a private scratch buffer, so an
 * instance must not be queried from several threads at once. The Raft core is single-threaded.
 */
public final class MajorityConfig {
  /** No voters: wins every vote and puts no bound on the committed index. */
  public static final MajorityConfig EMPTY = new MajorityConfig(new long[0]);

  private final long[] ids;
  private final Set<Long> idSet;

  /** Reused by {@link #committedIndex} so the leader's per-ack path does not allocate. */
  private final long[] scratch;

  /**
   * Copies {@code voters}; duplicates collapse into one voter.
   *
   * @throws NullPointerException if the collection or any element is null
   * @throws IllegalArgumentException if any id is 0, which Raft reserves for "no member"
   */
  public MajorityConfig(Collection<Long> voters) {
    this(toSortedDistinct(unboxVoters(voters)));
  }

  private MajorityConfig(long[] sortedDistinctIds) {
    this.ids = sortedDistinctIds;
    this.scratch = new long[sortedDistinctIds.length];
    Set<Long> set = new LinkedHashSet<>(sortedDistinctIds.length * 2);
    for (long id : sortedDistinctIds) {
      set.add(id);
    }
    this.idSet = Collections.unmodifiableSet(set);
  }

  /** Same as the collection constructor, without boxing the ids. */
  public static MajorityConfig of(long... voters) {
    long[] copy = voters.clone();
    for (long id : copy) {
      requireVoter(id);
    }
    long[] sorted = toSortedDistinct(copy);
    return sorted.length == 0 ? EMPTY : new MajorityConfig(sorted);
  }

  private static long[] unboxVoters(Collection<Long> voters) {
    long[] ids = new long[voters.size()];
    int i = 0;
    for (Long id : voters) {
      if (id == null) {
        throw new NullPointerException("null voter id in " + voters);
      }
      ids[i++] = requireVoter(id);
    }
    return ids;
  }

  private static long requireVoter(long id) {
    if (id == 0) {
      throw new IllegalArgumentException("voter id 0 is reserved for no member");
    }
    return id;
  }

  private static long[] toSortedDistinct(long[] ids) {
    Arrays.sort(ids);
    int distinct = 0;
    for (int i = 0; i < ids.length; i++) {
      if (i == 0 || ids[i] != ids[distinct - 1]) {
        ids[distinct++] = ids[i];
      }
    }
    return distinct == ids.length ? ids : Arrays.copyOf(ids, distinct);
  }

  /** The voters, unmodifiable, iterating in ascending id order. */
  public Set<Long> voters() {
    return idSet;
  }

  /** A fresh ascending copy of the voter ids. */
  public long[] voterArray() {
    return ids.clone();
  }

  public boolean contains(long id) {
    return Arrays.binarySearch(ids, id) >= 0;
  }

  public int size() {
    return ids.length;
  }

  public boolean isEmpty() {
    return ids.length == 0;
  }

  /** The number of voters whose agreement decides: {@code n / 2 + 1}, or 0 for no voters. */
  public int quorum() {
    return ids.length == 0 ? 0 : ids.length / 2 + 1;
  }

  /**
   * The largest index that a majority of voters has acknowledged: at least {@link #quorum()} voters
   * acked it or more, and fewer acked anything above it (Raft paper section 5.3).
   *
   * <p>This is quorum arithmetic only. The leader must still refuse to count replicas for an entry
   * from an earlier term (Raft paper section 5.4.2); that rule needs the log, not the quorum.
   *
   * <p>An empty config returns {@link Long#MAX_VALUE}, the identity of {@code min}, so that in a
   * joint config an empty half imposes no bound (Raft thesis section 4.3).
   *
   * <p>Does not allocate. Not reentrant: {@code acked} must not query this config.
   */
  public long committedIndex(AckedIndexer acked) {
    int n = ids.length;
    if (n == 0) {
      return Long.MAX_VALUE;
    }
    if (n == 1) {
      return acked.ackedIndex(ids[0]);
    }
    long[] sorted = scratch;
    for (int i = 0; i < n; i++) {
      long value = acked.ackedIndex(ids[i]);
      int j = i;
      while (j > 0 && sorted[j - 1] > value) {
        sorted[j] = sorted[j - 1];
        j--;
      }
      sorted[j] = value;
    }
    // Ascending order: the quorum() voters at the top all acked sorted[n - quorum()] or more.
    return sorted[n - (n / 2 + 1)];
  }

  /**
   * Tallies an election (Raft paper section 5.2). {@code votes} maps a voter id to true (granted)
   * or false (rejected); a voter absent from the map, or mapped to null, has not answered yet.
   * Votes from ids outside this config do not count.
   *
   * <p>{@link VoteResult#WON} once {@link #quorum()} voters granted; {@link VoteResult#LOST} once
   * the granted votes plus the unanswered voters fall short of a quorum; otherwise {@link
   * VoteResult#PENDING}. An empty config wins, so that an empty half of a joint config never blocks
   * an election.
   */
  public VoteResult voteResult(Map<Long, Boolean> votes) {
    if (ids.length == 0) {
      return VoteResult.WON;
    }
    int granted = 0;
    int unanswered = 0;
    for (long id : ids) {
      Boolean vote = votes.get(id);
      if (vote == null) {
        unanswered++;
      } else if (vote) {
        granted++;
      }
    }
    int quorum = quorum();
    if (granted >= quorum) {
      return VoteResult.WON;
    }
    if (granted + unanswered < quorum) {
      return VoteResult.LOST;
    }
    return VoteResult.PENDING;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MajorityConfig other && Arrays.equals(ids, other.ids);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(ids);
  }

  /** Space-separated ids in parentheses, ascending, e.g. {@code (1 2 3)}; {@code ()} if empty. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < ids.length; i++) {
      if (i > 0) {
        sb.append(' ');
      }
      sb.append(ids[i]);
    }
    return sb.append(')').toString();
  }
}
