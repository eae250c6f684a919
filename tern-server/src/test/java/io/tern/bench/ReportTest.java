package io.tern.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class ReportTest {
  /** 1,000 puts of 1..1000 ms and 500 watch events of 10 ms, over 2 s, with 2 errors. */
  private static BenchResult result(BenchOptions o) {
    Histogram puts = new Histogram(3);
    for (int ms = 1; ms <= 1000; ms++) {
      puts.recordValue(ms * 1_000_000L);
    }
    Histogram watch = new Histogram(3);
    watch.recordValueWithCount(10_000_000L, 500);
    Map<String, LatencySummary> kinds = new LinkedHashMap<>();
    kinds.put("put", LatencySummary.of(puts));
    kinds.put("watch", LatencySummary.of(watch));
    TreeMap<String, Long> errors =
        new TreeMap<>(Map.of("UNAVAILABLE", 1L, "DEADLINE_EXCEEDED", 1L));
    return new BenchResult(
        o,
        2_000_000_000L,
        LatencySummary.of(puts),
        kinds,
        errors,
        0,
        "127.0.0.1:2379",
        1_764_000_000_123L);
  }

  private static BenchOptions watchOptions() {
    return BenchOptions.builder(Workload.WATCH)
        .clients(16)
        .conns(4)
        .watchers(3)
        .watchConns(2)
        .warmup(Duration.ofMillis(1500))
        .build();
  }

  @Test
  void percentilesComeFromTheHistogram() {
    LatencySummary s = result(watchOptions()).requests();
    assertEquals(1000, s.count());
    assertEquals(500.0, s.p50() / 1e6, 0.5);
    assertEquals(900.0, s.p90() / 1e6, 0.9);
    assertEquals(990.0, s.p99() / 1e6, 1.0);
    assertEquals(999.0, s.p999() / 1e6, 1.0);
    assertEquals(1000.0, s.max() / 1e6, 1.0);
    assertEquals(500.5, s.mean() / 1e6, 0.5);
  }

  @Test
  void textNamesTheSetupThroughputPercentilesAndErrors() {
    String text = Report.text(result(watchOptions()));
    assertTrue(
        text.startsWith(
            "watch: 16 clients over 4 connections to 127.0.0.1:2379, closed" + " loop\n"),
        text);
    assertTrue(text.contains("3 watchers over 2 more connections; warmup 1.5 s\n"), text);
    assertTrue(
        text.contains("measured 2.000 s: 1,000 requests, 500.0 requests/s, 2 errors\n"), text);
    List<String> rows = text.lines().filter(l -> l.startsWith("put ")).toList();
    assertEquals(1, rows.size(), text);
    String[] cells = rows.get(0).trim().split("\\s+");
    assertEquals(List.of("put", "1,000", "500.0"), List.of(cells).subList(0, 3));
    assertEquals(500.0, Double.parseDouble(cells[3]), 0.5);
    assertEquals(1000.0, Double.parseDouble(cells[7]), 1.0);
    assertTrue(text.contains("\nwatch  "), text);
    assertTrue(text.contains("errors: DEADLINE_EXCEEDED 1, UNAVAILABLE 1\n"), text);
  }

  @Test
  void textOfAnOpenLoopSaysSoAndCountsUnsentRequests() {
    BenchOptions o = BenchOptions.builder(Workload.PUT).rate(1000).build();
    BenchResult r = result(o);
    BenchResult behind =
        new BenchResult(
            o, r.elapsedNanos(), r.requests(), r.kinds(), new TreeMap<>(), 42, "e:1", 0);
    String text = Report.text(behind);
    assertTrue(text.contains("open loop at 1,000 requests/s"), text);
    assertTrue(text.contains("42 requests not sent"), text);
    assertTrue(text.contains("errors: none"), text);
  }

  @Test
  void jsonIsOneObjectWithMillisecondLatencies() {
    String json = Report.json(result(watchOptions()));
    assertFalse(json.contains("\n"));
    JsonObject o = JsonParser.parseString(json).getAsJsonObject();
    assertEquals("watch", o.get("workload").getAsString());
    assertEquals(16, o.get("clients").getAsInt());
    assertEquals(1000, o.get("ops").getAsLong());
    assertEquals(500.0, o.get("opsPerSecond").getAsDouble(), 1e-9);
    assertEquals(1_764_000_000_123L, o.get("measuredFromEpochMs").getAsLong());
    assertEquals(2, o.get("errorCount").getAsLong());
    assertEquals(1, o.getAsJsonObject("errors").get("UNAVAILABLE").getAsLong());
    JsonObject lat = o.getAsJsonObject("latencyMs");
    assertEquals(500.0, lat.get("p50").getAsDouble(), 0.5);
    assertEquals(999.0, lat.get("p99.9").getAsDouble(), 1.0);
    JsonObject watch = o.getAsJsonObject("kinds").getAsJsonObject("watch");
    assertEquals(500, watch.get("count").getAsLong());
    assertEquals(250.0, watch.get("perSecond").getAsDouble(), 1e-9);
    assertEquals(10.0, watch.get("p99").getAsDouble(), 0.01);
  }

  @Test
  void jsonStringsAreEscaped() {
    assertEquals("\"a\\\"b\\\\c\\n\\u0001\"", Report.quote("a\"b\\c\n\u0001"));
  }

  @Test
  void progressShowsRecentThroughputAndPercentilesSoFar() {
    LatencySummary s = new LatencySummary(10, 1_500_000, 0, 9_250_000, 0, 0, 0);
    assertEquals(
        "[   3s] 1,234.5 requests/s, p50 1.500 ms, p99 9.250 ms",
        Report.progress(3_600_000_000L, false, 1234.5, s, 0));
    assertEquals(
        "[   1s] 80.0 requests/s (warmup), 3 errors",
        Report.progress(1_000_000_000L, true, 80, LatencySummary.EMPTY, 3));
  }
}
