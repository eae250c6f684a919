package io.tern.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BenchOptionsTest {
  @Test
  void defaultsAreAOneClientClosedLoopOfTenSeconds() {
    BenchOptions o = BenchOptions.builder(Workload.PUT).build();
    assertEquals(List.of(new BenchEndpoint("127.0.0.1", 2379)), o.endpoints());
    assertEquals(1, o.clients());
    assertEquals(1, o.conns());
    assertEquals(8, o.keySize());
    assertEquals(256, o.valSize());
    assertEquals(Duration.ofSeconds(10), o.duration());
    assertEquals(0, o.total());
    assertFalse(o.openLoop());
  }

  @Test
  void totalReplacesTheDefaultDuration() {
    BenchOptions o = BenchOptions.builder(Workload.PUT).total(500).build();
    assertNull(o.duration());
    assertEquals(500, o.total());
  }

  @Test
  void aPositiveRateIsAnOpenLoop() {
    assertTrue(BenchOptions.builder(Workload.PUT).rate(0.5).build().openLoop());
  }

  @Test
  void theWholeSpaceOfShortKeysIsAllowed() {
    assertEquals(
        65_536, BenchOptions.builder(Workload.PUT).keySize(2).keySpace(65_536).build().keySpace());
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        bad("--endpoints", b -> b.endpoints(List.of())),
        bad("--clients", b -> b.clients(0)),
        bad("--conns", b -> b.conns(0)),
        bad("--conns (5) must not exceed --clients (4)", b -> b.clients(4).conns(5)),
        bad("--key-size", b -> b.keySize(0)),
        bad("--val-size", b -> b.valSize(-1)),
        bad("--key-space", b -> b.keySpace(0)),
        bad("does not fit in 2-byte keys", b -> b.keySize(2).keySpace(65_537)),
        bad("--rate", b -> b.rate(-1)),
        bad("--rate", b -> b.rate(Double.NaN)),
        bad("either --duration or --total", b -> b.duration(Duration.ofSeconds(1)).total(10)),
        bad("--duration", b -> b.duration(Duration.ZERO)),
        bad("--total", b -> b.total(-5)),
        bad("--warmup", b -> b.warmup(Duration.ofSeconds(-1))),
        bad("--read-ratio", b -> b.readRatio(1.5)),
        bad("--txn-ops", b -> b.txnOps(0)),
        bad("--txn-ops", b -> b.txnOps(129)),
        bad("a txn cannot put the same key twice", b -> b.keySpace(3).txnOps(4)),
        bad("--watchers", b -> b.watchers(0)),
        bad("--watch-conns (3) must not exceed --watchers (2)", b -> b.watchers(2).watchConns(3)),
        bad("--timeout", b -> b.timeout(Duration.ZERO)));
  }

  private static Arguments bad(String message, UnaryOperator<BenchOptions.Builder> change) {
    return Arguments.of(message, change);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalid")
  void refusesAndNamesTheOption(String message, UnaryOperator<BenchOptions.Builder> change) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> change.apply(BenchOptions.builder(Workload.PUT)).build());
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }

  @Test
  void theWatchWorkloadNeedsRoomForTheSendTimeInValues() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> BenchOptions.builder(Workload.WATCH).valSize(7).build());
    assertTrue(e.getMessage().contains("--val-size"), e.getMessage());
    assertEquals(8, BenchOptions.builder(Workload.WATCH).valSize(8).build().valSize());
    assertEquals(0, BenchOptions.builder(Workload.PUT).valSize(0).build().valSize());
  }

  @Test
  void endpointsParseWithOrWithoutScheme() {
    assertEquals(new BenchEndpoint("127.0.0.1", 2379), BenchEndpoint.parse("127.0.0.1:2379"));
    assertEquals(new BenchEndpoint("h", 22379), BenchEndpoint.parse(" http://h:22379/ "));
    assertEquals(new BenchEndpoint("::1", 2379), BenchEndpoint.parse("[::1]:2379"));
    assertEquals("[::1]:2379", BenchEndpoint.parse("[::1]:2379").toString());
    for (String bad : List.of("h", ":2379", "h:x", "h:0", "h:70000", "https://h:1", "[::1]")) {
      assertThrows(IllegalArgumentException.class, () -> BenchEndpoint.parse(bad), bad);
    }
  }

  @Test
  void workloadsParseByTheirCommandLineNames() {
    for (Workload w : Workload.values()) {
      assertEquals(w, Workload.parse(w.cliName()));
    }
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Workload.parse("RANGE"));
    assertTrue(e.getMessage().contains("range-l"), e.getMessage());
  }
}
