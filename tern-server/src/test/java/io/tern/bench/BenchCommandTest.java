package io.tern.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tern.cli.Tern;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchCommandTest {
  private static BenchOptions parse(String... args) {
    CommandLine cl = new CommandLine(new BenchCommand());
    cl.parseArgs(args);
    return ((BenchCommand) cl.getCommand()).options();
  }

  @Test
  void flagsMapOntoTheOptions() {
    BenchOptions o =
        parse(
            "mixed",
            "--endpoints",
            "a:1,http://b:2",
            "--clients",
            "64",
            "--conns",
            "8",
            "--key-size",
            "16",
            "--val-size",
            "100",
            "--key-space",
            "500",
            "--rate",
            "2000",
            "--total",
            "9000",
            "--warmup",
            "1500ms",
            "--read-ratio",
            "0.9",
            "--consistency",
            "s",
            "--target",
            "leader",
            "--timeout",
            "2s",
            "--no-prefill",
            "--sequential-keys");
    assertEquals(Workload.MIXED, o.workload());
    assertEquals(List.of(new BenchEndpoint("a", 1), new BenchEndpoint("b", 2)), o.endpoints());
    assertEquals(64, o.clients());
    assertEquals(8, o.conns());
    assertEquals(16, o.keySize());
    assertEquals(100, o.valSize());
    assertEquals(500, o.keySpace());
    assertEquals(2000.0, o.rate());
    assertEquals(9000, o.total());
    assertEquals(null, o.duration());
    assertEquals(Duration.ofMillis(1500), o.warmup());
    assertEquals(0.9, o.readRatio());
    assertTrue(o.serializableReads());
    assertTrue(o.leaderOnly());
    assertEquals(Duration.ofSeconds(2), o.timeout());
    assertFalse(o.prefill());
    assertTrue(o.sequentialKeys());
  }

  @Test
  void aListOfClientCountsIsOneLevelEachWithAtMostItsClientsAsConnections() {
    CommandLine cl = new CommandLine(new BenchCommand());
    cl.parseArgs("put", "--clients", "1,16,64,16", "--conns", "16", "--warmup", "2s");
    List<BenchOptions> levels = ((BenchCommand) cl.getCommand()).levels();
    assertEquals(List.of(1, 16, 64, 16), levels.stream().map(BenchOptions::clients).toList());
    assertEquals(List.of(1, 16, 16, 16), levels.stream().map(BenchOptions::conns).toList());
    for (BenchOptions level : levels) {
      assertEquals(Duration.ofSeconds(2), level.warmup());
      assertEquals(Workload.PUT, level.workload());
    }
  }

  @Test
  void thePrimingLoadMayUseMoreClientsAndConnectionsThanAnyLevel() {
    CommandLine cl = new CommandLine(new BenchCommand());
    cl.parseArgs("put", "--clients", "1", "--conns", "16", "--prime-clients", "64");
    BenchCommand c = (BenchCommand) cl.getCommand();
    assertEquals(1, c.levels().get(0).conns());
    assertEquals(64, c.primeLoad().clients());
    assertEquals(16, c.primeLoad().conns());
    cl.parseArgs("put", "--clients", "8,32", "--conns", "4");
    assertEquals(32, c.primeLoad().clients());
    assertEquals(4, c.primeLoad().conns());
  }

  @Test
  void durationsTakeUnitsOrBareSeconds() {
    assertEquals(Duration.ofSeconds(10), BenchCommand.parseDuration("--d", "10"));
    assertEquals(Duration.ofMillis(250), BenchCommand.parseDuration("--d", "250ms"));
    assertEquals(Duration.ofMillis(1500), BenchCommand.parseDuration("--d", "1.5s"));
    assertEquals(Duration.ofMinutes(2), BenchCommand.parseDuration("--d", "2m"));
    assertEquals(Duration.ofHours(1), BenchCommand.parseDuration("--d", "1h"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> BenchCommand.parseDuration("--d", "5x"));
    assertTrue(e.getMessage().startsWith("--d: invalid duration"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> BenchCommand.parseDuration("--d", "-1s"));
  }

  @Test
  void badFlagsAreAUsageErrorNamingTheFlag() {
    for (List<String> args :
        List.of(
            List.of("put", "--clients", "0"),
            List.of("put", "--clients", "2", "--conns", "3"),
            List.of("put", "--clients", "1,2", "--conns", "3"),
            List.of("put", "--clients", "4,0"),
            List.of("put", "--prime", "soon"),
            List.of("put", "--prime-clients", "-1"),
            List.of("put", "--duration", "5s", "--total", "10"),
            List.of("put", "--target", "followers"),
            List.of("mixed", "--consistency", "x"),
            List.of("put", "--endpoints", "nohost"),
            List.of("scan"))) {
      StringWriter err = new StringWriter();
      CommandLine cl = Tern.commandLine();
      cl.setOut(new PrintWriter(new StringWriter(), true));
      cl.setErr(new PrintWriter(err, true));
      List<String> full = new java.util.ArrayList<>(List.of("bench"));
      full.addAll(args);
      assertEquals(2, cl.execute(full.toArray(new String[0])), args + ": " + err);
      String first = err.toString().lines().findFirst().orElse("");
      assertFalse(first.startsWith("Usage"), args + " printed no reason: " + err);
    }
  }

  @Test
  void anUnreachableEndpointFailsTheRunWithItsAddress() throws Exception {
    int port;
    try (var s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Tern.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code =
        cl.execute(
            "bench",
            "put",
            "--endpoints",
            "127.0.0.1:" + port,
            "--timeout",
            "2s",
            "--duration",
            "1s");
    assertEquals(1, code);
    assertTrue(err.toString().contains("127.0.0.1:" + port), err.toString());
    assertEquals("", out.toString());
  }
}
