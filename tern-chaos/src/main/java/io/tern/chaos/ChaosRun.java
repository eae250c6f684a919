package io.tern.chaos;

import static io.tern.chaos.Cluster.bytes;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.tern.api.Event;
import io.tern.api.HashKVResponse;
import io.tern.api.KVGrpc;
import io.tern.api.KeyValue;
import io.tern.api.RangeRequest;
import io.tern.api.RangeResponse;
import io.tern.api.StatusResponse;
import io.tern.api.WatchCreateRequest;
import io.tern.api.WatchGrpc;
import io.tern.api.WatchProgressRequest;
import io.tern.api.WatchRequest;
import io.tern.api.WatchResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One chaos run: start the cluster on the chosen network, run the workloads under the nemesis for
 * the configured duration, heal, make the final observations, run every checker and write the run's
 * directory. The cluster and the network are torn down on every exit path.
 */
final class ChaosRun {
  private static final Logger LOG = LoggerFactory.getLogger(ChaosRun.class);

  static final String LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

  /** Clock rates of the members when skew is on: at most 15% apart, inside the lease bound. */
  static final double[] SKEW_RATES = {0.93, 0.965, 1.0, 1.035, 1.07};

  static final double SKEW_TOLERANCE = 0.07;

  /** The outcome of a run. */
  record Outcome(
      Path dir,
      boolean valid,
      List<CheckResult> checks,
      String error,
      String mode,
      int faultWindows,
      long okOperations,
      int snapshotRestores) {}

  private final ChaosOptions o;
  private final Path dir;
  private final Recorder rec;
  private final Timeline timeline;
  private final Map<String, Object> info = new LinkedHashMap<>();
  private final List<CheckResult> checks = new ArrayList<>();

  private ChaosRun(ChaosOptions o, Path dir) {
    this.o = o;
    this.dir = dir;
    long start = System.nanoTime();
    this.rec = new Recorder(start);
    this.timeline = new Timeline(start);
  }

  /** Runs one seed; never throws for a harness failure: it is the outcome's {@code error}. */
  static Outcome run(ChaosOptions o) throws Exception {
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path dir = o.out().resolve("seed-" + o.seed() + "-" + stamp);
    Files.createDirectories(dir.resolve("logs"));
    return new ChaosRun(o, dir).execute();
  }

  /** Installs Debian's faketime when running as root on a machine with apt-get; best effort. */
  private static synchronized void installFaketime() {
    if (!"root".equals(System.getProperty("user.name"))
        || !Files.exists(Path.of("/usr/bin/apt-get"))) {
      return;
    }
    LOG.info("installing Debian's faketime for the clock-skew faults");
    Shell.Result r = Shell.run("apt-get", "install", "-y", "-q", "faketime");
    if (!r.ok()) {
      LOG.warn("apt-get install faketime failed ({}): {}", r.exit(), r.output());
    }
  }

  /** Whether this machine can run the netns mode. */
  static String resolveMode(String mode) {
    if (!mode.equals("auto")) {
      return mode;
    }
    return NetnsNet.available() ? "netns" : "proxy";
  }

  private Outcome execute() throws Exception {
    String mode = resolveMode(o.mode());
    boolean skew =
        switch (o.clockSkew()) {
          case "on" -> true;
          case "off" -> false;
          default -> o.seed() % 2 == 1;
        };
    String skewNote;
    if (skew && !Files.exists(Path.of(LIBFAKETIME))) {
      installFaketime();
    }
    if (skew && !Files.exists(Path.of(LIBFAKETIME))) {
      skew = false;
      skewNote = "skipped: libfaketime not installed (apt-get install faketime)";
    } else {
      skewNote = skew ? "on" : "off for this seed";
    }
    info.put("seed", o.seed());
    info.put("mode", mode);
    info.put("durationSeconds", o.durationSeconds());
    info.put("members", o.members());
    info.put("snapshotCount", o.snapshotCount());
    if (!o.excludedFaults().isEmpty()) {
      info.put("excludedFaults", new java.util.TreeSet<>(o.excludedFaults()));
    }
    info.put("clockSkew", skewNote);
    LOG.info(
        "chaos run seed {} ({} mode, {} s, clock skew {}) in {}",
        o.seed(),
        mode,
        o.durationSeconds(),
        skewNote,
        dir);

    Random rnd = new Random(o.seed());
    Map<Integer, Map<String, String>> env = new HashMap<>();
    List<String> flags = new ArrayList<>(List.of("--snapshot-count=" + o.snapshotCount()));
    double tolerance = 0;
    if (skew) {
      List<Double> rates = new ArrayList<>();
      for (int i = 0; i < o.members(); i++) {
        rates.add(SKEW_RATES[i % SKEW_RATES.length]);
      }
      Collections.shuffle(rates, rnd);
      Map<String, Object> rateInfo = new LinkedHashMap<>();
      for (int i = 0; i < o.members(); i++) {
        env.put(i, Map.of("LD_PRELOAD", LIBFAKETIME, "FAKETIME", "+0 x" + rates.get(i)));
        rateInfo.put("m" + (i + 1), rates.get(i));
      }
      info.put("clockRates", rateInfo);
      tolerance = SKEW_TOLERANCE;
    }
    boolean leaseRead = o.leaseRead().equals("auto") ? skew : o.leaseRead().equals("on");
    flags.add("--lease-read=" + leaseRead);
    info.put("leaseRead", leaseRead);

    Net net = null;
    Cluster cluster = null;
    List<PrefixWatcher> watchers = new ArrayList<>();
    List<Workload> workloads = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    Thread hook = null;
    String error = null;
    try {
      net =
          mode.equals("netns")
              ? NetnsNet.create(o.members(), o.seed())
              : ProxyNet.create(o.members(), rnd.nextLong());
      String token = "tern-chaos-" + o.seed() + "-" + Long.toHexString(System.nanoTime());
      cluster =
          new Cluster(
              net, o.members(), dir.resolve("data"), dir.resolve("logs"), token, flags, env);
      Cluster c = cluster;
      Net n = net;
      hook =
          new Thread(
              () -> {
                c.close();
                n.close();
              },
              "chaos-cleanup");
      Runtime.getRuntime().addShutdownHook(hook);
      cluster.start();
      timeline.instant(
          "cluster-up", "leader " + cluster.leader().map(Member::toString).orElse("?"));
      long startRevision = revision(cluster) + 1;
      info.put("startRevision", startRevision);

      watchers.add(
          new PrefixWatcher(
              "watch-a1", Workload.APPEND_PREFIX, cluster, rec, rnd.nextLong(), true));
      watchers.add(
          new PrefixWatcher(
              "watch-a2", Workload.APPEND_PREFIX, cluster, rec, rnd.nextLong(), true));
      watchers.add(
          new PrefixWatcher("watch-l", Workload.LEASE_PREFIX, cluster, rec, rnd.nextLong(), true));
      for (PrefixWatcher w : watchers) {
        w.start(startRevision);
      }
      Workload.Keys keys = new Workload.Keys();
      int client = 0;
      for (int i = 0; i < 4; i++) {
        workloads.add(new Workload.Registers(client++, cluster, rec, rnd.nextLong(), keys));
      }
      for (int i = 0; i < 2; i++) {
        workloads.add(new Workload.Appends(client++, cluster, rec, rnd.nextLong()));
      }
      Workload.Leases leases =
          new Workload.Leases(
              client++,
              cluster,
              rec,
              rnd.nextLong(),
              !o.excludedFaults().contains(ChaosOptions.LATE_KEEPALIVE));
      workloads.add(leases);
      for (Workload w : workloads) {
        Thread t = new Thread(w, "client-" + w.client);
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }

      Nemesis nemesis =
          new Nemesis(
              cluster,
              timeline,
              o.seed(),
              o.durationSeconds() * 1_000_000_000L,
              new Burst(cluster, rec),
              o.excludedFaults());
      Thread nt = new Thread(nemesis, "nemesis");
      nt.start();
      nt.join(TimeUnit.SECONDS.toMillis(o.durationSeconds() + 300));
      if (nt.isAlive()) {
        nemesis.stop();
        nt.interrupt();
        nt.join(30_000);
        throw new ChaosException("the nemesis did not finish");
      }
      info.put("faultPlan", nemesis.plan().stream().map(Enum::name).toList());
      if (nemesis.failure() != null) {
        throw new ChaosException("nemesis failed: " + nemesis.failure(), nemesis.failure());
      }

      nemesis.healAll("final heal");
      finalHeal(cluster);
      Thread.sleep(3_000); // the workloads run on the healed cluster for a moment
      long recovery = rec.now();
      for (Workload w : workloads) {
        w.stop = true;
      }
      for (Thread t : threads) {
        t.join(30_000);
        if (t.isAlive()) {
          throw new ChaosException(t.getName() + " did not stop");
        }
      }
      long okAfterHeal =
          rec.ops().stream()
              .filter(
                  op -> op.invoke >= recovery - 3_000_000_000L && op.status() == Recorder.Status.OK)
              .count();
      info.put("okOpsInLast3sAfterHeal", okAfterHeal);
      timeline.instant("workload-stop", "");

      finalReads(cluster);
      Map<String, String> appends = finalRange(cluster, Workload.APPEND_PREFIX);
      Map<String, String> leaseStore = awaitLeasesGone(cluster);
      long finalRevision = convergence(cluster);
      info.put("finalRevision", finalRevision);
      Map<String, List<PrefixWatcher.Received>> refs = new LinkedHashMap<>();
      Map<String, Map<String, String>> stores = new LinkedHashMap<>();
      stores.put(Workload.APPEND_PREFIX, appends);
      stores.put(Workload.LEASE_PREFIX, leaseStore);
      for (String prefix : List.of(Workload.APPEND_PREFIX, Workload.LEASE_PREFIX)) {
        refs.put(prefix, referenceWatch(cluster, prefix, startRevision, finalRevision));
      }
      for (PrefixWatcher w : watchers) {
        List<PrefixWatcher.Received> ref = refs.get(w.prefix);
        long last = ref.isEmpty() ? 0 : ref.get(ref.size() - 1).revision();
        awaitQuietly(w.name + " to catch up to revision " + last, () -> w.lastRevision() >= last);
        w.close();
      }

      List<Recorder.Op> ops = rec.ops();
      checks.add(Checks.linearizability(ops, 2_000_000L));
      checks.add(Checks.lostWrites(ops, appends));
      checks.add(Checks.watches(watchers, refs, stores, ops));
      PrefixWatcher leaseWatcher = watchers.get(2);
      checks.add(
          Checks.leases(
              List.copyOf(leases.leases),
              refs.get(Workload.LEASE_PREFIX),
              leaseWatcher.snapshot(),
              leaseStore,
              tolerance));
    } catch (Throwable t) {
      LOG.error("run of seed {} failed", o.seed(), t);
      error = t.toString() + (t instanceof ChaosException ? "" : "\n" + stack(t));
    } finally {
      for (Workload w : workloads) {
        w.stop = true;
      }
      for (PrefixWatcher w : watchers) {
        w.close();
      }
      if (cluster != null) {
        cluster.close();
      }
      if (net != null) {
        net.close();
      }
      if (hook != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
          // shutting down: the hook runs anyway
        }
      }
    }
    info.put("snapshotRestores", snapshotRestores(dir.resolve("data")));
    Map<String, Integer> repairs = logLines(dir.resolve("logs"), "io.tern.server.MemberReconciler");
    if (!repairs.isEmpty()) {
      info.put("memberTableRepairs", repairs);
    }
    boolean valid = error == null && checks.stream().allMatch(CheckResult::ok);
    Report.write(dir, info, rec, timeline, checks, error, valid);
    if (valid) {
      Cluster.deleteRecursively(dir.resolve("data")); // logs stay; data only of failed runs
    }
    long okOps = rec.ops().stream().filter(op -> op.status() == Recorder.Status.OK).count();
    return new Outcome(
        dir,
        valid,
        List.copyOf(checks),
        error,
        mode,
        timeline.windows().size(),
        okOps,
        totalRestores(info.get("snapshotRestores")));
  }

  /**
   * How many times each member's store was replaced by an installed snapshot: a restore writes
   * {@code kv/db-<n+1>} and points {@code kv/CURRENT} at it (a fresh store is {@code db-1}).
   */
  static Map<String, Integer> snapshotRestores(Path data) {
    Map<String, Integer> out = new TreeMap<>();
    try (var dirs = Files.list(data)) {
      for (Path d : dirs.toList()) {
        Path current = d.resolve("kv").resolve("CURRENT");
        if (Files.exists(current)) {
          String name = Files.readString(current).strip();
          if (name.matches("db-[0-9]+")) {
            out.put(d.getFileName().toString(), Integer.parseInt(name.substring(3)) - 1);
          }
        }
      }
    } catch (java.io.IOException e) {
      LOG.warn("cannot read {}: {}", data, e.toString());
    }
    return out;
  }

  /**
   * How many lines of each member's log name {@code logger}: for the member table repairs the
   * leaders made (a membership change that did not complete as one), listed in the verdict.
   */
  static Map<String, Integer> logLines(Path logs, String logger) {
    Map<String, Integer> out = new TreeMap<>();
    try (var files = Files.list(logs)) {
      for (Path f : files.sorted().toList()) {
        try (var lines = Files.lines(f, java.nio.charset.StandardCharsets.UTF_8)) {
          int n = (int) lines.filter(l -> l.contains(logger)).count();
          if (n > 0) {
            out.put(f.getFileName().toString().replace(".log", ""), n);
          }
        } catch (java.io.UncheckedIOException e) {
          LOG.warn("cannot read {}: {}", f, e.toString()); // not UTF-8 throughout
        }
      }
    } catch (java.io.IOException e) {
      LOG.warn("cannot read {}: {}", logs, e.toString());
    }
    return out;
  }

  /** The total of {@link #snapshotRestores}. */
  static int totalRestores(Object restores) {
    int n = 0;
    if (restores instanceof Map<?, ?> m) {
      for (Object v : m.values()) {
        n += (Integer) v;
      }
    }
    return n;
  }

  private static String stack(Throwable t) {
    java.io.StringWriter w = new java.io.StringWriter();
    t.printStackTrace(new java.io.PrintWriter(w));
    return w.toString();
  }

  private static long revision(Cluster c) throws InterruptedException {
    return c.await(
        "the store revision",
        Duration.ofSeconds(30),
        () -> {
          for (Member m : c.members()) {
            Optional<StatusResponse> s = c.status(m);
            if (s.isPresent()) {
              return s.get().getHeader().getRevision();
            }
          }
          return null;
        });
  }

  /**
   * Every member serving in the configuration as a voter, one leader, no stray member. Finishes
   * what the fault schedule left undone, retrying until the deadline: members whose removal
   * happened unseen are wiped, members removed are added back (or started, if an add whose reply
   * was lost happened), strangers (adds the harness gave up on) are removed, learners are promoted.
   * A member the member list calls a learner while its own Raft configuration (Status) has it as a
   * voter is not promoted: the member table disagrees with Raft, which the cluster must repair
   * itself, and if it does not the run fails saying so.
   */
  private void finalHeal(Cluster c) throws Exception {
    timeline.instant("final-heal", "");
    c.net().healAll();
    for (Member m : c.members()) {
      m.resume();
      c.restart(m);
    }
    c.await("a leader after healing", Duration.ofSeconds(90), () -> c.leader().orElse(null));
    java.util.concurrent.atomic.AtomicReference<String> seen =
        new java.util.concurrent.atomic.AtomicReference<>("nothing yet");
    try {
      c.await(
          "every member in the configuration as a voter",
          Duration.ofSeconds(90),
          () -> {
            try {
              return healMembership(c, seen) ? true : null;
            } catch (StatusRuntimeException e) {
              seen.set(seen.get() + " | last call: " + Workload.describe(e));
              return null;
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new ChaosException("interrupted", e);
            }
          });
    } catch (ChaosException e) {
      throw new ChaosException("last seen: " + seen.get() + "\n" + e.getMessage(), e);
    }
    for (Member m : c.members()) {
      c.await(
          m.name + " to serve",
          Duration.ofSeconds(60),
          () -> c.status(m).filter(s -> s.getLeader() != 0).orElse(null));
    }
    timeline.instant("healed", "every member serving");
  }

  /**
   * One round of the final heal's membership repair through the leader; true once the leader's
   * member list is exactly the harness's members, all voters, and each member's own Raft
   * configuration agrees. {@code seen} gets what the round saw.
   */
  private boolean healMembership(
      Cluster c, java.util.concurrent.atomic.AtomicReference<String> seen)
      throws java.io.IOException, InterruptedException {
    Member via = c.leader().orElse(null);
    if (via == null) {
      seen.set("no leader");
      return false;
    }
    StringBuilder sb = new StringBuilder("via " + via + ": ");
    for (Member m : c.reconcile(via)) {
      timeline.instant("member-remove", m.name + ": found removed (final heal)");
    }
    for (String failure : c.removeStrangers(via)) {
      sb.append(failure).append("; ");
    }
    List<io.tern.api.Member> list = c.memberList(via);
    for (Member m : c.members()) {
      if (!m.removed()) {
        continue;
      }
      try {
        long id = c.adoptIfAdded(m, list);
        String how = "found added (final heal)";
        if (id == 0) {
          id = c.add(m, via, false);
          how = "ok (final heal)";
        }
        timeline.instant("member-add", m.name + " as " + Long.toHexString(id) + ": " + how);
      } catch (StatusRuntimeException e) {
        sb.append(m.name).append(" add: ").append(Workload.describe(e)).append("; ");
      }
      seen.set(sb.toString());
      return false; // the list changed: look again
    }
    boolean done = list.size() == c.members().size();
    for (io.tern.api.Member x : list) {
      Member m = c.byId(x.getID()).orElse(null);
      Optional<StatusResponse> own = m == null ? Optional.empty() : c.status(m);
      sb.append(Long.toHexString(x.getID()))
          .append(' ')
          .append(x.getName())
          .append(x.getIsLearner() ? " (learner)" : "")
          .append(' ')
          .append(x.getPeerURLsList());
      if (m == null) {
        done = false;
        sb.append(" not a current member");
      } else if (own.isEmpty()) {
        done = false;
        sb.append(" no status");
      } else if (x.getIsLearner() && !own.get().getIsLearner()) {
        done = false;
        sb.append(
            " ANOMALY: a learner in the member list, a voter in its own Raft configuration (the"
                + " member table disagrees with Raft)");
      } else if (!x.getIsLearner() && own.get().getIsLearner()) {
        done = false; // a promotion it has not heard of yet, or the table disagrees with Raft
        sb.append(" a voter in the member list, a learner in its own Raft configuration");
      }
      if (x.getIsLearner() && m != null && (own.isEmpty() || own.get().getIsLearner())) {
        done = false;
        try {
          c.promote(m, via);
          timeline.instant("member-promote", m.name + ": ok (final heal)");
        } catch (StatusRuntimeException e) {
          sb.append(" promote: ").append(Workload.describe(e));
        }
      }
      sb.append("; ");
    }
    for (Member m : c.members()) {
      sb.append(m)
          .append(m.removed() ? " removed" : "")
          .append(m.alive() ? "" : " down")
          .append("; ");
    }
    seen.set(sb.toString());
    return done;
  }

  /** A linearizable read of every register key, retried until it succeeds. */
  private void finalReads(Cluster c) throws InterruptedException {
    TreeSet<String> keys = new TreeSet<>();
    for (Recorder.Op op : rec.ops()) {
      if (op.key.startsWith(Workload.REGISTER_PREFIX)) {
        keys.add(op.key);
      }
    }
    int i = 0;
    for (String key : keys) {
      Member m = c.members().get(i++ % c.members().size());
      c.await(
          "a final read of " + key,
          Duration.ofSeconds(30),
          () -> {
            Recorder.Op op = rec.invoke(1000, "final-read", key, null, null, m.name);
            Workload.read(rec, op, m, key);
            return op.status() == Recorder.Status.OK ? true : null;
          });
    }
  }

  private static Map<String, String> finalRange(Cluster c, String prefix)
      throws InterruptedException {
    return c.await(
        "a final range of " + prefix,
        Duration.ofSeconds(30),
        () -> {
          for (Member m : c.members()) {
            try {
              RangeResponse r =
                  KVGrpc.newBlockingStub(m.channel())
                      .withDeadlineAfter(10, TimeUnit.SECONDS)
                      .range(
                          RangeRequest.newBuilder()
                              .setKey(bytes(prefix))
                              .setRangeEnd(PrefixWatcher.prefixEnd(prefix))
                              .build());
              Map<String, String> out = new TreeMap<>();
              for (KeyValue kv : r.getKvsList()) {
                out.put(kv.getKey().toStringUtf8(), kv.getValue().toStringUtf8());
              }
              return out;
            } catch (StatusRuntimeException e) {
              // next member
            }
          }
          return null;
        });
  }

  /** Waits until every leased key is gone (TTLs are at most 4 s); returns what is left. */
  private Map<String, String> awaitLeasesGone(Cluster c) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    Map<String, String> left;
    do {
      left = finalRange(c, Workload.LEASE_PREFIX);
      if (left.isEmpty()) {
        return left;
      }
      Thread.sleep(500);
    } while (System.nanoTime() < deadline);
    return left;
  }

  /**
   * Waits until every member reports the same revision and the same HashKV at it; records the
   * verdict as the convergence check and returns the revision.
   */
  private long convergence(Cluster c) throws InterruptedException {
    Map<String, String> seen = new LinkedHashMap<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      seen.clear();
      Long revision = null;
      boolean same = true;
      for (Member m : c.members()) {
        Optional<StatusResponse> s = c.status(m);
        seen.put(m.name, s.map(r -> "rev " + r.getHeader().getRevision()).orElse("-"));
        if (s.isEmpty() || (revision != null && revision != s.get().getHeader().getRevision())) {
          same = false;
          continue;
        }
        revision = s.get().getHeader().getRevision();
      }
      if (same && revision != null) {
        Integer hash = null;
        boolean agree = true;
        for (Member m : c.members()) {
          Optional<HashKVResponse> h = c.hashKv(m, revision);
          seen.put(
              m.name,
              seen.get(m.name)
                  + h.map(
                          r ->
                              " hash "
                                  + Integer.toHexString(r.getHash())
                                  + " @"
                                  + r.getHeader().getRevision())
                      .orElse(" hash -"));
          if (h.isEmpty()
              || h.get().getHeader().getRevision() != revision
              || (hash != null && hash != h.get().getHash())) {
            agree = false;
          } else {
            hash = h.get().getHash();
          }
        }
        if (agree) {
          checks.add(
              CheckResult.of(
                  "convergence",
                  "every member at revision "
                      + revision
                      + " with HashKV "
                      + Integer.toHexString(hash),
                  List.of()));
          return revision;
        }
      }
      if (System.nanoTime() > deadline) {
        checks.add(
            CheckResult.of(
                "convergence", "members disagree after 60 s", List.of("last seen: " + seen)));
        return revision == null ? -1 : revision;
      }
      Thread.sleep(250);
    }
  }

  /**
   * Every event of {@code prefix} from {@code from} through {@code to}, from one watch on a healthy
   * member (ended by a progress notification at or past {@code to}).
   */
  private List<PrefixWatcher.Received> referenceWatch(Cluster c, String prefix, long from, long to)
      throws InterruptedException {
    for (Member m : c.members()) {
      ConcurrentLinkedQueue<PrefixWatcher.Received> events = new ConcurrentLinkedQueue<>();
      CountDownLatch done = new CountDownLatch(1);
      StreamObserver<WatchRequest>[] req = new StreamObserver[1];
      req[0] =
          WatchGrpc.newStub(m.channel())
              .watch(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(WatchResponse r) {
                      for (Event e : r.getEventsList()) {
                        events.add(
                            new PrefixWatcher.Received(
                                rec.now(),
                                e.getKv().getModRevision(),
                                e.getType(),
                                e.getKv().getKey().toStringUtf8(),
                                e.getKv().getValue().toStringUtf8(),
                                0));
                      }
                      if (r.getEventsCount() == 0
                          && !r.getCreated()
                          && !r.getCanceled()
                          && r.getHeader().getRevision() >= to) {
                        done.countDown();
                      }
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                  });
      req[0].onNext(
          WatchRequest.newBuilder()
              .setCreateRequest(
                  WatchCreateRequest.newBuilder()
                      .setKey(bytes(prefix))
                      .setRangeEnd(PrefixWatcher.prefixEnd(prefix))
                      .setStartRevision(from))
              .build());
      boolean ok = false;
      for (int i = 0; i < 100 && !ok; i++) {
        req[0].onNext(
            WatchRequest.newBuilder()
                .setProgressRequest(WatchProgressRequest.getDefaultInstance())
                .build());
        ok = done.await(300, TimeUnit.MILLISECONDS);
      }
      try {
        req[0].onCompleted();
      } catch (RuntimeException ignored) {
        // gone
      }
      if (ok) {
        List<PrefixWatcher.Received> out = new ArrayList<>();
        for (PrefixWatcher.Received r : events) {
          if (r.revision() <= to) {
            out.add(r);
          }
        }
        return out;
      }
    }
    throw new ChaosException("no member answered a reference watch of " + prefix);
  }

  private static void awaitQuietly(String what, java.util.function.BooleanSupplier cond)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!cond.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    if (!cond.getAsBoolean()) {
      LOG.warn("timed out waiting for {}", what);
    }
  }
}
