package io.tern.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@WithEtcdEndpoint
class ClusterCommandsTest {
  private static final Pattern MEMBER_ROW =
      Pattern.compile(
          "([0-9a-f]+), (started|unstarted), ([^,]*), (http://[^,]+), ((?:http://[^,]+)?), (true|false)");

  private final Cli cli;
  private final String endpoint;

  ClusterCommandsTest(EtcdEndpoint etcd) {
    this.cli = new Cli(etcd);
    this.endpoint = etcd.endpoints().split(",")[0];
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
      assertThat(m.get("name").getAsString()).isEqualTo(rows.get(i).group(3));
    }
  }

  @Test
  void learnerCanBeAddedUpdatedAndRemoved() {
    Cli.Result add =
        cli.run("member", "add", "cli-learner", "--learner", "--peer-urls", "http://127.0.0.1:1");
    assertThat(add.err()).isEmpty();
    Matcher m =
        Pattern.compile(
                "Member ([ 0-9a-f]{16}) added as learner to cluster ([ 0-9a-f]{16})\n\n"
                    + "ETCD_NAME=\"cli-learner\"\n"
                    + "ETCD_INITIAL_CLUSTER=\"(.*)\"\n"
                    + "ETCD_INITIAL_ADVERTISE_PEER_URLS=\"http://127.0.0.1:1\"\n"
                    + "ETCD_INITIAL_CLUSTER_STATE=\"existing\"\n")
            .matcher(add.out());
    assertThat(m.matches()).as(add.out()).isTrue();
    assertThat(m.group(3)).contains("cli-learner=http://127.0.0.1:1");
    String id = m.group(1).strip();
    String cluster = m.group(2);

    assertThat(members())
        .anySatisfy(
            row -> {
              assertThat(row.group(1)).isEqualTo(id);
              assertThat(row.group(2)).isEqualTo("unstarted");
              assertThat(row.group(6)).isEqualTo("true");
            });

    Cli.Result promote = cli.run("member", "promote", id);
    assertThat(promote.err())
        .isEqualTo(
            "Error: etcdserver: can only promote a learner member which is in sync with leader\n");
    assertThat(promote.exitCode()).isEqualTo(1);

    assertThat(cli.run("member", "update", id, "--peer-urls", "http://127.0.0.1:2").out())
        .isEqualTo("Member " + m.group(1) + " updated in cluster " + cluster + "\n");
    assertThat(cli.run("member", "remove", id).out())
        .isEqualTo("Member " + m.group(1) + " removed from cluster " + cluster + "\n");
    Cli.Result gone = cli.run("member", "remove", id);
    assertThat(gone.err()).isEqualTo("Error: etcdserver: member not found\n");
    assertThat(gone.exitCode()).isEqualTo(1);
  }

  @Test
  void memberArgumentsAreChecked() {
    assertThat(cli.run("member", "remove", "xyz").err())
        .isEqualTo("Error: bad member ID arg (xyz), expecting ID in Hex\n");
    assertThat(cli.run("member", "add", "n").err())
        .isEqualTo("Error: member peer urls not provided\n");
  }

  @Test
  void endpointStatusRowsAndJson() {
    Cli.Result r = cli.run("endpoint", "status");
    assertThat(r.out())
        .matches(
            Pattern.quote(endpoint)
                + ", [0-9a-f]+, \\d+\\.\\d+\\.\\d+\\S*, \\d+(\\.\\d)? [kMG]?B, (true|false), false, \\d+, \\d+, \\d+, \n");
    List<String> ids = members().stream().map(mm -> mm.group(1)).toList();
    assertThat(ids).contains(r.out().split(", ")[1]);

    JsonArray arr =
        JsonParser.parseString(cli.run("endpoint", "status", "-w", "json").out()).getAsJsonArray();
    JsonObject status = arr.get(0).getAsJsonObject();
    assertThat(status.get("Endpoint").getAsString()).isEqualTo(endpoint);
    assertThat(
            status.getAsJsonObject("Status").getAsJsonObject("header").get("revision").getAsLong())
        .isPositive();
    assertThat(status.getAsJsonObject("Status").get("dbSize").getAsLong()).isPositive();

    Cli.Result cluster = cli.run("endpoint", "status", "--cluster");
    assertThat(cluster.out().split("\n"))
        .hasSize(ids.size())
        .allMatch(l -> l.startsWith("http://"));
  }

  @Test
  void endpointHealthReportsEachEndpoint() throws Exception {
    Cli.Result r = cli.run("endpoint", "health");
    assertThat(r.out())
        .matches(
            Pattern.quote(endpoint)
                + " is healthy: successfully committed proposal: took = [0-9.]+(ns|µs|ms|s)\n");
    assertThat(r.exitCode()).isZero();

    JsonArray arr =
        JsonParser.parseString(cli.run("endpoint", "health", "-w", "json").out()).getAsJsonArray();
    assertThat(arr.get(0).getAsJsonObject().get("health").getAsBoolean()).isTrue();

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
  void endpointHashKvIsStableWithoutWrites() {
    cli.run("put", "hashkv-k", "v");
    Cli.Result r = cli.run("endpoint", "hashkv");
    assertThat(r.out()).matches(Pattern.quote(endpoint) + ", \\d+\n");
    JsonArray arr =
        JsonParser.parseString(cli.run("endpoint", "hashkv", "-w", "json").out()).getAsJsonArray();
    JsonObject hash = arr.get(0).getAsJsonObject().getAsJsonObject("HashKV");
    assertThat(r.out()).isEqualTo(endpoint + ", " + hash.get("hash").getAsLong() + "\n");
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
    assertThat(cli.run("defrag").out())
        .isEqualTo("Finished defragmenting etcd member[" + endpoint + "]\n");
    assertThat(cli.run("defrag", "--cluster").out())
        .startsWith("Finished defragmenting etcd member[http://");
  }

  @Test
  void snapshotSaveWritesTheFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("snap.db");
    Cli.Result r = cli.run("snapshot", "save", file.toString());
    assertThat(r.out()).isEqualTo("Snapshot saved at " + file + "\n");
    assertThat(Files.size(file)).isPositive();
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
  void moveLeaderTransfersToTheTarget() {
    List<Matcher> rows = members();
    JsonArray statuses =
        JsonParser.parseString(cli.run("endpoint", "status", "--cluster", "-w", "json").out())
            .getAsJsonArray();
    String leader = null;
    for (var s : statuses) {
      JsonObject st = s.getAsJsonObject().getAsJsonObject("Status");
      leader = st.get("leader").getAsBigInteger().toString(16);
    }
    String target = leader;
    for (Matcher m : rows) {
      if (!m.group(1).equals(leader)
          && m.group(6).equals("false")
          && m.group(2).equals("started")) {
        target = m.group(1);
      }
    }
    String all =
        String.join(
            ",",
            statuses.asList().stream()
                .map(s -> s.getAsJsonObject().get("Endpoint").getAsString())
                .toList());
    Cli.Result r = Cli.runRaw("", "move-leader", target, "--endpoints=" + all);
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).isEqualTo("Leadership transferred from " + leader + " to " + target + "\n");

    Cli.Result bad = Cli.runRaw("", "move-leader", "1234", "--endpoints=" + all);
    assertThat(bad.exitCode()).isEqualTo(1);
    assertThat(bad.err()).isEqualTo("Error: etcdserver: bad leader transferee\n");
  }
}
