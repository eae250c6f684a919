package io.tern.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.tern.raft.node.Scheduler;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SimNodeSchedulerTest {

  @Test
  void loopRunsTasksInFifoOrderEachAsItsOwnEvent() {
    Simulation sim = new Simulation(1);
    SimNodeScheduler s = new SimNodeScheduler(sim, 1);
    List<String> order = new ArrayList<>();

    s.loop().execute(() -> order.add("A"));
    sim.at(0, () -> order.add("other event"));
    s.loop().execute(() -> order.add("B"));
    s.loop().execute(() -> order.add("C"));
    assertThat(order).as("nothing runs inside execute()").isEmpty();

    sim.runFor(0);

    // B waits for A's event to finish, so the event queued between them runs first.
    assertThat(order).containsExactly("A", "other event", "B", "C");
    assertThat(sim.now()).as("the loop has no latency").isZero();
    assertThat(s.loopTasksRun()).isEqualTo(3);
  }

  @Test
  void taskSubmittedFromALoopTaskRunsAfterTheQueuedOnes() {
    Simulation sim = new Simulation(1);
    SimNodeScheduler s = new SimNodeScheduler(sim, 1);
    List<String> order = new ArrayList<>();
    s.loop()
        .execute(
            () -> {
              order.add("A");
              s.loop().execute(() -> order.add("A's child"));
            });
    s.loop().execute(() -> order.add("B"));

    sim.runFor(0);

    assertThat(order).containsExactly("A", "B", "A's child");
  }

  @Test
  void applierIsSerialWithRandomLatencyWithinBounds() {
    Simulation sim = new Simulation(2);
    SimNodeScheduler s = new SimNodeScheduler(sim, 1, 0, 10_000, 50_000);
    List<Long> times = new ArrayList<>();
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      int n = i;
      s.applier()
          .execute(
              () -> {
                order.add(n);
                times.add(sim.now());
              });
    }
    assertThat(s.applierBacklog()).isEqualTo(50);

    sim.runFor(10_000_000);

    assertThat(order).isSorted().hasSize(50);
    long prev = 0;
    List<Long> gaps = new ArrayList<>();
    for (long t : times) {
      gaps.add(t - prev);
      prev = t;
    }
    assertThat(gaps).allSatisfy(g -> assertThat(g).isBetween(10_000L, 50_000L));
    assertThat(gaps.stream().distinct().count()).as("latency is random").isGreaterThan(1);
    assertThat(s.applierTasksRun()).isEqualTo(50);
  }

  @Test
  void backgroundIsSerialWithItsOwnRandomLatency() {
    Simulation sim = new Simulation(3);
    SimNodeScheduler s = new SimNodeScheduler(sim, 1);
    List<Long> times = new ArrayList<>();
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      int n = i;
      s.background()
          .execute(
              () -> {
                order.add(n);
                times.add(sim.now());
              });
    }
    assertThat(s.backgroundBacklog()).isEqualTo(30);
    assertThat(s.applierBacklog()).isZero();

    sim.runFor(100_000_000);

    assertThat(order).isSorted().hasSize(30);
    List<Long> gaps = new ArrayList<>();
    long prev = 0;
    for (long t : times) {
      gaps.add(t - prev);
      prev = t;
    }
    assertThat(gaps)
        .allSatisfy(
            g ->
                assertThat(g)
                    .isBetween(
                        SimNodeScheduler.DEFAULT_MIN_BACKGROUND_LATENCY,
                        SimNodeScheduler.DEFAULT_MAX_BACKGROUND_LATENCY));
    assertThat(gaps.stream().distinct().count()).as("latency is random").isGreaterThan(1);
    assertThat(s.backgroundTasksRun()).isEqualTo(30);
    assertThat(s.backgroundBacklog()).isZero();

    s.backgroundLatency(5_000_000, 5_000_000);
    long start = sim.now();
    s.background().execute(() -> times.add(sim.now()));
    sim.runFor(10_000_000);
    assertThat(times.get(times.size() - 1) - start).isEqualTo(5_000_000);
  }

  @Test
  void killDropsQueuedBackgroundTasks() {
    Simulation sim = new Simulation(1);
    SimNodeScheduler s = new SimNodeScheduler(sim, 1).backgroundLatency(1_000, 1_000);
    List<String> log = new ArrayList<>();
    s.background().execute(() -> log.add("bg1"));
    s.background().execute(() -> log.add("bg2"));
    sim.runFor(1_000);
    assertThat(log).containsExactly("bg1");

    s.kill();
    s.background().execute(() -> log.add("after kill"));
    sim.runFor(1_000_000);

    assertThat(log).containsExactly("bg1");
    assertThat(s.droppedAfterKill()).isEqualTo(2);
    assertThat(s.backgroundBacklog()).isZero();
    assertThat(s.backgroundTasksRun()).isEqualTo(1);
  }

  @Test
  void timerFiresAfterItsDelayOnTheLoop() {
    Simulation sim = new Simulation(1);
    SimNodeScheduler s = new SimNodeScheduler(sim, 1);
    List<String> log = new ArrayList<>();
    s.scheduleOnLoop(1_000, () -> log.add("timer@" + sim.now()));
    s.scheduleOnLoop(500, () -> log.add("early@" + sim.now()));

    sim.runFor(999);
    assertThat(log).containsExactly("early@500");
    sim.runFor(1);
    assertThat(log).containsExactly("early@500", "timer@1000");
  }

  @Test
  void timerTaskQueuesBehindLoopTasksAlreadySubmitted() {
    Simulation sim = new Simulation(1);
    SimNodeScheduler s = new SimNodeScheduler(sim, 1);
    List<String> log = new ArrayList<>();
    s.scheduleOnLoop(100, () -> log.add("timer"));
    sim.at(
        100,
        () -> {
          // Same instant as the timer, which fired first (scheduled first) and queued its task.
          log.add("event");
          s.loop().execute(() -> log.add("task"));
        });

    sim.runFor(100);

    assertThat(log).containsExactly("event", "timer", "task");
  }

  @Test
  void cancelledTimerNeverRuns() {
    Simulation sim = new Simulation(1);
    SimNodeScheduler s = new SimNodeScheduler(sim, 1);
    List<String> log = new ArrayList<>();
    s.scheduleOnLoop(100, () -> log.add("cancelled")).cancel();
    s.scheduleOnLoop(100, () -> log.add("kept"));

    sim.runFor(1_000);

    assertThat(log).containsExactly("kept");
  }

  @Test
  void timerCancelledAfterFiringButBeforeItsLoopTaskRanDoesNotRun() {
    Simulation sim = new Simulation(1);
    SimNodeScheduler s = new SimNodeScheduler(sim, 1);
    List<String> log = new ArrayList<>();
    Scheduler.Cancellable timer = s.scheduleOnLoop(100, () -> log.add("timer"));
    // Same instant, queued after the timer: the timer has fired (its task is queued on the loop)
    // when this cancels it.
    sim.at(100, timer::cancel);

    sim.runFor(1_000);

    assertThat(log).isEmpty();
    assertThat(s.loopTasksRun()).as("the loop ran the (now empty) timer task").isEqualTo(1);
  }

  @Test
  void killTurnsQueuedTasksAndTimersIntoNoOps() {
    Simulation sim = new Simulation(1);
    SimNodeScheduler s = new SimNodeScheduler(sim, 1);
    List<String> log = new ArrayList<>();
    s.loop().execute(() -> log.add("loop1"));
    s.loop().execute(() -> log.add("loop2"));
    s.applier().execute(() -> log.add("apply1"));
    s.scheduleOnLoop(1_000, () -> log.add("timer"));

    s.kill();
    s.loop().execute(() -> log.add("after kill"));
    s.applier().execute(() -> log.add("after kill"));
    s.scheduleOnLoop(10, () -> log.add("after kill"));
    sim.runFor(1_000_000);

    assertThat(log).isEmpty();
    assertThat(s.isAlive()).isFalse();
    assertThat(s.droppedAfterKill()).isEqualTo(6);
    assertThat(s.loopBacklog()).isZero();
  }

  @Test
  void taskThatKillsItsNodeFinishesButNothingQueuedRunsAfterIt() {
    Simulation sim = new Simulation(1);
    SimNodeScheduler s = new SimNodeScheduler(sim, 1);
    List<String> log = new ArrayList<>();
    s.loop()
        .execute(
            () -> {
              s.kill();
              log.add("killer finishes");
            });
    s.loop().execute(() -> log.add("queued"));

    sim.runFor(10);

    assertThat(log).containsExactly("killer finishes");
  }

  @Test
  void newIncarnationRunsWhileTheKilledOneStaysDead() {
    Simulation sim = new Simulation(1);
    SimNodeScheduler old = new SimNodeScheduler(sim, 1);
    List<String> log = new ArrayList<>();
    old.scheduleOnLoop(100, () -> log.add("old timer"));
    old.kill();
    SimNodeScheduler fresh = new SimNodeScheduler(sim, 1);
    fresh.scheduleOnLoop(100, () -> log.add("new timer"));

    sim.runFor(1_000);

    assertThat(log).containsExactly("new timer");
  }

  @Test
  void nanoTimeIsSimulationTimePlusTheNodeOffset() {
    Simulation sim = new Simulation(1);
    SimNodeScheduler s = new SimNodeScheduler(sim, 3, 1_000_000_000L, 0, 0);
    assertThat(s.nanoTime()).isEqualTo(1_000_000_000L);
    sim.runFor(42);
    assertThat(s.nanoTime()).isEqualTo(1_000_000_042L);
    assertThat(s.nodeId()).isEqualTo(3);
  }

  @Test
  void sameSeedGivesSameInterleaving() {
    assertThat(interleaving(11)).isEqualTo(interleaving(11));
    assertThat(interleaving(11)).isNotEqualTo(interleaving(12));
  }

  private static List<String> interleaving(long seed) {
    Simulation sim = new Simulation(seed);
    SimNodeScheduler a = new SimNodeScheduler(sim, 1);
    SimNodeScheduler b = new SimNodeScheduler(sim, 2);
    List<String> log = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      int n = i;
      a.applier().execute(() -> log.add("a" + n + "@" + sim.now()));
      b.applier().execute(() -> log.add("b" + n + "@" + sim.now()));
    }
    sim.runFor(10_000_000);
    return log;
  }
}
