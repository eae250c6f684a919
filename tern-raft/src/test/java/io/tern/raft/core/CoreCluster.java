package io.tern.raft.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.tern.raft.core.tracker.Membership;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.random.RandomGenerator;

/**
 * A deterministic test bed of Raft cores: members driven exactly as the Ready contract says, joined
 * by a {@link Network}, with time as explicit ticks and every member's randomness seeded. No
 * threads, no clock, no sleeps: the same calls give the same run.
 *
 * <p>While it drives the cores it checks, on every step, the invariants no scenario may break:
 * election safety (one leader per term), applying in log order, and state machine safety (no two
 * members apply different entries at one index).
 */
final class CoreCluster {
  /** Deliveries one {@link #stabilize()} may make before it declares a livelock. */
  static final int MAX_DELIVERIES = 200_000;

  private final long seed;
  private final UnaryOperator<RaftConfig.Builder> tweak;
  private final Membership membership;
  private final TreeMap<Long, CoreMember> members = new TreeMap<>();
  final Network net = new Network();

  private final Map<Long, Long> leaderOfTerm = new HashMap<>();
  private final Map<Long, Entry> appliedAt = new HashMap<>();

  private CoreCluster(Builder b) {
    this.seed = b.seed;
    this.tweak = b.tweak;
    long[] ids = new long[b.size];
    for (int i = 0; i < b.size; i++) {
      ids[i] = i + 1;
    }
    this.membership = b.voters != null ? Membership.ofVoters(b.voters) : Membership.ofVoters(ids);
    for (long id : ids) {
      ModelDisk disk = b.disks.getOrDefault(id, new ModelDisk());
      CoreMember m = new CoreMember(id, disk);
      m.raft = new Raft(config(id, 0), disk.initialState(membership));
      members.put(id, m);
    }
  }

  static Builder builder(int size) {
    return new Builder(size);
  }

  /** {@code size} members with the default configuration. */
  static CoreCluster of(int size) {
    return builder(size).build();
  }

  static final class Builder {
    private final int size;
    private long seed = 1;
    private long[] voters;
    private UnaryOperator<RaftConfig.Builder> tweak = UnaryOperator.identity();
    private final Map<Long, ModelDisk> disks = new HashMap<>();

    private Builder(int size) {
      this.size = size;
    }

    /**
     * The bootstrap voters, when not every member: the others start outside the configuration (to
     * be added by a membership change).
     */
    Builder voters(long... v) {
      voters = v;
      return this;
    }

    Builder seed(long v) {
      seed = v;
      return this;
    }

    /**
     * Adjusts every member's configuration, after earlier adjustments (the id and random source are
     * set by the cluster).
     */
    Builder config(UnaryOperator<RaftConfig.Builder> v) {
      UnaryOperator<RaftConfig.Builder> prev = tweak;
      tweak = b -> v.apply(prev.apply(b));
      return this;
    }

    /** Classic Raft as the paper describes it: no pre-vote, no check-quorum. */
    Builder paper() {
      UnaryOperator<RaftConfig.Builder> prev = tweak;
      tweak = b -> prev.apply(b).preVote(false).checkQuorum(false);
      return this;
    }

    /** Starts member {@code id} from this durable state instead of an empty disk. */
    Builder disk(long id, HardState hs, List<Entry> log) {
      disks.put(id, new ModelDisk(hs, log));
      return this;
    }

    CoreCluster build() {
      return new CoreCluster(this);
    }
  }

  private RaftConfig config(long id, int restarts) {
    Random random = new Random(seed * 1_000_003L + id * 7_919L + restarts);
    return tweak.apply(RaftConfig.builder(id)).random(random).build();
  }

  // ---------------------------------------------------------------- access

  CoreMember member(long id) {
    CoreMember m = members.get(id);
    if (m == null) {
      throw new IllegalArgumentException("no member " + id);
    }
    return m;
  }

  Raft raft(long id) {
    return member(id).raft;
  }

  Set<Long> ids() {
    return members.keySet();
  }

  Membership membership() {
    return membership;
  }

  /** The configuration every member shares (but for its id and random source). */
  RaftConfig config() {
    return config(members.firstKey(), 0);
  }

  /** The leader of the highest term among running members, or 0 if none leads. */
  long leader() {
    long best = 0;
    long bestTerm = -1;
    for (CoreMember m : members.values()) {
      if (m.up && m.raft.role() == Role.LEADER && m.raft.term() > bestTerm) {
        best = m.id;
        bestTerm = m.raft.term();
      }
    }
    return best;
  }

  // ---------------------------------------------------------------- driving one member

  /** Carries out every Ready of member {@code id}, as a driver would, until it has none. */
  void drain(long id) {
    CoreMember m = member(id);
    Raft r = m.raft;
    while (r.hasReady()) {
      Ready rd = r.ready();
      r.advance(rd);
      for (Message msg : rd.messages()) {
        net.send(msg, false);
      }
      if (m.syncWrites) {
        m.disk.save(rd.hardState(), rd.entries());
        Entry last = rd.lastEntry();
        if (last != null) {
          r.persisted(last.index(), last.term());
        }
        for (Message msg : rd.messagesAfterPersist()) {
          net.send(msg, true);
        }
      } else if (rd.mustPersist() || !rd.messagesAfterPersist().isEmpty()) {
        // The write sits in storage's queue: it reaches the disk only when flushed.
        m.pendingWrites.add(
            new CoreMember.PendingWrite(rd.hardState(), rd.entries(), rd.messagesAfterPersist()));
      }
      apply(m, rd.committedEntries());
      m.readStates.addAll(rd.readStates());
      checkElectionSafety(m);
    }
  }

  /** Reports every pending write of member {@code id} durable (with syncWrites off). */
  void flush(long id) {
    CoreMember m = member(id);
    List<CoreMember.PendingWrite> writes = new ArrayList<>(m.pendingWrites);
    m.pendingWrites.clear();
    for (CoreMember.PendingWrite w : writes) {
      m.disk.save(w.hardState(), w.entries());
      if (!w.entries().isEmpty()) {
        Entry last = w.entries().get(w.entries().size() - 1);
        m.raft.persisted(last.index(), last.term());
      }
      for (Message msg : w.afterPersist()) {
        net.send(msg, true);
      }
    }
    drain(id);
  }

  private void apply(CoreMember m, List<Entry> committed) {
    if (committed.isEmpty()) {
      return;
    }
    for (Entry e : committed) {
      if (e.index() != m.lastApplied() + 1) {
        throw new AssertionError(
            "member " + m.id + " applies " + e + " after " + m.lastApplied() + ": out of order");
      }
      Entry first = appliedAt.putIfAbsent(e.index(), e);
      if (first != null && !first.equals(e)) {
        throw new AssertionError(
            "state machine safety: member "
                + m.id
                + " applies "
                + e
                + " where "
                + first
                + " was applied");
      }
      m.applied.add(e);
    }
    m.raft.applied(committed.get(committed.size() - 1).index());
  }

  private void checkElectionSafety(CoreMember m) {
    if (m.raft.role() == Role.LEADER) {
      Long prev = leaderOfTerm.putIfAbsent(m.raft.term(), m.id);
      if (prev != null && prev != m.id) {
        throw new AssertionError(
            "election safety: " + prev + " and " + m.id + " both lead term " + m.raft.term());
      }
    }
  }

  void drainAll() {
    for (CoreMember m : members.values()) {
      if (m.up) {
        drain(m.id);
      }
    }
  }

  // ---------------------------------------------------------------- delivering

  /**
   * Delivers one queued message that is not held (dropping it if a cut or rule forbids, or its
   * receiver is down) and carries out the receiver's Readies.
   *
   * @return false if nothing deliverable was queued
   */
  boolean deliverOne() {
    Message m = net.pollDeliverable();
    if (m == null) {
      return false;
    }
    deliver(m);
    return true;
  }

  private void deliver(Message m) {
    CoreMember to = members.get(m.to());
    if (to == null || !to.up || !net.passes(m)) {
      net.countDropped();
      return;
    }
    to.raft.step(m);
    drain(to.id);
  }

  /** Delivers one queued message picked by {@code random}, out of order. */
  boolean deliverAny(RandomGenerator random) {
    if (net.size() == 0) {
      return false;
    }
    deliver(net.takeAt(random.nextInt(net.size())));
    return true;
  }

  /** Delivers, in order, the queued messages matching {@code p} now; later ones stay queued. */
  int deliverNow(Predicate<Message> p) {
    List<Message> batch = net.take(p);
    for (Message m : batch) {
      deliver(m);
    }
    return batch.size();
  }

  /** Delivers until nothing but held messages is queued. Fails on a livelock. */
  void stabilize() {
    drainAll();
    int deliveries = 0;
    while (deliverOne()) {
      if (++deliveries > MAX_DELIVERIES) {
        throw new AssertionError(
            "no quiescence after "
                + MAX_DELIVERIES
                + " deliveries; queued: "
                + net.pending().size()
                + ", members: "
                + members.values());
      }
    }
  }

  // ---------------------------------------------------------------- time

  /** Ticks every running member once and carries out their Readies; delivers nothing. */
  void tickAll() {
    for (CoreMember m : members.values()) {
      if (m.up) {
        m.raft.tick();
        drain(m.id);
      }
    }
  }

  /** {@code n} times: tick every running member, then stabilize. */
  void tick(int n) {
    for (int i = 0; i < n; i++) {
      tickAll();
      stabilize();
    }
  }

  /** Ticks member {@code id} alone {@code n} times, carrying out its Readies. */
  void tickMember(long id, int n) {
    for (int i = 0; i < n; i++) {
      raft(id).tick();
      drain(id);
    }
  }

  /**
   * Ticks and stabilizes until some member leads, at most {@code maxTicks} times.
   *
   * @return the leader
   */
  long tickUntilLeader(int maxTicks) {
    for (int i = 0; i < maxTicks; i++) {
      long l = leader();
      if (l != 0) {
        return l;
      }
      tick(1);
    }
    long l = leader();
    assertThat(l).as("a leader after %d ticks: %s", maxTicks, members.values()).isNotZero();
    return l;
  }

  // ---------------------------------------------------------------- elections

  /**
   * With check-quorum, members ignore campaigns during their first election timeout (they may have
   * promised a lease before a restart). Ticks every running member past that window. A member whose
   * randomized timeout is the shortest possible may campaign on the last tick; those campaign
   * messages are lost on the wire, leaving it a (pre-)candidate that the next campaign overrides.
   */
  void warmUp() {
    if (!config().checkQuorum()) {
      return;
    }
    int et = config().electionTicks();
    boolean ticked = false;
    for (CoreMember m : members.values()) {
      while (m.up && m.raft.ticks() < et) {
        m.raft.tick();
        drain(m.id);
        ticked = true;
      }
    }
    if (ticked) {
      net.discardPending();
    }
  }

  /** Member {@code id} campaigns now; its Readies are carried out, nothing is delivered. */
  void campaign(long id) {
    raft(id).campaign();
    drain(id);
  }

  /** Makes member {@code id} the leader through a real election, then stabilizes. */
  void elect(long id) {
    warmUp();
    for (int attempt = 0; attempt < 3 && raft(id).role() != Role.LEADER; attempt++) {
      campaign(id);
      stabilize();
    }
    assertThat(raft(id).role())
        .as("member %d leads: %s", id, members.values())
        .isEqualTo(Role.LEADER);
  }

  // ---------------------------------------------------------------- proposals

  /** Proposes one command per payload at member {@code id} and carries out its Readies. */
  void propose(long id, String... payloads) {
    List<Entry> es = new ArrayList<>();
    for (String p : payloads) {
      es.add(Entry.proposal(0, p.getBytes(StandardCharsets.UTF_8)));
    }
    raft(id).propose(es);
    drain(id);
  }

  /** Proposes {@code n} commands named prefix-0.. one call each, at member {@code id}. */
  void proposeEach(long id, String prefix, int n) {
    for (int i = 0; i < n; i++) {
      propose(id, prefix + "-" + i);
    }
  }

  static String text(Entry e) {
    return new String(e.data(), StandardCharsets.UTF_8);
  }

  /** The payloads member {@code id} applied, in order (no-ops skipped). */
  List<String> appliedText(long id) {
    return member(id).appliedCommands().stream().map(CoreCluster::text).toList();
  }

  // ---------------------------------------------------------------- crashes

  /** Member {@code id} stops: its core, state machine and unflushed writes are gone. */
  void crash(long id) {
    CoreMember m = member(id);
    m.up = false;
    m.raft = null;
    m.applied.clear();
    m.readStates.clear();
    m.pendingWrites.clear();
  }

  /** Member {@code id} starts again from what its disk holds. */
  void restart(long id) {
    CoreMember m = member(id);
    if (m.up) {
      crash(id);
    }
    m.restarts++;
    m.up = true;
    m.raft = new Raft(config(id, m.restarts), m.disk.initialState(membership));
    drain(id);
  }

  // ---------------------------------------------------------------- network shortcuts

  void isolate(long id) {
    net.isolate(id, ids());
  }

  /** Members in {@code group} talk only among themselves; the rest likewise. */
  void partition(Long... group) {
    net.partition(ids(), Set.of(group));
  }

  void heal() {
    net.heal();
  }

  // ---------------------------------------------------------------- invariants

  /**
   * Raft paper 5.3, Log Matching: if two logs hold an entry with the same index and term, they are
   * identical in every entry up through that index. Checked over all pairs of running members.
   */
  void assertLogMatching() {
    List<CoreMember> up = members.values().stream().filter(m -> m.up).toList();
    for (CoreMember a : up) {
      for (CoreMember b : up) {
        if (a.id >= b.id) {
          continue;
        }
        long last = Math.min(a.raft.log().lastIndex(), b.raft.log().lastIndex());
        long matchUpTo = 0;
        for (long i = last; i >= 1; i--) {
          if (a.raft.log().term(i) == b.raft.log().term(i)) {
            matchUpTo = i;
            break;
          }
        }
        for (long i = 1; i <= matchUpTo; i++) {
          assertThat(a.raft.log().entry(i))
              .as("log matching: entry %d of %d and %d (equal at %d)", i, a.id, b.id, matchUpTo)
              .isEqualTo(b.raft.log().entry(i));
        }
      }
    }
  }

  /** Every running member holds exactly the same log as member {@code id}. */
  void assertLogsEqual(long id) {
    List<Entry> expected = entries(id);
    for (CoreMember m : members.values()) {
      if (m.up) {
        assertThat(entries(m.id)).as("log of %d vs %d", m.id, id).isEqualTo(expected);
      }
    }
  }

  /** Member {@code id}'s whole in-memory log. */
  List<Entry> entries(long id) {
    Raft r = raft(id);
    List<Entry> out = new ArrayList<>();
    for (long i = r.log().firstIndex(); i <= r.log().lastIndex(); i++) {
      out.add(r.log().entry(i));
    }
    return out;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    for (CoreMember m : members.values()) {
      sb.append(m).append('\n');
    }
    return sb.toString();
  }
}
