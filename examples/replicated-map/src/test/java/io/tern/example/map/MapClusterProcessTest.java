package io.tern.example.map;

import static io.tern.example.map.ProcessCluster.await;
import static io.tern.example.map.ProcessCluster.read;
import static io.tern.example.map.ProcessCluster.status;
import static io.tern.example.map.ProcessCluster.tryCall;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;

/**
 * Members as real processes on loopback: replication, leader crash under load, member replacement
 * through a snapshot, and refusal to start on a corrupt log. Each member's output goes to {@code
 * target/process-logs/<test>/member-<id>.log}; the tails are printed when a test fails.
 */
class MapClusterProcessTest {
  @TempDir Path data;

  private ProcessCluster cluster;

  @RegisterExtension
  final TestWatcher printLogsOnFailure =
      new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
          if (cluster != null) {
            for (MemberProcess m : cluster.members()) {
              System.out.println("---- tail of " + m.logFile);
              try {
                List<String> lines = Files.readAllLines(m.logFile, UTF_8);
                lines
                    .subList(Math.max(0, lines.size() - 60), lines.size())
                    .forEach(System.out::println);
              } catch (IOException e) {
                System.out.println("(unreadable: " + e + ")");
              }
            }
          }
        }
      };

  @BeforeEach
  void setUp(TestInfo info) throws IOException {
    String method = info.getTestMethod().orElseThrow().getName();
    String display = info.getDisplayName();
    String name =
        display.startsWith(method + "(")
            ? method
            : method + "-" + display.replaceAll("[^A-Za-z0-9]+", "_");
    Path logs = Path.of("target", "process-logs", name);
    if (Files.exists(logs)) {
      try (Stream<Path> old = Files.walk(logs)) {
        old.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    cluster = new ProcessCluster(data, logs);
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    cluster.destroyAll();
  }

  private static List<Long> ids(int n) {
    return LongStream.rangeClosed(1, n).boxed().toList();
  }

  // ---------------------------------------------------------------- (a), (b)

  @ParameterizedTest(name = "{0} members")
  @ValueSource(ints = {3, 5})
  void electsALeaderAndReplicates(int size) throws Exception {
    List<MemberProcess> ms = cluster.startNew(ids(size));
    MemberProcess leader = cluster.awaitLeader(ms);
    MemberProcess follower = ms.stream().filter(m -> m != leader).findFirst().orElseThrow();

    cluster.put(follower, "color", "blue"); // forwarded to the leader by Raft
    cluster.put(leader, "shape", "round");
    for (MemberProcess m : ms) {
      assertThat(read(m, "GET color")).as("at %s", m).isEqualTo("VALUE blue");
      assertThat(read(m, "GET shape")).as("at %s", m).isEqualTo("VALUE round");
      assertThat(read(m, "GET missing")).as("at %s", m).isEqualTo("NONE");
    }
    cluster.awaitOk(follower, "DELETE color");
    assertThat(read(leader, "GET color")).isEqualTo("NONE");

    String digest = cluster.awaitSameDigest(ms);
    assertThat(digest).matches("DIGEST \\d+ [0-9a-f]{32}");
    long applied = Long.parseLong(digest.split(" ")[1]);
    for (MemberProcess m : ms) {
      Map<String, String> st = status(m.call("STATUS"));
      assertThat(Long.parseLong(st.get("applied"))).as("at %s", m).isGreaterThanOrEqualTo(applied);
    }
  }

  // ---------------------------------------------------------------- (c)

  /** PUTs unique keys round-robin over some members, recording what was acknowledged. */
  private static final class Load implements Runnable {
    private final List<MemberProcess> targets;
    final Map<String, String> acked = new ConcurrentHashMap<>();
    final AtomicInteger failed = new AtomicInteger();
    private volatile boolean stop;
    private final Thread thread = new Thread(this, "load");

    Load(List<MemberProcess> targets) {
      this.targets = targets;
    }

    void start() {
      thread.start();
    }

    void stopAndJoin() throws InterruptedException {
      stop = true;
      thread.join(TimeUnit.SECONDS.toMillis(60));
      assertThat(thread.isAlive()).as("load thread stopped").isFalse();
    }

    @Override
    public void run() {
      MemberProcess.Connection[] conns = new MemberProcess.Connection[targets.size()];
      int seq = 0;
      for (int turn = 0; !stop; turn++) {
        int i = turn % targets.size();
        String key = "key-" + seq;
        String value = "value-" + seq;
        seq++;
        try {
          if (conns[i] == null) {
            conns[i] = targets.get(i).connect(Duration.ofSeconds(30));
          }
          String answer = conns[i].call("PUT " + key + " " + value);
          if (answer.equals("OK")) {
            acked.put(key, value);
          } else {
            failed.incrementAndGet();
            backOff(); // e.g. no leader yet: do not spin while the members elect one
          }
        } catch (IOException e) {
          failed.incrementAndGet();
          backOff();
          if (conns[i] != null) {
            try {
              conns[i].close();
            } catch (IOException ignored) {
              // already broken
            }
            conns[i] = null;
          }
        }
      }
      for (MemberProcess.Connection c : conns) {
        if (c != null) {
          try {
            c.close();
          } catch (IOException ignored) {
            // closing anyway
          }
        }
      }
    }

    private void backOff() {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stop = true;
      }
    }

    void awaitAcked(int atLeast) throws InterruptedException {
      await(
          atLeast + " acknowledged writes (have " + acked.size() + ", " + failed + " failed)",
          () -> acked.size() >= atLeast ? true : null);
    }
  }

  @Test
  void leaderKilledUnderLoadLosesNoAcknowledgedWrite() throws Exception {
    List<MemberProcess> ms = cluster.startNew(ids(3));
    MemberProcess leader = cluster.awaitLeader(ms);
    List<MemberProcess> others = ms.stream().filter(m -> m != leader).toList();

    Load load = new Load(ms);
    load.start();
    load.awaitAcked(100);

    leader.kill(); // SIGKILL: no shutdown hook, no flush
    int atKill = load.acked.size();
    cluster.awaitLeader(others);
    load.awaitAcked(atKill + 100); // the survivors elected a leader and go on

    leader.start(); // same data directory, same ports
    cluster.awaitServing(leader);
    int atRestart = load.acked.size();
    load.awaitAcked(atRestart + 50);
    load.stopAndJoin();

    String digest = cluster.awaitSameDigest(ms);
    System.out.printf(
        "leader %d killed at %d acknowledged writes; %d acknowledged, %d failed; %s%n",
        leader.id, atKill, load.acked.size(), load.failed.get(), digest);

    // Every acknowledged write is there (linearizable reads, at every member in turn).
    List<String> missing = new ArrayList<>();
    try (MemberProcess.Connection c0 = ms.get(0).connect(Duration.ofSeconds(30));
        MemberProcess.Connection c1 = ms.get(1).connect(Duration.ofSeconds(30));
        MemberProcess.Connection c2 = ms.get(2).connect(Duration.ofSeconds(30))) {
      MemberProcess.Connection[] cs = {c0, c1, c2};
      int n = 0;
      for (Map.Entry<String, String> e : load.acked.entrySet()) {
        int at = n++ % cs.length;
        String answer = cs[at].call("GET " + e.getKey());
        if (answer.startsWith("ERR") || answer.startsWith("NOTLEADER")) {
          answer = read(ms.get(at), "GET " + e.getKey()); // transient: retry until definite
        }
        if (!answer.equals("VALUE " + e.getValue())) {
          missing.add(e.getKey() + " -> " + answer);
        }
      }
    }
    assertThat(missing).as("acknowledged writes not read back").isEmpty();
  }

  // ---------------------------------------------------------------- (d)

  @Test
  void aReplacementMemberCatchesUpFromASnapshotAndIsPromoted() throws Exception {
    String[] snapshots = {"--snapshot-entries", "50", "--snapshot-trailing-entries", "10"};
    List<MemberProcess> ms = cluster.startNew(ids(3), snapshots);
    MemberProcess leader = cluster.awaitLeader(ms);
    for (int i = 0; i < 20; i++) {
      cluster.put(leader, "early-" + i, "x" + i);
    }
    MemberProcess lost = ms.stream().filter(m -> m != leader).findFirst().orElseThrow();
    List<MemberProcess> kept = ms.stream().filter(m -> m != lost).toList();

    // The follower's machine is gone for good: process and disk.
    lost.kill();
    deleteRecursively(lost.dataDir);
    cluster.onLeader(kept, "REMOVE " + lost.id);

    // Enough writes that every member snapshots and compacts its log several times.
    MemberProcess writer = kept.get(0);
    try (MemberProcess.Connection c = writer.connect(Duration.ofSeconds(30))) {
      for (int i = 0; i < 300; i++) {
        String a = c.call("PUT bulk-" + i + " v" + i);
        if (!a.equals("OK")) {
          cluster.put(writer, "bulk-" + i, "v" + i);
        }
      }
    }
    MemberProcess current = cluster.awaitLeader(kept);
    assertThat(snapshotFiles(current.dataDir)).as("the leader's snapshots").isNotEmpty();

    // A new member with a new id and an empty disk joins the remaining two.
    String peers =
        kept.stream().map(m -> m.id + "=" + m.raftHostPort()).reduce((a, b) -> a + "," + b).get();
    List<String> args = new ArrayList<>(List.of("--peers", peers, "--join"));
    args.addAll(List.of(snapshots));
    MemberProcess fresh =
        cluster.declare(4, ProcessCluster.freePort(), ProcessCluster.freePort(), args);
    fresh.start();
    cluster.awaitServing(fresh);
    for (MemberProcess m : kept) {
      assertThat(m.call("PEER 4 " + fresh.raftHostPort())).isEqualTo("OK");
    }
    cluster.onLeader(kept, "ADD 4 " + fresh.raftHostPort() + " learner");

    List<MemberProcess> all = List.of(kept.get(0), kept.get(1), fresh);
    cluster.awaitSameDigest(all);
    Map<String, String> st = status(fresh.call("STATUS"));
    assertThat(Long.parseLong(st.get("snapshots-installed")))
        .as("snapshots installed by the new member")
        .isPositive();
    assertThat(snapshotFiles(fresh.dataDir)).as("the new member's snapshot files").isNotEmpty();
    assertThat(read(fresh, "GET early-7")).isEqualTo("VALUE x7");

    cluster.onLeader(kept, "PROMOTE 4");

    // The new member votes now: with one of the others down, the remaining two still commit.
    MemberProcess down = kept.stream().filter(m -> !isLeader(m)).findFirst().orElse(kept.get(0));
    down.kill();
    List<MemberProcess> up = List.of(kept.get(0) == down ? kept.get(1) : kept.get(0), fresh);
    cluster.awaitLeader(up);
    cluster.put(fresh, "after-promotion", "yes");
    cluster.awaitSameDigest(up);
    for (MemberProcess m : up) {
      assertThat(read(m, "GET after-promotion")).isEqualTo("VALUE yes");
      assertThat(read(m, "GET bulk-299")).isEqualTo("VALUE v299");
    }
  }

  private static boolean isLeader(MemberProcess m) {
    String s = tryCall(m, "STATUS");
    return s != null && status(s).get("role").equals("LEADER");
  }

  private static List<Path> snapshotFiles(Path dataDir) throws IOException {
    Path dir = dataDir.resolve("snapshots");
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().endsWith(".snap")).toList();
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
    assertThat(dir).doesNotExist();
  }

  // ---------------------------------------------------------------- (e)

  @Test
  void aMemberWithACorruptLogRefusesToStart() throws Exception {
    List<MemberProcess> ms = cluster.startNew(ids(3));
    MemberProcess leader = cluster.awaitLeader(ms);
    for (int i = 0; i < 10; i++) {
      cluster.put(leader, "k" + i, "v" + i);
    }
    cluster.awaitSameDigest(ms);
    MemberProcess victim = ms.stream().filter(m -> m != leader).findFirst().orElseThrow();
    victim.stop();
    assertThat(victim.alive()).isFalse();

    long index = flipAByteOfTheLastLogEntry(victim.dataDir);

    victim.start();
    Process p = victim.process();
    assertThat(p.waitFor(ProcessCluster.DEADLINE.toSeconds(), TimeUnit.SECONDS))
        .as("the member exits")
        .isTrue();
    assertThat(p.exitValue()).isNotZero();
    String log = victim.log();
    String lastStart = log.substring(log.lastIndexOf("==== start #"));
    assertThat(lastStart)
        .contains("is corrupt")
        .contains("log entry at index " + index)
        .contains("CRC32C mismatch")
        .contains("StorageCorruptionException");
    // The others go on.
    List<MemberProcess> others = ms.stream().filter(m -> m != victim).toList();
    cluster.put(others.get(0), "after", "corruption");
  }

  /**
   * Opens the member's RocksDB directly, as another tool would, and flips one bit of the last byte
   * of the highest-indexed entry in the {@code raft_log} column family (see RocksDbLogStore's
   * layout). Returns that entry's index.
   */
  private static long flipAByteOfTheLastLogEntry(Path dataDir) throws Exception {
    RocksDB.loadLibrary();
    Path dir = dataDir.resolve("raft-log");
    try (DBOptions options = new DBOptions();
        ColumnFamilyOptions cf = new ColumnFamilyOptions()) {
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      try (RocksDB db =
          RocksDB.open(
              options,
              dir.toString(),
              List.of(
                  new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cf),
                  new ColumnFamilyDescriptor("raft_log".getBytes(UTF_8), cf),
                  new ColumnFamilyDescriptor("raft_meta".getBytes(UTF_8), cf)),
              handles)) {
        try {
          ColumnFamilyHandle log = handles.get(1);
          byte[] key;
          byte[] value;
          try (RocksIterator it = db.newIterator(log)) {
            it.seekToLast();
            assertThat(it.isValid()).as("the log holds entries").isTrue();
            key = it.key();
            value = it.value();
          }
          value[value.length - 1] ^= 0x10;
          db.put(log, key, value);
          return ByteBuffer.wrap(key).getLong();
        } finally {
          handles.forEach(ColumnFamilyHandle::close);
        }
      }
    }
  }
}
