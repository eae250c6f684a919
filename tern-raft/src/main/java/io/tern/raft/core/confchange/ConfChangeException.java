package io.tern.raft.core.confchange;

/**
 * A membership change was refused because it is invalid in the configuration it was applied to;
 * nothing changed. The message says why. An expected outcome, so no stack trace is filled.
 */
public final class ConfChangeException extends RuntimeException {
  public ConfChangeException(String why) {
    super(why, null, false, false);
  }
}
