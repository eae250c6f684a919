package io.tern.chaos;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Injects faults on a schedule drawn from the run's seed: quiet gaps, then a window holding one
 * fault or a combination (a crash or pause together with a partition, a membership change or a
 * leadership transfer during a partition...), then healing. Every action is written to the {@link
 * Timeline}.
 */
final class Nemesis implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(Nemesis.class);

  /** The kinds of fault windows; each seed draws a sequence of them. */
  enum Kind {
    LAGGING_MEMBER_SNAPSHOT,
    KILL_RANDOM,
    KILL_LEADER,
    PAUSE_RANDOM,
    PAUSE_LEADER,
    PARTITION_HALVES,
    ISOLATE_LEADER,
    BRIDGE,
    ONE_WAY_LEADER,
    ONE_WAY_PAIR,
    MOVE_LEADER_DURING_PARTITION,
    REPLACE_MEMBER_DURING_KILL,
    LEARNER_DURING_PARTITION,
    KILL_AND_PARTITION,
    PAUSE_AND_MOVE_LEADER
  }

  private final Cluster cluster;
  private final Timeline timeline;
  private final Random rnd;
  private final long durationNanos;
  private final long startNanos;
  private final List<Member> killed = new ArrayList<>();
  private final List<Member> paused = new ArrayList<>();
  private volatile boolean stop;
  private volatile Throwable failure;
  private final List<Kind> plan = new ArrayList<>();
  private final Burst burst;
  private final Set<String> excluded;

  Nemesis(
      Cluster cluster,
      Timeline timeline,
      long seed,
      long durationNanos,
      Burst burst,
      Set<String> excluded) {
    this.cluster = cluster;
    this.excluded = Set.copyOf(excluded);
    this.burst = burst;
    this.timeline = timeline;
    this.rnd = new Random(seed * 7919 + 17);
    this.durationNanos = durationNanos;
    this.startNanos = System.nanoTime();
  }

  Throwable failure() {
    return failure;
  }

  void stop() {
    stop = true;
  }

  /** The kinds of windows that ran, in order. */
  synchronized List<Kind> plan() {
    return List.copyOf(plan);
  }

  @Override
  public void run() {
    try {
      // The first windows take one kind of each group, groups in an order drawn from the seed,
      // so a short run still sees crashes, pauses, partitions, one-way loss, membership changes
      // and leader transfers; later windows draw any kind. A member that falls further behind
      // than the log the leader keeps (5,000 entries behind a snapshot) must install a snapshot:
      // every run does this at least once, last if the draw did not bring it earlier.
      List<List<Kind>> groups =
          new ArrayList<>(
              List.of(
                  List.of(Kind.KILL_RANDOM, Kind.KILL_LEADER),
                  List.of(Kind.PAUSE_RANDOM, Kind.PAUSE_LEADER),
                  List.of(Kind.PARTITION_HALVES, Kind.ISOLATE_LEADER, Kind.BRIDGE),
                  List.of(Kind.ONE_WAY_LEADER, Kind.ONE_WAY_PAIR),
                  List.of(Kind.REPLACE_MEMBER_DURING_KILL, Kind.LEARNER_DURING_PARTITION),
                  List.of(
                      Kind.MOVE_LEADER_DURING_PARTITION,
                      Kind.PAUSE_AND_MOVE_LEADER,
                      Kind.KILL_AND_PARTITION)));
      Collections.shuffle(groups, rnd);
      List<Kind> order = new ArrayList<>();
      for (List<Kind> g : groups) {
        List<Kind> allowed = g.stream().filter(k -> !excluded.contains(k.name())).toList();
        if (!allowed.isEmpty()) {
          order.add(allowed.get(rnd.nextInt(allowed.size())));
        }
      }
      boolean lagging = !excluded.contains(Kind.LAGGING_MEMBER_SNAPSHOT.name());
      List<Kind> all =
          List.of(Kind.values()).stream().filter(k -> !excluded.contains(k.name())).toList();
      if (all.isEmpty()) {
        return;
      }
      int next = 0;
      while (!stop && remaining() > 4_000) {
        sleep(800 + rnd.nextInt(1_000));
        if (stop || remaining() < 4_000) {
          break;
        }
        Kind k = next < order.size() ? order.get(next++) : all.get(rnd.nextInt(all.size()));
        synchronized (this) {
          plan.add(k);
        }
        long hold = Math.min(2_500 + rnd.nextInt(2_500), remaining() - 1_000);
        window(k, hold);
      }
      if (lagging && !stop && !plan().contains(Kind.LAGGING_MEMBER_SNAPSHOT)) {
        // Runs even past the duration: its burst takes long on a loaded machine.
        synchronized (this) {
          plan.add(Kind.LAGGING_MEMBER_SNAPSHOT);
        }
        sleep(800);
        window(Kind.LAGGING_MEMBER_SNAPSHOT, 1_000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      LOG.error("nemesis failed", t);
      failure = t;
      timeline.instant("nemesis-error", t.toString());
    } finally {
      try {
        healAll("end of the fault schedule");
      } catch (Throwable t) {
        if (failure == null) {
          failure = t;
        }
      }
    }
  }

  private long remaining() {
    return (durationNanos - (System.nanoTime() - startNanos)) / 1_000_000;
  }

  private void sleep(long ms) throws InterruptedException {
    long until = System.nanoTime() + ms * 1_000_000;
    while (!stop && System.nanoTime() < until) {
      Thread.sleep(Math.min(100, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
    }
  }

  private void window(Kind k, long hold) throws Exception {
    List<Member> ms = cluster.members();
    int n = ms.size();
    Optional<Member> leader = cluster.leader();
    Member someone = ms.get(rnd.nextInt(n));
    Member target = leader.orElse(someone);
    Timeline.Window w;
    switch (k) {
      case KILL_RANDOM, KILL_LEADER -> {
        Member m = k == Kind.KILL_LEADER ? target : someone;
        w =
            timeline.open(
                "kill", m.name + (leader.map(l -> l == m).orElse(false) ? " (leader)" : ""));
        kill(m);
        sleep(hold);
      }
      case LAGGING_MEMBER_SNAPSHOT -> {
        Member m =
            leader.isPresent() && someone == leader.get()
                ? ms.get((someone.index + 1) % n)
                : someone;
        w =
            timeline.open(
                "kill+lag", m.name + " down while " + burst.size() + " entries are written");
        kill(m);
        long t0 = System.nanoTime();
        int done = burst.run();
        timeline.instant(
            "burst",
            done + " puts acknowledged in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        sleep(1_000);
      }
      case PAUSE_RANDOM, PAUSE_LEADER -> {
        Member m = k == Kind.PAUSE_LEADER ? target : someone;
        w =
            timeline.open(
                "pause", m.name + (leader.map(l -> l == m).orElse(false) ? " (leader)" : ""));
        pause(m);
        sleep(Math.max(hold, 2_500)); // longer than the election timeout (1 s)
      }
      case PARTITION_HALVES -> {
        List<Integer> idx = shuffled(n);
        Set<Integer> a = new TreeSet<>(idx.subList(0, n / 2));
        w = timeline.open("partition", "minority " + names(a) + " | majority " + names(rest(a, n)));
        split(a, rest(a, n));
        sleep(hold);
      }
      case ISOLATE_LEADER -> {
        Set<Integer> a = Set.of(target.index);
        w =
            timeline.open(
                "partition", "isolated " + names(a) + (leader.isPresent() ? " (leader)" : ""));
        split(a, rest(a, n));
        sleep(hold);
      }
      case BRIDGE -> {
        List<Integer> idx = shuffled(n);
        Set<Integer> a = new TreeSet<>(idx.subList(0, n / 2));
        Set<Integer> b = new TreeSet<>(idx.subList(n / 2 + 1, n));
        w =
            timeline.open(
                "bridge", names(a) + " <- " + ms.get(idx.get(n / 2)).name + " -> " + names(b));
        split(a, b);
        sleep(hold);
      }
      case ONE_WAY_LEADER -> {
        w = timeline.open("one-way", target.name + " -> everyone dropped (it still hears them)");
        for (Member m : ms) {
          if (m != target) {
            cluster.net().cut(target.index, m.index);
          }
        }
        sleep(hold);
      }
      case ONE_WAY_PAIR -> {
        List<Integer> idx = shuffled(n);
        Member a = ms.get(idx.get(0));
        Member b = ms.get(idx.get(1));
        Member c = ms.get(idx.get(2));
        w =
            timeline.open(
                "one-way", a.name + " -> " + b.name + ", " + b.name + " -> " + c.name + " dropped");
        cluster.net().cut(a.index, b.index);
        cluster.net().cut(b.index, c.index);
        sleep(hold);
      }
      case MOVE_LEADER_DURING_PARTITION -> {
        List<Integer> idx = shuffled(n);
        Set<Integer> a = Set.of(idx.get(0));
        w = timeline.open("partition+move-leader", "isolated " + names(a));
        split(a, rest(a, n));
        sleep(hold / 3);
        moveLeader();
        sleep(hold - hold / 3);
      }
      case REPLACE_MEMBER_DURING_KILL -> {
        List<Integer> idx = shuffled(n);
        Member dead = ms.get(idx.get(0));
        Member replaced = ms.get(idx.get(1));
        if (leader.isPresent() && replaced == leader.get()) {
          replaced = ms.get(idx.get(2));
        }
        w =
            timeline.open(
                "kill+replace-member", "kill " + dead.name + ", remove/re-add " + replaced.name);
        kill(dead);
        sleep(500);
        replace(replaced, false);
        sleep(hold / 2);
      }
      case LEARNER_DURING_PARTITION -> {
        List<Integer> idx = shuffled(n);
        Member replaced = ms.get(idx.get(0));
        if (leader.isPresent() && replaced == leader.get()) {
          replaced = ms.get(idx.get(1));
        }
        Set<Integer> a = Set.of(idx.get(2));
        if (a.contains(replaced.index)) {
          a = Set.of(idx.get(3));
        }
        w =
            timeline.open(
                "partition+learner",
                "isolated "
                    + names(a)
                    + ", remove "
                    + replaced.name
                    + ", re-add as learner, promote");
        split(a, rest(a, n));
        replace(replaced, true);
        sleep(hold / 2);
      }
      case KILL_AND_PARTITION -> {
        List<Integer> idx = shuffled(n);
        Member m = ms.get(idx.get(0));
        Set<Integer> a = Set.of(idx.get(1));
        w = timeline.open("kill+partition", "kill " + m.name + ", isolate " + names(a));
        kill(m);
        split(a, rest(a, n));
        sleep(hold);
      }
      case PAUSE_AND_MOVE_LEADER -> {
        List<Integer> idx = shuffled(n);
        Member m = ms.get(idx.get(0));
        w = timeline.open("pause+move-leader", "pause " + m.name);
        pause(m);
        moveLeader();
        sleep(Math.max(hold, 2_500));
      }
      default -> throw new IllegalStateException("unhandled " + k);
    }
    healAll(null);
    timeline.close(w);
  }

  private List<Integer> shuffled(int n) {
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      idx.add(i);
    }
    Collections.shuffle(idx, rnd);
    return idx;
  }

  private static Set<Integer> rest(Set<Integer> a, int n) {
    Set<Integer> r = new TreeSet<>();
    for (int i = 0; i < n; i++) {
      if (!a.contains(i)) {
        r.add(i);
      }
    }
    return r;
  }

  private String names(Set<Integer> s) {
    return s.stream()
        .map(i -> cluster.members().get(i).name)
        .collect(Collectors.joining(",", "{", "}"));
  }

  /** Cuts every link between the two groups, both ways. */
  private void split(Set<Integer> a, Set<Integer> b) {
    for (int x : a) {
      for (int y : b) {
        cluster.net().cut(x, y);
        cluster.net().cut(y, x);
      }
    }
  }

  private void kill(Member m) throws InterruptedException {
    if (m.alive()) {
      cluster.kill(m);
      killed.add(m);
      timeline.instant("sigkill", m.name);
    }
  }

  private void pause(Member m) {
    if (m.alive() && !m.paused()) {
      m.pause();
      paused.add(m);
      timeline.instant("sigstop", m.name);
    }
  }

  private void moveLeader() {
    Optional<Member> l = cluster.anyLeader();
    if (l.isEmpty()) {
      timeline.instant("move-leader", "skipped: no leader known");
      return;
    }
    List<Member> others =
        cluster.members().stream().filter(m -> m != l.get() && m.serving()).toList();
    if (others.isEmpty()) {
      return;
    }
    Member to = others.get(rnd.nextInt(others.size()));
    try {
      cluster.moveLeader(l.get(), to);
      timeline.instant("move-leader", l.get().name + " -> " + to.name + ": ok");
    } catch (RuntimeException e) {
      timeline.instant(
          "move-leader", l.get().name + " -> " + to.name + ": " + Workload.describe(e));
    }
  }

  /**
   * Removes {@code m} from the cluster and adds it back as a new member (fresh data, new peer URL
   * and id), as a voter or as a learner that is then promoted. Failures (no quorum during the
   * fault) are recorded; {@link #healAll} finishes an interrupted replacement.
   */
  private void replace(Member m, boolean learner) throws Exception {
    if (!m.serving()) {
      timeline.instant("member-remove", m.name + ": skipped, not serving");
      return;
    }
    Optional<Member> via = cluster.anyLeader();
    if (via.isEmpty() || via.get() == m) {
      timeline.instant("member-remove", m.name + ": skipped, no other leader known");
      return;
    }
    try {
      cluster.remove(m, via.get());
      timeline.instant("member-remove", m.name + ": ok");
    } catch (RuntimeException e) {
      timeline.instant("member-remove", m.name + ": " + Workload.describe(e));
      reconcile();
      if (!m.removed()) {
        return;
      }
    }
    addBack(m, learner, 1);
  }

  /** Finds members whose removal happened although its reply was lost; best effort. */
  private void reconcile() throws InterruptedException {
    for (int attempt = 0; attempt < 20; attempt++) {
      Optional<Member> via = cluster.anyLeader();
      if (via.isPresent()) {
        try {
          for (Member m : cluster.reconcile(via.get())) {
            timeline.instant("member-remove", m.name + ": found removed (reply was lost)");
          }
          return;
        } catch (RuntimeException | java.io.IOException e) {
          LOG.debug("member list failed: {}", e.toString());
        }
      }
      Thread.sleep(500);
    }
  }

  private boolean addBack(Member m, boolean learner, int attempts) throws Exception {
    for (int i = 0; i < attempts; i++) {
      Optional<Member> via = cluster.anyLeader();
      if (via.isEmpty()) {
        Thread.sleep(500);
        continue;
      }
      try {
        long id = cluster.add(m, via.get(), learner);
        timeline.instant(
            "member-add",
            m.name + " as " + Long.toHexString(id) + (learner ? " (learner)" : "") + ": ok");
        if (learner) {
          promote(m, 40);
        }
        return true;
      } catch (RuntimeException e) {
        timeline.instant("member-add", m.name + ": " + Workload.describe(e));
        Thread.sleep(500);
        long id = adoptIfAdded(m);
        if (id != 0) {
          timeline.instant(
              "member-add",
              m.name + " as " + Long.toHexString(id) + ": found added (reply was lost)");
          if (learner) {
            promote(m, 40);
          }
          return true;
        }
      }
    }
    return false;
  }

  /** After a failed add: starts the incarnation if the add happened after all; best effort. */
  private long adoptIfAdded(Member m) throws java.io.IOException {
    Optional<Member> via = cluster.anyLeader();
    if (via.isEmpty()) {
      return 0;
    }
    try {
      return cluster.adoptIfAdded(m, cluster.memberList(via.get()));
    } catch (RuntimeException e) {
      LOG.debug("member list failed: {}", e.toString());
      return 0;
    }
  }

  private void promote(Member m, int attempts) throws InterruptedException {
    String last = "";
    for (int i = 0; i < attempts; i++) {
      Optional<Member> via = cluster.anyLeader();
      if (via.isPresent()) {
        try {
          cluster.promote(m, via.get());
          timeline.instant("member-promote", m.name + ": ok after " + (i + 1) + " attempts");
          return;
        } catch (RuntimeException e) {
          last = Workload.describe(e);
        }
      }
      Thread.sleep(500);
    }
    timeline.instant("member-promote", m.name + ": not yet: " + last);
  }

  /**
   * Heals everything: links, paused and killed members; finishes membership replacements and
   * promotions left undone.
   */
  void healAll(String why) throws Exception {
    cluster.net().healAll();
    for (Member m : cluster.members()) {
      if (m.paused()) {
        m.resume();
        timeline.instant("sigcont", m.name);
      }
    }
    paused.clear();
    for (Member m : cluster.members()) {
      if (!m.alive() && !m.removed()) {
        cluster.restart(m);
        timeline.instant("restart", m.name);
      }
    }
    killed.clear();
    reconcile();
    for (Member m : cluster.members()) {
      if (m.removed()) {
        addBack(m, false, 60);
      }
    }
    if (why != null) {
      timeline.instant("heal", why);
    }
  }
}
