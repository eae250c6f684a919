package io.tern.raft.core.tracker;

import io.tern.raft.core.quorum.VoteResult;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * The leader's view of every member (and, during elections, the votes received), under one {@link
 * Membership}. Iteration is in id order so the core stays deterministic.
 */
public final class ProgressTracker {
  private final int maxInflight;
  private final long maxInflightBytes;
  private Membership membership;
  private final TreeMap<Long, Progress> progress = new TreeMap<>();
  private final Map<Long, Boolean> votes = new HashMap<>();

  public ProgressTracker(Membership membership, int maxInflight, long maxInflightBytes) {
    this.maxInflight = maxInflight;
    this.maxInflightBytes = maxInflightBytes;
    this.membership = membership;
  }

  public Membership membership() {
    return membership;
  }

  /** Installs a configuration; progress of new members starts probing at {@code next}. */
  public void setMembership(Membership m, long next) {
    this.membership = m;
    progress.keySet().retainAll(m.members());
    for (long id : m.members()) {
      Progress old = progress.get(id);
      boolean learner = m.learners().contains(id);
      if (old == null || old.isLearner() != learner) {
        long match = old == null ? 0 : old.match();
        progress.put(
            id,
            new Progress(match, Math.max(next, match + 1), learner, maxInflight, maxInflightBytes));
      }
    }
  }

  /**
   * Forgets all progress: every member probes from {@code next}; {@code self} matches {@code
   * selfMatch}.
   */
  public void reset(long next, long self, long selfMatch) {
    progress.clear();
    for (long id : membership.members()) {
      boolean learner = membership.learners().contains(id);
      long match = id == self ? selfMatch : 0;
      progress.put(
          id,
          new Progress(match, Math.max(next, match + 1), learner, maxInflight, maxInflightBytes));
    }
    votes.clear();
  }

  public Progress get(long id) {
    return progress.get(id);
  }

  public Map<Long, Progress> all() {
    return Collections.unmodifiableMap(progress);
  }

  public void forEach(BiConsumer<Long, Progress> visitor) {
    progress.forEach(visitor);
  }

  /** The highest index replicated on a quorum of voters (joint: on both quorums). */
  public long committed() {
    return membership
        .voters()
        .committedIndex(
            id -> {
              Progress p = progress.get(id);
              return p == null ? 0 : p.match();
            });
  }

  /** The highest heartbeat round acknowledged by a quorum of voters. */
  public long quorumAckedRound() {
    return membership
        .voters()
        .committedIndex(
            id -> {
              Progress p = progress.get(id);
              return p == null ? 0 : p.ackedRound();
            });
  }

  /** Whether a quorum of voters (counting {@code self}) was recently heard from. */
  public boolean quorumActive(long self) {
    Map<Long, Boolean> active = new HashMap<>();
    progress.forEach(
        (id, p) -> {
          if (membership.isVoter(id)) { // a demoting learner still votes in the outgoing half
            active.put(id, id == self || p.recentActive());
          }
        });
    return membership.voters().voteResult(active) == VoteResult.WON;
  }

  public void resetRecentActive(long self) {
    progress.forEach((id, p) -> p.setRecentActive(id == self));
  }

  public void resetVotes() {
    votes.clear();
  }

  /** Records a vote (the first from each voter counts) and tallies. */
  public VoteResult recordVote(long id, boolean granted) {
    votes.putIfAbsent(id, granted);
    return membership.voters().voteResult(votes);
  }

  public Map<Long, Boolean> votes() {
    return Collections.unmodifiableMap(votes);
  }
}
