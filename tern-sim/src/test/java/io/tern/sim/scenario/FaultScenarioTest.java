package io.tern.sim.scenario;

import static io.tern.sim.scenario.ScenarioSupport.MS;
import static io.tern.sim.scenario.ScenarioSupport.SEC;
import static org.assertj.core.api.Assertions.assertThat;

import io.tern.sim.SimOptions;
import io.tern.sim.Workload;
import io.tern.sim.check.History;
import io.tern.sim.kv.KvCommand;
import io.tern.sim.net.SimNetwork;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Unreliable networks and churn: agreement and linearizability under lost, duplicated, late
 * messages.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FaultScenarioTest {

  private static SimOptions unreliable(int size) {
    return SimOptions.defaults().withSize(size).withNetwork(100_000, 5_000_000, 0.1, 0.05);
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {301, 302, 303})
  void unreliableAgreement(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed, unreliable(5));
    s.awaitLeader();
    List<KvCommand> cmds = new ArrayList<>();
    List<CompletableFuture<Object>> first = new ArrayList<>();
    List<CompletableFuture<Object>> latest = new ArrayList<>();
    List<Boolean> retried = new ArrayList<>();
    List<Long> ids = new ArrayList<>(s.cluster.ids());
    for (int iter = 0; iter < 30; iter++) {
      for (int j = 0; j < 4; j++) {
        KvCommand c = s.freshPut();
        CompletableFuture<Object> f = s.propose(s.pick(ids), c);
        cmds.add(c);
        first.add(f);
        latest.add(f);
        retried.add(false);
      }
      s.one(s.freshPut(), 1, true);
    }
    // Proposals that failed (a forwarded proposal lost, a timeout) are proposed again.
    long deadline = s.sim.now() + 20 * SEC;
    while (s.sim.now() < deadline) {
      boolean pending = false;
      for (int i = 0; i < cmds.size(); i++) {
        CompletableFuture<Object> f = latest.get(i);
        if (ScenarioSupport.succeeded(f) || s.appliedAnywhere(cmds.get(i))) {
          continue;
        }
        pending = true;
        long l = s.cluster.leader();
        if (f.isDone() && l != 0) {
          latest.set(i, s.propose(l, cmds.get(i)));
          retried.set(i, true);
        }
      }
      if (!pending) {
        break;
      }
      s.run(50 * MS);
    }
    s.one(s.freshPut(), 5, true);
    s.awaitConverged(5 * SEC);

    for (int i = 0; i < cmds.size(); i++) {
      for (long id : s.cluster.ids()) {
        int times = s.timesApplied(id, cmds.get(i));
        assertThat(times).as("%s applied at %d", cmds.get(i), id).isPositive();
        if (!retried.get(i)) {
          assertThat(times).as("%s applied at %d", cmds.get(i), id).isEqualTo(1);
        }
      }
    }
    for (long id : s.cluster.ids()) {
      assertThat(s.sm(id).appliedLog()).isEqualTo(s.sm(1).appliedLog());
    }
    assertThat(s.cluster.network().messagesDropped()).isPositive();
    assertThat(s.cluster.network().messagesDuplicated()).isPositive();
  }

  /**
   * Figure 8 over an unreliable network with long reorderings: leaders are cut off (not crashed)
   * while messages are lost, duplicated and delayed by up to several election timeouts.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {311, 312, 313})
  void figure8Unreliable(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed, unreliable(5));
    SimNetwork net = s.cluster.network();
    s.awaitLeader();
    s.one(s.freshPut(), 1, true);
    Set<Long> cut = new TreeSet<>();
    int cuts = 0;
    for (int iter = 0; iter < 300; iter++) {
      if (iter % 50 == 20) {
        net.latency(100_000, 4 * s.electionTimeout()); // long reorderings
      } else if (iter % 50 == 35) {
        net.latency(100_000, 5 * MS);
      }
      for (long id : s.leaders()) {
        s.propose(id, s.freshPut());
      }
      if (s.random.nextInt(10) == 0) {
        s.run(s.random.nextLong(5 * s.electionTimeout()));
      } else {
        s.run(s.random.nextLong(13 * MS));
      }
      long l = s.cluster.leader();
      if (l != 0 && !cut.contains(l) && s.random.nextBoolean()) {
        net.isolate(l);
        cut.add(l);
        cuts++;
      }
      if (s.cluster.ids().size() - cut.size() < 3) {
        long back = s.pick(new ArrayList<>(cut));
        net.rejoin(back);
        cut.remove(back);
      }
    }
    assertThat(cuts).as("leaders cut off").isGreaterThan(5);
    net.latency(100_000, 1_000_000).dropProbability(0).duplicateProbability(0);
    net.heal();
    s.one(s.freshPut(), 5, true);
    s.awaitConverged(5 * SEC);
    s.cluster.invariants().checkLogMatching();
    for (long id : s.cluster.ids()) {
      assertThat(s.sm(id).appliedLog()).isEqualTo(s.sm(1).appliedLog());
    }
  }

  /**
   * Clients run a mixed workload against random members while members crash, restart and get
   * partitioned at random. At the end: heal, converge, no acknowledged write lost, equal state,
   * linearizable history.
   */
  @ParameterizedTest(name = "seed {0}, unreliable={1}")
  @CsvSource({"321, false", "322, false", "323, true", "324, true"})
  void churn(long seed, boolean unreliableNetwork) {
    SimOptions options = unreliableNetwork ? unreliable(5) : SimOptions.defaults().withSize(5);
    ScenarioSupport s = ScenarioSupport.start(seed, options);
    History history = new History();
    Workload workload =
        new Workload(
            s.cluster,
            history,
            Workload.Settings.defaults().withClients(5, 3).withTimeout(300 * MS));
    workload.start();
    SimNetwork net = s.cluster.network();
    int crashes = 0;
    long until = s.sim.now() + 5 * SEC;
    while (s.sim.now() < until) {
      s.run(20 * MS + s.random.nextLong(200 * MS));
      List<Long> ids = new ArrayList<>(s.cluster.ids());
      List<Long> up = new ArrayList<>(s.cluster.upIds());
      List<Long> down = new ArrayList<>(ids);
      down.removeAll(up);
      int dice = s.random.nextInt(100);
      if (dice < 20 && !up.isEmpty()) {
        s.cluster.crash(s.pick(up));
        crashes++;
      } else if (dice < 50 && !down.isEmpty()) {
        s.cluster.start(s.pick(down));
      } else if (dice < 65) {
        net.isolate(s.pick(ids));
      } else if (dice < 80) {
        net.heal();
      } else if (dice < 90) {
        Set<Long> side = new TreeSet<>();
        for (long id : ids) {
          if (s.random.nextBoolean()) {
            side.add(id);
          }
        }
        Set<Long> other = new TreeSet<>(ids);
        other.removeAll(side);
        net.partition(side, other);
      } else {
        long leader = s.cluster.leader();
        if (leader != 0) {
          s.cluster.restart(leader);
        }
      }
    }
    assertThat(crashes).isPositive();
    s.cluster.healAll();
    s.run(SEC);
    workload.drain();
    assertThat(workload.idle()).isTrue();
    s.awaitConverged(10 * SEC);

    assertThat(workload.acknowledged()).as("operations acknowledged").isGreaterThan(50);
    s.finalChecks(history);
  }
}
