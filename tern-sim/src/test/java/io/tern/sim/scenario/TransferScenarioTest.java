package io.tern.sim.scenario;

import static io.tern.sim.scenario.ScenarioSupport.MS;
import static io.tern.sim.scenario.ScenarioSupport.SEC;
import static org.assertj.core.api.Assertions.assertThat;

import io.tern.raft.RequestTimeoutException;
import io.tern.raft.core.Role;
import io.tern.sim.SimOptions;
import io.tern.sim.Workload;
import io.tern.sim.check.History;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Leadership transfer (thesis 3.10) through the real driver, under load and under faults. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TransferScenarioTest {

  @ParameterizedTest
  @ValueSource(longs = {301, 302, 303})
  void transferUnderLoadHandsOverWithoutLosingWrites(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed, SimOptions.defaults().withSize(5));
    long leader = s.awaitLeader();
    History history = new History();
    Workload workload =
        new Workload(
            s.cluster,
            history,
            Workload.Settings.defaults().withClients(6, 4).withTimeout(500 * MS));
    workload.start();
    s.run(300 * MS);

    long target = s.others(leader).get(0);
    long termBefore = s.term(leader);
    CompletableFuture<Long> done = s.cluster.node(leader).transferLeadership(target);
    assertThat(s.runUntil(done::isDone, 2 * SEC)).isTrue();
    assertThat(done.join()).isEqualTo(target);
    assertThat(s.role(target)).isEqualTo(Role.LEADER);
    assertThat(s.term(target)).isEqualTo(termBefore + 1);

    // The most up-to-date member, chosen by the leader itself.
    CompletableFuture<Long> again = s.cluster.node(target).transferLeadership(0);
    assertThat(s.runUntil(again::isDone, 2 * SEC)).isTrue();
    assertThat(again.join()).isNotEqualTo(target);

    s.run(300 * MS);
    workload.drain();
    s.awaitConverged(5 * SEC);
    assertThat(workload.acknowledged()).isGreaterThan(100);
    s.finalChecks(history);
  }

  @ParameterizedTest
  @ValueSource(longs = {311, 312, 313})
  void transferToAPartitionedTargetIsAbandonedAndTheLeaderKeepsLeading(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    long leader = s.awaitLeader();
    long target = s.others(leader).get(0);
    s.cluster.network().isolate(target);
    long term = s.term(leader);

    CompletableFuture<Long> done = s.cluster.node(leader).transferLeadership(target);
    assertThat(s.runUntil(done::isDone, 3 * s.electionTimeout())).isTrue();
    assertThat(done)
        .failsWithin(java.time.Duration.ZERO)
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .withCauseInstanceOf(RequestTimeoutException.class);
    assertThat(s.role(leader)).isEqualTo(Role.LEADER);
    assertThat(s.term(leader)).isEqualTo(term);

    // Proposals are taken again once the transfer is given up.
    s.one(s.freshPut(), 2);
    s.cluster.network().heal();
    s.one(s.freshPut(), 3, true);
  }

  @ParameterizedTest
  @ValueSource(longs = {321, 322})
  void proposalsDuringATransferFailFastWithTheTargetAsHint(long seed) {
    ScenarioSupport s = ScenarioSupport.start(seed);
    long leader = s.awaitLeader();
    long target = s.others(leader).get(0);
    s.cluster.network().cutBoth(leader, target);
    s.cluster.node(leader).transferLeadership(target);
    s.run(MS);

    CompletableFuture<Object> p = s.propose(leader, s.freshPut());
    s.runUntil(p::isDone, 10 * MS);
    assertThat(p).isCompletedExceptionally();
    Throwable cause =
        p.handle((v, e) -> e instanceof CompletionException ? e.getCause() : e).join();
    assertThat(cause)
        .isInstanceOfSatisfying(
            io.tern.raft.NotLeaderException.class,
            e -> assertThat(e.leaderHint()).isEqualTo(target));
  }
}
