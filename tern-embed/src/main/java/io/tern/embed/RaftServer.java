package io.tern.embed;

import io.tern.raft.NotLeaderException;
import io.tern.raft.ProposalDroppedException;
import io.tern.raft.RequestTimeoutException;
import io.tern.raft.core.Role;
import io.tern.raft.core.confchange.ConfChange;
import io.tern.raft.node.NodeStatus;
import io.tern.raft.node.RaftNode;
import io.tern.raft.node.ReadMode;
import io.tern.raft.node.StateMachine;
import io.tern.raft.node.ThreadScheduler;
import io.tern.storage.FileSnapshotStore;
import io.tern.storage.RocksDbLogStore;
import io.tern.storage.StorageCorruptionException;
import io.tern.transport.GrpcTransport;
import io.tern.transport.TransportOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member of a Raft group, ready to embed: {@link #start} opens the durable log ({@link
 * RocksDbLogStore}) and snapshot store ({@link FileSnapshotStore}) under the data directory, starts
 * the gRPC peer transport ({@link GrpcTransport}) and the member's threads ({@link
 * ThreadScheduler}, named {@code tern-<id>-...}), and runs a {@link RaftNode} replicating the
 * application's {@link StateMachine}.
 *
 * <pre>{@code
 * RaftServerOptions options = RaftServerOptions.builder(1)
 *     .dataDir(Path.of("data/1"))
 *     .raftAddress(new InetSocketAddress("127.0.0.1", 7001))
 *     .initialVoter(1, new InetSocketAddress("127.0.0.1", 7001))
 *     .initialVoter(2, new InetSocketAddress("127.0.0.1", 7002))
 *     .initialVoter(3, new InetSocketAddress("127.0.0.1", 7003))
 *     .build();
 * try (RaftServer server = RaftServer.start(options, myStateMachine)) {
 *   Object result = server.propose(command).get();           // applied on every member
 *   String v = server.read(ReadMode.READ_INDEX, () -> myStateMachine.get("k")).get();
 * }
 * }</pre>
 *
 * <p><b>Any member takes any request.</b> Proposals and reads made on a follower are forwarded to
 * the leader by Raft; a proposal's future completes with the state machine's result once the entry
 * is applied on this member. Membership changes and leadership transfers must be asked of the
 * leader (others fail with {@link NotLeaderException}, whose {@link
 * NotLeaderException#leaderHint()} names it).
 *
 * <p><b>Peer addresses.</b> The configuration replicated by Raft holds member ids only. Each member
 * knows the addresses it was started with ({@link RaftServerOptions#initialVoters()}); for a member
 * added later, call {@link #setPeerAddress} on <em>every</em> member (any of them may become leader
 * and need to reach it) before or right after adding it; {@link #addMember} does so on the member
 * it is called on. Addresses set this way are not persisted: pass them again after a restart. A
 * member that has no address for another learns the one it listens on when that member opens a
 * stream to it (a leader added while this member was down can thus reach it and be answered).
 *
 * <p><b>Errors</b> complete the returned futures: {@link NotLeaderException} (no leader known, or
 * this member must be the leader), {@link ProposalDroppedException} (refused before entering the
 * log: it had no effect), {@link RequestTimeoutException} (no outcome within {@link
 * RaftServerOptions#requestTimeout()}: a proposal may still apply), {@link ServerClosedException}.
 * If the member stops on an error (a failed disk write, an unusable snapshot), pending requests
 * fail, {@link #failure()} reports the error and {@link #failed()} completes with it; the process
 * should then close the server and exit.
 *
 * <p>Thread-safe.
 */
public final class RaftServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RaftServer.class);

  /** How long {@link #close()} waits for each stage of the shutdown. */
  private static final long CLOSE_STAGE_SECONDS = 10;

  private final RaftServerOptions options;
  private final long id;
  private final RocksDbLogStore logStore;
  private final FileSnapshotStore snapshotStore;
  private final EagerTransport transport;
  private final ThreadScheduler scheduler;
  private final RaftNode node;
  private final InetSocketAddress raftAddress;
  private final int maxProposalBytes;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CompletableFuture<Throwable> failed = new CompletableFuture<>();

  private RaftServer(
      RaftServerOptions options,
      RocksDbLogStore logStore,
      FileSnapshotStore snapshotStore,
      EagerTransport transport,
      ThreadScheduler scheduler,
      RaftNode node) {
    this.options = options;
    this.id = options.memberId();
    this.logStore = logStore;
    this.snapshotStore = snapshotStore;
    this.transport = transport;
    this.scheduler = scheduler;
    this.node = node;
    this.raftAddress = transport.grpc().localAddress();
    this.maxProposalBytes =
        options.transport().maxMessageBytes() - TransportOptions.MIN_MESSAGE_BYTES;
  }

  /**
   * Starts member {@code options.memberId()} replicating {@code stateMachine}. Durable state in the
   * data directory is recovered and checked (the state machine is restored from the latest snapshot
   * if it is behind it) on the calling thread; the member then takes part in the group.
   *
   * @throws RaftServerException if the data directory cannot be opened or is corrupt, the raft
   *     address cannot be bound, or the durable state cannot be recovered; whatever was opened is
   *     closed again
   */
  public static RaftServer start(RaftServerOptions options, StateMachine stateMachine) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(stateMachine, "stateMachine");
    long id = options.memberId();
    Deque<AutoCloseable> opened = new ArrayDeque<>();
    try {
      Files.createDirectories(options.dataDir());
      RocksDbLogStore logStore = RocksDbLogStore.open(options.dataDir());
      opened.push(logStore);
      FileSnapshotStore snapshotStore = FileSnapshotStore.open(options.dataDir());
      opened.push(snapshotStore);
      GrpcTransport grpc =
          new GrpcTransport(
              id, options.raftAddress(), options.peerAddresses(), options.transport());
      opened.push(grpc::close);
      EagerTransport transport = new EagerTransport(grpc);
      ThreadScheduler scheduler = new ThreadScheduler("tern-" + id);
      opened.push(scheduler);
      RaftNode node =
          RaftNode.start(
              options.toNodeOptions(), logStore, snapshotStore, transport, stateMachine, scheduler);
      RaftServer server =
          new RaftServer(options, logStore, snapshotStore, transport, scheduler, node);
      server.watchForFailure();
      LOG.info(
          "member {} started: data {}, peers on {}, {} {}",
          id,
          options.dataDir(),
          server.raftAddress,
          options.join() ? "joining the cluster of" : "initial voters",
          options.initialVoters());
      return server;
    } catch (IOException | RuntimeException e) {
      closeAll(opened, e);
      throw new RaftServerException(startFailure(options, e), e);
    }
  }

  private static String startFailure(RaftServerOptions options, Exception e) {
    String what =
        e instanceof StorageCorruptionException
            ? "its durable state in " + options.dataDir() + " is corrupt"
            : e instanceof IOException
                ? "cannot create the data directory " + options.dataDir()
                : "start failed";
    return "member " + options.memberId() + " cannot start: " + what + ": " + e.getMessage();
  }

  private static void closeAll(Deque<AutoCloseable> opened, Exception failure) {
    while (!opened.isEmpty()) {
      try {
        opened.pop().close();
      } catch (Exception suppressed) {
        failure.addSuppressed(suppressed);
      }
    }
  }

  // ---------------------------------------------------------------- identity

  public long id() {
    return id;
  }

  public RaftServerOptions options() {
    return options;
  }

  /** The address the peer transport is bound to (with the actual port if started on port 0). */
  public InetSocketAddress raftAddress() {
    return raftAddress;
  }

  /** The leader this member knows of, 0 if none; cheap, readable from any thread. */
  public long leader() {
    return node.softState().leader();
  }

  /** Whether this member currently believes it leads; cheap, readable from any thread. */
  public boolean isLeader() {
    return node.softState().role() == Role.LEADER;
  }

  /** The error that stopped this member, if one did. */
  public Optional<Throwable> failure() {
    return Optional.ofNullable(node.failure());
  }

  /**
   * Completes with the error that stopped this member, if one ever does (noticed within a tick);
   * never completes otherwise, also not on {@link #close()}.
   */
  public CompletableFuture<Throwable> failed() {
    return failed.copy();
  }

  // ---------------------------------------------------------------- requests

  /**
   * Replicates {@code command} and completes with what {@link StateMachine#apply} returned for it
   * once it is applied on this member. The array is copied.
   */
  public CompletableFuture<Object> propose(byte[] command) {
    Objects.requireNonNull(command, "command");
    if (command.length > maxProposalBytes) {
      return CompletableFuture.failedFuture(
          new ProposalDroppedException(
              "a command of "
                  + command.length
                  + " bytes exceeds the largest the transport carries ("
                  + maxProposalBytes
                  + ")"));
    }
    byte[] copy = command.clone();
    return submit(() -> node.propose(copy));
  }

  /**
   * A linearizable read: runs {@code query} on the apply thread once this member has applied every
   * entry committed before the call. {@link ReadMode#LEASE} skips the leader's heartbeat round when
   * its lease is valid (only if {@link RaftServerOptions#leaseRead()}).
   */
  public <T> CompletableFuture<T> read(ReadMode mode, Supplier<T> query) {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(query, "query");
    return submit(() -> node.read(mode, query));
  }

  /**
   * A linearizable read on the calling thread, with no hand-off to another thread: when this member
   * leads with a lease valid by the clock (only if {@link RaftServerOptions#leaseRead()}) and has
   * applied everything committed when the lease was last confirmed, runs {@code query} here and
   * returns its result (which must not be null). Otherwise, and if the lease did not hold until
   * {@code query} returned, returns empty: read through {@link #read} then. {@code query} must be
   * safe to run concurrently with the state machine's apply.
   */
  public <T> Optional<T> tryLeaseRead(Supplier<T> query) {
    Objects.requireNonNull(query, "query");
    if (closed.get()) {
      return Optional.empty();
    }
    return node.tryLeaseRead(query);
  }

  /**
   * Asks this member, which must lead, to hand leadership to {@code target} (0: the most up-to-date
   * other voter). Completes with the new leader's id.
   */
  public CompletableFuture<Long> transferLeadership(long target) {
    return submit(() -> node.transferLeadership(target));
  }

  /**
   * Adds member {@code memberId} at {@code address}, as a learner (receives the log, does not vote;
   * {@link #promote} it once caught up) or directly as a voter. Must be called on the leader.
   * Records the address here first; call {@link #setPeerAddress} on every other member too.
   * Completes once the change is committed and applied here.
   */
  public CompletableFuture<Void> addMember(
      long memberId, InetSocketAddress address, boolean learner) {
    requireMemberId(memberId);
    Objects.requireNonNull(address, "address");
    if (closed.get()) {
      return closedFuture();
    }
    setPeerAddress(memberId, address);
    return changeMembership(
        learner ? ConfChange.addLearner(memberId) : ConfChange.addVoter(memberId));
  }

  /**
   * Removes a voter or learner from the configuration. Must be called on the leader; a leader that
   * removes itself steps down once the change commits.
   */
  public CompletableFuture<Void> removeMember(long memberId) {
    requireMemberId(memberId);
    return changeMembership(ConfChange.remove(memberId));
  }

  /**
   * Makes learner {@code memberId} a voter. Must be called on the leader; refused ({@link
   * ProposalDroppedException}) while the learner lags too far behind the leader's log.
   */
  public CompletableFuture<Void> promote(long memberId) {
    requireMemberId(memberId);
    return changeMembership(ConfChange.promote(memberId));
  }

  /**
   * Records where member {@code memberId} listens for Raft traffic (or moves it). Every member
   * needs the address of every other member; ignored for this member itself.
   */
  public void setPeerAddress(long memberId, InetSocketAddress address) {
    requireMemberId(memberId);
    Objects.requireNonNull(address, "address");
    if (closed.get()) {
      throw new ServerClosedException(id);
    }
    transport.grpc().setPeer(memberId, address);
  }

  /** The addresses this member knows for the others. */
  public Map<Long, InetSocketAddress> peerAddresses() {
    return transport.grpc().peers();
  }

  /**
   * Takes a snapshot now of everything applied or queued for apply, and compacts the log behind it.
   * Completes with the snapshot's index once it is durable.
   */
  public CompletableFuture<Long> snapshot() {
    return submit(node::snapshot);
  }

  /** This member's state, as its Raft loop sees it. */
  public CompletableFuture<ServerStatus> status() {
    return submit(node::status).thenApply(this::toStatus);
  }

  private ServerStatus toStatus(NodeStatus s) {
    return new ServerStatus(
        s.id(),
        s.role(),
        s.term(),
        s.leader(),
        s.commitIndex(),
        s.appliedIndex(),
        s.lastIndex(),
        node.snapshotsInstalled(),
        s.matchIndex(),
        s.membership().voters().ids(),
        s.membership().learners(),
        s.membershipChanging());
  }

  private CompletableFuture<Void> changeMembership(ConfChange change) {
    return submit(() -> node.changeMembership(List.of(change))).thenApply(ignored -> null);
  }

  private void requireMemberId(long memberId) {
    if (memberId <= 0) {
      throw new IllegalArgumentException("member ids are positive, was " + memberId);
    }
  }

  private <T> CompletableFuture<T> submit(Supplier<CompletableFuture<T>> request) {
    if (closed.get()) {
      return closedFuture();
    }
    try {
      return request.get();
    } catch (RejectedExecutionException e) {
      return closedFuture(); // closed concurrently: the loop no longer takes tasks
    }
  }

  private <T> CompletableFuture<T> closedFuture() {
    return CompletableFuture.failedFuture(new ServerClosedException(id));
  }

  // ---------------------------------------------------------------- lifecycle

  private void watchForFailure() {
    long period = options.tickMillis() * 1_000_000L;
    scheduler.scheduleOnLoop(
        period,
        () -> {
          Throwable t = node.failure();
          if (t != null) {
            LOG.error("member {} stopped on an error: {}", id, t.toString());
            failed.complete(t);
          } else if (!closed.get()) {
            watchForFailure();
          }
        });
  }

  /**
   * Stops the member: pending requests fail ({@link RequestTimeoutException}: a proposal may still
   * be applied by the others), the transport closes, writes already queued reach the disk, the
   * threads end and the stores close. Idempotent; later requests fail with {@link
   * ServerClosedException}.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    LOG.info("member {} stopping", id);
    boolean interrupted = false;
    try {
      await(node.stop(), "stop the Raft node");
      // In-flight work on the apply and background threads ends before the stores close: a
      // barrier on the applier first, since it may still hand a snapshot to the background thread.
      await(barrier(scheduler.applier()), "finish applying");
      await(barrier(scheduler.background()), "finish writing snapshots");
    } catch (InterruptedException e) {
      interrupted = true;
    } catch (RejectedExecutionException e) {
      LOG.warn("member {}: its threads were already stopped", id);
    }
    scheduler.close();
    transport.close();
    logStore.close();
    snapshotStore.close();
    LOG.info("member {} stopped", id);
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static CompletableFuture<Void> barrier(Executor executor) {
    return CompletableFuture.runAsync(() -> {}, executor);
  }

  private void await(CompletableFuture<?> f, String what) throws InterruptedException {
    try {
      f.get(CLOSE_STAGE_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      LOG.warn("member {}: failed to {} while closing", id, what, e.getCause());
    } catch (TimeoutException e) {
      LOG.warn("member {}: could not {} within {} s while closing", id, what, CLOSE_STAGE_SECONDS);
    }
  }

  @Override
  public String toString() {
    return "RaftServer[member " + id + ", " + raftAddress + ", " + options.dataDir() + "]";
  }
}
