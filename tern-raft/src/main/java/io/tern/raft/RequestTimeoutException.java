package io.tern.raft;

/**
 * No outcome was learned in time. For a proposal the outcome is unknown: it may still be applied.
 */
public final class RequestTimeoutException extends RaftException {
  public RequestTimeoutException(String why) {
    super(why);
  }
}
