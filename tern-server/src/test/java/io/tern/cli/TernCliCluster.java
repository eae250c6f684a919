package io.tern.cli;

import io.tern.server.ServerConfig;
import io.tern.server.TestCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Three Tern members in this JVM ({@link TestCluster}), the default target of the CLI tests. */
final class TernCliCluster implements EtcdEndpoint, AutoCloseable {
  private static final Duration READY = Duration.ofSeconds(30);

  private final Path dir;
  private final TestCluster cluster;
  private final List<String> endpoints;
  private int joined;

  private TernCliCluster(Path dir, TestCluster cluster) {
    this.dir = dir;
    this.cluster = cluster;
    this.endpoints = List.of(cluster.endpoints().split(","));
  }

  static TernCliCluster start(Path dir) throws Exception {
    TestCluster cluster = TestCluster.start(dir, 3, b -> {});
    TernCliCluster c = new TernCliCluster(dir, cluster);
    try {
      CliClusterExtension.awaitLeader(c.endpoints, READY, () -> true);
    } catch (RuntimeException | InterruptedException e) {
      cluster.close();
      throw e;
    }
    return c;
  }

  @Override
  public List<String> endpointList() {
    return endpoints;
  }

  @Override
  public String description() {
    return "tern";
  }

  @Override
  public void stop(int i) {
    cluster.stop(i);
  }

  @Override
  public void restart(int i) throws Exception {
    cluster.restart(i, b -> {});
    CliClusterExtension.awaitLeader(endpoints, READY, () -> true);
  }

  @Override
  public String newPeerUrl() throws Exception {
    return "http://127.0.0.1:" + TestCluster.freePort();
  }

  @Override
  public synchronized Joined join(String name, String peerUrl, String initialCluster)
      throws Exception {
    String client = "127.0.0.1:" + TestCluster.freePort();
    int index =
        cluster.add(
            ServerConfig.builder()
                .name(name)
                .dataDir(dir.resolve("joined-" + joined++))
                .listenClientUrls("http://" + client)
                .listenPeerUrls(peerUrl)
                .initialCluster(initialCluster)
                .initialClusterState("existing")
                .initialClusterToken(cluster.config(0).initialClusterToken())
                .heartbeatMillis(cluster.config(0).heartbeatMillis())
                .electionMillis(cluster.config(0).electionMillis())
                .build());
    return new Joined() {
      @Override
      public String endpoint() {
        return client;
      }

      @Override
      public void close() {
        cluster.stop(index);
      }
    };
  }

  @Override
  public void close() {
    cluster.close();
  }
}
