package io.tern.raft;

/** The request was refused before it entered the log; it had no effect and may be retried. */
public final class ProposalDroppedException extends RaftException {
  public ProposalDroppedException(String why) {
    super(why);
  }
}
