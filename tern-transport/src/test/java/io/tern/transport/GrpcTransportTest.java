package io.tern.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.Message;
import io.tern.raft.core.MessageType;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.tracker.Membership;
import io.tern.transport.proto.MessageBatch;
import io.tern.transport.proto.RaftTransportGrpc;
import io.tern.transport.proto.StreamAck;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GrpcTransportTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private static final TransportOptions FAST =
      TransportOptions.builder()
          .minBackoff(Duration.ofMillis(20))
          .maxBackoff(Duration.ofMillis(300))
          .eventLoopThreads(2)
          .build();

  private final List<GrpcTransport> transports = new ArrayList<>();

  @AfterEach
  void closeAll() {
    transports.forEach(GrpcTransport::close);
  }

  @Test
  void twoMembersExchangeMessagesInOrder() throws Exception {
    Member a = member(1, FAST);
    Member b = member(2, FAST);
    connect(a, b);

    for (int i = 1; i <= 500; i++) {
      a.transport.send(List.of(heartbeat(1, 2, i)));
      b.transport.send(List.of(heartbeat(2, 1, i), heartbeat(2, 1, -i)));
    }

    await("b hears 500 from a", () -> b.count(1) == 500);
    await("a hears 1000 from b", () -> a.count(2) == 1000);
    assertThat(b.contexts(1)).isEqualTo(range(1, 500));
    List<Long> expected = new ArrayList<>();
    for (long i = 1; i <= 500; i++) {
      expected.add(i);
      expected.add(-i);
    }
    assertThat(a.contexts(2)).isEqualTo(expected);
    assertThat(a.transport.stats().messagesSent()).isEqualTo(500);
    assertThat(b.transport.stats().messagesReceived()).isEqualTo(500);
    assertThat(a.transport.peerStats(2).orElseThrow().connected()).isTrue();
  }

  /**
   * Regression (chaos seed 2): a member restarted with a configuration older than the leader's own
   * membership had no address for it and dropped every answer, so it never caught up. A stream now
   * names its sender and where it listens; an unknown sender's address is learned from it, a known
   * one is never replaced.
   */
  @Test
  void aMemberLearnsTheAddressOfAnUnknownSenderFromItsStream() throws Exception {
    Member a = member(1, FAST);
    Member b = member(2, FAST);
    Member c = member(3, FAST);
    a.transport.setPeer(2, b.transport.localAddress());
    c.transport.setPeer(2, b.transport.localAddress());
    InetSocketAddress wrongForC = new InetSocketAddress("127.0.0.1", freePort());
    b.transport.setPeer(3, wrongForC);
    assertThat(b.transport.peers()).doesNotContainKey(1L);

    a.transport.send(List.of(heartbeat(1, 2, 7)));
    c.transport.send(List.of(heartbeat(3, 2, 8)));
    await("b hears a", () -> b.count(1) == 1);
    await("b hears c", () -> b.count(3) == 1);
    assertThat(b.transport.peers())
        .containsEntry(1L, a.transport.localAddress())
        .containsEntry(3L, wrongForC);
    b.transport.send(List.of(heartbeat(2, 1, 9)));
    await("a hears b's answer", () -> a.count(2) == 1);
    assertThat(a.contexts(2)).containsExactly(9L);
  }

  @Test
  void senderAddressesMustBeLiteralIpAndPort() {
    assertThat(GrpcTransport.parseLiteral("127.0.0.1:2380"))
        .isEqualTo(new InetSocketAddress("127.0.0.1", 2380));
    assertThat(GrpcTransport.parseLiteral("[::1]:2380").getPort()).isEqualTo(2380);
    for (String bad :
        List.of(
            "localhost:2380",
            "cafe.be:2380",
            "127.0.0.1",
            "127.0.0.1:",
            "127.0.0.1:0",
            "1.2.3.4:x",
            ":1")) {
      assertThatThrownBy(() -> GrpcTransport.parseLiteral(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void threeMembersInAFullMeshKeepPerPeerOrder() throws Exception {
    Member[] m = {member(1, FAST), member(2, FAST), member(3, FAST)};
    connect(m);
    int n = 300;

    for (int i = 1; i <= n; i++) {
      for (Member from : m) {
        List<Message> out = new ArrayList<>();
        for (Member to : m) {
          if (to != from) {
            out.add(append(from.id, to.id, i, 16));
          }
        }
        from.transport.send(out);
      }
    }

    for (Member to : m) {
      for (Member from : m) {
        if (from != to) {
          await(to.id + " hears all of " + from.id, () -> to.count(from.id) == n);
          assertThat(to.indexes(from.id)).isEqualTo(range(1, n));
        }
      }
    }
  }

  @Test
  void deadPeerDoesNotBlockALiveOneAndItsQueueStaysBounded() throws Exception {
    TransportOptions small =
        FAST.toBuilder()
            .maxQueuedMessages(100)
            .maxQueuedBytes(1 << 20)
            .maxQueuedSnapshotMessages(64)
            .maxQueuedSnapshotBytes(64 << 10)
            .build();
    Member a = member(1, small);
    Member b = member(2, FAST);
    connect(a, b);
    a.transport.setPeer(3, new InetSocketAddress("127.0.0.1", freePort()));

    long sendNanos = 0;
    for (int burst = 0; burst < 20; burst++) {
      List<Message> out = new ArrayList<>();
      for (int i = 1; i <= 100; i++) {
        long round = burst * 100L + i;
        out.add(heartbeat(1, 3, round));
        out.add(heartbeat(1, 2, round));
      }
      out.add(chunk(1, 3, burst, 16 << 10));
      long start = System.nanoTime();
      a.transport.send(out);
      sendNanos += System.nanoTime() - start;
      int expected = (burst + 1) * 100;
      await("b hears burst " + burst, () -> b.count(1) == expected);
    }

    assertThat(b.contexts(1)).isEqualTo(range(1, 2000));
    await("a gives up on 3 at least once", () -> a.transport.stats().streamFailures() > 0);
    PeerStats dead = a.transport.peerStats(3).orElseThrow();
    assertThat(dead.connected()).isFalse();
    assertThat(dead.queuedMessages()).isEqualTo(100);
    assertThat(dead.queuedSnapshotBytes()).isBetween(1L, 64L << 10);
    assertThat(dead.droppedQueueFull()).isGreaterThanOrEqualTo(2000 - 100 + 20 - 4);
    assertThat(a.transport.stats().droppedQueueFull()).isEqualTo(dead.droppedQueueFull());
    assertThat(a.transport.peerStats(2).orElseThrow().droppedQueueFull()).isZero();
    assertThat(TimeUnit.NANOSECONDS.toMillis(sendNanos))
        .as("send never waits for the network")
        .isLessThan(2_000);
  }

  @Test
  void reconnectsAfterThePeerRestarts() throws Exception {
    Member a = member(1, FAST);
    Member b = member(2, FAST);
    connect(a, b);
    for (int i = 1; i <= 10; i++) {
      a.transport.send(List.of(heartbeat(1, 2, i)));
    }
    await("b hears a", () -> b.count(1) == 10);
    int port = b.transport.localAddress().getPort();

    b.transport.close();
    await("a notices", () -> !a.transport.peerStats(2).orElseThrow().connected());
    // Raft keeps sending while the peer is down; these are dropped or delayed, never block.
    for (int i = 11; i <= 20; i++) {
      a.transport.send(List.of(heartbeat(1, 2, i)));
    }
    Member b2 = member(2, FAST, new InetSocketAddress("127.0.0.1", port));

    long[] next = {21};
    await(
        "a reaches the restarted b",
        () -> {
          a.transport.send(List.of(heartbeat(1, 2, next[0]++)));
          return b2.count(1) > 0;
        });
    long first = next[0];
    for (long i = first; i < first + 100; i++) {
      a.transport.send(List.of(heartbeat(1, 2, i)));
    }
    await("b2 hears the rest", () -> b2.contexts(1).contains(first + 99));
    List<Long> got = b2.contexts(1);
    assertThat(got).isSorted().doesNotHaveDuplicates().containsAll(range(first, first + 99));
    assertThat(a.transport.stats().streamFailures()).isPositive();
    assertThat(a.transport.peerStats(2).orElseThrow().connected()).isTrue();
  }

  @Test
  void snapshotChunksUseTheirOwnStreamAndDoNotHoldUpOtherMessages() throws Exception {
    TransportOptions opts = FAST.toBuilder().callbackThreads(4).build();
    Member a = member(1, opts);
    CountDownLatch release = new CountDownLatch(1);
    ConcurrentLinkedQueue<Message> chunks = new ConcurrentLinkedQueue<>();
    Member b =
        member(
            2,
            opts,
            loopback(),
            m -> {
              if (m.type() == MessageType.SNAPSHOT_CHUNK) {
                // A receiver stuck on a chunk stalls only the snapshot stream.
                awaitLatch(release);
                chunks.add(m);
              }
            });
    connect(a, b);
    int n = 8;
    List<Message> sent = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        Message c = chunk(1, 2, i, 1 << 20);
        sent.add(c);
        a.transport.send(List.of(c));
      }
      for (int i = 1; i <= 200; i++) {
        a.transport.send(List.of(heartbeat(1, 2, i)));
      }

      await("heartbeats arrive past the stalled snapshot", () -> b.count(1) == 200);
      assertThat(b.contexts(1)).isEqualTo(range(1, 200));
      assertThat(chunks).isEmpty();
    } finally {
      release.countDown();
    }

    await("every chunk arrives", () -> chunks.size() == n);
    List<Message> got = new ArrayList<>(chunks);
    for (int i = 0; i < n; i++) {
      MessageCodecTest.assertSame(got.get(i), sent.get(i));
      CRC32C crc = new CRC32C();
      crc.update(got.get(i).data());
      assertThat(crc.getValue()).isEqualTo(got.get(i).checksum());
    }
    assertThat(b.transport.stats().snapshotMessagesReceived()).isEqualTo(n);
    assertThat(b.transport.stats().messagesReceived()).isEqualTo(200);
    PeerStats toB = a.transport.peerStats(2).orElseThrow();
    assertThat(toB.sentSnapshotMessages()).isEqualTo(n);
    assertThat(toB.sentMessages()).isEqualTo(200);

    // And the acknowledgements go back on b's snapshot stream to a.
    b.transport.send(
        List.of(Message.builder(MessageType.SNAPSHOT_CHUNK_ACK).from(2).to(1).build()));
    await("ack arrives", () -> a.transport.stats().snapshotMessagesReceived() == 1);
  }

  @Test
  void oversizeMessagesAreDroppedAndCountedAndBatchesAreCut() throws Exception {
    TransportOptions limited =
        FAST.toBuilder().maxMessageBytes(64 << 10).maxBatchBytes(64 << 10).build();
    Member a = member(1, limited);
    Member b = member(2, limited);
    connect(a, b);

    // Payload alone over the limit: refused in send().
    a.transport.send(List.of(append(1, 2, 1, 100 << 10)));
    // Payload under the limit, encoding over it: refused when batched.
    a.transport.send(List.of(chunk(1, 2, 0, (64 << 10) - 4)));
    // Many messages that fit only a few to a batch.
    for (int i = 2; i <= 21; i++) {
      a.transport.send(List.of(append(1, 2, i, 20 << 10)));
    }
    a.transport.send(List.of(heartbeat(1, 2, 7)));

    await("the rest arrives", () -> b.count(1) == 21);
    assertThat(b.indexes(1).subList(0, 20)).isEqualTo(range(2, 21));
    assertThat(a.transport.stats().droppedOversize()).isEqualTo(2);
    assertThat(a.transport.stats().batchesSent()).isGreaterThanOrEqualTo(7);
    assertThat(a.transport.stats().streamFailures()).isZero();
  }

  @Test
  void aPeerWithASmallerLimitRejectsTheBatchAndTheStreamRecovers() throws Exception {
    Member a = member(1, FAST);
    Member b =
        member(2, FAST.toBuilder().maxMessageBytes(64 << 10).maxBatchBytes(64 << 10).build());
    connect(a, b);

    a.transport.send(List.of(append(1, 2, 1, 200 << 10)));
    await("the stream fails", () -> a.transport.stats().streamFailures() > 0);
    long[] next = {2};
    await(
        "later messages flow",
        () -> {
          a.transport.send(List.of(heartbeat(1, 2, next[0]++)));
          return b.count(1) > 0;
        });
    assertThat(b.indexes(1)).doesNotContain(1L);
  }

  @Test
  void peersCanBeMovedAndRemoved() throws Exception {
    Member a = member(1, FAST);
    Member b = member(2, FAST);
    Member c = member(2, FAST); // the same member id, started elsewhere
    connect(a, b);
    a.transport.send(List.of(heartbeat(1, 2, 1)));
    await("b hears a", () -> b.count(1) == 1);

    a.transport.setPeer(2, c.transport.localAddress());
    assertThat(a.transport.peers()).containsEntry(2L, c.transport.localAddress());
    for (int i = 2; i <= 50; i++) {
      a.transport.send(List.of(heartbeat(1, 2, i)));
    }
    await("c hears a", () -> c.count(1) == 49);
    assertThat(c.contexts(1)).isEqualTo(range(2, 50));
    assertThat(b.count(1)).isEqualTo(1);

    a.transport.removePeer(2);
    a.transport.send(List.of(heartbeat(1, 2, 51)));
    assertThat(a.transport.stats().droppedUnknownPeer()).isEqualTo(1);
    assertThat(a.transport.peerStats(2)).isEmpty();
    assertThat(a.transport.peers()).isEmpty();
  }

  @Test
  void misaddressedAndMalformedInboundMessagesAreDropped() throws Exception {
    Member a = member(1, FAST);
    Member b = member(2, FAST);
    a.transport.setPeer(3, b.transport.localAddress()); // a stale address book
    a.transport.send(List.of(heartbeat(1, 3, 1)));
    await("b drops it", () -> b.transport.stats().droppedMisaddressed() == 1);

    ManagedChannel raw =
        NettyChannelBuilder.forAddress(b.transport.localAddress()).usePlaintext().build();
    try {
      CountDownLatch done = new CountDownLatch(1);
      StreamObserver<MessageBatch> out =
          RaftTransportGrpc.newStub(raw).stream(
              new StreamObserver<StreamAck>() {
                @Override
                public void onNext(StreamAck value) {}

                @Override
                public void onError(Throwable t) {
                  done.countDown();
                }

                @Override
                public void onCompleted() {
                  done.countDown();
                }
              });
      out.onNext(
          MessageBatch.newBuilder()
              .addMessages(io.tern.transport.proto.RaftMessage.newBuilder().setTo(2).setFrom(9))
              .addMessages(MessageCodec.toProto(heartbeat(9, 2, 5)))
              .build());
      out.onCompleted();
      assertThat(done.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    } finally {
      raw.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    await("the valid one is delivered", () -> b.count(9) == 1);
    assertThat(b.transport.stats().droppedMalformed()).isEqualTo(1);
  }

  @Test
  void lifecycleMisuseThrowsAndCloseLeavesNoThreads() throws Exception {
    GrpcTransport t = new GrpcTransport(901, loopback(), Map.of(902L, loopback()), FAST);
    assertThatThrownBy(() -> t.send(List.of(heartbeat(901, 902, 1))))
        .isInstanceOf(IllegalStateException.class);
    t.start(m -> {});
    assertThatThrownBy(() -> t.start(m -> {})).isInstanceOf(IllegalStateException.class);
    GrpcTransport clash = new GrpcTransport(903, t.localAddress(), Map.of(), FAST);
    assertThatThrownBy(() -> clash.start(m -> {}))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("cannot listen");

    GrpcTransport peer = new GrpcTransport(902, loopback(), Map.of(901L, t.localAddress()), FAST);
    ConcurrentLinkedQueue<Message> got = new ConcurrentLinkedQueue<>();
    peer.start(got::add);
    t.setPeer(902, peer.localAddress());
    t.send(List.of(heartbeat(901, 902, 1), chunk(901, 902, 0, 1000)));
    await("both arrive", () -> got.size() == 2);

    t.close();
    peer.close();
    t.close(); // idempotent
    t.send(List.of(heartbeat(901, 902, 2))); // dropped quietly
    await(
        "transport threads end",
        () ->
            Thread.getAllStackTraces().keySet().stream()
                .noneMatch(
                    th ->
                        th.isAlive()
                            && (th.getName().startsWith("tern-transport-901-")
                                || th.getName().startsWith("tern-transport-902-")
                                || th.getName().startsWith("tern-transport-903-"))));
  }

  // ---- helpers ----

  private Member member(long id, TransportOptions options) {
    return member(id, options, loopback());
  }

  private Member member(long id, TransportOptions options, InetSocketAddress listen) {
    return member(id, options, listen, m -> {});
  }

  private Member member(
      long id, TransportOptions options, InetSocketAddress listen, Consumer<Message> tap) {
    GrpcTransport t = new GrpcTransport(id, listen, Map.of(), options);
    transports.add(t);
    Member member = new Member(id, t);
    t.start(
        m -> {
          tap.accept(m);
          member.inbox.add(m);
        });
    return member;
  }

  private static void connect(Member... members) {
    Map<Long, InetSocketAddress> book = new HashMap<>();
    for (Member m : members) {
      book.put(m.id, m.transport.localAddress());
    }
    for (Member m : members) {
      book.forEach(m.transport::setPeer);
    }
  }

  private static final class Member {
    final long id;
    final GrpcTransport transport;
    final ConcurrentLinkedQueue<Message> inbox = new ConcurrentLinkedQueue<>();

    Member(long id, GrpcTransport transport) {
      this.id = id;
      this.transport = transport;
    }

    List<Message> from(long from, Predicate<Message> filter) {
      return inbox.stream().filter(m -> m.from() == from && filter.test(m)).toList();
    }

    int count(long from) {
      return from(from, m -> m.type() != MessageType.SNAPSHOT_CHUNK).size();
    }

    List<Long> contexts(long from) {
      return from(from, m -> m.type() == MessageType.HEARTBEAT).stream()
          .map(Message::context)
          .toList();
    }

    List<Long> indexes(long from) {
      return from(from, m -> true).stream().map(Message::index).toList();
    }
  }

  private static Message heartbeat(long from, long to, long round) {
    return Message.builder(MessageType.HEARTBEAT)
        .from(from)
        .to(to)
        .term(3)
        .commit(10)
        .index(round)
        .context(round)
        .build();
  }

  private static Message append(long from, long to, long seq, int entryBytes) {
    return Message.builder(MessageType.APPEND)
        .from(from)
        .to(to)
        .term(3)
        .index(seq)
        .logTerm(3)
        .commit(seq)
        .entries(
            List.of(
                new Entry(
                    3, seq + 1, EntryType.NORMAL, seq, MessageCodecTest.bytes(entryBytes, seq))))
        .build();
  }

  private static Message chunk(long from, long to, int i, int bytes) {
    byte[] data = MessageCodecTest.bytes(bytes, i);
    CRC32C crc = new CRC32C();
    crc.update(data);
    return Message.builder(MessageType.SNAPSHOT_CHUNK)
        .from(from)
        .to(to)
        .term(3)
        .snapshot(new SnapshotMeta(500, 3, Membership.ofVoters(from, to)))
        .offset((long) i * bytes)
        .total(8L * bytes)
        .context(77)
        .checksum(crc.getValue())
        .data(data)
        .build();
  }

  private static List<Long> range(long first, long last) {
    List<Long> r = new ArrayList<>();
    for (long i = first; i <= last; i++) {
      r.add(i);
    }
    return r;
  }

  private static InetSocketAddress loopback() {
    return new InetSocketAddress("127.0.0.1", 0);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      if (!latch.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("latch not released");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        fail("timed out waiting until " + what);
      }
      Thread.sleep(5);
    }
  }
}
