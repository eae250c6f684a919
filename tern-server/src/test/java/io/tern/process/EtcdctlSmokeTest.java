package io.tern.process;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.tern.api.KVGrpc;
import io.tern.api.KeyValue;
import io.tern.api.LeaseGrpc;
import io.tern.api.LeaseLeasesRequest;
import io.tern.api.LeaseStatus;
import io.tern.api.PutRequest;
import io.tern.api.RangeRequest;
import io.tern.api.StatusResponse;
import io.tern.process.TernProcessCluster.Member;
import java.io.File;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcdctl (Debian's etcd-client, ETCDCTL_API=3) against a 3-member cluster of {@code tern server}
 * processes, given every member as an endpoint. Outputs are compared with what etcdctl prints
 * against etcd, byte for byte where nothing varies (values that do, like a lease's remaining TTL or
 * a health check's duration, are matched by pattern and checked for range).
 */
class EtcdctlSmokeTest {
  private static final long PROCESS_TIMEOUT_SECONDS = 60;

  @TempDir static Path temp;

  private static Path etcdctl;
  private static TernProcessCluster cluster;

  @RegisterExtension
  static final TestWatcher printLogsOnFailure =
      new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
          if (cluster != null) {
            System.out.println(cluster.logTails());
          }
        }
      };

  @BeforeAll
  static void startCluster() throws Exception {
    etcdctl =
        findOnPath("etcdctl")
            .orElseThrow(
                () ->
                    new AssertionError(
                        "etcdctl is not installed (not on PATH "
                            + System.getenv("PATH")
                            + "): run scripts/install-test-deps.sh, which installs Debian's"
                            + " etcd-client"));
    cluster =
        TernProcessCluster.start(
            3,
            temp.resolve("data"),
            TernProcessCluster.logDirFor(EtcdctlSmokeTest.class.getSimpleName()));
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  // ---------------------------------------------------------------- KV

  @Test
  void putAndGet() throws Exception {
    assertThat(ok("put", "kv/a", "1")).isEqualTo("OK\n");
    assertThat(ok("put", "kv/b", "2")).isEqualTo("OK\n");
    assertThat(ok("put", "kv0", "outside the prefix")).isEqualTo("OK\n");

    assertThat(ok("get", "kv/a")).isEqualTo("kv/a\n1\n");
    assertThat(ok("get", "kv/missing")).isEmpty();
    assertThat(ok("get", "kv/", "--prefix")).isEqualTo("kv/a\n1\nkv/b\n2\n");
    assertThat(ok("get", "kv/", "--prefix", "--keys-only")).isEqualTo("kv/a\n\nkv/b\n\n");
    assertThat(ok("get", "kv/", "--prefix", "--limit=1")).isEqualTo("kv/a\n1\n");

    // -w json: etcd's JSON of the RangeResponse (bytes in base64, ids as unsigned numbers).
    KeyValue a = range("kv/a");
    StatusResponse status = cluster.status(cluster.members().get(0)).orElseThrow();
    String json = ok("get", "kv/a", "-w", "json");
    Matcher member = Pattern.compile("\"member_id\":(\\d+),").matcher(json);
    assertThat(member.find()).as("member_id in %s", json).isTrue();
    assertThat(memberIds()).contains(Long.parseUnsignedLong(member.group(1)));
    assertThat(json)
        .isEqualTo(
            "{\"header\":{\"cluster_id\":"
                + Long.toUnsignedString(status.getHeader().getClusterId())
                + ",\"member_id\":"
                + member.group(1)
                + ",\"revision\":"
                + currentRevision()
                + ",\"raft_term\":"
                + status.getRaftTerm()
                + "},\"kvs\":[{\"key\":\"a3YvYQ==\",\"create_revision\":"
                + a.getCreateRevision()
                + ",\"mod_revision\":"
                + a.getModRevision()
                + ",\"version\":1,\"value\":\"MQ==\"}],\"count\":1}\n");
  }

  @Test
  void txnFromStdin() throws Exception {
    ok("put", "txn/k", "v");
    ok("put", "txn/p", "1");
    ok("put", "txn/q", "doomed");

    String success =
        """
        value("txn/k") = "v"
        version("txn/k") = "1"
        mod("txn/p") > "0"
        create("txn/q") > "0"

        put txn/k v2
        get txn/p
        del txn/q

        put txn/k not-this

        """;
    assertThat(okWithInput(success, "txn")).isEqualTo("SUCCESS\n\nOK\n\ntxn/p\n1\n\n1\n");

    String failure =
        """
        value("txn/k") = "v"

        put txn/k v3

        get txn/k

        """;
    assertThat(okWithInput(failure, "txn")).isEqualTo("FAILURE\n\ntxn/k\nv2\n");

    assertThat(ok("get", "txn/", "--prefix")).isEqualTo("txn/k\nv2\ntxn/p\n1\n");
  }

  // ---------------------------------------------------------------- watch

  @Test
  void watchPrintsEventsPutByAnotherProcess() throws Exception {
    Path out = temp.resolve("watch.out");
    Process watch = start(out, "watch", "w/k");
    try {
      // etcdctl prints nothing when its watch is created: put markers until one shows up.
      int marker = 0;
      boolean seen = false;
      while (!seen) {
        assertThat(marker).as("markers put before the watch saw one").isLessThan(100);
        assertThat(watch.isAlive()).as("etcdctl watch is running: %s", read(out)).isTrue();
        putDirect("w/k", "ready-" + (++marker));
        String expect = "ready-" + marker + "\n";
        seen =
            awaitOrNull(2, () -> read(out).endsWith(expect) ? true : null) != null
                || read(out).contains(expect);
      }
      String before = read(out);
      assertThat(before).matches("(PUT\nw/k\nready-\\d+\n)+");

      assertThat(ok("put", "w/k", "1")).isEqualTo("OK\n");
      assertThat(ok("put", "w/k", "2")).isEqualTo("OK\n");
      assertThat(ok("del", "w/k")).isEqualTo("1\n");
      String events = "PUT\nw/k\n1\nPUT\nw/k\n2\nDELETE\nw/k\n\n";
      cluster.await(
          "the watch to print the events (so far: " + read(out) + ")",
          () -> read(out).length() >= before.length() + events.length() ? true : null);
      assertThat(read(out)).isEqualTo(before + events);
    } finally {
      watch.destroy();
      watch.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    // From history: a prefix watch starting at the first of those three writes.
    long deleted = currentRevision();
    Path history = temp.resolve("watch-history.out");
    Process replay = start(history, "watch", "--prefix", "w/", "--rev=" + (deleted - 2));
    try {
      String events = "PUT\nw/k\n1\nPUT\nw/k\n2\nDELETE\nw/k\n\n";
      cluster.await(
          "the history watch to print the events (so far: " + read(history) + ")",
          () -> read(history).length() >= events.length() ? true : null);
      assertThat(read(history)).isEqualTo(events);
    } finally {
      replay.destroy();
      replay.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }
  }

  // ---------------------------------------------------------------- lease

  @Test
  void leaseGrantAttachTimeToLiveRevoke() throws Exception {
    String granted = ok("lease", "grant", "60");
    Matcher g =
        Pattern.compile("lease ([0-9a-f]{16}) granted with TTL\\(60s\\)\n").matcher(granted);
    assertThat(g.matches()).as("lease grant printed %s", granted).isTrue();
    String id = g.group(1);
    long leaseId = Long.parseUnsignedLong(id, 16);
    assertThat(
            LeaseGrpc.newBlockingStub(cluster.members().get(2).channel())
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .leaseLeases(LeaseLeasesRequest.getDefaultInstance())
                .getLeasesList())
        .extracting(LeaseStatus::getID)
        .contains(leaseId);

    assertThat(ok("put", "--lease=" + id, "lease/a", "x")).isEqualTo("OK\n");
    assertThat(ok("put", "--lease=" + id, "lease/b", "y")).isEqualTo("OK\n");

    String ttl = ok("lease", "timetolive", id, "--keys");
    Matcher t =
        Pattern.compile(
                "lease "
                    + id
                    + " granted with TTL\\(60s\\), remaining\\((\\d+)s\\), attached keys\\(\\[lease/a"
                    + " lease/b\\]\\)\n")
            .matcher(ttl);
    assertThat(t.matches()).as("timetolive printed %s", ttl).isTrue();
    assertThat(Integer.parseInt(t.group(1))).isBetween(30, 60);

    assertThat(ok("lease", "list")).isEqualTo("found 1 leases\n" + id + "\n");
    assertThat(ok("lease", "keep-alive", "--once", id))
        .isEqualTo("lease " + id + " keepalived with TTL(60)\n");

    assertThat(ok("lease", "revoke", id)).isEqualTo("lease " + id + " revoked\n");
    assertThat(ok("lease", "timetolive", id, "--keys"))
        .isEqualTo("lease " + id + " already expired\n");
    assertThat(ok("get", "lease/", "--prefix")).as("keys deleted with their lease").isEmpty();
  }

  // ---------------------------------------------------------------- maintenance

  /**
   * etcd ends the Snapshot stream with the SHA-256 of the database; etcdctl (clientv3) checks that
   * the streamed size is a multiple of 512 plus those 32 bytes and refuses the snapshot otherwise
   * ("sha256 checksum not found"), writing the file without the checksum.
   */
  @Test
  void snapshotSave() throws Exception {
    Path file = temp.resolve("backup.db");
    List<String> cmd =
        new ArrayList<>(List.of("--endpoints=" + cluster.members().get(0).endpoint()));
    cmd.addAll(List.of("snapshot", "save", file.toString()));
    Result r = runWithEndpoints(null, cmd.toArray(String[]::new));
    assertThat(r.exit).as("exit status of etcdctl snapshot save: %s", r).isZero();
    assertThat(r.out).isEqualTo("Snapshot saved at " + file + "\n");
    assertThat(Files.size(file)).isPositive();
  }

  // ---------------------------------------------------------------- cluster

  @Test
  void memberList() throws Exception {
    List<Member> byId = membersById();
    String expected =
        byId.stream()
            .map(
                m ->
                    Long.toHexString(m.id())
                        + ", started, "
                        + m.name
                        + ", "
                        + m.peerUrl()
                        + ", "
                        + m.clientUrl()
                        + ", false\n")
            .collect(Collectors.joining());
    assertThat(ok("member", "list")).isEqualTo(expected);
  }

  @Test
  void endpointStatusOfEveryEndpoint() throws Exception {
    assertEndpointStatus(cluster.members(), Member::endpoint);
  }

  @Test
  void endpointStatusOfTheWholeCluster() throws Exception {
    // --cluster: the client URLs from the member list, in its order.
    assertEndpointStatus(membersById(), Member::clientUrl, "--cluster");
  }

  @Test
  void endpointHealth() throws Exception {
    for (boolean wholeCluster : new boolean[] {false, true}) {
      Result r =
          wholeCluster
              ? run(null, "endpoint", "health", "--cluster")
              : run(null, "endpoint", "health");
      assertThat(r.exit).as("exit status of endpoint health: %s", r).isZero();
      assertThat(r.out).as("stdout (etcdctl 3.4 reports health on stderr)").isEmpty();
      List<String> lines = r.err.lines().sorted().toList();
      List<String> endpoints =
          cluster.members().stream()
              .map(m -> wholeCluster ? m.clientUrl() : m.endpoint())
              .sorted()
              .toList();
      assertThat(lines).as("health lines: %s", r.err).hasSize(endpoints.size());
      for (int i = 0; i < lines.size(); i++) {
        assertThat(lines.get(i))
            .matches(
                Pattern.quote(endpoints.get(i))
                    + " is healthy: successfully committed proposal: took = [0-9.]+(ns|µs|ms|s|m[0-9.]+s)");
      }
    }
  }

  /**
   * endpoint status prints one line per endpoint: endpoint, member id, version, db size, is leader,
   * is learner, raft term, raft index, raft applied index, errors. The db size and indexes may move
   * between our Status calls and etcdctl's, so the comparison is made when our Status answers
   * before and after etcdctl's are the same.
   */
  private static void assertEndpointStatus(
      List<Member> order, Function<Member, String> endpoint, String... flags) throws Exception {
    List<String> args = new ArrayList<>(List.of("endpoint", "status"));
    args.addAll(List.of(flags));
    String expected = null;
    String actual = null;
    for (int attempt = 0; attempt < 10; attempt++) {
      String before = expectedStatusLines(order, endpoint);
      actual = ok(args.toArray(String[]::new));
      String after = expectedStatusLines(order, endpoint);
      expected = before;
      if (before.equals(after)) {
        break;
      }
    }
    assertThat(actual).isEqualTo(expected);
  }

  private static String expectedStatusLines(List<Member> order, Function<Member, String> endpoint) {
    StringBuilder sb = new StringBuilder();
    for (Member m : order) {
      StatusResponse s = cluster.status(m).orElseThrow(() -> new AssertionError(m + " is down"));
      sb.append(endpoint.apply(m))
          .append(", ")
          .append(Long.toHexString(s.getHeader().getMemberId()))
          .append(", ")
          .append(s.getVersion())
          .append(", ")
          .append(humanBytes(s.getDbSize()))
          .append(", ")
          .append(s.getLeader() == s.getHeader().getMemberId())
          .append(", ")
          .append(s.getIsLearner())
          .append(", ")
          .append(s.getRaftTerm())
          .append(", ")
          .append(s.getRaftIndex())
          .append(", ")
          .append(s.getRaftAppliedIndex())
          .append(", ")
          .append(String.join(", ", s.getErrorsList()))
          .append('\n');
    }
    return sb.toString();
  }

  /**
   * A byte count as etcdctl prints it (SI units, base 1000): below 10 as "N B"; otherwise scaled to
   * the largest unit not above it, rounded to one decimal, shown without decimals from 10 up. The
   * last step rounds half to even, as Go's formatting of the exact binary value does.
   */
  static String humanBytes(long bytes) {
    if (bytes < 10) {
      return bytes + " B";
    }
    String[] units = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    int e = (int) Math.floor(Math.log(bytes) / Math.log(1000));
    double value = Math.floor(bytes / Math.pow(1000, e) * 10 + 0.5) / 10;
    int decimals = value < 10 ? 1 : 0;
    return new BigDecimal(value).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString()
        + " "
        + units[e];
  }

  @Test
  void humanBytesMatchesEtcdctl() {
    assertThat(humanBytes(20480)).isEqualTo("20 kB"); // printed by etcdctl 3.4.23 against etcd
    assertThat(humanBytes(21500)).isEqualTo("22 kB"); // 21.5: half to even
    assertThat(humanBytes(7)).isEqualTo("7 B");
    assertThat(humanBytes(1500)).isEqualTo("1.5 kB");
    assertThat(humanBytes(2_500_000)).isEqualTo("2.5 MB");
    assertThat(humanBytes(123_456_789)).isEqualTo("124 MB"); // 123.5: half to even
  }

  // ---------------------------------------------------------------- helpers

  private static List<Long> memberIds() {
    return cluster.members().stream().map(Member::id).toList();
  }

  /** The members in the order etcd lists them: by id. */
  private static List<Member> membersById() {
    for (Member m : cluster.members()) {
      if (m.id() == 0) {
        cluster.status(m).orElseThrow(() -> new AssertionError(m + " is down"));
      }
    }
    return cluster.members().stream()
        .sorted(Comparator.comparing(Member::id, Long::compareUnsigned))
        .toList();
  }

  private static KeyValue range(String key) {
    List<KeyValue> kvs =
        KVGrpc.newBlockingStub(cluster.members().get(0).channel())
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).build())
            .getKvsList();
    assertThat(kvs).hasSize(1);
    return kvs.get(0);
  }

  /** The store's revision now (a linearizable read's header). */
  private static long currentRevision() {
    return KVGrpc.newBlockingStub(cluster.members().get(1).channel())
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("none")).build())
        .getHeader()
        .getRevision();
  }

  private static void putDirect(String key, String value) {
    KVGrpc.newBlockingStub(cluster.members().get(1).channel())
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .put(
            PutRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8(key))
                .setValue(ByteString.copyFromUtf8(value))
                .build());
  }

  record Result(int exit, String out, String err) {}

  /** Runs etcdctl to completion; asserts it succeeded with nothing on stderr; returns stdout. */
  private static String ok(String... args) throws Exception {
    return okWithInput(null, args);
  }

  private static String okWithInput(String stdin, String... args) throws Exception {
    Result r = run(stdin, args);
    assertThat(r.exit).as("exit status of etcdctl %s: %s", String.join(" ", args), r).isZero();
    assertThat(r.err).as("stderr of etcdctl %s", String.join(" ", args)).isEmpty();
    return r.out;
  }

  /** Runs etcdctl with every member as an endpoint. */
  private static Result run(String stdin, String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("--endpoints=" + cluster.endpoints()));
    all.addAll(List.of(args));
    return runWithEndpoints(stdin, all.toArray(String[]::new));
  }

  /** Runs etcdctl with {@code args}, which name the endpoints. */
  private static Result runWithEndpoints(String stdin, String... args) throws Exception {
    Path dir = Files.createTempDirectory(temp, "etcdctl");
    Path in = dir.resolve("in");
    Files.writeString(in, stdin == null ? "" : stdin, UTF_8);
    ProcessBuilder pb =
        command(args)
            .redirectInput(in.toFile())
            .redirectOutput(dir.resolve("out").toFile())
            .redirectError(dir.resolve("err").toFile());
    Process p = pb.start();
    if (!p.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(
          "etcdctl " + String.join(" ", args) + " did not finish: " + read(dir.resolve("err")));
    }
    return new Result(p.exitValue(), read(dir.resolve("out")), read(dir.resolve("err")));
  }

  /** Starts a long-running etcdctl (watch) with stdout and stderr going to {@code out}. */
  private static Process start(Path out, String... args) throws IOException {
    List<String> all = new ArrayList<>(List.of("--endpoints=" + cluster.endpoints()));
    all.addAll(List.of(args));
    return command(all.toArray(String[]::new))
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectErrorStream(true)
        .redirectOutput(out.toFile())
        .start();
  }

  private static ProcessBuilder command(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(etcdctl.toString());
    cmd.add("--dial-timeout=10s");
    cmd.add("--command-timeout=30s");
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("ETCDCTL_"));
    env.put("ETCDCTL_API", "3");
    return pb;
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, UTF_8) : "";
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static <T> T awaitOrNull(int seconds, Supplier<T> attempt) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      T t = attempt.get();
      if (t != null) {
        return t;
      }
      Thread.sleep(20);
    }
    return null;
  }

  private static Optional<Path> findOnPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path p = Path.of(dir, program);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
