package io.tern.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.tern.cli.Tern;
import io.tern.server.TestCluster;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code tern bench} for about a second each against a 3-member Tern cluster in this JVM. */
class BenchClusterTest {
  @TempDir static Path dir;
  private static TestCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = TestCluster.start(dir, 3, b -> {});
    cluster.awaitLeader(Duration.ofSeconds(20));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static JsonObject bench(String... args) {
    List<JsonObject> results = benchLevels(args);
    assertEquals(1, results.size(), results.toString());
    return results.get(0);
  }

  /** One JSON object per measured level. */
  private static List<JsonObject> benchLevels(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Tern.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    String[] full = new String[args.length + 5];
    full[0] = "bench";
    System.arraycopy(args, 0, full, 1, args.length);
    full[args.length + 1] = "--endpoints";
    full[args.length + 2] = cluster.endpoints();
    full[args.length + 3] = "--json";
    full[args.length + 4] = "--no-progress";
    int code = cl.execute(full);
    assertEquals(0, code, "out: " + out + "\nerr: " + err);
    return out.toString().lines().map(l -> JsonParser.parseString(l).getAsJsonObject()).toList();
  }

  @Test
  void putsOverEveryMemberForOneSecond() {
    JsonObject r = bench("put", "--clients", "8", "--conns", "3", "--duration", "1s");
    assertTrue(r.get("ops").getAsLong() > 0, r.toString());
    assertEquals(0, r.get("errorCount").getAsLong(), r.toString());
    assertTrue(r.get("elapsedSeconds").getAsDouble() >= 1.0, r.toString());
    assertTrue(r.getAsJsonObject("latencyMs").get("p50").getAsDouble() > 0, r.toString());
  }

  @Test
  void levelsRunInTurnAfterPrimingInOneProcess() {
    List<JsonObject> r =
        benchLevels(
            "put",
            "--clients",
            "1,4",
            "--conns",
            "2",
            "--prime",
            "500ms",
            "--prime-clients",
            "3",
            "--total",
            "150");
    assertEquals(2, r.size(), r.toString());
    assertEquals(1, r.get(0).get("clients").getAsInt(), r.toString());
    assertEquals(1, r.get(0).get("conns").getAsInt(), r.toString());
    assertEquals(4, r.get(1).get("clients").getAsInt(), r.toString());
    assertEquals(2, r.get(1).get("conns").getAsInt(), r.toString());
    for (JsonObject level : r) {
      // Each level counts only its own measured requests, none of the priming load's.
      assertEquals(150, level.get("ops").getAsLong(), level.toString());
      assertEquals(0, level.get("errorCount").getAsLong(), level.toString());
    }
  }

  @Test
  void watchEventsReachWatchersOnOtherConnections() {
    JsonObject r =
        bench(
            "watch",
            "--target",
            "leader",
            "--clients",
            "2",
            "--watchers",
            "2",
            "--total",
            "200",
            "--key-space",
            "100");
    assertEquals(200, r.get("ops").getAsLong(), r.toString());
    assertEquals(0, r.get("errorCount").getAsLong(), r.toString());
    // Every measured put reached both watchers.
    assertEquals(400, r.getAsJsonObject("kinds").getAsJsonObject("watch").get("count").getAsLong());
  }

  @Test
  void eachLevelTimesOnlyItsOwnPutsEvents() {
    List<JsonObject> r =
        benchLevels(
            "watch",
            "--target",
            "leader",
            "--clients",
            "2,1",
            "--watchers",
            "2",
            "--prime",
            "300ms",
            "--total",
            "100",
            "--key-space",
            "100");
    assertEquals(2, r.size(), r.toString());
    for (JsonObject level : r) {
      assertEquals(100, level.get("ops").getAsLong(), level.toString());
      assertEquals(
          200,
          level.getAsJsonObject("kinds").getAsJsonObject("watch").get("count").getAsLong(),
          level.toString());
    }
  }
}
