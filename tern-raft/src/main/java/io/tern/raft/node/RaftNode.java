package io.tern.raft.node;

import io.tern.raft.NotLeaderException;
import io.tern.raft.ProposalDroppedException;
import io.tern.raft.RaftException;
import io.tern.raft.RequestTimeoutException;
import io.tern.raft.core.Entry;
import io.tern.raft.core.HardState;
import io.tern.raft.core.InitialState;
import io.tern.raft.core.Message;
import io.tern.raft.core.MessageType;
import io.tern.raft.core.Raft;
import io.tern.raft.core.ReadState;
import io.tern.raft.core.Ready;
import io.tern.raft.core.Role;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.SoftState;
import io.tern.raft.core.confchange.Changer;
import io.tern.raft.core.confchange.ConfChange;
import io.tern.raft.core.confchange.ConfChangeException;
import io.tern.raft.core.quorum.JointConfig;
import io.tern.raft.core.quorum.MajorityConfig;
import io.tern.raft.core.tracker.Membership;
import io.tern.raft.core.tracker.Progress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives one {@link Raft} core: the only code that turns a {@link Ready} into actions. It persists
 * (one write per Ready; the store groups writes into fsyncs), sends, applies on the apply thread in
 * log order, and completes callers' futures.
 *
 * <p>Threads: the core and all fields not marked otherwise belong to the loop ({@link
 * Scheduler#loop()}); the state machine and waiter completion run on {@link Scheduler#applier()}.
 * The public methods are thread-safe: they hand work to the loop. The simulator runs this same
 * class on simulated time.
 *
 * <p>Snapshots: after {@link NodeOptions#snapshotEntries()} applied entries (or on {@link
 * #snapshot()}) the state machine captures its state on the apply thread and writes it on the
 * background thread into the {@link SnapshotStore}; the log is then compacted up to {@link
 * NodeOptions#snapshotTrailingEntries()} entries behind it. A follower behind the compacted log is
 * streamed the latest snapshot by a {@link SnapshotSender}; its {@link SnapshotReceiver} commits it
 * to its store and hands it to the core, which resets the log; the state machine is restored on the
 * apply thread before anything later is applied.
 */
public final class RaftNode {
  private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);

  private final NodeOptions options;
  private final long id;
  private final LogStore store;
  private final SnapshotStore snapshots;
  private final Transport transport;
  private final StateMachine stateMachine;
  private final Scheduler scheduler;
  private final Raft core;

  /** Proposals waiting for their entry to apply, by request id. Shared with the applier. */
  private final Map<Long, Waiter<Object>> proposalWaiters = new ConcurrentHashMap<>();

  private final ArrayDeque<Waiter<?>> deadlines = new ArrayDeque<>();
  private final long requestIdBase;
  private long requestSeq;
  private final long readContextBase;
  private long readSeq;

  private List<Entry> batchedProposals = new ArrayList<>();
  private List<Waiter<Object>> batchedProposalWaiters = new ArrayList<>();
  private List<PendingRead<?>> batchedReads = new ArrayList<>();
  private final Map<Long, List<PendingRead<?>>> readsByContext = new HashMap<>();
  private final TreeMap<Long, List<PendingRead<?>>> readsByIndex = new TreeMap<>();

  private final List<PendingTransfer> transfers = new ArrayList<>();

  private final SnapshotReceiver receiver;
  private final Map<Long, SnapshotSender> senders = new TreeMap<>();

  /** Snapshots received from a leader, by index, until the core asks to install them. */
  private final Map<Long, Snapshot> received = new HashMap<>();

  /** Index of the latest durable snapshot here (0: none). */
  private long lastSnapshotIndex;

  private boolean snapshotting;
  private volatile long snapshotsInstalled;
  private List<CompletableFuture<Long>> snapshotWaiters = new ArrayList<>();

  /** Callers of {@link #snapshot()} who asked while one was being taken: they need a fresh one. */
  private List<CompletableFuture<Long>> snapshotWaitersNext = new ArrayList<>();

  /**
   * Bumped when the log is reset to a snapshot: durability reports of writes submitted before it
   * describe entries the reset discarded, and must not be credited to the new log.
   */
  private long logEpoch;

  private CompletableFuture<Void> lastWrite = CompletableFuture.completedFuture(null);
  private boolean flushScheduled;
  // When each of the last ticks was processed (scheduler clock), indexed by tick count modulo the
  // length; Long.MIN_VALUE where unknown. Loop-owned.
  private final long[] tickTimes;
  private volatile boolean stopped;
  private Scheduler.Cancellable tickTimer;
  private volatile Throwable failure;
  private volatile SoftState softState = new SoftState(0, Role.FOLLOWER);
  private volatile long appliedIndex;

  /**
   * The lease as the loop last published it for {@link #tryLeaseRead} on other threads; null when
   * this member may not serve reads from it. Written by the loop before each batch of outgoing
   * messages, so a commit index that any message (or any apply, hence any answer) reveals is never
   * above the published one, and a transfer's TIMEOUT_NOW never leaves while a grant is out.
   */
  private volatile LeaseGrant leaseGrant;

  private RaftNode(
      NodeOptions options,
      LogStore store,
      SnapshotStore snapshots,
      Transport transport,
      StateMachine stateMachine,
      Scheduler scheduler) {
    this.options = options;
    this.tickTimes = new long[options.raft().electionTicks() + 2];
    java.util.Arrays.fill(tickTimes, Long.MIN_VALUE);
    this.id = options.raft().id();
    this.store = store;
    this.snapshots = snapshots;
    this.transport = transport;
    this.stateMachine = stateMachine;
    this.scheduler = scheduler;
    this.receiver = new SnapshotReceiver(id, snapshots);
    PersistentState durable = store.load();
    Snapshot snap = snapshots.latest();
    if (snap != null && stateMachine.appliedIndex() < snap.meta().index()) {
      try (var in = snap.open()) {
        stateMachine.restore(snap.meta(), in);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot restore snapshot " + snap.meta(), e);
      }
    }
    SnapshotMeta base = durable.base();
    if (base == null) {
      Membership initial =
          new Membership(
              new JointConfig(new MajorityConfig(options.initialVoters()), MajorityConfig.EMPTY),
              Set.of());
      base = new SnapshotMeta(0, 0, initial);
    }
    List<Entry> entries = durable.entries();
    SnapshotMeta reset = null;
    if (snap != null
        && snap.meta().index() > base.index()
        && termAt(base, entries, snap.meta().index()) != snap.meta().term()) {
      // The snapshot was installed but the log reset did not reach the disk before a crash: the
      // log may hold entries the snapshot contradicts. Redo the reset first.
      reset = snap.meta();
      base = reset;
      entries = List.of();
    }
    long applied = stateMachine.appliedIndex();
    long last = base.index() + entries.size();
    if (applied < base.index()) {
      throw new IllegalStateException(
          "member "
              + id
              + ": the state machine holds index "
              + applied
              + " but the log starts after "
              + base.index()
              + "; the snapshot covering the compacted entries is missing");
    }
    if (applied > last) {
      throw new IllegalStateException(
          "member "
              + id
              + ": the state machine holds index "
              + applied
              + " beyond the log's "
              + last);
    }
    // Applied entries are committed, even if the commit index on disk lagged behind them.
    HardState hs = durable.hardState();
    hs = new HardState(hs.term(), hs.vote(), Math.max(hs.commit(), applied));
    this.core =
        new Raft(
            options.raft(),
            new InitialState(hs, base.index(), base.term(), entries, base.membership(), applied));
    if (snap != null) {
      core.snapshotAvailable(snap.meta());
      lastSnapshotIndex = snap.meta().index();
    }
    if (reset != null) {
      LOG.info(
          "member {} resets its log to snapshot {} (the reset was lost in a crash)", id, reset);
      lastWrite = failOnError(store.reset(hs, reset), "log reset");
    }
    this.appliedIndex = applied;
    this.requestIdBase = options.raft().random().nextLong();
    this.readContextBase = options.raft().random().nextLong();
  }

  private static long termAt(SnapshotMeta base, List<Entry> entries, long index) {
    if (index == base.index()) {
      return base.term();
    }
    long i = index - base.index() - 1;
    return i < 0 || i >= entries.size() ? -1 : entries.get((int) i).term();
  }

  /**
   * Creates a node over its durable state and starts ticking and receiving. The stores are loaded
   * and the state machine restored from the latest snapshot (if it is behind it) on the calling
   * thread.
   */
  public static RaftNode start(
      NodeOptions options,
      LogStore store,
      SnapshotStore snapshots,
      Transport transport,
      StateMachine stateMachine,
      Scheduler scheduler) {
    RaftNode node = new RaftNode(options, store, snapshots, transport, stateMachine, scheduler);
    node.scheduler.loop().execute(node::begin);
    return node;
  }

  private void begin() {
    try {
      transport.start(this::receive);
    } catch (RuntimeException e) {
      // E.g. the listen port is taken: the member cannot work; say so through failure().
      fail(new IllegalStateException("member " + id + ": transport failed to start", e));
      return;
    }
    recordTickTime();
    tickTimer = scheduler.scheduleOnLoop(options.tickNanos(), this::onTick);
    LOG.debug("member {} started: {}", id, core);
  }

  public long id() {
    return id;
  }

  // ---------------------------------------------------------------- public API (thread-safe)

  /**
   * Replicates {@code data} and completes with the state machine's result once it is applied here.
   * Fails with {@link NotLeaderException} when no leader is known, and with {@link
   * RequestTimeoutException} (outcome unknown) when it does not apply in time.
   */
  public CompletableFuture<Object> propose(byte[] data) {
    Waiter<Object> w = new Waiter<>();
    scheduler
        .loop()
        .execute(
            () -> {
              if (rejectIfStopped(w)) {
                return;
              }
              long rid = nextRequestId();
              w.requestId = rid;
              proposalWaiters.put(rid, w);
              expireInTime(w);
              batchedProposals.add(Entry.proposal(rid, data));
              batchedProposalWaiters.add(w);
              if (batchedProposals.size() >= options.maxProposalBatch()) {
                flushProposals();
              }
              scheduleFlush();
            });
    return w.future;
  }

  /**
   * A linearizable read: runs {@code query} against the state machine, on the apply thread, once
   * everything committed before this call is applied here.
   */
  public <T> CompletableFuture<T> read(ReadMode mode, Supplier<T> query) {
    PendingRead<T> r = new PendingRead<>(query);
    scheduler
        .loop()
        .execute(
            () -> {
              if (rejectIfStopped(r)) {
                return;
              }
              expireInTime(r);
              distrustLateTicks();
              if (mode == ReadMode.LEASE && core.leaseValid() && leaseValidByClock()) {
                // The lease proves no other leader exists: our commit index is current.
                parkRead(r, core.log().committed());
              } else {
                batchedReads.add(r);
                scheduleFlush();
              }
            });
    return r.future;
  }

  /**
   * A linearizable read served on the calling thread with no hand-off, when this member leads and
   * its lease (see {@link ReadMode#LEASE}) is valid by the clock and it has already applied the
   * commit index published with that lease: runs {@code query} against the state machine (which
   * must be safe to read concurrently with apply) and returns its result, which must not be null.
   * Returns empty without running or after discarding {@code query}'s result when any of that does
   * not hold, from the start of the call until the query returned; the caller then reads through
   * {@link #read}.
   */
  public <T> Optional<T> tryLeaseRead(Supplier<T> query) {
    LeaseGrant g = leaseGrant;
    if (g == null || appliedIndex < g.commitIndex || scheduler.nanoTime() - g.untilNanos >= 0) {
      return Optional.empty();
    }
    T result = Objects.requireNonNull(query.get(), "query result");
    // The answer stands only if the lease held throughout: the same term, not withdrawn, not
    // expired (the thread may have been descheduled for long while reading).
    LeaseGrant now = leaseGrant;
    if (now == null || now.term != g.term || scheduler.nanoTime() - now.untilNanos >= 0) {
      return Optional.empty();
    }
    return Optional.of(result);
  }

  /**
   * Asks this member, which must be the leader, to hand leadership to {@code target} (0: the most
   * up-to-date other voter). Completes with the new leader's id once this member sees it lead.
   * Fails with {@link NotLeaderException} if this member does not lead, {@link
   * ProposalDroppedException} for a target that is not another voter, and {@link
   * RequestTimeoutException} if the handover was abandoned (the target did not take over within an
   * election timeout) or not seen in time.
   */
  public CompletableFuture<Long> transferLeadership(long target) {
    Waiter<Long> w = new Waiter<>();
    scheduler
        .loop()
        .execute(
            () -> {
              if (rejectIfStopped(w)) {
                return;
              }
              try {
                core.transferLeadership(target);
              } catch (RaftException e) {
                w.future.completeExceptionally(e);
                return;
              }
              long expected = target == 0 ? core.leadTransferee() : target;
              if (expected == id || expected == 0) {
                w.future.complete(id);
                return;
              }
              expireInTime(w);
              transfers.add(new PendingTransfer(w, expected));
              scheduleFlush();
            });
    return w.future;
  }

  /**
   * Changes the membership: one change is applied directly (thesis 4.1), several go through joint
   * consensus (thesis 4.3), which the leader leaves by itself. Completes once the change is
   * committed and applied here. Fails with {@link ProposalDroppedException} when the change is
   * invalid, another one is in flight or a learner to promote lags behind, with {@link
   * NotLeaderException} off the leader, and with {@link RequestTimeoutException} when the outcome
   * is unknown.
   */
  public CompletableFuture<Object> changeMembership(List<ConfChange> changes) {
    Waiter<Object> w = new Waiter<>();
    scheduler
        .loop()
        .execute(
            () -> {
              if (rejectIfStopped(w)) {
                return;
              }
              Membership next;
              try {
                Membership current = core.membership();
                next =
                    changes.size() == 1
                        ? Changer.simple(current, changes)
                        : Changer.enterJoint(current, changes);
              } catch (ConfChangeException e) {
                w.future.completeExceptionally(new ProposalDroppedException(e.getMessage()));
                return;
              }
              long rid = nextRequestId();
              w.requestId = rid;
              try {
                core.proposeMembership(next, rid);
              } catch (RaftException e) {
                w.future.completeExceptionally(e);
                return;
              }
              proposalWaiters.put(rid, w);
              expireInTime(w);
              scheduleFlush();
            });
    return w.future;
  }

  /**
   * Takes a snapshot now, covering everything applied or queued for apply here, and compacts the
   * log behind it. Completes with the snapshot's index once it is durable.
   */
  public CompletableFuture<Long> snapshot() {
    CompletableFuture<Long> f = new CompletableFuture<>();
    scheduler
        .loop()
        .execute(
            () -> {
              if (stopped) {
                f.completeExceptionally(new ProposalDroppedException("member " + id + " stopped"));
                return;
              }
              if (snapshotting) {
                snapshotWaitersNext.add(f);
                return;
              }
              long upTo = core.log().applying();
              if (upTo <= lastSnapshotIndex) {
                f.complete(lastSnapshotIndex);
                return;
              }
              snapshotWaiters.add(f);
              guarded(() -> takeSnapshot(upTo));
            });
    return f;
  }

  /** A snapshot of this member's state, taken on the loop. */
  public CompletableFuture<NodeStatus> status() {
    CompletableFuture<NodeStatus> f = new CompletableFuture<>();
    scheduler.loop().execute(() -> f.complete(statusNow()));
    return f;
  }

  /** Stops the node: pending requests fail, the transport and store close. */
  public CompletableFuture<Void> stop() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    scheduler
        .loop()
        .execute(
            () -> {
              shutdown();
              done.complete(null);
            });
    return done;
  }

  /** Role and leader as last reported by the core; readable from any thread. */
  public SoftState softState() {
    return softState;
  }

  /** The index applied to the state machine; readable from any thread. */
  public long appliedIndex() {
    return appliedIndex;
  }

  /** Snapshots received from a leader and installed by this incarnation. */
  public long snapshotsInstalled() {
    return snapshotsInstalled;
  }

  /** The error that stopped this node, or null. */
  public Throwable failure() {
    return failure;
  }

  /**
   * The core, for inspection by tests and the simulator. Only safe on the loop thread (in the
   * simulator: between events).
   */
  public Raft core() {
    return core;
  }

  /** The state now; only safe on the loop thread (in the simulator: between events). */
  public NodeStatus statusNow() {
    Map<Long, Long> match = new TreeMap<>();
    if (core.role() == Role.LEADER) {
      for (Map.Entry<Long, Progress> e : core.tracker().all().entrySet()) {
        match.put(e.getKey(), e.getValue().match());
      }
    }
    return new NodeStatus(
        id,
        core.role(),
        core.term(),
        core.leader(),
        core.log().committed(),
        core.log().applied(),
        core.log().lastIndex(),
        match,
        core.membership(),
        core.membershipChanging());
  }

  // ---------------------------------------------------------------- loop

  private void receive(Message m) {
    scheduler
        .loop()
        .execute(
            () -> {
              if (stopped) {
                return;
              }
              if (m.to() != id) {
                LOG.warn("member {} dropped a message for {}: {}", id, m.to(), m);
                return;
              }
              switch (m.type()) {
                case SNAPSHOT_CHUNK -> guarded(() -> onSnapshotChunk(m));
                case SNAPSHOT_CHUNK_ACK -> guarded(() -> onSnapshotAck(m));
                case SNAPSHOT, INSTALL_SNAPSHOT ->
                    LOG.warn("member {} dropped a local-only message from the network: {}", id, m);
                default -> {
                  if (m.type() == MessageType.READ_INDEX) {
                    distrustLateTicks(); // a follower's read may be answered from the lease
                  }
                  guarded(() -> core.step(m));
                }
              }
              scheduleFlush();
            });
  }

  /**
   * The core counts the lease in ticks, but ticks run late when the process is paused or starved (a
   * read queued during a pause would otherwise be served on a lease that expired in real time). So
   * the lease must also hold by the clock: less than {@code electionTicks - leaseDriftTicks} tick
   * intervals since the tick at which its heartbeat round was sent was processed.
   */
  private boolean leaseValidByClock() {
    long until = leaseExpiryNanos();
    return until != Long.MIN_VALUE && scheduler.nanoTime() - until < 0;
  }

  /**
   * When the lease the core holds now ends on the scheduler's clock; Long.MIN_VALUE if unknown. The
   * earlier of: {@code electionTicks - leaseDriftTicks} tick intervals after the tick at which its
   * heartbeat round was sent was processed, and the tick-counted end from the last tick's time (in
   * case ticks ran fast to catch up after a delay).
   */
  private long leaseExpiryNanos() {
    long start = core.leaseStartTick();
    long ticks = core.ticks();
    if (start < 0 || ticks - start >= tickTimes.length) {
      return Long.MIN_VALUE;
    }
    long startedAt = tickTimes[(int) (start % tickTimes.length)];
    long lastTick = tickTimes[(int) (ticks % tickTimes.length)];
    if (startedAt == Long.MIN_VALUE || lastTick == Long.MIN_VALUE) {
      return Long.MIN_VALUE;
    }
    long leaseTicks = options.raft().electionTicks() - options.raft().leaseDriftTicks();
    long byClock = startedAt + leaseTicks * options.tickNanos();
    long byTicks = lastTick + (start + leaseTicks - ticks) * options.tickNanos();
    return Math.min(byClock, byTicks);
  }

  /**
   * If the tick timer is overdue (the process was paused or starved), the core's tick count lags
   * real time and so would its lease: withdraw the lease before the core serves any read.
   */
  private void distrustLateTicks() {
    long last = tickTimes[(int) (core.ticks() % tickTimes.length)];
    if (last != Long.MIN_VALUE && scheduler.nanoTime() - last > 2 * options.tickNanos()) {
      core.suspendLease();
    }
  }

  private void recordTickTime() {
    tickTimes[(int) (core.ticks() % tickTimes.length)] = scheduler.nanoTime();
  }

  private void onTick() {
    if (stopped) {
      return;
    }
    guarded(core::tick);
    recordTickTime();
    if (!senders.isEmpty()) {
      guarded(this::tickSenders);
    }
    if (!transfers.isEmpty() && core.role() == Role.LEADER && core.leadTransferee() == 0) {
      for (PendingTransfer t : transfers) {
        t.waiter.future.completeExceptionally(
            new RequestTimeoutException(
                "member " + t.target + " did not take over within an election timeout"));
      }
      transfers.clear();
    }
    expireRequests();
    scheduleFlush();
    tickTimer = scheduler.scheduleOnLoop(options.tickNanos(), this::onTick);
  }

  private void scheduleFlush() {
    if (!flushScheduled && !stopped) {
      flushScheduled = true;
      // Queued behind events already waiting, so one flush covers all of them.
      scheduler.loop().execute(this::flush);
    }
  }

  private void flush() {
    flushScheduled = false;
    if (stopped) {
      return;
    }
    guarded(
        () -> {
          flushProposals();
          flushReads();
          while (core.hasReady()) {
            publishLease();
            Ready rd = core.ready();
            core.advance(rd);
            handle(rd);
          }
          publishLease();
        });
  }

  /** On the loop, before any message of the state it reads leaves: see {@link #leaseGrant}. */
  private void publishLease() {
    LeaseGrant next = null;
    if (!stopped && core.role() == Role.LEADER) {
      distrustLateTicks();
      if (core.leaseValid()) {
        long until = leaseExpiryNanos();
        if (until != Long.MIN_VALUE) {
          next = new LeaseGrant(core.term(), core.log().committed(), until);
        }
      }
    }
    LeaseGrant old = leaseGrant;
    if (next == null ? old != null : !next.equals(old)) {
      leaseGrant = next;
    }
  }

  private void flushProposals() {
    if (batchedProposals.isEmpty()) {
      return;
    }
    List<Entry> batch = batchedProposals;
    List<Waiter<Object>> waiters = batchedProposalWaiters;
    batchedProposals = new ArrayList<>();
    batchedProposalWaiters = new ArrayList<>();
    try {
      core.propose(batch);
    } catch (RaftException e) {
      for (Waiter<Object> w : waiters) {
        proposalWaiters.remove(w.requestId);
        w.future.completeExceptionally(e);
      }
    }
  }

  private void flushReads() {
    if (batchedReads.isEmpty()) {
      return;
    }
    List<PendingRead<?>> batch = batchedReads;
    batchedReads = new ArrayList<>();
    long ctx = readContextBase + (++readSeq);
    distrustLateTicks();
    try {
      core.readIndex(ctx);
      readsByContext.put(ctx, batch);
    } catch (RaftException e) {
      for (PendingRead<?> r : batch) {
        r.future.completeExceptionally(e);
      }
    }
  }

  private void handle(Ready rd) {
    if (rd.softState() != null) {
      SoftState old = softState;
      softState = rd.softState();
      if (old.role() != rd.softState().role() || old.leader() != rd.softState().leader()) {
        LOG.debug(
            "member {} is now {} in term {} (leader {})",
            id,
            softState.role(),
            core.term(),
            softState.leader());
      }
    }
    if (rd.softState() != null && !transfers.isEmpty()) {
      long leader = rd.softState().leader();
      transfers.removeIf(
          t -> {
            if (t.target == leader) {
              t.waiter.future.complete(leader);
              return true;
            }
            return t.waiter.future.isDone();
          });
    }
    if (!senders.isEmpty() && (core.role() != Role.LEADER || core.term() != senderTerm())) {
      senders.clear(); // the cores reset every follower's progress on a change of leader
    }
    // Committed entries go to the applier first: they are durable here already, and the apply
    // thread (which answers clients) should not wait behind the wake-ups of the transport and the
    // log writer below. A snapshot in this Ready must be installed before anything after it.
    boolean applyFirst = rd.snapshot() == null;
    if (applyFirst) {
      handOffCommitted(rd.committedEntries());
    }
    if (!rd.messages().isEmpty()) {
      transport.send(withoutSnapshotRequests(rd.messages()));
    }
    if (rd.snapshot() != null) {
      installSnapshot(rd);
    } else if (rd.mustPersist()) {
      persist(rd.hardState(), rd.entries());
    }
    if (!rd.messagesAfterPersist().isEmpty()) {
      List<Message> after = rd.messagesAfterPersist();
      // Store futures complete in write order, so these leave after every write before them is
      // durable, and in order. They are sent from the thread that completes the write (no hop
      // through the loop: on a follower this is the acknowledgement the leader waits for).
      lastWrite.thenRun(
          () -> {
            if (!stopped) {
              transport.send(after);
            }
          });
    }
    if (!applyFirst) {
      handOffCommitted(rd.committedEntries());
    }
    // After the hand-off: a read parked at an index in this batch must queue behind the batch on
    // the applier.
    for (ReadState rs : rd.readStates()) {
      List<PendingRead<?>> reads = readsByContext.remove(rs.context());
      if (reads != null) {
        for (PendingRead<?> r : reads) {
          parkRead(r, rs.index());
        }
      }
    }
  }

  private void handOffCommitted(List<Entry> entries) {
    if (entries.isEmpty()) {
      return;
    }
    long last = entries.get(entries.size() - 1).index();
    List<PendingRead<?>> reads = takeReadsUpTo(last);
    scheduler.applier().execute(() -> applyBatch(entries, reads));
    if (options.snapshotEntries() > 0
        && !snapshotting
        && last - lastSnapshotIndex >= options.snapshotEntries()) {
      takeSnapshot(last);
    }
  }

  private void persist(HardState hardState, List<Entry> entries) {
    Entry last = entries.isEmpty() ? null : entries.get(entries.size() - 1);
    long epoch = logEpoch;
    CompletableFuture<Void> write = store.write(hardState, entries);
    lastWrite = write;
    write.whenComplete(
        (ok, err) -> {
          if (err == null && last == null) {
            // A hard state alone (a commit index, a vote): nothing for the loop to learn, so do
            // not wake it. What waited for this write's durability has its own future (lastWrite).
            return;
          }
          scheduler
              .loop()
              .execute(
                  () -> {
                    if (err != null) {
                      fail(new IllegalStateException("log store write failed", err));
                    } else if (!stopped && epoch == logEpoch) {
                      guarded(() -> core.persisted(last.index(), last.term()));
                      scheduleFlush();
                    }
                  });
        });
  }

  // ---------------------------------------------------------------- snapshots

  /** Captures the state machine after index {@code upTo} (everything queued for apply so far). */
  private void takeSnapshot(long upTo) {
    SnapshotMeta meta = new SnapshotMeta(upTo, core.log().term(upTo), core.membershipAt(upTo));
    snapshotting = true;
    scheduler
        .applier()
        .execute(
            () -> {
              if (stateMachine.appliedIndex() != upTo) {
                IllegalStateException e =
                    new IllegalStateException(
                        "snapshot at "
                            + upTo
                            + " but the state machine is at "
                            + stateMachine.appliedIndex());
                scheduler.loop().execute(() -> fail(e));
                return;
              }
              StateMachine.SnapshotWriter writer = stateMachine.snapshot();
              scheduler.background().execute(() -> writeSnapshot(meta, writer));
            });
  }

  /** On the background thread. */
  private void writeSnapshot(SnapshotMeta meta, StateMachine.SnapshotWriter writer) {
    Snapshot snap = null;
    Exception error = null;
    SnapshotSink sink = null;
    try {
      sink = snapshots.create(meta);
      writer.writeTo(sink.out());
      snap = sink.commit();
    } catch (IOException | RuntimeException e) {
      error = e;
      if (sink != null) {
        sink.abort();
      }
    }
    Snapshot done = snap;
    Exception failed = error;
    scheduler.loop().execute(() -> snapshotWritten(meta, done, failed));
  }

  private void snapshotWritten(SnapshotMeta meta, Snapshot snap, Exception error) {
    snapshotting = false;
    List<CompletableFuture<Long>> waiters = snapshotWaiters;
    snapshotWaiters = snapshotWaitersNext;
    snapshotWaitersNext = new ArrayList<>();
    if (stopped) {
      return;
    }
    if (error != null) {
      LOG.warn("member {} failed to write snapshot {}", id, meta, error);
      waiters.forEach(w -> w.completeExceptionally(error));
    } else {
      LOG.debug("member {} took snapshot {} ({} bytes)", id, meta, snap.size());
      lastSnapshotIndex = Math.max(lastSnapshotIndex, meta.index());
      guarded(
          () -> {
            core.snapshotAvailable(meta);
            compactBehind(meta.index());
          });
      waiters.forEach(w -> w.complete(meta.index()));
    }
    if (!snapshotWaiters.isEmpty()) {
      long upTo = core.log().applying();
      if (upTo > lastSnapshotIndex) {
        guarded(() -> takeSnapshot(upTo));
      } else {
        snapshotWaiters.forEach(w -> w.complete(lastSnapshotIndex));
        snapshotWaiters = new ArrayList<>();
      }
    }
  }

  private void compactBehind(long snapshotIndex) {
    long to = Math.min(snapshotIndex - options.snapshotTrailingEntries(), core.log().applied());
    for (SnapshotSender sender : senders.values()) {
      // The follower needs the entries right after the snapshot it is being sent (as etcd does).
      to = Math.min(to, sender.snapshot().meta().index());
    }
    if (to <= core.log().snapshotIndex()) {
      return;
    }
    SnapshotMeta base = core.compact(to);
    failOnError(store.compact(base), "log compaction");
  }

  /** Stops the member if {@code op} fails: the store's state is then unknown. */
  private CompletableFuture<Void> failOnError(CompletableFuture<Void> op, String what) {
    op.whenComplete(
        (ok, err) -> {
          if (err != null) {
            scheduler.loop().execute(() -> fail(new IllegalStateException(what + " failed", err)));
          }
        });
    return op;
  }

  /** Leader side: the core asks for snapshots to be sent; they do not go to the transport. */
  private List<Message> withoutSnapshotRequests(List<Message> msgs) {
    List<Message> out = null;
    for (int i = 0; i < msgs.size(); i++) {
      Message m = msgs.get(i);
      if (m.type() == MessageType.SNAPSHOT) {
        if (out == null) {
          out = new ArrayList<>(msgs.subList(0, i));
        }
        startSender(m.to(), m.index());
      } else if (out != null) {
        out.add(m);
      }
    }
    return out == null ? msgs : out;
  }

  private long senderTerm() {
    return senders.isEmpty() ? 0 : senders.values().iterator().next().term();
  }

  private void startSender(long to, long minIndex) {
    Snapshot snap = snapshots.latest();
    if (snap == null || snap.meta().index() < minIndex) {
      throw new IllegalStateException(
          "member "
              + id
              + " must send snapshot "
              + minIndex
              + " but holds "
              + (snap == null ? "none" : snap.meta()));
    }
    SnapshotSender existing = senders.get(to);
    if (existing != null
        && existing.term() == core.term()
        && existing.snapshot().meta().index() >= minIndex) {
      return; // still good: restarting it with a newer snapshot could starve a slow follower
    }
    int heartbeat = options.raft().heartbeatTicks();
    SnapshotSender sender =
        new SnapshotSender(
            id,
            to,
            core.term(),
            snap,
            options.snapshotChunkBytes(),
            options.snapshotWindowChunks(),
            Math.max(2, 2 * heartbeat),
            Math.max(4, 2 * options.raft().electionTicks()));
    senders.put(to, sender);
    LOG.debug("member {} sends snapshot {} ({} bytes) to {}", id, snap.meta(), snap.size(), to);
    pump(sender);
  }

  private void pump(SnapshotSender sender) {
    List<Message> chunks;
    try {
      chunks = sender.pump();
    } catch (IOException e) {
      LOG.warn("member {} cannot read snapshot {}", id, sender.snapshot().meta(), e);
      endSender(sender, false);
      return;
    }
    if (!chunks.isEmpty()) {
      transport.send(chunks);
    }
  }

  private void endSender(SnapshotSender sender, boolean installed) {
    senders.remove(sender.to());
    core.reportSnapshot(sender.to(), installed);
  }

  private void onSnapshotAck(Message m) {
    SnapshotSender sender = senders.get(m.from());
    if (sender == null || !sender.matches(m)) {
      return;
    }
    if (m.term() > core.term()) {
      // The receiver is in a later term: we are a stale leader (Figure 2: step down on any
      // message of a later term). Tell the core, which never sees snapshot chunks.
      senders.remove(sender.to());
      core.step(
          Message.builder(MessageType.HEARTBEAT_RESPONSE)
              .from(m.from())
              .to(id)
              .term(m.term())
              .build());
      return;
    }
    switch (sender.onAck(m)) {
      case INSTALLED -> endSender(sender, true);
      case FAILED -> endSender(sender, false);
      case CONTINUE -> pump(sender);
    }
  }

  private void tickSenders() {
    for (SnapshotSender sender : new ArrayList<>(senders.values())) {
      if (sender.onTick() == SnapshotSender.Outcome.FAILED) {
        LOG.debug("member {} gives up sending a snapshot to {}", id, sender.to());
        endSender(sender, false);
      } else {
        pump(sender);
      }
    }
  }

  /** Follower side: a chunk of the leader's snapshot. */
  private void onSnapshotChunk(Message m) {
    long held = Math.max(core.log().committed(), lastSnapshotIndex);
    SnapshotReceiver.Result r = receiver.onChunk(m, core.term(), held);
    if (r.completed() != null) {
      Snapshot snap = r.completed();
      received.put(snap.meta().index(), snap);
      lastSnapshotIndex = Math.max(lastSnapshotIndex, snap.meta().index());
      core.step(
          Message.builder(MessageType.INSTALL_SNAPSHOT)
              .from(m.from())
              .to(id)
              .term(m.term())
              .snapshot(snap.meta())
              .build());
    }
    transport.send(List.of(r.ack()));
  }

  /** The core replaced its log by a snapshot: reset the stored log, restore the state machine. */
  private void installSnapshot(Ready rd) {
    SnapshotMeta meta = rd.snapshot();
    Snapshot snap = received.remove(meta.index());
    received.clear();
    if (snap == null) {
      throw new IllegalStateException("member " + id + " has no received snapshot " + meta);
    }
    logEpoch++;
    snapshotsInstalled++;
    lastWrite = failOnError(store.reset(rd.hardState(), meta), "log reset");
    if (!rd.entries().isEmpty()) {
      persist(null, rd.entries());
    }
    List<PendingRead<?>> reads = takeReadsUpTo(meta.index());
    scheduler.applier().execute(() -> restoreBatch(snap, reads));
  }

  /** On the applier. */
  private void restoreBatch(Snapshot snap, List<PendingRead<?>> reads) {
    try (var in = snap.open()) {
      stateMachine.restore(snap.meta(), in);
    } catch (IOException | RuntimeException e) {
      scheduler
          .loop()
          .execute(() -> fail(new IllegalStateException("cannot restore " + snap.meta(), e)));
      return;
    }
    appliedThrough(snap.meta().index(), reads);
  }

  /** On the applier: the state machine holds everything through {@code index}. */
  private void appliedThrough(long index, List<PendingRead<?>> reads) {
    appliedIndex = index;
    scheduler
        .loop()
        .execute(
            () -> {
              if (!stopped) {
                guarded(() -> core.applied(index));
              }
            });
    for (PendingRead<?> r : reads) {
      r.serve();
    }
  }

  /** Serves {@code r} once the applied index reaches {@code index}. */
  private void parkRead(PendingRead<?> r, long index) {
    if (index <= core.log().applying()) {
      // Everything through index is applied or queued on the applier ahead of this task.
      scheduler.applier().execute(() -> r.serve());
    } else {
      readsByIndex.computeIfAbsent(index, k -> new ArrayList<>()).add(r);
    }
  }

  private List<PendingRead<?>> takeReadsUpTo(long index) {
    if (readsByIndex.isEmpty() || readsByIndex.firstKey() > index) {
      return List.of();
    }
    List<PendingRead<?>> out = new ArrayList<>();
    var head = readsByIndex.headMap(index, true);
    head.values().forEach(out::addAll);
    head.clear();
    return out;
  }

  /** On the applier. */
  private void applyBatch(List<Entry> entries, List<PendingRead<?>> reads) {
    Object[] results;
    try {
      results = stateMachine.apply(entries);
    } catch (RuntimeException e) {
      // A state machine that cannot apply a committed entry must not go on: replicas would diverge.
      scheduler.loop().execute(() -> fail(e));
      throw e;
    }
    if (results.length != entries.size()) {
      throw new IllegalStateException(
          "state machine returned " + results.length + " results for " + entries.size());
    }
    // The loop learns of the apply first: completing a proposal runs its callbacks here (an
    // application answering its client), which must not delay the loop's applied index.
    appliedThrough(entries.get(entries.size() - 1).index(), reads);
    for (int i = 0; i < entries.size(); i++) {
      long rid = entries.get(i).requestId();
      if (rid != 0) {
        Waiter<Object> w = proposalWaiters.remove(rid);
        if (w != null) {
          w.future.complete(results[i]);
        }
      }
    }
  }

  private void expireRequests() {
    long now = scheduler.nanoTime();
    while (!deadlines.isEmpty()) {
      Waiter<?> w = deadlines.peekFirst();
      if (w.future.isDone()) {
        deadlines.pollFirst();
        continue;
      }
      if (w.deadline > now) {
        break;
      }
      deadlines.pollFirst();
      if (w.requestId != 0) {
        proposalWaiters.remove(w.requestId);
      }
      w.future.completeExceptionally(
          new RequestTimeoutException("member " + id + ": no outcome in time"));
    }
  }

  /** Fails {@code w} with {@link RequestTimeoutException} if it has no outcome in time. */
  private void expireInTime(Waiter<?> w) {
    w.deadline = scheduler.nanoTime() + options.requestTimeoutNanos();
    deadlines.addLast(w);
  }

  private long nextRequestId() {
    long rid = requestIdBase + (++requestSeq);
    return rid == 0 ? requestIdBase + (++requestSeq) : rid;
  }

  private boolean rejectIfStopped(Waiter<?> w) {
    if (stopped) {
      w.future.completeExceptionally(
          failure != null
              ? new IllegalStateException("member " + id + " failed", failure)
              : new ProposalDroppedException("member " + id + " stopped"));
      return true;
    }
    return false;
  }

  private void guarded(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      if (e instanceof RaftException) {
        throw e;
      }
      fail(e);
      throw e;
    }
  }

  private void fail(Throwable t) {
    if (failure == null) {
      failure = t;
      LOG.error("member {} stopped on error", id, t);
    }
    shutdown();
  }

  /** Pending requests fail with an unknown outcome: their entries may still commit elsewhere. */
  private void shutdown() {
    if (stopped) {
      return;
    }
    stopped = true;
    leaseGrant = null;
    if (tickTimer != null) {
      tickTimer.cancel();
    }
    receiver.discard("member stopped");
    senders.clear();
    transport.close();
    store.close();
    RequestTimeoutException reason =
        new RequestTimeoutException("member " + id + " stopped before the outcome was known");
    for (Waiter<?> w : deadlines) {
      w.future.completeExceptionally(reason);
    }
    deadlines.clear();
    proposalWaiters.clear();
  }

  /** See {@link #leaseGrant}. */
  private record LeaseGrant(long term, long commitIndex, long untilNanos) {}

  /** A caller waiting for an outcome. */
  private static class Waiter<T> {
    final CompletableFuture<T> future = new CompletableFuture<>();
    long requestId;
    long deadline;
  }

  /** A leadership transfer waiting to see its target lead. */
  private record PendingTransfer(Waiter<Long> waiter, long target) {}

  /** A read waiting for its read index to be applied. */
  private static final class PendingRead<T> extends Waiter<T> {
    private final Supplier<T> query;

    PendingRead(Supplier<T> query) {
      this.query = query;
    }

    /** On the applier, once applied >= read index. */
    void serve() {
      if (future.isDone()) {
        return;
      }
      try {
        future.complete(query.get());
      } catch (RuntimeException e) {
        future.completeExceptionally(e);
      }
    }
  }
}
