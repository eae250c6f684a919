package io.tern.raft.core.read;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The leader's bookkeeping for linearizable reads (thesis 6.4).
 *
 * <p>The leader numbers its heartbeat broadcasts in rounds; followers echo the round. A read that
 * arrived when round {@code r} was the latest is confirmed once a quorum acknowledged a round
 * {@code > r}: that heartbeat left after the read arrived, so the quorum's replies prove we were
 * still leader after the read began. Rounds also date the lease: a quorum acknowledging round
 * {@code r} means none of them will vote for another leader until an election timeout after {@link
 * #tickOfRound(long) tickOfRound(r)}.
 */
public final class ReadOnly {
  private static final int RING = 1024;

  /** A read waiting for confirmation: {@code from} asked, {@code index} is its read index. */
  public record Request(long context, long from, long index, long round) {}

  /** A read waiting for the leader to commit an entry of its own term (thesis 6.4 step 1). */
  public record Deferred(long context, long from) {}

  private final ArrayDeque<Request> pending = new ArrayDeque<>();
  private final List<Deferred> deferred = new ArrayList<>();
  private final long[] roundTicks = new long[RING];
  private long round;

  /** Starts a new heartbeat round at {@code tick}; returns its number. */
  public long nextRound(long tick) {
    round++;
    roundTicks[(int) (round % RING)] = tick;
    return round;
  }

  /** The latest round broadcast. */
  public long round() {
    return round;
  }

  /** The tick at which round {@code r} was broadcast, or -1 if unknown (never sent, or too old). */
  public long tickOfRound(long r) {
    if (r <= 0 || r > round || round - r >= RING) {
      return -1;
    }
    return roundTicks[(int) (r % RING)];
  }

  /** Queues a read confirmed by any quorum-acknowledged round above {@code afterRound}. */
  public void add(long context, long from, long index, long afterRound) {
    pending.addLast(new Request(context, from, index, afterRound + 1));
  }

  /** Reads confirmed now that a quorum acknowledged {@code quorumRound}, oldest first. */
  public List<Request> release(long quorumRound) {
    List<Request> out = List.of();
    while (!pending.isEmpty() && pending.peekFirst().round() <= quorumRound) {
      if (out.isEmpty()) {
        out = new ArrayList<>();
      }
      out.add(pending.pollFirst());
    }
    return out;
  }

  public boolean hasPending() {
    return !pending.isEmpty();
  }

  public void defer(long context, long from) {
    deferred.add(new Deferred(context, from));
  }

  /** Removes and returns the reads deferred until the leader commits in its term. */
  public List<Deferred> takeDeferred() {
    if (deferred.isEmpty()) {
      return List.of();
    }
    List<Deferred> out = new ArrayList<>(deferred);
    deferred.clear();
    return out;
  }

  /** Forgets everything (a new term). Dropped readers time out and retry. */
  public void reset() {
    pending.clear();
    deferred.clear();
    round = 0;
  }
}
