package io.tern.raft.core.quorum;

/**
 * The outcome of an election as far as the votes received so far can tell (Raft paper section 5.2:
 * a candidate wins once it holds votes from a majority of the servers).
 */
public enum VoteResult {
  /** Neither a win nor a loss is settled yet; some voters have not answered. */
  PENDING,
  /** Enough voters rejected that no set of outstanding answers can produce a majority. */
  LOST,
  /** A majority granted the vote; outstanding answers cannot change that. */
  WON
}
