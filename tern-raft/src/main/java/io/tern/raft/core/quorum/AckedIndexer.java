package io.tern.raft.core.quorum;

/**
 * The highest log index each voter is known to hold durably (its match index, Raft paper Figure 2).
 * Implementations must not allocate, since the leader asks on every append response.
 */
@FunctionalInterface
public interface AckedIndexer {
  /**
   * Returns the index acknowledged by {@code voterId}, or 0 when the voter has acknowledged nothing
   * or is unknown. Never negative.
   */
  long ackedIndex(long voterId);
}
