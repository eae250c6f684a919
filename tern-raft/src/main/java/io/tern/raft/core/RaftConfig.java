package io.tern.raft.core;

import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Immutable configuration of one Raft core. Build with {@link #builder(long)}; {@link
 * Builder#build()} validates. Times are in ticks; the driver decides how long a tick is.
 *
 * @param id this member's id, non-zero
 * @param electionTicks base election timeout; the effective timeout is drawn uniformly from
 *     [electionTicks, 2 * electionTicks). Default 10.
 * @param heartbeatTicks interval between leader heartbeats; must be below electionTicks. Default 1.
 * @param preVote run a pre-vote round before bumping the term (thesis 9.6). Default true.
 * @param checkQuorum a leader steps down if it has not heard from a quorum within an election
 *     timeout, and followers ignore votes while they hear from a leader. Default true.
 * @param leaseRead serve reads from the leader's lease without a round trip. Needs checkQuorum.
 *     Default false.
 * @param leaseDriftTicks how much shorter the lease is than the election timeout, to cover clock
 *     drift between members. Default 2.
 * @param maxInflightMessages append messages in flight to one follower. Default 256.
 * @param maxInflightBytes entry bytes in flight to one follower. Default 64 MiB.
 * @param maxEntriesPerMessage entries batched into one append. Default 4096.
 * @param maxBytesPerMessage entry bytes batched into one append (at least one entry is always
 *     sent). Default 1 MiB.
 * @param maxPromotionLag a learner is promoted to voter only when it lags the leader's log by at
 *     most this many entries. Default 1000.
 * @param random the source of election timeout randomness (injected for determinism)
 */
public record RaftConfig(
    long id,
    int electionTicks,
    int heartbeatTicks,
    boolean preVote,
    boolean checkQuorum,
    boolean leaseRead,
    int leaseDriftTicks,
    int maxInflightMessages,
    long maxInflightBytes,
    int maxEntriesPerMessage,
    long maxBytesPerMessage,
    long maxPromotionLag,
    RandomGenerator random) {

  public RaftConfig {
    Objects.requireNonNull(random, "random");
    if (id == 0) {
      throw new IllegalArgumentException("id must be non-zero");
    }
    if (heartbeatTicks < 1) {
      throw new IllegalArgumentException("heartbeatTicks must be >= 1, was " + heartbeatTicks);
    }
    if (electionTicks <= heartbeatTicks) {
      throw new IllegalArgumentException(
          "electionTicks ("
              + electionTicks
              + ") must exceed heartbeatTicks ("
              + heartbeatTicks
              + ")");
    }
    if (leaseRead && !checkQuorum) {
      throw new IllegalArgumentException("leaseRead requires checkQuorum");
    }
    if (leaseDriftTicks < 0 || leaseDriftTicks >= electionTicks) {
      throw new IllegalArgumentException(
          "leaseDriftTicks must be in [0, electionTicks), was " + leaseDriftTicks);
    }
    if (maxInflightMessages < 1 || maxInflightBytes < 1) {
      throw new IllegalArgumentException("inflight limits must be positive");
    }
    if (maxPromotionLag < 0) {
      throw new IllegalArgumentException("maxPromotionLag must be >= 0");
    }
    if (maxEntriesPerMessage < 1 || maxBytesPerMessage < 1) {
      throw new IllegalArgumentException("message batch limits must be positive");
    }
  }

  public static Builder builder(long id) {
    return new Builder(id);
  }

  public Builder toBuilder() {
    return new Builder(id)
        .electionTicks(electionTicks)
        .heartbeatTicks(heartbeatTicks)
        .preVote(preVote)
        .checkQuorum(checkQuorum)
        .leaseRead(leaseRead)
        .leaseDriftTicks(leaseDriftTicks)
        .maxInflightMessages(maxInflightMessages)
        .maxInflightBytes(maxInflightBytes)
        .maxEntriesPerMessage(maxEntriesPerMessage)
        .maxBytesPerMessage(maxBytesPerMessage)
        .maxPromotionLag(maxPromotionLag)
        .random(random);
  }

  /** Builder with the documented defaults. */
  public static final class Builder {
    private final long id;
    private int electionTicks = 10;
    private int heartbeatTicks = 1;
    private boolean preVote = true;
    private boolean checkQuorum = true;
    private boolean leaseRead = false;
    private int leaseDriftTicks = 2;
    private int maxInflightMessages = 256;
    private long maxInflightBytes = 64L << 20;
    private int maxEntriesPerMessage = 4096;
    private long maxBytesPerMessage = 1L << 20;
    private long maxPromotionLag = 1000;
    private RandomGenerator random;

    private Builder(long id) {
      this.id = id;
    }

    public Builder electionTicks(int v) {
      electionTicks = v;
      return this;
    }

    public Builder heartbeatTicks(int v) {
      heartbeatTicks = v;
      return this;
    }

    public Builder preVote(boolean v) {
      preVote = v;
      return this;
    }

    public Builder checkQuorum(boolean v) {
      checkQuorum = v;
      return this;
    }

    public Builder leaseRead(boolean v) {
      leaseRead = v;
      return this;
    }

    public Builder leaseDriftTicks(int v) {
      leaseDriftTicks = v;
      return this;
    }

    public Builder maxInflightMessages(int v) {
      maxInflightMessages = v;
      return this;
    }

    public Builder maxInflightBytes(long v) {
      maxInflightBytes = v;
      return this;
    }

    public Builder maxEntriesPerMessage(int v) {
      maxEntriesPerMessage = v;
      return this;
    }

    public Builder maxBytesPerMessage(long v) {
      maxBytesPerMessage = v;
      return this;
    }

    public Builder maxPromotionLag(long v) {
      maxPromotionLag = v;
      return this;
    }

    public Builder random(RandomGenerator v) {
      random = v;
      return this;
    }

    /** Validates and builds. A missing random source is an error: it must be injected. */
    public RaftConfig build() {
      return new RaftConfig(
          id,
          electionTicks,
          heartbeatTicks,
          preVote,
          checkQuorum,
          leaseRead,
          leaseDriftTicks,
          maxInflightMessages,
          maxInflightBytes,
          maxEntriesPerMessage,
          maxBytesPerMessage,
          maxPromotionLag,
          random);
    }
  }
}
