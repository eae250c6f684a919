package io.tern.raft.node;

import io.tern.raft.NotLeaderException;
import io.tern.raft.ProposalDroppedException;
import io.tern.raft.RaftException;
import io.tern.raft.RequestTimeoutException;
import io.tern.raft.core.Entry;
import io.tern.raft.core.InitialState;
import io.tern.raft.core.Message;
import io.tern.raft.core.Raft;
import io.tern.raft.core.ReadState;
import io.tern.raft.core.Ready;
import io.tern.raft.core.Role;
import io.tern.raft.core.SoftState;
import io.tern.raft.core.confchange.Changer;
import io.tern.raft.core.confchange.ConfChange;
import io.tern.raft.core.confchange.ConfChangeException;
import io.tern.raft.core.quorum.JointConfig;
import io.tern.raft.core.quorum.MajorityConfig;
import io.tern.raft.core.tracker.Membership;
import io.tern.raft.core.tracker.Progress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 */
public final class RaftNode {
  private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);

  private final NodeOptions options;
  private final long id;
  private final LogStore store;
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
  private CompletableFuture<Void> lastWrite = CompletableFuture.completedFuture(null);
  private boolean flushScheduled;
  private boolean stopped;
  private Scheduler.Cancellable tickTimer;
  private volatile Throwable failure;
  private volatile SoftState softState = new SoftState(0, Role.FOLLOWER);
  private volatile long appliedIndex;

  private RaftNode(
      NodeOptions options,
      LogStore store,
      Transport transport,
      StateMachine stateMachine,
      Scheduler scheduler) {
    this.options = options;
    this.id = options.raft().id();
    this.store = store;
    this.transport = transport;
    this.stateMachine = stateMachine;
    this.scheduler = scheduler;
    PersistentState durable = store.load();
    long applied = stateMachine.appliedIndex();
    Membership membership =
        new Membership(
            new JointConfig(new MajorityConfig(options.initialVoters()), MajorityConfig.EMPTY),
            Set.of());
    long snapshotIndex = durable.firstIndex() - 1;
    if (snapshotIndex != 0) {
      throw new IllegalStateException("compacted logs need snapshots, not supported yet");
    }
    this.core =
        new Raft(
            options.raft(),
            new InitialState(
                durable.hardState(), snapshotIndex, 0, durable.entries(), membership, applied));
    this.appliedIndex = applied;
    this.requestIdBase = options.raft().random().nextLong();
    this.readContextBase = options.raft().random().nextLong();
  }

  /**
   * Creates a node over its durable state and starts ticking and receiving. The store is loaded on
   * the calling thread.
   */
  public static RaftNode start(
      NodeOptions options,
      LogStore store,
      Transport transport,
      StateMachine stateMachine,
      Scheduler scheduler) {
    RaftNode node = new RaftNode(options, store, transport, stateMachine, scheduler);
    node.scheduler.loop().execute(node::begin);
    return node;
  }

  private void begin() {
    transport.start(this::receive);
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
              if (mode == ReadMode.LEASE && core.leaseValid()) {
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
        match);
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
              guarded(() -> core.step(m));
              scheduleFlush();
            });
  }

  private void onTick() {
    if (stopped) {
      return;
    }
    guarded(core::tick);
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
            Ready rd = core.ready();
            core.advance(rd);
            handle(rd);
          }
        });
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
    if (!rd.messages().isEmpty()) {
      transport.send(rd.messages());
    }
    if (rd.mustPersist()) {
      Entry last = rd.lastEntry();
      CompletableFuture<Void> write = store.write(rd.hardState(), rd.entries());
      lastWrite = write;
      write.whenComplete(
          (ok, err) ->
              scheduler
                  .loop()
                  .execute(
                      () -> {
                        if (err != null) {
                          fail(new IllegalStateException("log store write failed", err));
                        } else if (!stopped && last != null) {
                          guarded(() -> core.persisted(last.index(), last.term()));
                          scheduleFlush();
                        }
                      }));
    }
    if (!rd.messagesAfterPersist().isEmpty()) {
      List<Message> after = rd.messagesAfterPersist();
      // Store futures complete in write order and each hop goes through the FIFO loop, so these
      // leave after every write before them is durable, and in order.
      lastWrite.thenRun(
          () ->
              scheduler
                  .loop()
                  .execute(
                      () -> {
                        if (!stopped) {
                          transport.send(after);
                        }
                      }));
    }
    // Apply before parking this Ready's reads: a read parked at an index in this batch must
    // queue behind the batch on the applier.
    if (!rd.committedEntries().isEmpty()) {
      List<Entry> entries = rd.committedEntries();
      long last = entries.get(entries.size() - 1).index();
      List<PendingRead<?>> reads = takeReadsUpTo(last);
      scheduler.applier().execute(() -> applyBatch(entries, reads));
    }
    for (ReadState rs : rd.readStates()) {
      List<PendingRead<?>> reads = readsByContext.remove(rs.context());
      if (reads != null) {
        for (PendingRead<?> r : reads) {
          parkRead(r, rs.index());
        }
      }
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
    for (int i = 0; i < entries.size(); i++) {
      long rid = entries.get(i).requestId();
      if (rid != 0) {
        Waiter<Object> w = proposalWaiters.remove(rid);
        if (w != null) {
          w.future.complete(results[i]);
        }
      }
    }
    long last = entries.get(entries.size() - 1).index();
    appliedIndex = last;
    for (PendingRead<?> r : reads) {
      r.serve();
    }
    scheduler
        .loop()
        .execute(
            () -> {
              if (!stopped) {
                guarded(() -> core.applied(last));
              }
            });
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
    if (tickTimer != null) {
      tickTimer.cancel();
    }
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
