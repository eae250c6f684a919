package io.tern.embed;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.NotLeaderException;
import io.tern.raft.ProposalDroppedException;
import io.tern.raft.node.ReadMode;
import io.tern.transport.TransportException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** In-process members on loopback, over the real stores and transport. */
class RaftServerTest {
  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final InetSocketAddress ANY_PORT =
      new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

  @TempDir Path dir;

  private final List<RaftServer> servers = new ArrayList<>();

  @AfterEach
  void closeAll() {
    servers.forEach(RaftServer::close);
  }

  private RaftServerOptions.Builder options(long id, Map<Long, InetSocketAddress> voters) {
    return RaftServerOptions.builder(id)
        .dataDir(dir.resolve("member-" + id))
        .raftAddress(ANY_PORT)
        .initialVoters(voters)
        .tickMillis(50);
  }

  private RaftServer start(RaftServerOptions options, ListStateMachine sm) {
    RaftServer s = RaftServer.start(options, sm);
    servers.add(s);
    return s;
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  private static <T> T get(java.util.concurrent.CompletableFuture<T> f) throws Exception {
    return f.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
  }

  @Test
  void threeMembersOnAnyPortLearnEachOthersAddressesAndReplicate() throws Exception {
    // Ports are picked by the OS; the addresses given at start are placeholders nobody listens on.
    Map<Long, InetSocketAddress> placeholders = new TreeMap<>();
    for (long id = 1; id <= 3; id++) {
      placeholders.put(id, new InetSocketAddress(InetAddress.getLoopbackAddress(), 1));
    }
    List<ListStateMachine> machines = new ArrayList<>();
    for (long id = 1; id <= 3; id++) {
      ListStateMachine sm = new ListStateMachine();
      machines.add(sm);
      start(options(id, placeholders).build(), sm);
    }
    for (RaftServer s : servers) {
      assertThat(s.raftAddress().getPort()).isPositive();
      for (RaftServer other : servers) {
        s.setPeerAddress(other.id(), other.raftAddress()); // ignored for itself
      }
    }
    await("a leader", () -> servers.stream().anyMatch(RaftServer::isLeader));
    RaftServer leader = servers.stream().filter(RaftServer::isLeader).findFirst().orElseThrow();
    RaftServer follower = servers.stream().filter(s -> s != leader).findFirst().orElseThrow();
    await("the follower to know the leader", () -> follower.leader() == leader.id());

    assertThat(get(leader.propose("a".getBytes(UTF_8)))).isEqualTo(1);
    assertThat(get(follower.propose("b".getBytes(UTF_8)))).isEqualTo(2);
    for (int i = 0; i < servers.size(); i++) {
      ListStateMachine sm = machines.get(i);
      assertThat(get(servers.get(i).read(ReadMode.READ_INDEX, sm::items)))
          .containsExactly("a", "b");
    }

    ServerStatus ls = get(leader.status());
    assertThat(ls.isLeader()).isTrue();
    assertThat(ls.leader()).isEqualTo(leader.id());
    assertThat(ls.matchIndex()).containsOnlyKeys(1L, 2L, 3L);
    assertThat(ls.appliedIndex()).isEqualTo(ls.commitIndex());
    long snap = get(leader.snapshot());
    assertThat(snap).isEqualTo(ls.appliedIndex());

    // Membership changes go to the leader.
    assertThatThrownBy(() -> get(follower.removeMember(leader.id())))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(NotLeaderException.class);
    // Adding a member that already is one is refused before it enters the log.
    assertThatThrownBy(() -> get(leader.addMember(follower.id(), follower.raftAddress(), true)))
        .cause()
        .isInstanceOf(ProposalDroppedException.class);

    long target = follower.id();
    assertThat(get(leader.transferLeadership(target))).isEqualTo(target);
    await("the new leader", follower::isLeader);
    assertThat(get(leader.propose("c".getBytes(UTF_8)))).isEqualTo(3);
  }

  @Test
  void onlyALeaderWithALeaseAnswersReadsOnTheCallingThread() throws Exception {
    Map<Long, InetSocketAddress> placeholders = new TreeMap<>();
    for (long id = 1; id <= 3; id++) {
      placeholders.put(id, new InetSocketAddress(InetAddress.getLoopbackAddress(), 1));
    }
    Map<Long, ListStateMachine> machines = new TreeMap<>();
    for (long id = 1; id <= 3; id++) {
      ListStateMachine sm = new ListStateMachine();
      machines.put(id, sm);
      start(options(id, placeholders).leaseRead(true).build(), sm);
    }
    for (RaftServer s : servers) {
      for (RaftServer other : servers) {
        s.setPeerAddress(other.id(), other.raftAddress());
      }
    }
    await("a leader", () -> servers.stream().anyMatch(RaftServer::isLeader));
    RaftServer leader = servers.stream().filter(RaftServer::isLeader).findFirst().orElseThrow();
    get(leader.propose("a".getBytes(UTF_8)));
    get(leader.propose("b".getBytes(UTF_8)));
    ListStateMachine leaderSm = machines.get(leader.id());
    await("a lease read at the leader", () -> leader.tryLeaseRead(leaderSm::items).isPresent());
    assertThat(leader.tryLeaseRead(leaderSm::items)).contains(List.of("a", "b"));
    for (RaftServer s : servers) {
      if (s != leader) {
        assertThat(s.tryLeaseRead(machines.get(s.id())::items)).as("at a follower").isEmpty();
      }
    }

    // Handing leadership over ends the old leader's lease reads before the new leader leads.
    RaftServer next = servers.stream().filter(s -> s != leader).findFirst().orElseThrow();
    assertThat(get(leader.transferLeadership(next.id()))).isEqualTo(next.id());
    assertThat(leader.tryLeaseRead(leaderSm::items)).as("after the handover").isEmpty();
    get(next.propose("c".getBytes(UTF_8)));
    ListStateMachine nextSm = machines.get(next.id());
    await("a lease read at the new leader", () -> next.tryLeaseRead(nextSm::items).isPresent());
    assertThat(next.tryLeaseRead(nextSm::items)).contains(List.of("a", "b", "c"));

    next.close();
    assertThat(next.tryLeaseRead(nextSm::items)).as("once closed").isEmpty();
  }

  @Test
  void withoutLeaseReadsEvenASoleLeaderAnswersNoReadOnTheCallingThread() throws Exception {
    ListStateMachine sm = new ListStateMachine();
    RaftServer s = start(options(1, Map.of(1L, ANY_PORT)).build(), sm);
    await("leadership", s::isLeader);
    get(s.propose("a".getBytes(UTF_8)));
    assertThat(get(s.read(ReadMode.LEASE, sm::items))).containsExactly("a");
    assertThat(s.tryLeaseRead(sm::items)).isEmpty();
  }

  @Test
  void restartRecoversFromTheDataDirectory() throws Exception {
    RaftServerOptions o = options(1, Map.of(1L, ANY_PORT)).build();
    RaftServer s = start(o, new ListStateMachine());
    await("leadership", s::isLeader);
    for (int i = 0; i < 20; i++) {
      get(s.propose(("x" + i).getBytes(UTF_8)));
    }
    get(s.snapshot());
    get(s.propose("after-snapshot".getBytes(UTF_8)));
    s.close();

    ListStateMachine sm = new ListStateMachine();
    RaftServer again = start(o, sm);
    await("leadership", again::isLeader);
    List<String> items = get(again.read(ReadMode.READ_INDEX, sm::items));
    assertThat(items).hasSize(21).startsWith("x0", "x1").endsWith("after-snapshot");
  }

  @Test
  void closeIsIdempotentAndLaterRequestsFail() throws Exception {
    RaftServer s = start(options(1, Map.of(1L, ANY_PORT)).build(), new ListStateMachine());
    await("leadership", s::isLeader);
    s.close();
    s.close();
    assertThatThrownBy(() -> get(s.propose(new byte[] {1})))
        .cause()
        .isInstanceOf(ServerClosedException.class);
    assertThatThrownBy(() -> get(s.status())).cause().isInstanceOf(ServerClosedException.class);
    assertThatThrownBy(() -> s.setPeerAddress(2, ANY_PORT))
        .isInstanceOf(ServerClosedException.class);
    assertThat(s.failure()).isEmpty();
  }

  @Test
  void oversizedCommandsAreRefused() throws Exception {
    RaftServer s = start(options(1, Map.of(1L, ANY_PORT)).build(), new ListStateMachine());
    byte[] big = new byte[s.options().transport().maxMessageBytes()];
    assertThatThrownBy(() -> get(s.propose(big)))
        .cause()
        .isInstanceOf(ProposalDroppedException.class)
        .hasMessageContaining("exceeds");
  }

  @Test
  void aBusyPortFailsTheStartAndReleasesTheDataDirectory() throws Exception {
    try (ServerSocket busy = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      InetSocketAddress taken = new InetSocketAddress(busy.getInetAddress(), busy.getLocalPort());
      RaftServerOptions o = options(1, Map.of(1L, taken)).raftAddress(taken).build();
      assertThatThrownBy(() -> RaftServer.start(o, new ListStateMachine()))
          .isInstanceOf(RaftServerException.class)
          .hasMessageContaining("member 1 cannot start")
          .hasCauseInstanceOf(TransportException.class);
    }
    // The stores were closed again: the same directory opens.
    RaftServer s = start(options(1, Map.of(1L, ANY_PORT)).build(), new ListStateMachine());
    await("leadership", s::isLeader);
  }
}
