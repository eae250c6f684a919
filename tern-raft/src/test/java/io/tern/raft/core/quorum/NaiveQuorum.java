package io.tern.raft.core.quorum;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongUnaryOperator;

/**
 * A deliberately dumb restatement of the quorum rules, straight from their definitions and sharing
 * no code with the production classes: brute force over candidate indexes and over every way the
 * outstanding votes could still fall. A configuration here is a list of halves, each a plain set of
 * voter ids; one half is a simple majority, two halves are joint consensus.
 */
final class NaiveQuorum {
  private NaiveQuorum() {}

  /** True when {@code count} of {@code size} voters is more than half. */
  private static boolean isMajority(int count, int size) {
    return 2 * count > size;
  }

  /**
   * The largest index {@code c} such that every non-empty half has a majority with acked {@code >=
   * c}. Only acked values can be that maximum, so trying each of them suffices. With no voters at
   * all the answer is {@code whenNoVoters}.
   */
  static long committedIndex(List<Set<Long>> halves, LongUnaryOperator acked, long whenNoVoters) {
    Set<Long> everyone = union(halves);
    if (everyone.isEmpty()) {
      return whenNoVoters;
    }
    long best = -1;
    for (long voter : everyone) {
      long candidate = acked.applyAsLong(voter);
      boolean agreed = true;
      for (Set<Long> half : halves) {
        int atLeast = 0;
        for (long other : half) {
          if (acked.applyAsLong(other) >= candidate) {
            atLeast++;
          }
        }
        if (!half.isEmpty() && !isMajority(atLeast, half.size())) {
          agreed = false;
        }
      }
      if (agreed && candidate > best) {
        best = candidate;
      }
    }
    return best;
  }

  /**
   * Tries every completion of the unanswered voters' ballots: WON if all completions win, LOST if
   * none does, PENDING if it still depends on them. A completion wins when each half has a granting
   * majority; an empty half never objects.
   */
  static VoteResult voteResult(List<Set<Long>> halves, Map<Long, Boolean> votes) {
    List<Long> unanswered = new ArrayList<>();
    for (long voter : union(halves)) {
      if (votes.get(voter) == null) {
        unanswered.add(voter);
      }
    }
    int wins = 0;
    int completions = 1 << unanswered.size();
    for (int mask = 0; mask < completions; mask++) {
      boolean allHalvesWin = true;
      for (Set<Long> half : halves) {
        int granted = 0;
        for (long voter : half) {
          int slot = unanswered.indexOf(voter);
          boolean yes = slot >= 0 ? (mask & (1 << slot)) != 0 : votes.get(voter);
          if (yes) {
            granted++;
          }
        }
        if (!half.isEmpty() && !isMajority(granted, half.size())) {
          allHalvesWin = false;
        }
      }
      if (allHalvesWin) {
        wins++;
      }
    }
    if (wins == completions) {
      return VoteResult.WON;
    }
    return wins == 0 ? VoteResult.LOST : VoteResult.PENDING;
  }

  private static Set<Long> union(List<Set<Long>> halves) {
    Set<Long> all = new TreeSet<>();
    halves.forEach(all::addAll);
    return all;
  }
}
