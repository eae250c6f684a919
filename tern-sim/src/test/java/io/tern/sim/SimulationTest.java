package io.tern.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SimulationTest {

  @Test
  void eventsRunInTimeOrderAndTiesInSubmissionOrder() {
    Simulation sim = new Simulation(1);
    List<String> order = new ArrayList<>();
    sim.at(30, () -> order.add("c@" + sim.now()));
    sim.at(10, () -> order.add("a@" + sim.now()));
    sim.at(20, () -> order.add("b1@" + sim.now()));
    sim.at(20, () -> order.add("b2@" + sim.now()));
    sim.at(20, () -> order.add("b3@" + sim.now()));

    while (sim.runNext()) {}

    assertThat(order).containsExactly("a@10", "b1@20", "b2@20", "b3@20", "c@30");
    assertThat(sim.eventsRun()).isEqualTo(5);
    assertThat(sim.now()).isEqualTo(30);
  }

  @Test
  void eventScheduledWithZeroDelayRunsAfterEventsAlreadyDueNow() {
    Simulation sim = new Simulation(1);
    List<String> order = new ArrayList<>();
    sim.at(
        5,
        () -> {
          order.add("first");
          sim.at(0, () -> order.add("nested"));
          sim.at(-100, () -> order.add("negative delay means now@" + sim.now()));
        });
    sim.at(5, () -> order.add("second"));

    sim.runFor(5);

    assertThat(order).containsExactly("first", "second", "nested", "negative delay means now@5");
  }

  @Test
  void runUntilRunsEventsDueAtOrBeforeTheTimeAndAdvancesTheClock() {
    Simulation sim = new Simulation(1);
    List<Long> ran = new ArrayList<>();
    for (long t : new long[] {100, 200, 300}) {
      sim.at(t, () -> ran.add(sim.now()));
    }

    sim.runUntil(200);
    assertThat(ran).containsExactly(100L, 200L);
    assertThat(sim.now()).isEqualTo(200);

    sim.runUntil(250);
    assertThat(sim.now()).isEqualTo(250);
    assertThat(sim.nextEventTime()).isEqualTo(300);

    sim.runFor(1000);
    assertThat(ran).containsExactly(100L, 200L, 300L);
    assertThat(sim.now()).isEqualTo(1250);
    assertThat(sim.runNext()).isFalse();
    assertThat(sim.nextEventTime()).isEqualTo(-1);
  }

  @Test
  void runUntilTimeInThePastDoesNotMoveTheClockBack() {
    Simulation sim = new Simulation(1);
    sim.runUntil(500);
    sim.runUntil(100);
    assertThat(sim.now()).isEqualTo(500);
    sim.atTime(10, () -> {});
    assertThat(sim.nextEventTime()).isEqualTo(500);
  }

  @Test
  void cancelledEventsDoNotRunAndAreNotCounted() {
    Simulation sim = new Simulation(1);
    List<String> ran = new ArrayList<>();
    Simulation.Event a = sim.at(10, () -> ran.add("a"));
    sim.at(20, () -> ran.add("b"));
    a.cancel();

    assertThat(a.isDone()).isTrue();
    assertThat(sim.nextEventTime()).isEqualTo(20);
    sim.runFor(100);

    assertThat(ran).containsExactly("b");
    assertThat(sim.eventsRun()).isEqualTo(1);
  }

  @Test
  void runUntilConditionStopsAsSoonAsItHoldsOrAtTheDeadline() {
    Simulation sim = new Simulation(1);
    int[] counter = {0};
    for (int i = 1; i <= 10; i++) {
      sim.at(i * 10L, () -> counter[0]++);
    }

    assertThat(sim.runUntil(() -> counter[0] == 3, 1000)).isTrue();
    assertThat(sim.now()).isEqualTo(30);

    assertThat(sim.runUntil(() -> counter[0] == 100, 75)).isFalse();
    assertThat(counter[0]).isEqualTo(7);
    assertThat(sim.now()).isEqualTo(75);
  }

  @Test
  void afterEachEventHookRunsAfterEveryEvent() {
    Simulation sim = new Simulation(1);
    List<String> log = new ArrayList<>();
    sim.setAfterEachEvent(() -> log.add("check@" + sim.now()));
    sim.at(1, () -> log.add("e1"));
    sim.at(2, () -> log.add("e2"));

    sim.runFor(10);

    assertThat(log).containsExactly("e1", "check@1", "e2", "check@2");
  }

  @Test
  void exceptionFromAnEventPropagatesOutOfTheLoop() {
    Simulation sim = new Simulation(1);
    sim.at(
        1,
        () -> {
          throw new IllegalStateException("boom");
        });
    assertThatThrownBy(() -> sim.runFor(10)).hasMessage("boom");
  }

  @Test
  void eventLimitStopsALivelock() {
    Simulation sim = new Simulation(7);
    sim.setEventLimit(1000);
    Runnable[] spin = new Runnable[1];
    spin[0] = () -> sim.at(0, spin[0]);
    sim.at(0, spin[0]);

    assertThatThrownBy(() -> sim.runFor(1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("event limit 1000")
        .hasMessageContaining("seed=7");
  }

  @Test
  void sameSeedGivesSameRunAndDifferentSeedsDiffer() {
    long h1 = randomWorkload(42, false);
    long h2 = randomWorkload(42, false);
    assertThat(h1).isEqualTo(h2);

    Set<Long> hashes = new HashSet<>();
    for (long seed = 0; seed < 20; seed++) {
      hashes.add(randomWorkload(seed, false));
    }
    assertThat(hashes).hasSize(20);
  }

  @Test
  void traceHashDoesNotDependOnWhetherTheTextLogIsEnabled() {
    assertThat(randomWorkload(9, true)).isEqualTo(randomWorkload(9, false));
  }

  @Test
  void traceHashCoversEventTimesAndTracedContent() {
    Simulation a = new Simulation(1);
    Simulation b = new Simulation(1);
    Simulation c = new Simulation(1);
    a.at(10, () -> a.trace("x"));
    b.at(11, () -> b.trace("x"));
    c.at(10, () -> c.trace("y"));
    a.runFor(20);
    b.runFor(20);
    c.runFor(20);
    assertThat(a.traceHash()).isNotEqualTo(b.traceHash()).isNotEqualTo(c.traceHash());
  }

  @Test
  void traceLogKeepsTheLastLinesWithinItsCapacity() {
    Simulation sim = new Simulation(5);
    assertThat(sim.traceTail(10)).isEmpty();
    sim.enableTraceLog(3);
    for (int i = 0; i < 5; i++) {
      int n = i;
      sim.at(1_000 * i, () -> sim.trace("line " + n));
    }
    sim.at(10_000, () -> sim.trace("tag", 1, 2, 3, null));
    sim.at(10_000, () -> sim.trace("tag", 1, 2, 3, "detail"));
    sim.runFor(20_000);

    assertThat(sim.traceTail(10))
        .containsExactly("0.000004s line 4", "0.000010s tag 1 2 3", "0.000010s tag detail");
    assertThat(sim.traceTail(1)).containsExactly("0.000010s tag detail");
    String dump = sim.dumpTrace();
    assertThat(dump)
        .startsWith("# seed=5 t=0.000020s events=7 hash=" + Long.toHexString(sim.traceHash()))
        .contains("4 earlier lines dropped")
        .endsWith("0.000010s tag detail\n");
  }

  @Test
  void forkedRandomStreamsAreDeterministic() {
    Simulation a = new Simulation(3);
    Simulation b = new Simulation(3);
    assertThat(a.forkRandom().nextLong()).isEqualTo(b.forkRandom().nextLong());
    assertThat(a.random().nextLong()).isEqualTo(b.random().nextLong());
  }

  @Test
  void usingTheSimulationFromAnotherThreadFails() throws InterruptedException {
    Simulation sim = new Simulation(1);
    AtomicReference<Throwable> error = new AtomicReference<>();
    Thread t =
        new Thread(
            () -> {
              try {
                sim.at(1, () -> {});
              } catch (Throwable e) {
                error.set(e);
              }
            });
    t.start();
    t.join();
    assertThat(error.get())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("must not start threads");
    assertThat(sim.pendingEvents()).isZero();
    // The owner thread fails too, in case the foreign thread swallowed the exception.
    assertThatThrownBy(sim::runNext).hasMessageContaining("must not start threads");
  }

  @Test
  void formatsTimeAsSecondsWithMicroseconds() {
    assertThat(Simulation.formatTime(0)).isEqualTo("0.000000s");
    assertThat(Simulation.formatTime(1_500_250_999L)).isEqualTo("1.500250s");
  }

  /** Events that schedule random further events and trace random values; returns the hash. */
  private static long randomWorkload(long seed, boolean traceLog) {
    Simulation sim = new Simulation(seed);
    if (traceLog) {
      sim.enableTraceLog(100);
    }
    Runnable[] step = new Runnable[1];
    step[0] =
        () -> {
          long v = sim.random().nextLong(1000);
          sim.trace("step", v, sim.eventsRun(), 0, null);
          if (v % 3 == 0) {
            sim.trace("text " + v);
          }
          if (sim.eventsRun() < 500) {
            sim.at(sim.random().nextLong(1, 1_000), step[0]);
            if (v % 5 == 0) {
              sim.at(sim.random().nextLong(1, 1_000), step[0]);
            }
          }
        };
    sim.at(0, step[0]);
    sim.runFor(1_000_000_000L);
    assertThat(sim.eventsRun()).isGreaterThanOrEqualTo(500);
    return sim.traceHash();
  }
}
