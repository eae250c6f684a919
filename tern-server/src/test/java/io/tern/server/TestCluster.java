package io.tern.server;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Members of one cluster in this JVM on loopback ports picked free, with fast Raft timings, and a
 * client channel to each. Public so other test packages can start clusters the same way.
 */
public final class TestCluster implements AutoCloseable {
  private static final Set<Integer> TAKEN = new HashSet<>();

  private final Path dir;
  private final List<ServerConfig> configs = new ArrayList<>();
  private final List<EtcdServer> servers = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();

  private TestCluster(Path dir) {
    this.dir = dir;
  }

  /**
   * Starts {@code size} members (names m0, m1, ...) under {@code dir}; {@code settings} adjusts
   * every member's settings before they are built.
   */
  public static TestCluster start(Path dir, int size, Consumer<ServerConfig.Builder> settings)
      throws IOException {
    TestCluster c = new TestCluster(dir);
    int[][] ports = new int[size][2];
    StringBuilder initial = new StringBuilder();
    for (int i = 0; i < size; i++) {
      ports[i][0] = freePort();
      ports[i][1] = freePort();
      initial.append(i == 0 ? "" : ",").append("m" + i + "=http://127.0.0.1:" + ports[i][1]);
    }
    try {
      for (int i = 0; i < size; i++) {
        ServerConfig.Builder b =
            ServerConfig.builder()
                .name("m" + i)
                .dataDir(dir.resolve("m" + i))
                .listenClientUrls("http://127.0.0.1:" + ports[i][0])
                .listenPeerUrls("http://127.0.0.1:" + ports[i][1])
                .initialCluster(initial.toString())
                .initialClusterToken("test-" + dir.getFileName())
                .heartbeatMillis(50)
                .electionMillis(500);
        settings.accept(b);
        c.configs.add(b.build());
      }
      for (ServerConfig config : c.configs) {
        c.servers.add(EtcdServer.start(config));
        c.channels.add(openChannel(config.listenClientUrls().get(0).port()));
      }
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
    return c;
  }

  static ManagedChannel openChannel(int port) {
    return NettyChannelBuilder.forAddress("127.0.0.1", port)
        .usePlaintext()
        .maxInboundMessageSize(64 << 20)
        .build();
  }

  /** A loopback port nothing listens on now, never handed out twice by this JVM. */
  public static synchronized int freePort() throws IOException {
    while (true) {
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        if (TAKEN.add(s.getLocalPort())) {
          return s.getLocalPort();
        }
      }
    }
  }

  public int size() {
    return servers.size();
  }

  public EtcdServer server(int i) {
    return servers.get(i);
  }

  public ManagedChannel channel(int i) {
    return channels.get(i);
  }

  public ServerConfig config(int i) {
    return configs.get(i);
  }

  /** Comma-separated {@code host:port} of every member's client URL. */
  public String endpoints() {
    List<String> out = new ArrayList<>();
    for (ServerConfig c : configs) {
      out.add(c.listenClientUrls().get(0).authority());
    }
    return String.join(",", out);
  }

  /** The index of the member that leads, once one does and every member knows it. */
  public int awaitLeader(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (int i = 0; i < servers.size(); i++) {
        EtcdServer s = servers.get(i);
        if (s.raft().isLeader()) {
          long id = s.memberId();
          if (servers.stream().allMatch(o -> o.raft().leader() == id)) {
            return i;
          }
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no leader within " + timeout);
  }

  /**
   * Stops member {@code i} and starts it again on the same data directory and ports, with its
   * settings adjusted by {@code settings}.
   */
  public void restart(int i, Consumer<ServerConfig.Builder> settings) throws IOException {
    servers.get(i).close();
    ServerConfig old = configs.get(i);
    ServerConfig.Builder b =
        ServerConfig.builder()
            .name(old.name())
            .dataDir(old.dataDir())
            .listenClientUrls(PeerUrl.join(old.listenClientUrls()))
            .listenPeerUrls(old.listenPeerUrl().toString())
            .initialClusterToken(old.initialClusterToken())
            .heartbeatMillis(old.heartbeatMillis())
            .electionMillis(old.electionMillis());
    settings.accept(b);
    ServerConfig config = b.build();
    configs.set(i, config);
    servers.set(i, EtcdServer.start(config));
  }

  /** Stops member {@code i} (its channel stays, failing calls). */
  public void stop(int i) {
    servers.get(i).close();
  }

  /** Starts one more member with {@code config} (one that joins, say) and a channel to it. */
  public int add(ServerConfig config) throws IOException {
    configs.add(config);
    servers.add(EtcdServer.start(config));
    channels.add(openChannel(config.listenClientUrls().get(0).port()));
    return servers.size() - 1;
  }

  /** A member other than {@code i}. */
  public int other(int i) {
    return (i + 1) % servers.size();
  }

  @Override
  public void close() {
    for (ManagedChannel ch : channels) {
      ch.shutdownNow();
    }
    for (ManagedChannel ch : channels) {
      try {
        ch.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    servers.parallelStream().forEach(EtcdServer::close);
  }
}
