package io.tern.sim.scenario;

import static io.tern.sim.scenario.ScenarioSupport.MS;
import static io.tern.sim.scenario.ScenarioSupport.SEC;
import static org.assertj.core.api.Assertions.assertThat;

import io.tern.sim.SeedRun;
import io.tern.sim.SimOptions;
import io.tern.sim.Workload;
import io.tern.sim.check.History;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The same seed gives the same run, event for event; different seeds give different runs. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DeterminismScenarioTest {

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {501, 502})
  void seedRunIsReproducible(long seed) {
    SeedRun.Result a = SeedRun.run(seed);
    SeedRun.Result b = SeedRun.run(seed);
    assertThat(a.ok()).as("%s", a).isTrue();
    assertThat(b.traceHash()).isEqualTo(a.traceHash());
    assertThat(b.events()).isEqualTo(a.events());
    assertThat(b.simNanos()).isEqualTo(a.simNanos());
    assertThat(b.operations()).isEqualTo(a.operations());
    assertThat(b.acknowledged()).isEqualTo(a.acknowledged());
    assertThat(a.events()).as("a run that did something").isGreaterThan(1_000);

    SeedRun.Result other = SeedRun.run(seed + 1000);
    assertThat(other.traceHash()).isNotEqualTo(a.traceHash());
  }

  /** A scenario with faults and clients, run twice: same trace hash, events, history. */
  @Test
  void scenarioWithFaultsIsReproducible() {
    List<String> first = runScenario(601);
    List<String> again = runScenario(601);
    List<String> other = runScenario(602);
    assertThat(again).isEqualTo(first);
    assertThat(other.get(0)).isNotEqualTo(first.get(0));
  }

  /** Trace hash, event count, history and final state of one faulty run. */
  private static List<String> runScenario(long seed) {
    ScenarioSupport s =
        ScenarioSupport.start(
            seed, SimOptions.defaults().withSize(5).withNetwork(100_000, 5_000_000, 0.05, 0.02));
    History history = new History();
    Workload workload =
        new Workload(s.cluster, history, Workload.Settings.defaults().withClients(3, 3));
    workload.start();
    for (int i = 0; i < 10; i++) {
      s.run(100 * MS + s.random.nextLong(100 * MS));
      long victim = s.pick(new ArrayList<>(s.cluster.ids()));
      if (s.cluster.isUp(victim)) {
        s.cluster.crash(victim);
      } else {
        s.cluster.start(victim);
      }
    }
    s.cluster.healAll();
    workload.drain();
    s.awaitConverged(5 * SEC);
    List<String> out = new ArrayList<>();
    out.add(Long.toHexString(s.sim.traceHash()));
    out.add(Long.toString(s.sim.eventsRun()));
    out.add(history.dump());
    out.add(Long.toHexString(s.sm(1).digest()));
    return out;
  }
}
