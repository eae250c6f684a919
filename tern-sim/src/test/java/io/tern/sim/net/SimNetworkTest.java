package io.tern.sim.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.Message;
import io.tern.raft.core.MessageType;
import io.tern.raft.node.Transport;
import io.tern.sim.Simulation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SimNetworkTest {

  /** Received messages per node, with their delivery time. */
  private final Map<Long, List<Received>> inbox = new TreeMap<>();

  private record Received(long time, Message message) {}

  private Transport start(Simulation sim, SimNetwork net, long id) {
    Transport t = net.endpoint(id);
    List<Received> box = new ArrayList<>();
    inbox.put(id, box);
    t.start(m -> box.add(new Received(sim.now(), m)));
    return t;
  }

  private static Message heartbeat(long from, long to, long round) {
    return Message.builder(MessageType.HEARTBEAT).from(from).to(to).term(1).context(round).build();
  }

  private List<Long> rounds(long node) {
    return inbox.get(node).stream().map(r -> r.message().context()).toList();
  }

  @Test
  void deliversInsideALaterEventWithLatencyWithinBounds() {
    Simulation sim = new Simulation(1);
    SimNetwork net = new SimNetwork(sim).latency(1_000, 5_000);
    Transport a = start(sim, net, 1);
    start(sim, net, 2);

    for (int i = 0; i < 100; i++) {
      a.send(List.of(heartbeat(1, 2, i)));
    }
    assertThat(inbox.get(2L)).as("send never delivers synchronously").isEmpty();
    sim.runFor(1_000_000);

    assertThat(inbox.get(2L)).hasSize(100);
    assertThat(inbox.get(2L)).allSatisfy(r -> assertThat(r.time()).isBetween(1_000L, 5_000L));
    assertThat(net.messagesDelivered()).isEqualTo(100);
    assertThat(net.messagesDropped()).isZero();
  }

  @Test
  void randomLatencyReordersAndFixedLatencyKeepsOrder() {
    Simulation sim = new Simulation(1);
    SimNetwork net = new SimNetwork(sim).latency(1_000, 100_000);
    Transport a = start(sim, net, 1);
    start(sim, net, 2);
    for (int i = 0; i < 50; i++) {
      a.send(List.of(heartbeat(1, 2, i)));
    }
    sim.runFor(1_000_000);
    assertThat(rounds(2)).hasSize(50).isNotEqualTo(rounds(2).stream().sorted().toList());

    inbox.get(2L).clear();
    net.latency(7_000, 7_000);
    long sentAt = sim.now();
    for (int i = 0; i < 50; i++) {
      a.send(List.of(heartbeat(1, 2, i)));
    }
    sim.runFor(1_000_000);
    assertThat(rounds(2)).isSorted().hasSize(50);
    assertThat(inbox.get(2L)).allSatisfy(r -> assertThat(r.time()).isEqualTo(sentAt + 7_000));
  }

  @Test
  void dropsWithTheConfiguredProbability() {
    Simulation sim = new Simulation(3);
    SimNetwork net = new SimNetwork(sim).dropProbability(0.3);
    Transport a = start(sim, net, 1);
    start(sim, net, 2);
    for (int i = 0; i < 2_000; i++) {
      a.send(List.of(heartbeat(1, 2, i)));
    }
    sim.runFor(1_000_000_000L);

    long received = inbox.get(2L).size();
    assertThat(received).isBetween(1_200L, 1_600L);
    assertThat(net.messagesDropped()).isEqualTo(2_000 - received);
    assertThat(net.messagesSent()).isEqualTo(2_000);

    net.dropProbability(1);
    a.send(List.of(heartbeat(1, 2, -1)));
    sim.runFor(1_000_000_000L);
    assertThat(inbox.get(2L)).hasSize((int) received);
  }

  @Test
  void duplicatesAreDeliveredTwiceWithIndependentLatency() {
    Simulation sim = new Simulation(4);
    SimNetwork net = new SimNetwork(sim).latency(1_000, 1_000_000).duplicateProbability(1);
    Transport a = start(sim, net, 1);
    start(sim, net, 2);
    for (int i = 0; i < 20; i++) {
      a.send(List.of(heartbeat(1, 2, i)));
    }
    sim.runFor(1_000_000_000L);

    assertThat(inbox.get(2L)).hasSize(40);
    Map<Long, List<Long>> timesByRound = new TreeMap<>();
    for (Received r : inbox.get(2L)) {
      timesByRound.computeIfAbsent(r.message().context(), k -> new ArrayList<>()).add(r.time());
    }
    assertThat(timesByRound).hasSize(20).allSatisfy((k, v) -> assertThat(v).hasSize(2));
    assertThat(timesByRound.values()).anySatisfy(v -> assertThat(v.get(0)).isNotEqualTo(v.get(1)));
    assertThat(net.messagesSent()).isEqualTo(20);
    assertThat(net.messagesDuplicated()).isEqualTo(20);
    assertThat(net.messagesDelivered()).isEqualTo(40);
  }

  @Test
  void oneWayCutDropsOnlyThatDirection() {
    Simulation sim = new Simulation(1);
    SimNetwork net = new SimNetwork(sim);
    Transport a = start(sim, net, 1);
    Transport b = start(sim, net, 2);
    net.cut(1, 2);

    assertThat(net.isConnected(1, 2)).isFalse();
    assertThat(net.isConnected(2, 1)).isTrue();
    a.send(List.of(heartbeat(1, 2, 1)));
    b.send(List.of(heartbeat(2, 1, 2)));
    sim.runFor(10_000_000);

    assertThat(inbox.get(2L)).isEmpty();
    assertThat(rounds(1)).containsExactly(2L);

    net.restore(1, 2);
    a.send(List.of(heartbeat(1, 2, 3)));
    sim.runFor(10_000_000);
    assertThat(rounds(2)).containsExactly(3L);
  }

  @Test
  void partitionCutsLinksBetweenSidesOnly() {
    Simulation sim = new Simulation(1);
    SimNetwork net = new SimNetwork(sim);
    List<Transport> ts = new ArrayList<>();
    for (long id = 1; id <= 5; id++) {
      ts.add(start(sim, net, id));
    }
    net.partition(Set.of(1L, 2L), Set.of(3L, 4L, 5L));

    assertThat(net.isConnected(1, 2)).isTrue();
    assertThat(net.isConnected(3, 5)).isTrue();
    for (long x : List.of(1L, 2L)) {
      for (long y : List.of(3L, 4L, 5L)) {
        assertThat(net.isConnected(x, y)).isFalse();
        assertThat(net.isConnected(y, x)).isFalse();
      }
    }
    broadcastFrom(ts, 5);
    sim.runFor(10_000_000);
    assertThat(inbox.get(1L)).isEmpty();
    assertThat(inbox.get(2L)).isEmpty();
    assertThat(inbox.get(3L)).hasSize(1);
    assertThat(inbox.get(4L)).hasSize(1);

    net.heal();
    broadcastFrom(ts, 5);
    sim.runFor(10_000_000);
    assertThat(inbox.get(1L)).hasSize(1);
    assertThat(net.isConnected(2, 4)).isTrue();
  }

  @Test
  void isolateCutsANodeOffIncludingFromNodesThatJoinLater() {
    Simulation sim = new Simulation(1);
    SimNetwork net = new SimNetwork(sim);
    Transport a = start(sim, net, 1);
    Transport b = start(sim, net, 2);
    net.isolate(1);
    Transport c = start(sim, net, 3);

    a.send(List.of(heartbeat(1, 2, 1), heartbeat(1, 3, 1)));
    b.send(List.of(heartbeat(2, 1, 2), heartbeat(2, 3, 2)));
    c.send(List.of(heartbeat(3, 1, 3)));
    sim.runFor(10_000_000);
    assertThat(inbox.get(1L)).isEmpty();
    assertThat(rounds(2)).isEmpty();
    assertThat(rounds(3)).containsExactly(2L);

    net.rejoin(1);
    assertThat(net.isConnected(1, 3)).isTrue();
    a.send(List.of(heartbeat(1, 2, 4)));
    sim.runFor(10_000_000);
    assertThat(rounds(2)).containsExactly(4L);
  }

  @Test
  void messageIsDroppedIfTheLinkIsCutWhenItArrives() {
    Simulation sim = new Simulation(1);
    SimNetwork net = new SimNetwork(sim).latency(1_000, 1_000);
    Transport a = start(sim, net, 1);
    start(sim, net, 2);

    a.send(List.of(heartbeat(1, 2, 1)));
    sim.runFor(500);
    net.cut(1, 2);
    sim.runFor(10_000);
    assertThat(inbox.get(2L)).isEmpty();

    // Cut at send time, healed before arrival: still lost.
    a.send(List.of(heartbeat(1, 2, 2)));
    net.heal();
    sim.runFor(10_000);
    assertThat(inbox.get(2L)).isEmpty();
    assertThat(net.messagesDropped()).isEqualTo(2);

    // Cut and healed while in flight: delivered.
    a.send(List.of(heartbeat(1, 2, 3)));
    sim.runFor(500);
    net.cut(1, 2);
    net.heal();
    sim.runFor(10_000);
    assertThat(rounds(2)).containsExactly(3L);
  }

  @Test
  void restartedNodeGetsAFreshEndpointAndTheOldOneIsDead() {
    Simulation sim = new Simulation(1);
    SimNetwork net = new SimNetwork(sim).latency(1_000, 1_000);
    Transport a = start(sim, net, 1);
    Transport oldB = start(sim, net, 2);
    List<Received> oldInbox = inbox.get(2L);

    a.send(List.of(heartbeat(1, 2, 1)));
    sim.runFor(500);
    // Node 2 restarts: a new endpoint, not started yet when the message arrives.
    Transport newB = net.endpoint(2);
    sim.runFor(10_000);
    assertThat(oldInbox).isEmpty();

    List<Received> newInbox = new ArrayList<>();
    newB.start(m -> newInbox.add(new Received(sim.now(), m)));
    a.send(List.of(heartbeat(1, 2, 2)));
    oldB.send(List.of(heartbeat(2, 1, 99))); // the dead incarnation can no longer send
    sim.runFor(10_000);
    assertThat(newInbox).extracting(r -> r.message().context()).containsExactly(2L);
    assertThat(oldInbox).isEmpty();
    assertThat(inbox.get(1L)).isEmpty();

    newB.close();
    a.send(List.of(heartbeat(1, 2, 3)));
    sim.runFor(10_000);
    assertThat(newInbox).hasSize(1);
    assertThat(net.nodes()).containsExactly(1L, 2L);
  }

  @Test
  void messagesToUnknownNodesAreDropped() {
    Simulation sim = new Simulation(1);
    SimNetwork net = new SimNetwork(sim);
    Transport a = start(sim, net, 1);
    a.send(List.of(heartbeat(1, 9, 1)));
    sim.runFor(10_000_000);
    assertThat(net.messagesDropped()).isEqualTo(1);
  }

  @Test
  void sendingAMessageFromAnotherNodeIsABug() {
    Simulation sim = new Simulation(1);
    SimNetwork net = new SimNetwork(sim);
    Transport a = start(sim, net, 1);
    assertThatThrownBy(() -> a.send(List.of(heartbeat(2, 1, 1))))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void receiverDoesNotShareTheSendersEntryList() {
    Simulation sim = new Simulation(1);
    SimNetwork net = new SimNetwork(sim);
    Transport a = start(sim, net, 1);
    start(sim, net, 2);
    List<Entry> entries = new ArrayList<>(List.of(entry(1, 1, 10)));
    a.send(List.of(Message.builder(MessageType.APPEND).from(1).to(2).entries(entries).build()));
    entries.clear();
    sim.runFor(10_000_000);
    assertThat(inbox.get(2L).get(0).message().entries()).hasSize(1);
  }

  @Test
  void countsMessagesAndPayloadBytesPerType() {
    Simulation sim = new Simulation(1);
    SimNetwork net = new SimNetwork(sim).dropProbability(1);
    Transport a = start(sim, net, 1);
    Message append =
        Message.builder(MessageType.APPEND)
            .from(1)
            .to(2)
            .entries(List.of(entry(1, 1, 10), entry(1, 2, 0)))
            .build();
    a.send(List.of(append, append, heartbeat(1, 2, 1)));
    a.send(List.of(Message.builder(MessageType.VOTE).from(1).to(3).build()));

    long appendBytes = 2 * Entry.OVERHEAD_BYTES + 10;
    assertThat(net.messagesSent()).as("dropped messages count as sent").isEqualTo(4);
    assertThat(net.bytesSent()).isEqualTo(2 * appendBytes);
    assertThat(net.countsByType())
        .containsExactly(
            Map.entry(MessageType.APPEND, 2L),
            Map.entry(MessageType.HEARTBEAT, 1L),
            Map.entry(MessageType.VOTE, 1L));
    assertThat(net.bytesByType()).containsEntry(MessageType.APPEND, 2 * appendBytes);
    assertThat(net.messagesDropped()).isEqualTo(4);

    net.reset();
    assertThat(net.messagesSent()).isZero();
    assertThat(net.bytesSent()).isZero();
    assertThat(net.countsByType()).isEmpty();
    assertThat(net.messagesDropped()).isZero();
  }

  @Test
  void presetsSetLossDuplicationAndLatency() {
    SimNetwork net = new SimNetwork(new Simulation(1)).unreliable();
    assertThat(net.dropProbability()).isPositive();
    assertThat(net.duplicateProbability()).isPositive();
    assertThat(net.maxLatency()).isGreaterThan(net.minLatency());
    net.reliable();
    assertThat(net.dropProbability()).isZero();
    assertThat(net.duplicateProbability()).isZero();
    assertThatThrownBy(() -> net.dropProbability(1.5)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> net.latency(5, 4)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void sameSeedGivesTheSameDeliveriesAndTraceHash() {
    assertThat(chatter(77)).isEqualTo(chatter(77));
    assertThat(chatter(77)).isNotEqualTo(chatter(78));
  }

  /** Three nodes exchanging messages over an unreliable network; returns hash and deliveries. */
  private static String chatter(long seed) {
    Simulation sim = new Simulation(seed);
    SimNetwork net = new SimNetwork(sim).unreliable();
    List<Transport> ts = new ArrayList<>();
    StringBuilder log = new StringBuilder();
    for (long id = 1; id <= 3; id++) {
      long self = id;
      Transport t = net.endpoint(id);
      ts.add(t);
      t.start(
          m -> {
            log.append(sim.now()).append(':').append(m).append('\n');
            if (m.context() < 30) {
              ts.get((int) self - 1).send(List.of(heartbeat(self, m.from(), m.context() + 1)));
            }
          });
    }
    ts.get(0).send(List.of(heartbeat(1, 2, 0), heartbeat(1, 3, 0)));
    sim.runFor(1_000_000_000L);
    return Long.toHexString(sim.traceHash()) + "\n" + log;
  }

  private void broadcastFrom(List<Transport> ts, long from) {
    List<Message> ms = new ArrayList<>();
    for (long to = 1; to <= ts.size(); to++) {
      if (to != from) {
        ms.add(heartbeat(from, to, 0));
      }
    }
    ts.get((int) from - 1).send(ms);
  }

  private static Entry entry(long term, long index, int size) {
    return new Entry(term, index, EntryType.NORMAL, 0, new byte[size]);
  }
}
