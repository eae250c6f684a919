package io.tern.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class StatsTest {
  @Test
  void onlyMeasuredRequestsEnterTheHistogramsButAllShowInProgress() {
    Stats s = new Stats();
    s.success(Stats.Kind.PUT, 0, 1_000_000, false); // warmup
    s.success(Stats.Kind.PUT, 10, 2_000_010, true);
    s.success(Stats.Kind.RANGE, 20, 3_000_020, true);
    s.success(Stats.Kind.WATCH, 30, 4_000_030, true);
    s.collect();
    assertEquals(1, s.histogram(Stats.Kind.PUT).getTotalCount());
    assertEquals(1, s.histogram(Stats.Kind.RANGE).getTotalCount());
    assertEquals(1, s.histogram(Stats.Kind.WATCH).getTotalCount());
    // Watch events are not requests.
    assertEquals(2, s.requests().getTotalCount());
    assertEquals(3, s.completed());
    assertEquals(3_000_020, s.lastMeasuredEnd());
    LatencySummary put = LatencySummary.of(s.histogram(Stats.Kind.PUT));
    assertEquals(2.0, put.p50() / 1e6, 0.002);
  }

  @Test
  void collectAccumulatesIntervals() {
    Stats s = new Stats();
    s.success(Stats.Kind.TXN, 0, 5, true);
    s.collect();
    s.success(Stats.Kind.TXN, 0, 7, true);
    s.collect();
    s.collect();
    assertEquals(2, s.histogram(Stats.Kind.TXN).getTotalCount());
    assertEquals(7, s.histogram(Stats.Kind.TXN).getMaxValue());
  }

  @Test
  void failuresAreCountedByLabelWhenMeasured() {
    Stats s = new Stats();
    s.failure("UNAVAILABLE", 5, false);
    s.failure("UNAVAILABLE", 6, true);
    s.failure("UNAVAILABLE", 7, true);
    s.failure("watch CANCELLED", 8, true);
    assertEquals(Map.of("UNAVAILABLE", 2L, "watch CANCELLED", 1L), s.errors());
    assertEquals(4, s.failed());
    assertEquals(8, s.lastMeasuredEnd());
  }

  @Test
  void anEmptyHistogramSummarizesToZeros() {
    assertEquals(LatencySummary.EMPTY, LatencySummary.of(new Stats().requests()));
  }
}
