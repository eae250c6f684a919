package io.tern.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

@WithEtcdEndpoint
class WatchCommandTest {
  private final EtcdEndpoint cluster;
  private final Cli cli;

  WatchCommandTest(EtcdEndpoint cluster) {
    this.cluster = cluster;
    this.cli = new Cli(cluster);
  }

  private long nextRevision() {
    JsonObject r =
        JsonParser.parseString(cli.run("get", "w", "-w", "json").out()).getAsJsonObject();
    return r.getAsJsonObject("header").get("revision").getAsLong() + 1;
  }

  @Test
  void printsEachEventWithPreviousValuesUntilInterrupted() throws Exception {
    long from = nextRevision();
    RunningCommand watch =
        new RunningCommand(
            cli, "watch", "watch-a/", "--prefix", "--prev-kv", "--rev", Long.toString(from));
    cli.run("put", "watch-a/k", "one");
    cli.run("put", "watch-a/k", "two");
    cli.run("put", "watch-b/other", "not watched");
    cli.run("del", "watch-a/k");
    String expected =
        "PUT\nwatch-a/k\none\n"
            + "PUT\nwatch-a/k\none\nwatch-a/k\ntwo\n"
            + "DELETE\nwatch-a/k\ntwo\nwatch-a/k\n\n";
    assertThat(watch.awaitOutput(s -> s.length() >= expected.length())).isEqualTo(expected);
    assertThat(watch.interrupt()).isEqualTo(WatchCommand.EXIT_INTERRUPTED);
    assertThat(watch.err.toString()).isEmpty();
  }

  @Test
  void watchesAKeyRangeFromAnOlderRevisionInJson() throws Exception {
    long from = nextRevision();
    cli.run("put", "watch-r/a", "1");
    cli.run("put", "watch-r/c", "3");
    cli.run("put", "watch-r/b", "2");
    RunningCommand watch =
        new RunningCommand(
            cli, "watch", "watch-r/a", "watch-r/c", "-w", "json", "--rev", Long.toString(from));
    watch.awaitOutput(s -> events(s).size() >= 2);
    assertThat(watch.interrupt()).isEqualTo(WatchCommand.EXIT_INTERRUPTED);
    // Catching up, the server may put several revisions in one response: look at all events.
    List<JsonObject> events = events(watch.out.toString());
    assertThat(events).hasSize(2);
    JsonObject a = events.get(0).getAsJsonObject("kv");
    assertThat(a.get("key").getAsString()).isEqualTo("d2F0Y2gtci9h"); // watch-r/a
    assertThat(a.get("value").getAsString()).isEqualTo("MQ=="); // 1
    assertThat(a.get("mod_revision").getAsLong()).isEqualTo(from);
    JsonObject b = events.get(1).getAsJsonObject("kv");
    assertThat(b.get("key").getAsString())
        .isEqualTo("d2F0Y2gtci9i"); // watch-r/b; c is outside [a, c)
    assertThat(b.get("mod_revision").getAsLong()).isEqualTo(from + 2);
  }

  /** The events of every JSON watch response printed so far. */
  private static List<JsonObject> events(String out) {
    List<JsonObject> events = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      JsonObject r = JsonParser.parseString(line).getAsJsonObject();
      assertThat(r.getAsJsonObject("Header").get("revision").getAsLong()).isPositive();
      assertThat(r.get("Canceled").getAsBoolean()).isFalse();
      r.getAsJsonArray("Events").forEach(e -> events.add(e.getAsJsonObject()));
    }
    return events;
  }

  @Test
  void aCompactedStartRevisionCancelsTheWatch() {
    cli.run("put", "watch-c/k", "1");
    long old = nextRevision() - 1;
    cli.run("put", "watch-c/k", "2");
    long now = nextRevision() - 1;
    assertThat(cli.run("compaction", Long.toString(now)).exitCode()).isZero();
    Cli.Result r = cli.run("watch", "watch-c/k", "--rev", Long.toString(old));
    assertThat(r.err())
        .isEqualTo(
            "watch was canceled (etcdserver: mvcc: required revision has been compacted)\n"
                + "Error: watch is canceled by the server\n");
    assertThat(r.exitCode()).isEqualTo(1);
  }

  /**
   * The watch runs on the first endpoint's member; when that member stops, it resumes on another
   * one after the last revision it printed: the events written meanwhile appear once each, in
   * order.
   */
  @Test
  void resumesOnAnotherMemberWhenItsMemberStops() throws Exception {
    long from = nextRevision();
    RunningCommand watch =
        new RunningCommand(cli, "watch", "watch-s/", "--prefix", "--rev", Long.toString(from));
    cli.run("put", "watch-s/k", "1");
    String first = "PUT\nwatch-s/k\n1\n";
    assertThat(watch.awaitOutput(s -> s.length() >= first.length())).isEqualTo(first);
    List<String> others = cluster.endpointList().subList(1, cluster.endpointList().size());
    cluster.stop(0);
    try {
      CliClusterExtension.awaitLeader(others, Duration.ofSeconds(30), () -> true);
      String rest = "--endpoints=" + String.join(",", others);
      for (String v : List.of("2", "3")) {
        Cli.Result put = Cli.runRaw("", "put", "watch-s/k", v, rest);
        assertThat(put.exitCode()).as(put.err()).isZero();
      }
      String expected = first + "PUT\nwatch-s/k\n2\nPUT\nwatch-s/k\n3\n";
      assertThat(watch.awaitOutput(s -> s.length() >= expected.length())).isEqualTo(expected);
      assertThat(watch.interrupt()).isEqualTo(WatchCommand.EXIT_INTERRUPTED);
      assertThat(watch.err.toString()).isEmpty();
    } finally {
      cluster.restart(0);
    }
  }

  @Test
  void rangeEndAndPrefixTogetherAreRefused() {
    Cli.Result r = cli.run("watch", "a", "b", "--prefix");
    assertThat(r.err()).isEqualTo("Error: `range_end` and `--prefix` are mutually exclusive\n");
    assertThat(r.exitCode()).isEqualTo(1);
  }

  @Test
  void aWatchThatNeverConnectedFails() throws Exception {
    int dead;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      dead = socket.getLocalPort();
    }
    Cli.Result r =
        Cli.runRaw("", "watch", "k", "--endpoints=127.0.0.1:" + dead, "--dial-timeout=1s");
    assertThat(r.err()).startsWith("Error: ").contains("Connection refused");
    assertThat(r.exitCode()).isEqualTo(1);
  }
}
