package io.tern.raft;

/**
 * Errors a caller can act on. A small closed set; broken invariants throw {@link
 * IllegalStateException} instead. Stack traces are not filled: these are expected outcomes.
 */
public abstract sealed class RaftException extends RuntimeException
    permits NotLeaderException, ProposalDroppedException, RequestTimeoutException {
  protected RaftException(String message) {
    super(message, null, false, false);
  }
}
