package io.tern.embed;

import io.tern.raft.core.RaftConfig;
import io.tern.raft.node.NodeOptions;
import io.tern.transport.TransportOptions;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.random.RandomGenerator;

/**
 * Immutable, validated options of a {@link RaftServer}. Build with {@link #builder(long)}; {@link
 * Builder#build()} checks every field and throws {@link IllegalArgumentException} naming the first
 * one that is wrong.
 *
 * @param memberId this member's id; positive, unique in the cluster, never reused
 * @param dataDir where the Raft log ({@code raft-log/}) and snapshots ({@code snapshots/}) live
 * @param raftAddress the address the peer transport listens on (port 0: any free port, see {@link
 *     RaftServer#raftAddress()})
 * @param initialVoters the voters of the cluster and their peer addresses. For a member of a new
 *     cluster ({@code join == false}): every member the cluster starts with, this one included (its
 *     own entry's address is not used: it listens on {@code raftAddress}); every member must be
 *     started with the same set. For a member joining an existing cluster ({@code join == true}):
 *     the current members, without this one. Only the addresses of the other members are used after
 *     the first start: the configuration itself lives in the replicated log.
 * @param join this member is new to an existing cluster: it starts outside the configuration, stays
 *     passive, and takes part once a member of the cluster adds it ({@link RaftServer#addMember}),
 *     receiving the log or a snapshot of it from the leader
 * @param tickMillis length of one Raft tick. Default 100 ms.
 * @param electionTicks base election timeout in ticks (effective timeout: uniformly random in
 *     [electionTicks, 2 * electionTicks)); at least 3. Default 10.
 * @param heartbeatTicks heartbeat interval in ticks; below electionTicks. Default 1.
 * @param preVote run a pre-vote round before an election (thesis 9.6). Default true.
 * @param checkQuorum a leader that has not heard from a quorum for an election timeout steps down.
 *     Default true.
 * @param leaseRead serve {@link io.tern.raft.node.ReadMode#LEASE} reads from the leader's lease
 *     (requires checkQuorum; safe only under bounded clock drift). Default false.
 * @param snapshotEntries take a snapshot after this many applied entries; 0 disables automatic
 *     snapshots. Default 10,000.
 * @param snapshotTrailingEntries entries kept in the log behind a snapshot, so a slightly lagging
 *     follower catches up from the log instead of a snapshot. Default 5,000.
 * @param snapshotChunkBytes snapshots are sent to followers in chunks of this size; must leave
 *     {@link TransportOptions#MIN_MESSAGE_BYTES} of room below the transport's {@code
 *     maxMessageBytes}. Default 1 MiB.
 * @param requestTimeout how long a proposal, read or membership change waits for its outcome before
 *     failing with {@link io.tern.raft.RequestTimeoutException}. Default 5 s.
 * @param transport the gRPC transport's settings. Default {@link TransportOptions#defaults()}.
 */
public record RaftServerOptions(
    long memberId,
    Path dataDir,
    InetSocketAddress raftAddress,
    Map<Long, InetSocketAddress> initialVoters,
    boolean join,
    long tickMillis,
    int electionTicks,
    int heartbeatTicks,
    boolean preVote,
    boolean checkQuorum,
    boolean leaseRead,
    long snapshotEntries,
    long snapshotTrailingEntries,
    int snapshotChunkBytes,
    Duration requestTimeout,
    TransportOptions transport) {

  public static final long DEFAULT_TICK_MILLIS = 100;
  public static final int DEFAULT_ELECTION_TICKS = 10;
  public static final int DEFAULT_HEARTBEAT_TICKS = 1;
  public static final long DEFAULT_SNAPSHOT_ENTRIES = 10_000;
  public static final long DEFAULT_SNAPSHOT_TRAILING_ENTRIES = 5_000;
  public static final int DEFAULT_SNAPSHOT_CHUNK_BYTES = 1 << 20;
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration MAX_REQUEST_TIMEOUT = Duration.ofDays(1);

  /** The core keeps leases {@code leaseDriftTicks} (2) short of the election timeout. */
  public static final int MIN_ELECTION_TICKS = 3;

  /**
   * @throws IllegalArgumentException if a field is invalid or missing
   */
  public RaftServerOptions {
    if (memberId <= 0) {
      throw new IllegalArgumentException("memberId must be positive, was " + memberId);
    }
    require(dataDir, "dataDir");
    require(raftAddress, "raftAddress");
    require(initialVoters, "initialVoters");
    require(requestTimeout, "requestTimeout");
    require(transport, "transport");
    TreeMap<Long, InetSocketAddress> voters = new TreeMap<>();
    for (Map.Entry<Long, InetSocketAddress> e : initialVoters.entrySet()) {
      Long id = e.getKey();
      if (id == null || id <= 0) {
        throw new IllegalArgumentException("initialVoters: member ids must be positive, was " + id);
      }
      if (e.getValue() == null) {
        throw new IllegalArgumentException("initialVoters: member " + id + " has no address");
      }
      voters.put(id, e.getValue());
    }
    if (voters.isEmpty()) {
      throw new IllegalArgumentException("initialVoters must not be empty");
    }
    if (!join && !voters.containsKey(memberId)) {
      throw new IllegalArgumentException(
          "initialVoters "
              + voters.keySet()
              + " must include this member "
              + memberId
              + " (a member joining an existing cluster sets join)");
    }
    if (join && voters.containsKey(memberId)) {
      throw new IllegalArgumentException(
          "a joining member ("
              + memberId
              + ") starts outside the configuration: initialVoters "
              + voters.keySet()
              + " must list the existing members only");
    }
    initialVoters = Collections.unmodifiableMap(voters);
    if (tickMillis < 1) {
      throw new IllegalArgumentException("tickMillis must be >= 1, was " + tickMillis);
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
    if (electionTicks < MIN_ELECTION_TICKS) {
      throw new IllegalArgumentException(
          "electionTicks must be at least "
              + MIN_ELECTION_TICKS
              + " (leases end 2 ticks before an election timeout), was "
              + electionTicks);
    }
    if (leaseRead && !checkQuorum) {
      throw new IllegalArgumentException("leaseRead requires checkQuorum");
    }
    if (snapshotEntries < 0) {
      throw new IllegalArgumentException(
          "snapshotEntries must be >= 0 (0 disables), was " + snapshotEntries);
    }
    if (snapshotTrailingEntries < 0) {
      throw new IllegalArgumentException(
          "snapshotTrailingEntries must be >= 0, was " + snapshotTrailingEntries);
    }
    int maxChunk = transport.maxMessageBytes() - TransportOptions.MIN_MESSAGE_BYTES;
    if (snapshotChunkBytes < 1 || snapshotChunkBytes > maxChunk) {
      throw new IllegalArgumentException(
          "snapshotChunkBytes must be in [1, "
              + maxChunk
              + "] (the transport's maxMessageBytes less "
              + TransportOptions.MIN_MESSAGE_BYTES
              + "), was "
              + snapshotChunkBytes);
    }
    if (requestTimeout.isNegative() || requestTimeout.isZero()) {
      throw new IllegalArgumentException("requestTimeout must be positive, was " + requestTimeout);
    }
    if (tickMillis > Long.MAX_VALUE / 1_000_000L) {
      throw new IllegalArgumentException("tickMillis is too large: " + tickMillis);
    }
    if (requestTimeout.compareTo(MAX_REQUEST_TIMEOUT) > 0) {
      throw new IllegalArgumentException(
          "requestTimeout must be at most " + MAX_REQUEST_TIMEOUT + ", was " + requestTimeout);
    }
    // Whatever the core would still refuse is refused on build too.
    raftConfig(
        memberId,
        electionTicks,
        heartbeatTicks,
        preVote,
        checkQuorum,
        leaseRead,
        new SplittableRandom(0));
  }

  private static void require(Object value, String name) {
    if (value == null) {
      throw new IllegalArgumentException(name + " is required");
    }
  }

  private static RaftConfig raftConfig(
      long memberId,
      int electionTicks,
      int heartbeatTicks,
      boolean preVote,
      boolean checkQuorum,
      boolean leaseRead,
      RandomGenerator random) {
    return RaftConfig.builder(memberId)
        .electionTicks(electionTicks)
        .heartbeatTicks(heartbeatTicks)
        .preVote(preVote)
        .checkQuorum(checkQuorum)
        .leaseRead(leaseRead)
        .random(random)
        .build();
  }

  /** The driver's options derived from these (a fresh random source for election timeouts). */
  public NodeOptions toNodeOptions() {
    RaftConfig raft =
        raftConfig(
            memberId,
            electionTicks,
            heartbeatTicks,
            preVote,
            checkQuorum,
            leaseRead,
            new SplittableRandom());
    return NodeOptions.builder(raft)
        .initialVoters(initialVoters.keySet())
        .tickNanos(tickMillis * 1_000_000L)
        .requestTimeoutNanos(requestTimeout.toNanos())
        .snapshotEntries(snapshotEntries)
        .snapshotTrailingEntries(snapshotTrailingEntries)
        .snapshotChunkBytes(snapshotChunkBytes)
        .build();
  }

  /** The addresses of the other members this member starts with. */
  public Map<Long, InetSocketAddress> peerAddresses() {
    TreeMap<Long, InetSocketAddress> peers = new TreeMap<>(initialVoters);
    peers.remove(memberId);
    return Collections.unmodifiableMap(peers);
  }

  /** A builder for member {@code memberId} with the documented defaults. */
  public static Builder builder(long memberId) {
    return new Builder(memberId);
  }

  /** A builder holding these options, to derive modified ones. */
  public Builder toBuilder() {
    return new Builder(memberId)
        .dataDir(dataDir)
        .raftAddress(raftAddress)
        .initialVoters(initialVoters)
        .join(join)
        .tickMillis(tickMillis)
        .electionTicks(electionTicks)
        .heartbeatTicks(heartbeatTicks)
        .preVote(preVote)
        .checkQuorum(checkQuorum)
        .leaseRead(leaseRead)
        .snapshotEntries(snapshotEntries)
        .snapshotTrailingEntries(snapshotTrailingEntries)
        .snapshotChunkBytes(snapshotChunkBytes)
        .requestTimeout(requestTimeout)
        .transport(transport);
  }

  /** Mutable builder; {@link #build()} validates. Not thread-safe. */
  public static final class Builder {
    private final long memberId;
    private Path dataDir;
    private InetSocketAddress raftAddress;
    private Map<Long, InetSocketAddress> initialVoters = Map.of();
    private boolean join;
    private long tickMillis = DEFAULT_TICK_MILLIS;
    private int electionTicks = DEFAULT_ELECTION_TICKS;
    private int heartbeatTicks = DEFAULT_HEARTBEAT_TICKS;
    private boolean preVote = true;
    private boolean checkQuorum = true;
    private boolean leaseRead;
    private long snapshotEntries = DEFAULT_SNAPSHOT_ENTRIES;
    private long snapshotTrailingEntries = DEFAULT_SNAPSHOT_TRAILING_ENTRIES;
    private int snapshotChunkBytes = DEFAULT_SNAPSHOT_CHUNK_BYTES;
    private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
    private TransportOptions transport = TransportOptions.defaults();

    private Builder(long memberId) {
      this.memberId = memberId;
    }

    public Builder dataDir(Path v) {
      dataDir = v;
      return this;
    }

    public Builder raftAddress(InetSocketAddress v) {
      raftAddress = v;
      return this;
    }

    /** Replaces the voter map (copied on build). */
    public Builder initialVoters(Map<Long, InetSocketAddress> v) {
      initialVoters = v == null ? null : new TreeMap<>(v);
      return this;
    }

    /** Adds one voter to the map. */
    public Builder initialVoter(long id, InetSocketAddress address) {
      if (initialVoters == null) {
        initialVoters = new TreeMap<>();
      } else if (!(initialVoters instanceof TreeMap)) {
        initialVoters = new TreeMap<>(initialVoters);
      }
      initialVoters.put(id, address);
      return this;
    }

    public Builder join(boolean v) {
      join = v;
      return this;
    }

    public Builder tickMillis(long v) {
      tickMillis = v;
      return this;
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

    public Builder snapshotEntries(long v) {
      snapshotEntries = v;
      return this;
    }

    public Builder snapshotTrailingEntries(long v) {
      snapshotTrailingEntries = v;
      return this;
    }

    public Builder snapshotChunkBytes(int v) {
      snapshotChunkBytes = v;
      return this;
    }

    public Builder requestTimeout(Duration v) {
      requestTimeout = v;
      return this;
    }

    public Builder transport(TransportOptions v) {
      transport = v;
      return this;
    }

    /**
     * @throws IllegalArgumentException if a field is invalid or a required one is missing
     */
    public RaftServerOptions build() {
      return new RaftServerOptions(
          memberId,
          dataDir,
          raftAddress,
          initialVoters,
          join,
          tickMillis,
          electionTicks,
          heartbeatTicks,
          preVote,
          checkQuorum,
          leaseRead,
          snapshotEntries,
          snapshotTrailingEntries,
          snapshotChunkBytes,
          requestTimeout,
          transport);
    }
  }
}
