package io.tern.compat;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.cluster.Member;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A started {@link ClusterFixture} with the jetcd clients and raw gRPC channels the tests use.
 *
 * <p>Most tests go through jetcd's high-level client. Where jetcd has no API for a field (put's
 * ignore_value / ignore_lease, several watches on one stream, watch cancel requests, explicit lease
 * ids) the tests call the gRPC stubs generated in jetcd's own artifact ({@code io.etcd.jetcd.api})
 * over {@link #channel(int)}; what jetcd's .proto lacks altogether is in {@link WireExtras}.
 */
final class CompatSession implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CompatSession.class);
  private static final AtomicLong UNIQUE = new AtomicLong();

  private final Path dir;
  private final ClusterFixture fixture;
  private final Client client;
  private final ConcurrentHashMap<URI, Client> memberClients = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<URI, ManagedChannel> channels = new ConcurrentHashMap<>();

  private CompatSession(Path dir, ClusterFixture fixture) {
    this.dir = dir;
    this.fixture = fixture;
    this.client = Client.builder().endpoints(fixture.clientUrls()).build();
  }

  static CompatSession start(ClusterFixture.Options options) throws Exception {
    Path dir = Files.createTempDirectory("tern-compat-");
    try {
      ClusterFixture fixture = ClusterFixture.start(dir, options);
      LOG.info("compatibility suite runs against {} in {}", fixture.description(), dir);
      return new CompatSession(dir, fixture);
    } catch (Exception | Error e) {
      deleteRecursively(dir);
      throw e;
    }
  }

  ClusterFixture fixture() {
    return fixture;
  }

  /** A client balancing over all members. */
  Client client() {
    return client;
  }

  /** A client talking to member {@code i} only. */
  Client client(int i) {
    return client(fixture.clientUrls().get(i));
  }

  Client client(URI clientUrl) {
    return memberClients.computeIfAbsent(clientUrl, url -> Client.builder().endpoints(url).build());
  }

  /** The etcd "target" string jetcd's per-member maintenance calls take. */
  String target(int i) {
    return fixture.clientUrls().get(i).toString();
  }

  /** A plain gRPC channel to member {@code i}, for jetcd's generated stubs. */
  ManagedChannel channel(int i) {
    return channel(fixture.clientUrls().get(i));
  }

  ManagedChannel channel(URI clientUrl) {
    return channels.computeIfAbsent(
        clientUrl,
        url ->
            ManagedChannelBuilder.forAddress(url.getHost(), url.getPort())
                .usePlaintext()
                .maxInboundMessageSize(8 << 20)
                .build());
  }

  /** The member id of fixture member {@code i}, from MemberList. */
  long memberId(int i) {
    URI url = fixture.clientUrls().get(i);
    return Await.result(client.getClusterClient().listMember()).getMembers().stream()
        .filter(m -> m.getClientURIs().contains(url))
        .mapToLong(Member::getId)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no member serves " + url));
  }

  /** Fixture index of the current leader, as member 0 sees it. */
  int leaderIndex() {
    long leader =
        Await.poll(
            "a leader",
            Await.RPC_TIMEOUT,
            () ->
                Await.result(client(0).getMaintenanceClient().statusMember(target(0))).getLeader(),
            id -> id != 0);
    for (int i = 0; i < fixture.clientUrls().size(); i++) {
      if (memberId(i) == leader) {
        return i;
      }
    }
    throw new AssertionError("leader " + Long.toHexString(leader) + " is not a fixture member");
  }

  /** A key prefix no other test uses, e.g. "/compat/put/17/". */
  static String unique(String name) {
    return "/compat/" + name + "/" + UNIQUE.incrementAndGet() + "/";
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  static String string(ByteSequence b) {
    return b.toString(StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    memberClients.values().forEach(Client::close);
    client.close();
    for (ManagedChannel channel : channels.values()) {
      channel.shutdownNow();
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    fixture.close();
    deleteRecursively(dir);
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    List<Path> paths = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(paths::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (Path path : paths) {
      try {
        Files.deleteIfExists(path);
      } catch (IOException e) {
        LOG.warn("could not delete {}", path, e);
      }
    }
  }
}
