package io.tern.raft;

/**
 * This member cannot take the request because it is not the leader and cannot forward it (no leader
 * is known, or a leadership transfer is under way). {@link #leaderHint()} names the member to retry
 * at, or 0 when none is known.
 */
public final class NotLeaderException extends RaftException {
  private final long leaderHint;

  public NotLeaderException(long leaderHint, String why) {
    super(why + (leaderHint == 0 ? " (no leader known)" : " (leader hint: " + leaderHint + ")"));
    this.leaderHint = leaderHint;
  }

  public long leaderHint() {
    return leaderHint;
  }
}
