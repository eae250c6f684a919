package io.tern.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.tern.raft.core.Message;
import io.tern.raft.core.RaftConfig;
import io.tern.raft.node.NodeOptions;
import io.tern.raft.node.RaftNode;
import io.tern.raft.node.Transport;
import io.tern.sim.disk.SimDisk;
import io.tern.sim.disk.SimSnapshotStore;
import io.tern.sim.kv.KvStateMachine;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** A member whose transport cannot start stops visibly instead of sitting silent. */
class NodeStartFailureTest {
  @Test
  void transportThatCannotStartStopsTheMemberWithAFailure() {
    Simulation sim = new Simulation(7);
    Transport broken =
        new Transport() {
          @Override
          public void start(Consumer<Message> inbound) {
            throw new IllegalStateException("address already in use");
          }

          @Override
          public void send(List<Message> messages) {}

          @Override
          public void close() {}
        };
    NodeOptions options =
        NodeOptions.builder(RaftConfig.builder(1).random(sim.forkRandom()).build())
            .initialVoters(Set.of(1L))
            .build();
    RaftNode node =
        RaftNode.start(
            options,
            new SimDisk(sim, 1).open(),
            new SimSnapshotStore(sim, 1).open(),
            broken,
            new KvStateMachine(),
            new SimNodeScheduler(sim, 1));
    sim.runFor(1_000_000);

    assertThat(node.failure())
        .isNotNull()
        .hasMessageContaining("transport failed to start")
        .hasRootCauseMessage("address already in use");
    CompletableFuture<Object> put = node.propose(new byte[] {1});
    sim.runFor(1_000_000);
    assertThat(put).isCompletedExceptionally();
  }
}
