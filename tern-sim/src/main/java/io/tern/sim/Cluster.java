package io.tern.sim;

import io.tern.raft.core.Entry;
import io.tern.raft.core.RaftConfig;
import io.tern.raft.core.Role;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.node.NodeOptions;
import io.tern.raft.node.RaftNode;
import io.tern.raft.node.StateMachine;
import io.tern.sim.disk.SimDisk;
import io.tern.sim.disk.SimSnapshotStore;
import io.tern.sim.kv.KvStateMachine;
import io.tern.sim.net.SimNetwork;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;

/**
 * A simulated cluster: members running the production {@link RaftNode} driver and core over a
 * {@link SimNetwork}, {@link SimDisk}s and {@link SimNodeScheduler}s, with a {@link KvStateMachine}
 * each. Members can crash (losing unsynced writes and all volatile state) and restart from their
 * disk. {@link Invariants} are checked after every simulation event once {@link
 * #checkAfterEveryEvent()} is called.
 */
public final class Cluster {
  private final Simulation sim;
  private final SimOptions options;
  private final SimNetwork network;
  private final TreeMap<Long, Member> members = new TreeMap<>();

  /** The voters the cluster was first started with; members added later start outside them. */
  private final Set<Long> bootstrapIds = new TreeSet<>();

  private final Invariants invariants;

  /** One member: its disk survives crashes; everything else is per incarnation. */
  public final class Member {
    private final long id;
    private final SimDisk disk;
    private final SimSnapshotStore snapshots;
    private SimNodeScheduler scheduler;
    private RaftNode node;
    private KvStateMachine stateMachine;
    private boolean up;
    private int incarnation;

    Member(long id) {
      this.id = id;
      this.disk =
          new SimDisk(sim, id)
              .fsyncLatency(options.minFsyncNanos(), options.maxFsyncNanos())
              .setPartialPersistOnCrash(options.partialPersistOnCrash());
      this.snapshots = new SimSnapshotStore(sim, id);
    }

    public long id() {
      return id;
    }

    public boolean isUp() {
      return up;
    }

    /** The scheduler of the current incarnation (pause it to model a stopped process). */
    public SimNodeScheduler scheduler() {
      return scheduler;
    }

    public RaftNode node() {
      return node;
    }

    public KvStateMachine stateMachine() {
      return stateMachine;
    }

    public SimDisk disk() {
      return disk;
    }

    public SimSnapshotStore snapshots() {
      return snapshots;
    }

    public int incarnation() {
      return incarnation;
    }
  }

  public Cluster(Simulation sim, SimOptions options) {
    this.sim = sim;
    this.options = options;
    this.network =
        new SimNetwork(sim)
            .latency(options.minLatencyNanos(), options.maxLatencyNanos())
            .dropProbability(options.dropProbability())
            .duplicateProbability(options.duplicateProbability());
    this.invariants = new Invariants(this);
    for (long id = 1; id <= options.size(); id++) {
      members.put(id, new Member(id));
      bootstrapIds.add(id);
    }
    for (long id : members.keySet()) {
      start(id);
    }
  }

  public Simulation sim() {
    return sim;
  }

  public SimOptions options() {
    return options;
  }

  public SimNetwork network() {
    return network;
  }

  public Invariants invariants() {
    return invariants;
  }

  public Set<Long> ids() {
    return Collections.unmodifiableSet(members.keySet());
  }

  public Member member(long id) {
    Member m = members.get(id);
    if (m == null) {
      throw new IllegalArgumentException("no member " + id);
    }
    return m;
  }

  public List<Member> members() {
    return new ArrayList<>(members.values());
  }

  public List<Member> upMembers() {
    List<Member> out = new ArrayList<>();
    for (Member m : members.values()) {
      if (m.up) {
        out.add(m);
      }
    }
    return out;
  }

  public RaftNode node(long id) {
    return member(id).node;
  }

  public boolean isUp(long id) {
    return member(id).up;
  }

  /** Checks every invariant after each simulation event from now on. */
  public void checkAfterEveryEvent() {
    sim.setAfterEachEvent(invariants::checkStep);
  }

  /** Starts a member that is down, from whatever its disk holds. */
  public void start(long id) {
    Member m = member(id);
    if (m.up) {
      throw new IllegalStateException("member " + id + " is already up");
    }
    m.incarnation++;
    m.scheduler =
        new SimNodeScheduler(
            sim, id, 0, options.minApplyLatencyNanos(), options.maxApplyLatencyNanos());
    m.stateMachine = new KvStateMachine();
    RaftConfig raft =
        RaftConfig.builder(id)
            .electionTicks(options.electionTicks())
            .heartbeatTicks(options.heartbeatTicks())
            .preVote(options.preVote())
            .checkQuorum(options.checkQuorum())
            .leaseRead(options.leaseRead())
            .leaseDriftTicks(options.leaseDriftTicks())
            .maxInflightMessages(options.maxInflightMessages())
            .maxEntriesPerMessage(options.maxEntriesPerMessage())
            .maxBytesPerMessage(options.maxBytesPerMessage())
            .random(sim.forkRandom())
            .build();
    NodeOptions nodeOptions =
        NodeOptions.builder(raft)
            .initialVoters(bootstrapIds)
            .tickNanos(options.tickNanos())
            .requestTimeoutNanos(options.requestTimeoutNanos())
            .snapshotEntries(options.snapshotEntries())
            .snapshotTrailingEntries(options.snapshotTrailingEntries())
            .snapshotChunkBytes(options.snapshotChunkBytes())
            .snapshotWindowChunks(options.snapshotWindowChunks())
            .build();
    StateMachine checked = new CheckedStateMachine(m, m.stateMachine, invariants);
    m.node =
        RaftNode.start(
            nodeOptions,
            m.disk.open(),
            m.snapshots.open(),
            network.endpoint(id),
            checked,
            m.scheduler);
    m.up = true;
    invariants.memberStarted(m);
    sim.trace("cluster.start", id, m.incarnation, 0, null);
  }

  /**
   * Starts a brand-new member with an empty disk, outside the configuration: it receives nothing
   * until a membership change adds it (as learner or voter).
   *
   * @return its id
   */
  public long addMember() {
    long id = members.lastKey() + 1;
    members.put(id, new Member(id));
    start(id);
    return id;
  }

  /** Crashes a member: volatile state and unsynced writes are lost, pending work is dropped. */
  public void crash(long id) {
    Member m = member(id);
    if (!m.up) {
      return;
    }
    m.up = false;
    m.scheduler.kill();
    m.disk.crash();
    m.snapshots.crash();
    network.endpoint(id).close();
    sim.trace("cluster.crash", id, m.incarnation, 0, null);
  }

  public void restart(long id) {
    crash(id);
    start(id);
  }

  /** The live leader with the highest term, or 0. */
  public long leader() {
    long best = 0;
    long bestTerm = -1;
    for (Member m : members.values()) {
      if (m.up && m.node.core().role() == Role.LEADER && m.node.core().term() > bestTerm) {
        best = m.id;
        bestTerm = m.node.core().term();
      }
    }
    return best;
  }

  /** Runs until a leader is known to a quorum of live members, or the deadline; returns it or 0. */
  public long awaitLeader(long withinNanos) {
    long deadline = sim.now() + withinNanos;
    sim.runUntil(this::hasStableLeader, deadline);
    return hasStableLeader() ? leader() : 0;
  }

  private boolean hasStableLeader() {
    long l = leader();
    if (l == 0) {
      return false;
    }
    long term = member(l).node.core().term();
    Set<Long> voters = member(l).node.core().membership().voters().ids();
    int agree = 0;
    for (Member m : members.values()) {
      if (m.up
          && voters.contains(m.id)
          && m.node.core().term() == term
          && m.node.core().leader() == l) {
        agree++;
      }
    }
    return agree > voters.size() / 2;
  }

  /** Runs until {@code condition} holds or {@code withinNanos} pass; returns whether it held. */
  public boolean runUntil(BooleanSupplier condition, long withinNanos) {
    return sim.runUntil(condition, sim.now() + withinNanos);
  }

  /**
   * Whether every live member has applied everything the leader has committed, and the leader's
   * commit covers its whole log.
   */
  public boolean converged() {
    long l = leader();
    if (l == 0) {
      return false;
    }
    var lead = member(l).node.core().log();
    if (lead.committed() != lead.lastIndex()) {
      return false;
    }
    Set<Long> configured = member(l).node.core().membership().members();
    for (Member m : members.values()) {
      if (m.up
          && configured.contains(m.id)
          && (m.stateMachine.appliedIndex() != lead.committed()
              || m.node.core().log().lastIndex() != lead.lastIndex())) {
        return false;
      }
    }
    return true;
  }

  /** Heals the network, restarts every member that is down. */
  public void healAll() {
    network.heal();
    for (Member m : members.values()) {
      if (!m.up) {
        start(m.id);
      }
    }
  }

  /**
   * Live members in the configuration of the current leader (all live members when there is no
   * leader): members removed from the cluster keep running but stop receiving the log.
   */
  public List<Member> upConfiguredMembers() {
    long l = leader();
    Set<Long> configured = l == 0 ? members.keySet() : member(l).node.core().membership().members();
    List<Member> out = new ArrayList<>();
    for (Member m : upMembers()) {
      if (configured.contains(m.id)) {
        out.add(m);
      }
    }
    return out;
  }

  /** Ids of live members, ascending. */
  public Set<Long> upIds() {
    Set<Long> s = new TreeSet<>();
    for (Member m : members.values()) {
      if (m.up) {
        s.add(m.id);
      }
    }
    return s;
  }

  /** A state machine wrapper that reports each applied entry to the invariants. */
  private static final class CheckedStateMachine implements StateMachine {
    private final Member member;
    private final KvStateMachine delegate;
    private final Invariants invariants;

    CheckedStateMachine(Member member, KvStateMachine delegate, Invariants invariants) {
      this.member = member;
      this.delegate = delegate;
      this.invariants = invariants;
    }

    @Override
    public Object[] apply(List<Entry> entries) {
      for (Entry e : entries) {
        invariants.applied(member, e);
      }
      return delegate.apply(entries);
    }

    @Override
    public long appliedIndex() {
      return delegate.appliedIndex();
    }

    @Override
    public SnapshotWriter snapshot() {
      return delegate.snapshot();
    }

    @Override
    public void restore(SnapshotMeta meta, InputStream data) throws IOException {
      delegate.restore(meta, data);
      invariants.restored(member, meta);
    }
  }
}
