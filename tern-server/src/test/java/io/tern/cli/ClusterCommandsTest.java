package io.tern.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@WithEtcdEndpoint
class ClusterCommandsTest {
  private static final Pattern MEMBER_ROW =
      Pattern.compile(
          "([0-9a-f]+), (started|unstarted), ([^,]*), (http://[^,]+), ((?:http://[^,]+)?), (true|false)");

  private final EtcdEndpoint cluster;
  private final Cli cli;
  private final List<String> endpoints;
  private final String endpoint;

  ClusterCommandsTest(EtcdEndpoint cluster) {
    this.cluster = cluster;
    this.cli = new Cli(cluster);
    this.endpoints = cluster.endpointList();
    this.endpoint = endpoints.get(0);
  }

  private static JsonObject json(Cli.Result r) {
    assertThat(r.exitCode()).as(r.err()).isZero();
    return JsonParser.parseString(r.out()).getAsJsonObject();
  }

  private static int deadPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private List<Matcher> members() {
    Cli.Result r = cli.run("member", "list");
    assertThat(r.exitCode()).isZero();
    List<Matcher> rows = new ArrayList<>();
    for (String line : r.out().split("\n")) {
      Matcher m = MEMBER_ROW.matcher(line);
      assertThat(m.matches()).as(line).isTrue();
      rows.add(m);
    }
    return rows;
  }

  @Test
  void memberListRowsAndJsonAgree() {
    List<Matcher> rows = members();
    JsonObject r = json(cli.run("member", "list", "-w", "json"));
    JsonArray ms = r.getAsJsonArray("members");
    assertThat(ms).hasSize(rows.size());
    assertThat(r.getAsJsonObject("header").get("cluster_id").getAsBigInteger()).isPositive();
    for (int i = 0; i < rows.size(); i++) {
      JsonObject m = ms.get(i).getAsJsonObject();
      assertThat(m.get("ID").getAsBigInteger().toString(16)).isEqualTo(rows.get(i).group(1));
      // An unstarted member has no name yet: JSON leaves the empty field out.
      String name = m.has("name") ? m.get("name").getAsString() : "";
      assertThat(name).isEqualTo(rows.get(i).group(3));
    }
  }

  @Test
  void learnerCanBeAddedUpdatedAndRemoved() throws Exception {
    Cli.Result add = memberAdd("cli-learner", "--learner", "--peer-urls", "http://127.0.0.1:1");
    Matcher m = added(add, "cli-learner", "http://127.0.0.1:1", true);
    String id = m.group(1).strip();
    String cluster = m.group(2);
    try {
      assertThat(members())
          .anySatisfy(
              row -> {
                assertThat(row.group(1)).isEqualTo(id);
                assertThat(row.group(2)).isEqualTo("unstarted");
                assertThat(row.group(6)).isEqualTo("true");
              });
      assertThat(cli.run("member", "update", id, "--peer-urls", "http://127.0.0.1:2").out())
          .isEqualTo("Member " + m.group(1) + " updated in cluster " + cluster + "\n");
      assertThat(members())
          .anySatisfy(
              row -> {
                assertThat(row.group(1)).isEqualTo(id);
                assertThat(row.group(4)).isEqualTo("http://127.0.0.1:2");
              });
      assertThat(cli.run("member", "remove", id).out())
          .isEqualTo("Member " + m.group(1) + " removed from cluster " + cluster + "\n");
      Cli.Result gone = cli.run("member", "remove", id);
      assertThat(gone.err()).isEqualTo("Error: etcdserver: member not found\n");
      assertThat(gone.exitCode()).isEqualTo(1);
    } finally {
      removeIfPresent(id);
    }
  }

  @Test
  void promotingALearnerThatNeverStartedIsRefused() throws Exception {
    Cli.Result add = memberAdd("cli-lagging", "--learner", "--peer-urls", "http://127.0.0.1:1");
    String id = added(add, "cli-lagging", "http://127.0.0.1:1", true).group(1).strip();
    try {
      Cli.Result promote = cli.run("member", "promote", id);
      assertThat(promote.err())
          .isEqualTo(
              "Error: etcdserver: can only promote a learner member which is in sync with"
                  + " leader\n");
      assertThat(promote.exitCode()).isEqualTo(1);
    } finally {
      removeIfPresent(id);
    }
  }

  /**
   * Runs {@code member add}. etcd refuses to add a member until every voter has been connected for
   * a while (5 s, its strict reconfiguration check: "unhealthy cluster"), as after a member
   * restart: a client retries then.
   */
  private Cli.Result memberAdd(String... args) throws InterruptedException {
    List<String> all = new ArrayList<>(List.of("member", "add"));
    all.addAll(List.of(args));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (true) {
      Cli.Result r = cli.run(all.toArray(new String[0]));
      if (!r.err().equals("Error: etcdserver: unhealthy cluster\n")) {
        return r;
      }
      assertThat(System.nanoTime()).as("the cluster became healthy in time").isLessThan(deadline);
      TimeUnit.MILLISECONDS.sleep(200);
    }
  }

  /** Removes a member a failed test may have left behind, so it cannot cost others the quorum. */
  private void removeIfPresent(String id) {
    if (members().stream().anyMatch(row -> row.group(1).equals(id))) {
      cli.run("member", "remove", id);
    }
  }

  /** A member added with a peer URL nothing listens on: it counts in the quorum, unstarted. */
  @Test
  void aVoterCanBeAddedAndRemoved() throws Exception {
    String peer = cluster.newPeerUrl();
    Cli.Result add = memberAdd("cli-voter", "--peer-urls", peer);
    assertThat(add.err()).isEmpty();
    Matcher m = added(add, "cli-voter", peer, false);
    String id = m.group(1).strip();
    try {
      assertThat(members())
          .hasSize(endpoints.size() + 1)
          .anySatisfy(
              row -> {
                assertThat(row.group(1)).isEqualTo(id);
                assertThat(row.group(2)).isEqualTo("unstarted");
                assertThat(row.group(6)).isEqualTo("false");
              });
      assertThat(cli.run("member", "remove", id).out())
          .isEqualTo("Member " + m.group(1) + " removed from cluster " + m.group(2) + "\n");
      assertThat(members()).hasSize(endpoints.size()).noneMatch(row -> row.group(1).equals(id));
    } finally {
      removeIfPresent(id);
    }
  }

  /**
   * A learner started from what {@code member add} printed catches up and is promoted for real,
   * then removed.
   */
  @Test
  void aJoinedLearnerIsPromoted() throws Exception {
    String peer = cluster.newPeerUrl();
    cli.run("put", "learner-k", "before");
    Matcher m =
        added(memberAdd("cli-joiner", "--learner", "--peer-urls", peer), "cli-joiner", peer, true);
    String id = m.group(1).strip();
    try (EtcdEndpoint.Joined joined = cluster.join("cli-joiner", peer, m.group(3))) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      Cli.Result promote;
      while (true) {
        promote = cli.run("member", "promote", id);
        if (promote.exitCode() == 0) {
          break;
        }
        assertThat(promote.err())
            .isEqualTo(
                "Error: etcdserver: can only promote a learner member which is in sync with"
                    + " leader\n");
        assertThat(System.nanoTime()).as("promoted in time").isLessThan(deadline);
        TimeUnit.MILLISECONDS.sleep(100);
      }
      assertThat(promote.out())
          .isEqualTo("Member " + m.group(1) + " promoted in cluster " + m.group(2) + "\n");
      assertThat(members())
          .anySatisfy(
              row -> {
                assertThat(row.group(1)).isEqualTo(id);
                assertThat(row.group(6)).isEqualTo("false");
              });
      // The promoted member serves linearizable reads with the data written before it joined.
      Cli.Result read =
          Cli.runRaw(
              "", "get", "learner-k", "--print-value-only", "--endpoints=" + joined.endpoint());
      assertThat(read.out()).as(read.err()).isEqualTo("before\n");

      assertThat(cli.run("member", "remove", id).out())
          .isEqualTo("Member " + m.group(1) + " removed from cluster " + m.group(2) + "\n");
    } finally {
      removeIfPresent(id);
    }
    assertThat(members()).hasSize(endpoints.size());
  }

  /** Checks {@code member add}'s output; groups: 1 padded id, 2 cluster id, 3 initial cluster. */
  private static Matcher added(Cli.Result add, String name, String peer, boolean learner) {
    assertThat(add.err()).isEmpty();
    Matcher m =
        Pattern.compile(
                "Member ([ 0-9a-f]{16}) added "
                    + (learner ? "as learner " : "")
                    + "to cluster ([ 0-9a-f]{16})\n\n"
                    + "ETCD_NAME=\""
                    + name
                    + "\"\n"
                    + "ETCD_INITIAL_CLUSTER=\"(.*)\"\n"
                    + "ETCD_INITIAL_ADVERTISE_PEER_URLS=\""
                    + Pattern.quote(peer)
                    + "\"\n"
                    + "ETCD_INITIAL_CLUSTER_STATE=\"existing\"\n")
            .matcher(add.out());
    assertThat(m.matches()).as(add.out()).isTrue();
    assertThat(m.group(3).split(",")).hasSize(4).contains(name + "=" + peer);
    return m;
  }

  @Test
  void memberArgumentsAreChecked() {
    assertThat(cli.run("member", "remove", "xyz").err())
        .isEqualTo("Error: bad member ID arg (xyz), expecting ID in Hex\n");
    assertThat(cli.run("member", "add", "n").err())
        .isEqualTo("Error: member peer urls not provided\n");
  }

  @Test
  void endpointStatusHasARowPerEndpointAndOneLeader() {
    Cli.Result r = cli.run("endpoint", "status");
    String[] lines = r.out().split("\n");
    assertThat(lines).hasSize(endpoints.size());
    List<String> ids = new ArrayList<>();
    List<String> leaders = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      Matcher m =
          Pattern.compile(
                  Pattern.quote(endpoints.get(i))
                      + ", ([0-9a-f]+), \\d+\\.\\d+\\.\\d+\\S*, \\d+(\\.\\d)? [kMG]?B, (true|false),"
                      + " false, \\d+, \\d+, \\d+, ")
              .matcher(lines[i]);
      assertThat(m.matches()).as(lines[i]).isTrue();
      ids.add(m.group(1));
      if (m.group(3).equals("true")) {
        leaders.add(m.group(1));
      }
    }
    assertThat(ids)
        .containsExactlyInAnyOrderElementsOf(members().stream().map(mm -> mm.group(1)).toList());
    assertThat(leaders).hasSize(1);

    JsonArray arr =
        JsonParser.parseString(cli.run("endpoint", "status", "-w", "json").out()).getAsJsonArray();
    assertThat(arr).hasSize(endpoints.size());
    for (int i = 0; i < endpoints.size(); i++) {
      JsonObject status = arr.get(i).getAsJsonObject();
      assertThat(status.get("Endpoint").getAsString()).isEqualTo(endpoints.get(i));
      JsonObject st = status.getAsJsonObject("Status");
      assertThat(st.getAsJsonObject("header").get("revision").getAsLong()).isPositive();
      assertThat(st.getAsJsonObject("header").get("member_id").getAsBigInteger().toString(16))
          .isEqualTo(ids.get(i));
      assertThat(st.get("leader").getAsBigInteger().toString(16)).isEqualTo(leaders.get(0));
      assertThat(st.get("dbSize").getAsLong()).isPositive();
    }

    Cli.Result fromOne =
        Cli.runRaw("", "endpoint", "status", "--cluster", "--endpoints=" + endpoint);
    assertThat(fromOne.out().split("\n"))
        .hasSize(ids.size())
        .allMatch(l -> l.startsWith("http://"));
  }

  @Test
  void endpointHealthReportsEachEndpoint() throws Exception {
    Cli.Result r = cli.run("endpoint", "health");
    assertThat(r.exitCode()).as(r.err()).isZero();
    List<String> healthy = new ArrayList<>();
    for (String line : r.out().split("\n")) {
      Matcher m =
          Pattern.compile(
                  "(\\S+) is healthy: successfully committed proposal: took = [0-9.]+(ns|µs|ms|s)")
              .matcher(line);
      assertThat(m.matches()).as(line).isTrue();
      healthy.add(m.group(1));
    }
    assertThat(healthy).containsExactlyInAnyOrderElementsOf(endpoints);

    JsonArray arr =
        JsonParser.parseString(cli.run("endpoint", "health", "-w", "json").out()).getAsJsonArray();
    assertThat(arr).hasSize(endpoints.size());
    arr.forEach(e -> assertThat(e.getAsJsonObject().get("health").getAsBoolean()).isTrue());

    String dead = "127.0.0.1:" + deadPort();
    Cli.Result bad =
        Cli.runRaw(
            "", "endpoint", "health", "--endpoints=" + endpoint + "," + dead, "--dial-timeout=1s");
    assertThat(bad.out()).startsWith(endpoint + " is healthy");
    assertThat(bad.err())
        .startsWith(dead + " is unhealthy: failed to commit proposal: ")
        .endsWith("\nError: unhealthy cluster\n");
    assertThat(bad.exitCode()).isEqualTo(1);
  }

  @Test
  void endpointHashKvAgreesAcrossMembersAndFormats() {
    cli.run("put", "hashkv-k", "v");
    long rev =
        json(cli.run("get", "hashkv-k", "-w", "json"))
            .getAsJsonObject("header")
            .get("revision")
            .getAsLong();
    Cli.Result r = cli.run("endpoint", "hashkv", "--rev", Long.toString(rev));
    String[] lines = r.out().split("\n");
    assertThat(lines).hasSize(endpoints.size());
    String hash = lines[0].substring(lines[0].indexOf(", ") + 2);
    assertThat(hash).matches("\\d+");
    for (int i = 0; i < lines.length; i++) {
      assertThat(lines[i]).isEqualTo(endpoints.get(i) + ", " + hash);
    }
    JsonArray arr =
        JsonParser.parseString(
                cli.run("endpoint", "hashkv", "--rev", Long.toString(rev), "-w", "json").out())
            .getAsJsonArray();
    assertThat(arr).hasSize(endpoints.size());
    for (int i = 0; i < endpoints.size(); i++) {
      JsonObject o = arr.get(i).getAsJsonObject();
      assertThat(o.get("Endpoint").getAsString()).isEqualTo(endpoints.get(i));
      assertThat(o.getAsJsonObject("HashKV").get("hash").getAsBigInteger().toString())
          .isEqualTo(hash);
    }
  }

  @Test
  void compactionThenACompactedRevisionIsRefused() {
    cli.run("put", "compact-k", "v");
    long rev =
        json(cli.run("get", "compact-k", "-w", "json"))
            .getAsJsonObject("header")
            .get("revision")
            .getAsLong();
    assertThat(cli.run("compaction", Long.toString(rev), "--physical").out())
        .isEqualTo("compacted revision " + rev + "\n");
    Cli.Result again = cli.run("compaction", Long.toString(rev));
    assertThat(again.err())
        .isEqualTo("Error: etcdserver: mvcc: required revision has been compacted\n");
    assertThat(again.exitCode()).isEqualTo(1);
    Cli.Result old = cli.run("get", "compact-k", "--rev", Long.toString(rev - 1));
    assertThat(old.err())
        .isEqualTo("Error: etcdserver: mvcc: required revision has been compacted\n");
  }

  @Test
  void defragEachEndpoint() {
    StringBuilder each = new StringBuilder();
    endpoints.forEach(e -> each.append("Finished defragmenting etcd member[" + e + "]\n"));
    assertThat(cli.run("defrag").out()).isEqualTo(each.toString());
    assertThat(cli.run("defrag", "--cluster").out().split("\n"))
        .hasSize(endpoints.size())
        .allMatch(l -> l.startsWith("Finished defragmenting etcd member[http://"));
  }

  @Test
  void snapshotSaveWritesTheFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("snap.db");
    // A snapshot comes from one member: name exactly one endpoint.
    Cli.Result r = Cli.runRaw("", "snapshot", "save", file.toString(), "--endpoints=" + endpoint);
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).isEqualTo("Snapshot saved at " + file + "\n");
    assertThat(Files.size(file)).isPositive();
    assertThat(Files.size(file) % 512).as("etcd's layout: padded data + SHA-256").isEqualTo(32);
    assertThat(dir.resolve("snap.db.part")).doesNotExist();

    Cli.Result two =
        Cli.runRaw(
            "", "snapshot", "save", file.toString(), "--endpoints=" + endpoint + ",127.0.0.1:1");
    assertThat(two.err())
        .isEqualTo(
            "Error: snapshot must be requested to one selected node, not multiple ["
                + endpoint
                + " 127.0.0.1:1]\n");
  }

  @Test
  void alarmListAndDisarmWithNoAlarms() {
    Cli.Result list = cli.run("alarm", "list");
    assertThat(list.out()).isEmpty();
    assertThat(list.exitCode()).isZero();
    assertThat(cli.run("alarm", "disarm").exitCode()).isZero();
    assertThat(JsonParser.parseString(cli.run("alarm", "list", "-w", "json").out()).isJsonObject())
        .isTrue();
  }

  @Test
  void moveLeaderTransfersToAnotherMember() throws Exception {
    CliClusterExtension.awaitLeader(endpoints, Duration.ofSeconds(10), () -> true);
    String leader = leaderId();
    String target =
        members().stream()
            .map(m -> m.group(1))
            .filter(id -> !id.equals(leader))
            .findFirst()
            .orElseThrow();
    Cli.Result r = cli.run("move-leader", target);
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).isEqualTo("Leadership transferred from " + leader + " to " + target + "\n");
    // The old leader knows at once; the third member learns from the new leader's heartbeat.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!leaderId().equals(target)) {
      assertThat(System.nanoTime()).as("every member follows %s", target).isLessThan(deadline);
    }

    Cli.Result bad = cli.run("move-leader", "1234");
    assertThat(bad.exitCode()).isEqualTo(1);
    assertThat(bad.err()).isEqualTo("Error: etcdserver: bad leader transferee\n");

    String follower = followerEndpoint();
    Cli.Result noLeader = Cli.runRaw("", "move-leader", leader, "--endpoints=" + follower);
    assertThat(noLeader.err()).isEqualTo("Error: no leader endpoint given at [" + follower + "]\n");
    assertThat(noLeader.exitCode()).isEqualTo(1);
  }

  /** The leader's id (hex) as every endpoint reports it. */
  private String leaderId() {
    JsonArray statuses =
        JsonParser.parseString(cli.run("endpoint", "status", "-w", "json").out()).getAsJsonArray();
    assertThat(statuses).hasSize(endpoints.size());
    List<String> leaders =
        statuses.asList().stream()
            .map(
                s ->
                    s.getAsJsonObject()
                        .getAsJsonObject("Status")
                        .get("leader")
                        .getAsBigInteger()
                        .toString(16))
            .distinct()
            .toList();
    return leaders.size() == 1 ? leaders.get(0) : "members disagree: " + leaders;
  }

  /** The endpoint of a member that is not the leader. */
  private String followerEndpoint() {
    for (String line : cli.run("endpoint", "status").out().split("\n")) {
      String[] f = line.split(", ");
      if (f[4].equals("false")) {
        return f[0];
      }
    }
    throw new AssertionError("no follower");
  }
}
