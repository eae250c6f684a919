package io.tern.raft.core.tracker;

/**
 * What the leader knows of one member's log, and how it sends to it.
 *
 * <ul>
 *   <li>PROBE: we do not know where the follower's log matches ours; send one append per heartbeat
 *       interval and wait for the answer.
 *   <li>REPLICATE: the follower matches; stream appends optimistically (pipelining), bounded by the
 *       inflight window.
 *   <li>SNAPSHOT: the follower needs a snapshot; send nothing else meanwhile.
 * </ul>
 *
 * Invariant: 0 <= match < next.
 */
public final class Progress {
  public enum State {
    PROBE,
    REPLICATE,
    SNAPSHOT
  }

  private long match;
  private long next;
  private State state = State.PROBE;
  private boolean probeSent;
  private long sentCommit;
  private long pendingSnapshot;
  private boolean recentActive;
  private long ackedRound;
  private long lastAckTick;
  private final boolean learner;
  private final Inflights inflights;

  public Progress(long match, long next, boolean learner, int maxInflight, long maxInflightBytes) {
    if (match < 0 || next <= match) {
      throw new IllegalStateException("progress needs 0 <= match < next: " + match + "/" + next);
    }
    this.match = match;
    this.next = next;
    this.learner = learner;
    this.inflights = new Inflights(maxInflight, maxInflightBytes);
  }

  public long match() {
    return match;
  }

  public long next() {
    return next;
  }

  public State state() {
    return state;
  }

  public boolean isLearner() {
    return learner;
  }

  public Inflights inflights() {
    return inflights;
  }

  public boolean recentActive() {
    return recentActive;
  }

  public void setRecentActive(boolean v) {
    recentActive = v;
  }

  /** The highest leader heartbeat round this member has acknowledged in the current term. */
  public long ackedRound() {
    return ackedRound;
  }

  public void ackRound(long round) {
    ackedRound = Math.max(ackedRound, round);
  }

  /**
   * The leader tick a stall is measured from: when this member last acknowledged new entries, or
   * when an append went out to it with nothing else in flight.
   */
  public long lastAckTick() {
    return lastAckTick;
  }

  public void setLastAckTick(long tick) {
    lastAckTick = tick;
  }

  public long sentCommit() {
    return sentCommit;
  }

  public long pendingSnapshot() {
    return pendingSnapshot;
  }

  private void resetState(State s) {
    state = s;
    probeSent = false;
    pendingSnapshot = 0;
    inflights.reset();
  }

  public void becomeProbe() {
    if (state == State.SNAPSHOT) {
      long pending = pendingSnapshot;
      resetState(State.PROBE);
      next = Math.max(match + 1, pending + 1);
    } else {
      resetState(State.PROBE);
      next = match + 1;
    }
  }

  public void becomeReplicate() {
    resetState(State.REPLICATE);
    next = match + 1;
  }

  public void becomeSnapshot(long snapshotIndex) {
    resetState(State.SNAPSHOT);
    pendingSnapshot = snapshotIndex;
  }

  /** The snapshot transfer failed: probe again from the match index. */
  public void snapshotFailed() {
    pendingSnapshot = 0;
    becomeProbe();
  }

  /**
   * The member acknowledged entries through {@code index}.
   *
   * @return whether match advanced
   */
  public boolean maybeUpdate(long index) {
    boolean updated = false;
    if (match < index) {
      match = index;
      updated = true;
      probeSent = false;
    }
    next = Math.max(next, index + 1);
    return updated;
  }

  /**
   * The member rejected an append whose previous index was {@code rejected}; {@code hint} is the
   * highest index where its log might still match ours.
   *
   * @return false if the rejection is stale (a reply to an older message), true if next moved
   */
  public boolean maybeDecrTo(long rejected, long hint) {
    if (state == State.SNAPSHOT) {
      return false; // a reply to an append sent before the snapshot started
    }
    if (state == State.REPLICATE) {
      if (rejected <= match) {
        return false;
      }
      next = match + 1;
      return true;
    }
    if (next - 1 != rejected) {
      return false;
    }
    next = Math.max(Math.min(rejected, hint + 1), match + 1);
    probeSent = false;
    return true;
  }

  /** Whether the leader must hold off sending appends to this member. */
  public boolean isPaused() {
    return switch (state) {
      case PROBE -> probeSent;
      case REPLICATE -> inflights.full();
      case SNAPSHOT -> true;
    };
  }

  /** Holds off the next probe until a heartbeat reply arrives. */
  public void pauseProbe() {
    if (state == State.PROBE) {
      probeSent = true;
    }
  }

  /** A heartbeat reply arrived: a probing leader may try again. */
  public void unpauseProbe() {
    probeSent = false;
  }

  /** Records an append of {@code count} entries ({@code bytes} bytes) just sent. */
  public void sentEntries(int count, long bytes, long commit) {
    switch (state) {
      case REPLICATE -> {
        if (count > 0) {
          next += count;
          inflights.add(next - 1, bytes);
        }
      }
      case PROBE -> probeSent = true;
      case SNAPSHOT -> throw new IllegalStateException("append sent while snapshotting");
    }
    sentCommit = Math.max(sentCommit, commit);
  }

  /** Records that a heartbeat carried {@code commit}. */
  public void sentCommit(long commit) {
    sentCommit = Math.max(sentCommit, commit);
  }

  @Override
  public String toString() {
    return state
        + " match="
        + match
        + " next="
        + next
        + (learner ? " learner" : "")
        + (probeSent ? " paused" : "")
        + (state == State.SNAPSHOT ? " pending=" + pendingSnapshot : "")
        + " inflight="
        + inflights.count();
  }
}
