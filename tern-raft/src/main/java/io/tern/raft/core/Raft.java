package io.tern.raft.core;

import io.tern.raft.NotLeaderException;
import io.tern.raft.ProposalDroppedException;
import io.tern.raft.core.confchange.Changer;
import io.tern.raft.core.log.RaftLog;
import io.tern.raft.core.quorum.VoteResult;
import io.tern.raft.core.read.ReadOnly;
import io.tern.raft.core.tracker.Membership;
import io.tern.raft.core.tracker.MembershipCodec;
import io.tern.raft.core.tracker.Progress;
import io.tern.raft.core.tracker.ProgressTracker;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.TreeMap;

/**
 * The Raft protocol of one member as a deterministic state machine: no threads, no clock, no I/O.
 * Driven by {@link #tick()}, {@link #step(Message)}, {@link #propose(List)} and {@link
 * #readIndex(long)}; its output is collected with {@link #ready()} and acknowledged with {@link
 * #advance(Ready)}, {@link #persisted(long, long)} and {@link #applied(long)}.
 *
 * <p>Not thread-safe: one owner (the node loop) calls everything.
 */
public final class Raft {
  /** VOTE/PRE_VOTE context marking a campaign started by leadership transfer. */
  public static final long CAMPAIGN_TRANSFER = 1;

  private static final long MAX_APPLY_BYTES = 64L << 20;

  private final RaftConfig cfg;
  private final long id;
  private final RaftLog log;
  private final ProgressTracker tracker;

  /**
   * The configuration in force before any configuration entry of the log: the bootstrap voters, or
   * the membership recorded where the log was compacted or reset to a snapshot.
   */
  private Membership baseMembership;

  /** The latest snapshot this member holds (what it sends to followers behind its log), or null. */
  private SnapshotMeta latestSnapshot;

  /** A snapshot from the leader the driver must install (persist, restore), until ready(). */
  private SnapshotMeta pendingInstall;

  /**
   * Configurations installed by the configuration entries in the log, by index. The last one is in
   * force from the moment it is appended (thesis 4.1), committed or not.
   */
  private final TreeMap<Long, Installed> configs = new TreeMap<>();

  private record Installed(long term, Membership membership) {}

  private final ReadOnly readOnly = new ReadOnly();

  private long term;
  private long vote;
  private long lead;
  private Role role = Role.FOLLOWER;

  /** Ticks since the last election timeout reset (follower: since hearing from the leader). */
  private int electionElapsed;

  private int heartbeatElapsed;
  private int randomizedElectionTimeout;

  /** Ticks since this core started; never reset (dates heartbeat rounds for leases). */
  private long ticks;

  private ArrayList<Message> msgs = new ArrayList<>();
  private ArrayList<Message> msgsAfterPersist = new ArrayList<>();
  private ArrayList<ReadState> readStates = new ArrayList<>();
  private HardState lastHardState;
  private SoftState lastSoftState;
  private Ready outstanding;

  /** While leader: the member leadership is being handed to, or 0. */
  private long leadTransferee;

  /** Index of a committed configuration that leaves us out, as another member reported, or 0. */
  private long removedAt;

  /**
   * No lease reads before this tick: a TIMEOUT_NOW lets its target collect votes that ignore the
   * lease, so leases granted before it cannot be trusted until an election timeout after.
   */
  private long leaseBlockedUntil;

  /** While leader: request ids held by our log (see {@link #withoutDuplicates}). */
  private final HashMap<Long, Boolean> appendedRequests = new HashMap<>();

  public Raft(RaftConfig cfg, InitialState init) {
    this.cfg = cfg;
    this.id = cfg.id();
    HardState hs = init.hardState();
    this.log =
        new RaftLog(
            init.snapshotIndex(), init.snapshotTerm(), init.entries(), hs.commit(), init.applied());
    this.baseMembership = init.membership();
    for (Entry e : init.entries()) {
      if (e.type() == EntryType.CONFIG) {
        configs.put(e.index(), new Installed(e.term(), MembershipCodec.decode(e.data())));
      }
    }
    this.tracker =
        new ProgressTracker(currentMembership(), cfg.maxInflightMessages(), cfg.maxInflightBytes());
    this.term = hs.term();
    this.vote = hs.vote();
    this.lastHardState = hs;
    becomeFollower(term, 0);
    this.lastSoftState = new SoftState(0, Role.FOLLOWER);
  }

  // ---------------------------------------------------------------- inputs

  /** Advances logical time by one tick. */
  public void tick() {
    checkNoOutstandingReady();
    ticks++;
    if (role == Role.LEADER) {
      tickHeartbeat();
    } else {
      tickElection();
    }
  }

  /** Starts an election now, as if the election timeout had passed. */
  public void campaign() {
    checkNoOutstandingReady();
    hup(false);
  }

  /**
   * Proposes entries. On the leader they are appended to the log; on a follower they are forwarded
   * to the leader.
   *
   * @throws NotLeaderException when no leader is known to take them
   */
  public void propose(List<Entry> proposals) {
    checkNoOutstandingReady();
    if (proposals.isEmpty()) {
      return;
    }
    switch (role) {
      case LEADER -> {
        if (leadTransferee != 0) {
          throw new NotLeaderException(
              leadTransferee, "member " + id + " is handing leadership to " + leadTransferee);
        }
        appendEntries(proposals);
        bcastAppend();
      }
      case FOLLOWER -> {
        if (lead == 0) {
          throw new NotLeaderException(0, "member " + id + " cannot forward proposals");
        }
        send(msg(MessageType.PROPOSE).to(lead).term(term).entries(List.copyOf(proposals)).build());
      }
      default ->
          throw new NotLeaderException(0, "member " + id + " is campaigning in term " + term);
    }
  }

  /**
   * Asks for a read index (thesis 6.4). When it is known, a {@link ReadState} with this {@code
   * context} appears in a later {@link Ready}; reads may then be served once the applied index
   * reaches it. A request lost to a leader change never completes: callers time out and retry.
   *
   * @throws NotLeaderException when no leader is known to ask
   */
  public void readIndex(long context) {
    checkNoOutstandingReady();
    switch (role) {
      case LEADER -> handleReadIndex(context, id);
      case FOLLOWER -> {
        if (lead == 0) {
          throw new NotLeaderException(0, "member " + id + " cannot get a read index");
        }
        send(msg(MessageType.READ_INDEX).to(lead).term(term).context(context).build());
      }
      default ->
          throw new NotLeaderException(0, "member " + id + " is campaigning in term " + term);
    }
  }

  /**
   * Hands leadership to {@code target} (thesis 3.10), or with 0 to the most up-to-date other voter.
   * The leader stops accepting proposals, brings the target's log up to date, then tells it to
   * campaign at once (TIMEOUT_NOW). It gives up after an election timeout if the target has not
   * taken over; the caller learns the outcome from the leader in later {@link SoftState}s.
   *
   * @throws NotLeaderException on a member that is not the leader
   * @throws ProposalDroppedException when the target is not another voter
   */
  public void transferLeadership(long target) {
    checkNoOutstandingReady();
    if (role != Role.LEADER) {
      throw new NotLeaderException(lead, "member " + id + " is not the leader");
    }
    long to = target == 0 ? mostUpToDateVoter() : target;
    if (to == id) {
      return;
    }
    if (to == 0 || !tracker.membership().isVoter(to) || tracker.get(to) == null) {
      throw new ProposalDroppedException(
          "cannot transfer leadership to " + (to == 0 ? "another voter: there is none" : to));
    }
    if (leadTransferee == to) {
      return;
    }
    leadTransferee = to;
    // The transfer is abandoned when this reaches an election timeout (tickHeartbeat).
    electionElapsed = 0;
    if (tracker.get(to).match() == log.lastIndex()) {
      sendTimeoutNow(to);
    } else {
      sendAppends(to);
    }
  }

  /** While leader: the member leadership is being handed to, or 0. */
  public long leadTransferee() {
    return leadTransferee;
  }

  private long mostUpToDateVoter() {
    long best = 0;
    long bestMatch = -1;
    for (long v : tracker.membership().voters().ids()) {
      Progress pr = tracker.get(v);
      if (v != id && pr != null && pr.match() > bestMatch) {
        best = v;
        bestMatch = pr.match();
      }
    }
    return best;
  }

  /**
   * Withdraws the leader's lease for an election timeout: the driver calls it when its ticks have
   * fallen behind real time (the process was paused or starved), since the lease is counted in
   * ticks. Reads go through a heartbeat round meanwhile.
   */
  public void suspendLease() {
    leaseBlockedUntil = Math.max(leaseBlockedUntil, ticks + cfg.electionTicks());
  }

  private void sendTimeoutNow(long to) {
    leaseBlockedUntil = Math.max(leaseBlockedUntil, ticks + cfg.electionTicks());
    send(msg(MessageType.TIMEOUT_NOW).to(to).term(term).build());
  }

  /**
   * Proposes a new configuration (computed with {@code confchange.Changer} from {@link
   * #membership()}). It takes effect on each member as soon as it is appended. A joint
   * configuration is left automatically by the leader once it commits.
   *
   * @throws NotLeaderException on a member that is not the leader, or during a transfer
   * @throws ProposalDroppedException while another change is in flight, or when a learner to be
   *     promoted lags by more than {@link RaftConfig#maxPromotionLag()} entries
   */
  public void proposeMembership(Membership next, long requestId) {
    checkNoOutstandingReady();
    if (role != Role.LEADER || leadTransferee != 0) {
      throw new NotLeaderException(
          role == Role.LEADER ? leadTransferee : lead,
          "member " + id + " cannot change membership");
    }
    Membership current = currentMembership();
    if (membershipChanging()) {
      throw new ProposalDroppedException("a membership change is already in progress");
    }
    if (next.voters().incoming().isEmpty()) {
      throw new ProposalDroppedException("a configuration needs at least one voter");
    }
    for (long v : next.voters().incoming().voters()) {
      if (current.learners().contains(v)) {
        Progress pr = tracker.get(v);
        long lag = log.lastIndex() - (pr == null ? 0 : pr.match());
        if (lag > cfg.maxPromotionLag()) {
          throw new ProposalDroppedException(
              "learner " + v + " is " + lag + " entries behind; promote it once it has caught up");
        }
      }
    }
    appendConfig(next, requestId);
  }

  private void appendConfig(Membership next, long requestId) {
    long index = log.lastIndex() + 1;
    Entry e = new Entry(term, index, EntryType.CONFIG, requestId, MembershipCodec.encode(next));
    log.appendPlaced(List.of(e));
    configs.put(index, new Installed(term, next));
    tracker.setMembership(next, index + 1);
    bcastAppend();
  }

  private Membership currentMembership() {
    return configs.isEmpty() ? baseMembership : configs.lastEntry().getValue().membership();
  }

  /** Index of the last configuration entry in the log (the compaction point if none is left). */
  private long lastConfigIndex() {
    return configs.isEmpty() ? log.snapshotIndex() : configs.lastKey();
  }

  /**
   * Whether another member told us that a committed configuration newer than ours leaves us out: we
   * then stay quiet, as a removed member should, until a newer configuration reaches us.
   */
  public boolean knownRemoved() {
    return removedAt > lastConfigIndex();
  }

  /** The configuration in force at {@code index}, which must not be compacted away. */
  public Membership membershipAt(long index) {
    if (index < log.snapshotIndex()) {
      throw new IllegalArgumentException(
          "membership at "
              + index
              + " is compacted away (log starts after "
              + log.snapshotIndex()
              + ")");
    }
    var e = configs.floorEntry(index);
    return e == null ? baseMembership : e.getValue().membership();
  }

  // ---------------------------------------------------------------- snapshots

  /**
   * The driver holds a durable snapshot described by {@code meta}; followers behind the log are
   * sent the latest one.
   */
  public void snapshotAvailable(SnapshotMeta meta) {
    checkNoOutstandingReady();
    if (latestSnapshot == null || meta.index() > latestSnapshot.index()) {
      latestSnapshot = meta;
    }
  }

  /** The latest snapshot the driver reported, or null. */
  public SnapshotMeta latestSnapshot() {
    return latestSnapshot;
  }

  /**
   * Drops the log through {@code index}, which must be applied and covered by a snapshot reported
   * with {@link #snapshotAvailable}.
   *
   * @return where the log now begins, for the driver to record in storage; null if the log already
   *     began after {@code index}
   */
  public SnapshotMeta compact(long index) {
    checkNoOutstandingReady();
    if (index <= log.snapshotIndex()) {
      return null;
    }
    if (latestSnapshot == null || index > latestSnapshot.index()) {
      throw new IllegalStateException(
          "compaction to " + index + " not covered by a snapshot (latest " + latestSnapshot + ")");
    }
    SnapshotMeta base = new SnapshotMeta(index, log.term(index), membershipAt(index));
    log.compact(index);
    baseMembership = base.membership();
    configs.headMap(index, true).clear();
    return base;
  }

  /**
   * The transfer of a snapshot to {@code to} ended: with {@code ok} it was installed there and
   * replication resumes after it; otherwise the leader probes again (and sends a snapshot again if
   * the member is still behind the log).
   */
  public void reportSnapshot(long to, boolean ok) {
    checkNoOutstandingReady();
    Progress pr = role == Role.LEADER ? tracker.get(to) : null;
    if (pr == null || pr.state() != Progress.State.SNAPSHOT) {
      return;
    }
    pr.setLastAckTick(ticks);
    if (ok) {
      pr.becomeProbe();
      sendAppends(to);
    } else {
      // Retried once the member answers a heartbeat, not at once: it may be down or slow.
      pr.snapshotFailed();
      pr.pauseProbe();
    }
  }

  /** The follower side of a snapshot the driver received completely from leader m.from(). */
  private void handleInstallSnapshot(Message m) {
    SnapshotMeta snap = m.snapshot();
    if (latestSnapshot == null || snap.index() > latestSnapshot.index()) {
      latestSnapshot = snap; // durable in the driver's store before it was stepped in
    }
    if (snap.index() <= log.committed()) {
      send(msg(MessageType.APPEND_RESPONSE).to(m.from()).term(term).index(log.committed()).build());
      return;
    }
    if (log.matchTerm(snap.index(), snap.term())) {
      // Our log holds the snapshot's last entry, so matches the leader's up to it (Log Matching).
      log.commitTo(snap.index());
      send(msg(MessageType.APPEND_RESPONSE).to(m.from()).term(term).index(snap.index()).build());
      return;
    }
    // Raft paper 7: discard the whole log; the snapshot replaces it and the state machine.
    log.restore(snap.index(), snap.term());
    configs.clear();
    baseMembership = snap.membership();
    tracker.setMembership(baseMembership, log.lastIndex() + 1);
    pendingInstall = snap;
    send(msg(MessageType.APPEND_RESPONSE).to(m.from()).term(term).index(snap.index()).build());
  }

  /**
   * After a follower append from {@code from}: forgets configurations whose entries were replaced
   * and installs those that arrived.
   */
  private void syncConfigs(long from, List<Entry> appended) {
    boolean changed = false;
    var it = configs.tailMap(from, true).entrySet().iterator();
    while (it.hasNext()) {
      var c = it.next();
      if (log.term(c.getKey()) != c.getValue().term()) {
        it.remove();
        changed = true;
      }
    }
    for (Entry e : appended) {
      if (e.type() == EntryType.CONFIG && !configs.containsKey(e.index())) {
        configs.put(e.index(), new Installed(e.term(), MembershipCodec.decode(e.data())));
        changed = true;
      }
    }
    if (changed) {
      tracker.setMembership(currentMembership(), log.lastIndex() + 1);
    }
  }

  /**
   * On the leader after its commit index moved: leaves a committed joint configuration (thesis
   * 4.3), and steps down once a configuration without it as voter is committed.
   */
  private void afterCommit() {
    if (!configs.isEmpty() && configs.lastKey() > log.committed()) {
      return;
    }
    // With no configuration entry left in the log, the one in force is the compacted base: it is
    // committed too, and may be a joint configuration still to be left.
    Membership current = currentMembership();
    if (current.voters().isJoint()) {
      appendConfig(Changer.leaveJoint(current), 0);
    } else if (!current.isVoter(id)) {
      becomeFollower(term, 0);
    }
  }

  /** Feeds one message from another member. */
  public void step(Message m) {
    checkNoOutstandingReady();
    if (m.to() != id) {
      throw new IllegalArgumentException("message for " + m.to() + " stepped into " + id);
    }
    switch (m.type()) {
      case REMOVED -> {
        // A configuration committed at or before m.index() leaves us out. Newer configurations
        // (a re-add) override it.
        if (m.index() > lastConfigIndex() && m.index() > removedAt) {
          removedAt = m.index();
          if (role == Role.CANDIDATE || role == Role.PRE_CANDIDATE) {
            becomeFollower(term, 0);
          }
        }
        return;
      }
      case PROPOSE, READ_INDEX, READ_INDEX_RESPONSE -> {
        // Term-free: a read index or proposal is valid whichever term the sender was in.
        stepRole(m);
        return;
      }
      default -> {}
    }
    if (m.term() > term) {
      if (m.type() == MessageType.VOTE || m.type() == MessageType.PRE_VOTE) {
        boolean forced = m.context() == CAMPAIGN_TRANSFER;
        if (!tracker.membership().isVoter(m.from()) && !log.isUpToDate(m.index(), m.logTerm())) {
          // A member removed from the configuration that missed its removal campaigns with a log
          // behind ours; it could never get our vote, and adopting its term would only depose
          // leaders over and over (thesis 4.2.3). Dropping a message is always safe. If our
          // configuration is committed, tell it that it is out, so that it stops campaigning and
          // bumping the terms of members that have not heard of its removal either.
          long configIndex = lastConfigIndex();
          if (!tracker.membership().members().contains(m.from())
              && configIndex <= log.committed()) {
            send(msg(MessageType.REMOVED).to(m.from()).term(term).index(configIndex).build());
          }
          return;
        }
        if (!forced && inLease()) {
          // Thesis 4.2.3: a member that heard from a leader within the minimum election timeout
          // ignores disruptive candidates; this also backs the leader's lease.
          return;
        }
      }
      if (m.type() == MessageType.PRE_VOTE) {
        // A pre-vote never changes our term.
      } else if (m.type() == MessageType.PRE_VOTE_RESPONSE && !m.reject()) {
        // Granted pre-votes carry the future term; we bump it ourselves when the pre-vote wins.
      } else if (fromLeader(m.type())) {
        becomeFollower(m.term(), m.from());
      } else {
        becomeFollower(m.term(), 0);
      }
    } else if (m.term() < term) {
      if (fromLeader(m.type())) {
        // A stale leader would never learn of the newer term if we stayed silent: with pre-vote
        // or check-quorum nobody campaigns against it at a higher term, and vote requests from
        // members outside its configuration are dropped (see above), so a member that adopted
        // such a term could otherwise never rejoin. Tell it (Figure 2: a reply carries the term).
        send(msg(MessageType.APPEND_RESPONSE).to(m.from()).term(term).build());
      } else if (m.type() == MessageType.PRE_VOTE) {
        send(msg(MessageType.PRE_VOTE_RESPONSE).to(m.from()).term(term).reject(true).build());
      } else if (m.type() == MessageType.VOTE) {
        // Figure 2: reply with our term. A candidate that nobody else sends to (members whose
        // configuration no longer names it) would otherwise campaign one term behind forever.
        send(msg(MessageType.VOTE_RESPONSE).to(m.from()).term(term).reject(true).build());
      }
      return;
    }

    switch (m.type()) {
      case VOTE, PRE_VOTE -> handleVoteRequest(m);
      default -> stepRole(m);
    }
  }

  private static boolean fromLeader(MessageType t) {
    return t == MessageType.APPEND
        || t == MessageType.HEARTBEAT
        || t == MessageType.INSTALL_SNAPSHOT;
  }

  private boolean inLease() {
    if (!cfg.checkQuorum()) {
      return false;
    }
    if (ticks < cfg.electionTicks()) {
      // Just started: we may have acknowledged a leader before a restart without remembering it.
      return true;
    }
    return lead != 0 && electionElapsed < cfg.electionTicks();
  }

  private void handleVoteRequest(Message m) {
    boolean pre = m.type() == MessageType.PRE_VOTE;
    MessageType respType = pre ? MessageType.PRE_VOTE_RESPONSE : MessageType.VOTE_RESPONSE;
    boolean canVote = vote == m.from() || (vote == 0 && lead == 0) || (pre && m.term() > term);
    if (canVote && log.isUpToDate(m.index(), m.logTerm())) {
      // Raft paper 5.2 and 5.4.1: one vote per term, only for a log at least as up to date.
      send(Message.builder(respType).to(m.from()).term(m.term()).build());
      if (!pre) {
        electionElapsed = 0;
        vote = m.from();
      }
    } else {
      send(Message.builder(respType).to(m.from()).term(term).reject(true).build());
    }
  }

  private void stepRole(Message m) {
    switch (role) {
      case LEADER -> stepLeader(m);
      case CANDIDATE, PRE_CANDIDATE -> stepCandidate(m);
      case FOLLOWER -> stepFollower(m);
    }
  }

  // ---------------------------------------------------------------- leader

  private void stepLeader(Message m) {
    switch (m.type()) {
      case PROPOSE -> {
        if (leadTransferee != 0) {
          return; // the forwarding member times out and retries at the new leader
        }
        List<Entry> fresh = withoutDuplicates(m.entries());
        if (!fresh.isEmpty()) {
          appendEntries(fresh);
          bcastAppend();
        }
        return;
      }
      case READ_INDEX -> {
        handleReadIndex(m.context(), m.from());
        return;
      }
      default -> {}
    }
    Progress pr = tracker.get(m.from());
    if (pr == null) {
      return;
    }
    switch (m.type()) {
      case APPEND_RESPONSE -> handleAppendResponse(m, pr);
      case HEARTBEAT_RESPONSE -> {
        pr.setRecentActive(true);
        pr.unpauseProbe();
        if (m.context() > 0 && m.context() <= readOnly.round()) {
          pr.ackRound(m.context());
          releaseReads();
        }
        if (pr.match() < log.lastIndex() || pr.sentCommit() < log.committed()) {
          sendAppends(m.from());
        }
      }
      default -> {}
    }
  }

  private void handleAppendResponse(Message m, Progress pr) {
    pr.setRecentActive(true);
    if (m.reject()) {
      // Fast backtracking: skip every entry the follower's hint proves cannot match.
      long nextProbe = m.rejectHint();
      if (m.logTerm() > 0) {
        nextProbe = log.findConflictByTerm(m.rejectHint(), m.logTerm());
      }
      if (pr.maybeDecrTo(m.index(), nextProbe)) {
        if (pr.state() == Progress.State.REPLICATE) {
          pr.becomeProbe();
        }
        pr.setLastAckTick(ticks);
        sendAppends(m.from());
      }
      return;
    }
    boolean updated = pr.maybeUpdate(m.index());
    if (pr.state() == Progress.State.SNAPSHOT && pr.match() >= log.snapshotIndex()) {
      // It caught up to where our log can serve it (its snapshot got installed, or it answered an
      // append sent before the snapshot started).
      pr.becomeProbe();
    }
    if (updated || (pr.match() == m.index() && pr.state() == Progress.State.PROBE)) {
      pr.setLastAckTick(ticks);
      switch (pr.state()) {
        case PROBE -> pr.becomeReplicate();
        case REPLICATE -> pr.inflights().freeLe(m.index());
        case SNAPSHOT -> {}
      }
      if (!maybeCommit()) {
        sendAppends(m.from());
      }
      if (m.from() == leadTransferee && pr.match() == log.lastIndex()) {
        // Thesis 3.10: the target has every entry; it may campaign now.
        sendTimeoutNow(m.from());
      }
    }
  }

  /**
   * Forwarded proposals can arrive twice (a transport retry, a duplicating network). Two copies can
   * both commit only if the second is appended by a leader whose log already holds the first, so
   * the leader drops proposals whose request id its log already holds.
   */
  private List<Entry> withoutDuplicates(List<Entry> proposals) {
    List<Entry> fresh = null;
    for (int i = 0; i < proposals.size(); i++) {
      Entry e = proposals.get(i);
      boolean dup = e.requestId() != 0 && appendedRequests.containsKey(e.requestId());
      if (dup && fresh == null) {
        fresh = new ArrayList<>(proposals.subList(0, i));
      } else if (!dup && fresh != null) {
        fresh.add(e);
      }
    }
    if (fresh == null) {
      fresh = proposals;
    }
    for (Entry e : fresh) {
      if (e.requestId() != 0) {
        appendedRequests.put(e.requestId(), Boolean.TRUE);
      }
    }
    return fresh;
  }

  private void appendEntries(List<Entry> proposals) {
    long next = log.lastIndex() + 1;
    List<Entry> placed = new ArrayList<>(proposals.size());
    for (int i = 0; i < proposals.size(); i++) {
      placed.add(proposals.get(i).placed(term, next + i));
    }
    log.appendPlaced(placed);
  }

  /**
   * Commits the highest index a quorum holds, if it is of the current term (Raft paper 5.4.2: a
   * leader never commits entries of earlier terms by counting replicas), then tells the followers
   * and acts on a committed configuration.
   *
   * @return whether the commit index moved
   */
  private boolean maybeCommit() {
    long mci = tracker.committed();
    if (mci > log.committed() && log.term(mci) == term) {
      boolean firstInTerm = log.term(log.committed()) != term;
      log.commitTo(mci);
      if (firstInTerm) {
        for (ReadOnly.Deferred d : readOnly.takeDeferred()) {
          handleReadIndex(d.context(), d.from());
        }
      }
      bcastAppend();
      afterCommit();
      return true;
    }
    return false;
  }

  /** Sends every follower what it lacks, or at least the new commit index. */
  private void bcastAppend() {
    tracker.forEach(
        (to, pr) -> {
          if (to != id) {
            sendAppends(to);
          }
        });
  }

  /** Sends as many appends as the follower's window allows; if none, one to carry the commit. */
  private void sendAppends(long to) {
    boolean sent = false;
    while (maybeSendAppend(to, false)) {
      sent = true;
    }
    Progress pr = tracker.get(to);
    boolean stuckProbe = pr.state() == Progress.State.PROBE && pr.match() < log.lastIndex();
    if (!sent && (pr.sentCommit() < log.committed() || stuckProbe)) {
      // An empty append still probes: if an earlier probe was lost, its answer (a rejection with
      // a hint) is the only way the leader learns where this follower's log ends.
      maybeSendAppend(to, true);
    }
  }

  private boolean maybeSendAppend(long to, boolean sendIfEmpty) {
    Progress pr = tracker.get(to);
    if (pr.isPaused()) {
      return false;
    }
    long prevIndex = pr.next() - 1;
    long prevTerm = log.term(prevIndex);
    if (prevTerm < 0) {
      sendSnapshot(to, pr);
      return false;
    }
    List<Entry> ents = log.slice(pr.next(), cfg.maxEntriesPerMessage(), cfg.maxBytesPerMessage());
    if (ents.isEmpty() && !sendIfEmpty) {
      return false;
    }
    long bytes = 0;
    for (int i = 0; i < ents.size(); i++) {
      bytes += ents.get(i).sizeBytes();
    }
    long commit = log.committed();
    if (pr.state() == Progress.State.REPLICATE && !ents.isEmpty() && pr.inflights().count() == 0) {
      // The stall clock starts when the window opens, not at a possibly long-past ack.
      pr.setLastAckTick(ticks);
    }
    send(
        msg(MessageType.APPEND)
            .to(to)
            .term(term)
            .index(prevIndex)
            .logTerm(prevTerm)
            .entries(ents)
            .commit(commit)
            .build());
    // The follower commits no further than the last entry this append proves it holds.
    pr.sentEntries(ents.size(), bytes, Math.min(commit, prevIndex + ents.size()));
    return true;
  }

  /** The member needs entries compacted away: it gets the latest snapshot instead (paper 7). */
  private void sendSnapshot(long to, Progress pr) {
    if (!pr.recentActive()) {
      return; // a snapshot to a member that may be down is wasted; wait until it answers
    }
    if (latestSnapshot == null || latestSnapshot.index() < log.snapshotIndex()) {
      throw new IllegalStateException(
          "log compacted through "
              + log.snapshotIndex()
              + " without a snapshot: "
              + latestSnapshot);
    }
    pr.becomeSnapshot(latestSnapshot.index());
    // Any snapshot at or after our compaction point will do: one already being sent is kept.
    send(msg(MessageType.SNAPSHOT).to(to).term(term).index(log.snapshotIndex()).build());
  }

  private void bcastHeartbeat() {
    long round = readOnly.nextRound(ticks);
    Progress self = tracker.get(id);
    if (self != null) {
      self.ackRound(round); // null while a leader removed from the configuration hands over
    }
    long committed = log.committed();
    tracker.forEach(
        (to, pr) -> {
          if (to != id) {
            // Never tell a follower to commit beyond what it is known to match.
            long commit = Math.min(pr.match(), committed);
            send(
                msg(MessageType.HEARTBEAT).to(to).term(term).commit(commit).context(round).build());
            pr.sentCommit(commit);
          }
        });
    releaseReads();
  }

  private void handleReadIndex(long context, long from) {
    if (log.term(log.committed()) != term) {
      // Thesis 6.4: until the leader commits an entry of its term it may not know the latest
      // commit index.
      readOnly.defer(context, from);
      return;
    }
    long index = log.committed();
    if (isSoleVoter() || leaseValid()) {
      respondRead(context, from, index);
      return;
    }
    readOnly.add(context, from, index, readOnly.round());
    bcastHeartbeat();
  }

  private boolean isSoleVoter() {
    var voters = tracker.membership().voters();
    return !voters.isJoint() && voters.incoming().size() == 1 && voters.contains(id);
  }

  /**
   * Whether the leader's lease holds: a quorum acknowledged a heartbeat sent at tick t, so none of
   * them will vote for another candidate before t + electionTicks (see {@link #inLease()}); the
   * drift margin covers members whose clocks tick slower than ours.
   */
  /**
   * The tick count at which the heartbeat round that currently backs the lease was sent; -1 if no
   * acknowledged round backs it. {@link #leaseValid()} counts the lease in ticks; a driver whose
   * ticks can fall behind real time (a paused or starved process) must also bound it by its clock
   * from this tick on.
   */
  public long leaseStartTick() {
    if (isSoleVoter()) {
      return ticks;
    }
    return readOnly.tickOfRound(tracker.quorumAckedRound());
  }

  public boolean leaseValid() {
    if (!cfg.leaseRead()
        || role != Role.LEADER
        || leadTransferee != 0
        || ticks < leaseBlockedUntil
        || log.term(log.committed()) != term) {
      // Until it commits an entry of its term the leader's commit index may be stale (6.4).
      return false;
    }
    if (isSoleVoter()) {
      return true;
    }
    long sentAt = readOnly.tickOfRound(tracker.quorumAckedRound());
    return sentAt >= 0 && ticks < sentAt + cfg.electionTicks() - cfg.leaseDriftTicks();
  }

  private void releaseReads() {
    if (!readOnly.hasPending()) {
      return;
    }
    for (ReadOnly.Request r : readOnly.release(tracker.quorumAckedRound())) {
      respondRead(r.context(), r.from(), r.index());
    }
  }

  private void respondRead(long context, long from, long index) {
    if (from == id) {
      readStates.add(new ReadState(context, index));
    } else {
      send(
          msg(MessageType.READ_INDEX_RESPONSE)
              .to(from)
              .term(term)
              .context(context)
              .index(index)
              .build());
    }
  }

  private void tickHeartbeat() {
    heartbeatElapsed++;
    electionElapsed++;
    if (electionElapsed >= cfg.electionTicks()) {
      electionElapsed = 0;
      if (leadTransferee != 0) {
        // The target did not take over within an election timeout: keep leading.
        leadTransferee = 0;
        leaseBlockedUntil = Math.max(leaseBlockedUntil, ticks + cfg.electionTicks());
      }
      if (cfg.checkQuorum()) {
        if (!tracker.quorumActive(id)) {
          // Raft thesis 6.2: a leader cut off from a quorum steps down.
          becomeFollower(term, 0);
          return;
        }
        tracker.resetRecentActive(id);
      }
    }
    if (heartbeatElapsed >= cfg.heartbeatTicks()) {
      heartbeatElapsed = 0;
      resendStalledAppends();
      bcastHeartbeat();
    }
  }

  /**
   * Appends can be lost: a follower in REPLICATE whose acknowledgements stopped while messages are
   * in flight is probed again from its match index.
   */
  private void resendStalledAppends() {
    long stallTicks = Math.max(2L, 2L * cfg.heartbeatTicks());
    tracker.forEach(
        (to, pr) -> {
          if (to != id
              && pr.state() == Progress.State.REPLICATE
              && pr.inflights().count() > 0
              && ticks - pr.lastAckTick() >= stallTicks) {
            pr.becomeProbe();
            pr.setLastAckTick(ticks);
          }
        });
  }

  // ---------------------------------------------------------------- candidate

  private void stepCandidate(Message m) {
    MessageType expected =
        role == Role.PRE_CANDIDATE ? MessageType.PRE_VOTE_RESPONSE : MessageType.VOTE_RESPONSE;
    switch (m.type()) {
      case APPEND, HEARTBEAT, INSTALL_SNAPSHOT -> {
        // Raft paper 5.2: a candidate that hears from a leader of its term becomes a follower.
        becomeFollower(m.term(), m.from());
        stepFollower(m);
      }
      default -> {
        if (m.type() != expected) {
          return;
        }
        VoteResult result = tracker.recordVote(m.from(), !m.reject());
        if (result == VoteResult.WON) {
          if (role == Role.PRE_CANDIDATE) {
            campaign(false, m.context() == CAMPAIGN_TRANSFER);
          } else {
            becomeLeader();
            bcastAppend();
          }
        } else if (result == VoteResult.LOST) {
          becomeFollower(term, 0);
        }
      }
    }
  }

  private void hup(boolean transfer) {
    if (role == Role.LEADER || !tracker.membership().isVoter(id) || knownRemoved()) {
      return;
    }
    campaign(cfg.preVote() && !transfer, transfer);
  }

  private void campaign(boolean pre, boolean transfer) {
    long voteTerm;
    MessageType type;
    if (pre) {
      becomePreCandidate();
      voteTerm = term + 1;
      type = MessageType.PRE_VOTE;
    } else {
      becomeCandidate();
      voteTerm = term;
      type = MessageType.VOTE;
    }
    VoteResult result = tracker.recordVote(id, true);
    if (result == VoteResult.WON) {
      if (pre) {
        campaign(false, transfer);
      } else {
        becomeLeader();
        bcastAppend();
      }
      return;
    }
    long lastIndex = log.lastIndex();
    long lastTerm = log.lastTerm();
    for (long to : tracker.membership().voters().ids()) {
      if (to == id) {
        continue;
      }
      send(
          Message.builder(type)
              .to(to)
              .term(voteTerm)
              .index(lastIndex)
              .logTerm(lastTerm)
              .context(transfer ? CAMPAIGN_TRANSFER : 0)
              .build());
    }
  }

  private void tickElection() {
    electionElapsed++;
    if (electionElapsed >= randomizedElectionTimeout
        && tracker.membership().isVoter(id)
        && !knownRemoved()) {
      electionElapsed = 0;
      hup(false);
    }
  }

  // ---------------------------------------------------------------- follower

  private void stepFollower(Message m) {
    switch (m.type()) {
      case APPEND -> {
        electionElapsed = 0;
        lead = m.from();
        handleAppend(m);
      }
      case HEARTBEAT -> {
        electionElapsed = 0;
        lead = m.from();
        log.commitTo(Math.min(m.commit(), log.lastIndex()));
        send(
            msg(MessageType.HEARTBEAT_RESPONSE)
                .to(m.from())
                .term(term)
                .context(m.context())
                .build());
      }
      case PROPOSE -> {
        if (lead != 0) {
          send(m.toBuilder().from(id).to(lead).term(term).build());
        }
      }
      case READ_INDEX_RESPONSE -> {
        // A rejected read carries no read index; its caller times out and retries.
        if (!m.reject()) {
          readStates.add(new ReadState(m.context(), m.index()));
        }
      }
      case TIMEOUT_NOW -> hup(true);
      case INSTALL_SNAPSHOT -> {
        electionElapsed = 0;
        lead = m.from();
        handleInstallSnapshot(m);
      }
      default -> {}
    }
  }

  private void handleAppend(Message m) {
    if (m.index() < log.committed()) {
      // Everything up to our commit index matches the leader (Leader Completeness).
      send(msg(MessageType.APPEND_RESPONSE).to(m.from()).term(term).index(log.committed()).build());
      return;
    }
    long lastNew = log.maybeAppend(m.index(), m.logTerm(), m.commit(), m.entries());
    if (lastNew >= 0) {
      syncConfigs(m.index() + 1, m.entries());
      send(msg(MessageType.APPEND_RESPONSE).to(m.from()).term(term).index(lastNew).build());
      return;
    }
    // Reject with a hint (thesis 5.3): the last index at or below prevIndex whose term is at most
    // prevTerm. Entries above it cannot match the leader's log.
    long hint = log.findConflictByTerm(Math.min(m.index(), log.lastIndex()), m.logTerm());
    send(
        msg(MessageType.APPEND_RESPONSE)
            .to(m.from())
            .term(term)
            .index(m.index())
            .reject(true)
            .rejectHint(hint)
            .logTerm(log.term(hint))
            .build());
  }

  // ---------------------------------------------------------------- role changes

  private void reset(long newTerm) {
    if (term != newTerm) {
      term = newTerm;
      vote = 0;
    }
    lead = 0;
    electionElapsed = 0;
    heartbeatElapsed = 0;
    randomizedElectionTimeout = cfg.electionTicks() + cfg.random().nextInt(cfg.electionTicks());
    tracker.reset(log.lastIndex() + 1, id, log.stable());
    readOnly.reset();
    appendedRequests.clear();
    leadTransferee = 0;
  }

  private void becomeFollower(long newTerm, long leader) {
    reset(newTerm);
    lead = leader;
    role = Role.FOLLOWER;
  }

  private void becomePreCandidate() {
    if (role == Role.LEADER) {
      throw new IllegalStateException("leader cannot become pre-candidate");
    }
    // A pre-candidate bumps neither term nor vote (thesis 9.6).
    role = Role.PRE_CANDIDATE;
    lead = 0;
    tracker.resetVotes();
  }

  private void becomeCandidate() {
    if (role == Role.LEADER) {
      throw new IllegalStateException("leader cannot become candidate");
    }
    reset(term + 1);
    vote = id;
    role = Role.CANDIDATE;
  }

  private void becomeLeader() {
    if (role != Role.CANDIDATE) {
      throw new IllegalStateException("only a candidate can become leader, not a " + role);
    }
    reset(term);
    lead = id;
    role = Role.LEADER;
    tracker.resetRecentActive(id);
    for (long i = log.firstIndex(); i <= log.lastIndex(); i++) {
      long rid = log.entry(i).requestId();
      if (rid != 0) {
        appendedRequests.put(rid, Boolean.TRUE);
      }
    }
    Progress self = tracker.get(id);
    if (self != null) {
      self.becomeReplicate();
    }
    // Raft thesis 6.4: a no-op entry lets the new leader learn which entries are committed.
    appendEntries(List.of(Entry.proposal(0, null)));
  }

  // ---------------------------------------------------------------- output

  /** A message from this member; built with our id so {@link #send} need not copy it. */
  private Message.Builder msg(MessageType type) {
    return Message.builder(type).from(id);
  }

  private void send(Message m) {
    Message out = m.from() == id ? m : m.toBuilder().from(id).build();
    switch (out.type()) {
      case VOTE, VOTE_RESPONSE, APPEND_RESPONSE -> msgsAfterPersist.add(out);
      default -> msgs.add(out);
    }
  }

  /** Whether {@link #ready()} has anything to hand out. */
  public boolean hasReady() {
    return !msgs.isEmpty()
        || !msgsAfterPersist.isEmpty()
        || !readStates.isEmpty()
        || pendingInstall != null
        || log.persisting() < log.lastIndex()
        || log.hasNextCommitted()
        || !currentHardState().equals(lastHardState)
        || !currentSoftState().equals(lastSoftState);
  }

  private HardState currentHardState() {
    return new HardState(term, vote, log.committed());
  }

  private SoftState currentSoftState() {
    return new SoftState(lead, role);
  }

  /**
   * Collects what the driver must do. Must be followed by {@link #advance(Ready)} before any other
   * input.
   */
  public Ready ready() {
    checkNoOutstandingReady();
    HardState hs = currentHardState();
    SoftState ss = currentSoftState();
    Ready rd =
        new Ready(
            hs.equals(lastHardState) ? null : hs,
            log.unpersisted(),
            msgs,
            msgsAfterPersist,
            log.nextCommitted(MAX_APPLY_BYTES),
            readStates,
            ss.equals(lastSoftState) ? null : ss,
            pendingInstall);
    pendingInstall = null;
    msgs = new ArrayList<>();
    msgsAfterPersist = new ArrayList<>();
    readStates = new ArrayList<>();
    outstanding = rd;
    return rd;
  }

  /** The driver took {@code rd}: its write is submitted and its committed entries are applying. */
  public void advance(Ready rd) {
    if (rd != outstanding) {
      throw new IllegalStateException("advance of a Ready that is not the outstanding one");
    }
    outstanding = null;
    if (rd.hardState() != null) {
      lastHardState = rd.hardState();
    }
    if (rd.softState() != null) {
      lastSoftState = rd.softState();
    }
    Entry last = rd.lastEntry();
    if (last != null) {
      log.persistingTo(last.index());
    }
    if (!rd.committedEntries().isEmpty()) {
      log.applyingTo(rd.committedEntries().get(rd.committedEntries().size() - 1).index());
    }
  }

  /**
   * Storage made a write durable; its last entry was {@code index} in {@code term}. Entries are
   * acknowledged (by a leader, counted for itself) only from here.
   */
  public void persisted(long index, long term) {
    checkNoOutstandingReady();
    if (log.stableTo(index, term) && role == Role.LEADER) {
      Progress self = tracker.get(id);
      if (self != null && self.maybeUpdate(log.stable())) {
        maybeCommit();
      }
    }
  }

  /** The state machine applied entries through {@code index}. */
  public void applied(long index) {
    checkNoOutstandingReady();
    log.appliedTo(index);
  }

  private void checkNoOutstandingReady() {
    if (outstanding != null) {
      throw new IllegalStateException("ready() must be followed by advance() before other input");
    }
  }

  // ---------------------------------------------------------------- inspection

  public long id() {
    return id;
  }

  public long term() {
    return term;
  }

  public long vote() {
    return vote;
  }

  public long leader() {
    return lead;
  }

  public Role role() {
    return role;
  }

  public RaftConfig config() {
    return cfg;
  }

  /** Read-only use: the log's marks and entries. */
  public RaftLog log() {
    return log;
  }

  /** The configuration in force: the last one appended to the log. */
  public Membership membership() {
    return currentMembership();
  }

  /**
   * Whether a membership change is under way: the configuration in force is joint, or its entry is
   * not known to be committed yet (meaningful on the leader, whose commit index is the cluster's).
   */
  public boolean membershipChanging() {
    return currentMembership().voters().isJoint()
        || (!configs.isEmpty() && configs.lastKey() > log.committed());
  }

  /** The leader's progress of a member, or null. */
  public Progress progress(long member) {
    return role == Role.LEADER ? tracker.get(member) : null;
  }

  public ProgressTracker tracker() {
    return tracker;
  }

  public long ticks() {
    return ticks;
  }

  @Override
  public String toString() {
    return "Raft{" + id + " " + role + " term=" + term + " vote=" + vote + " lead=" + lead + " "
        + log + "}";
  }
}
