package io.tern.compat;

import io.tern.api.MemberAttributes;
import io.tern.server.EtcdServer;
import io.tern.server.ServerConfig;
import io.tern.server.TestCluster;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Tern cluster of 3 {@link EtcdServer} members in this JVM on loopback ports, with the timings
 * {@link ClusterFixture} asks for (heartbeat 100 ms, election timeout 1 s, watch progress
 * notifications every 500 ms) and etcd's default limits.
 */
final class TernClusterFixture implements ClusterFixture {
  private static final Logger LOG = LoggerFactory.getLogger(TernClusterFixture.class);
  private static final int SIZE = 3;
  private static final String TOKEN = "tern-compat";
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

  private final Path dir;
  private final Options options;
  private final List<String> names = new ArrayList<>();
  private final List<URI> clientUrls = new ArrayList<>();
  private final List<URI> peerUrls = new ArrayList<>();
  private final List<EtcdServer> servers = new ArrayList<>();

  private TernClusterFixture(Path dir, Options options) {
    this.dir = dir;
    this.options = options;
  }

  static TernClusterFixture start(Path dir, Options options) throws Exception {
    TernClusterFixture fixture = new TernClusterFixture(dir, options);
    try {
      for (int i = 0; i < SIZE; i++) {
        fixture.names.add("m" + i);
        fixture.clientUrls.add(loopbackUrl(TestCluster.freePort()));
        fixture.peerUrls.add(loopbackUrl(TestCluster.freePort()));
      }
      String initialCluster = fixture.initialCluster(List.of());
      long startNanos = System.nanoTime();
      for (int i = 0; i < SIZE; i++) {
        EtcdServer server =
            EtcdServer.start(
                fixture.config(
                    fixture.names.get(i),
                    fixture.clientUrls.get(i),
                    fixture.peerUrls.get(i),
                    initialCluster,
                    "new"));
        synchronized (fixture.servers) {
          fixture.servers.add(server);
        }
      }
      fixture.awaitReady();
      LOG.info("Tern cluster ready after {} ms", (System.nanoTime() - startNanos) / 1_000_000);
      return fixture;
    } catch (Exception | Error e) {
      fixture.close();
      throw e;
    }
  }

  /**
   * Ready like a healthy etcd cluster: every member follows one leader and every member has
   * published its name and client URL, so MemberList is complete on each of them.
   */
  private void awaitReady() {
    List<EtcdServer> initial;
    synchronized (servers) {
      initial = List.copyOf(servers);
    }
    Await.until(
        "the Tern cluster to elect a leader and publish its members",
        READY_TIMEOUT,
        () -> {
          long leader = initial.get(0).raft().leader();
          if (leader == 0) {
            return false;
          }
          for (EtcdServer server : initial) {
            if (server.raft().leader() != leader || !published(server.kv().members())) {
              return false;
            }
          }
          return true;
        });
  }

  private boolean published(List<MemberAttributes> table) {
    if (table.size() != SIZE) {
      return false;
    }
    for (int i = 0; i < SIZE; i++) {
      String name = names.get(i);
      String client = clientUrls.get(i).toString();
      if (table.stream()
          .noneMatch(m -> m.getName().equals(name) && m.getClientUrlsList().contains(client))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String description() {
    return "Tern (in-process, etcd API " + EtcdServer.VERSION + ")";
  }

  @Override
  public List<String> names() {
    return List.copyOf(names);
  }

  @Override
  public List<URI> clientUrls() {
    return List.copyOf(clientUrls);
  }

  @Override
  public List<URI> peerUrls() {
    return List.copyOf(peerUrls);
  }

  @Override
  public URI newPeerUrl() throws IOException {
    return loopbackUrl(TestCluster.freePort());
  }

  /**
   * Like etcd, the joining member's --initial-cluster names this fixture's members plus the new
   * one; Tern contacts the running ones to join.
   */
  @Override
  public JoiningMember startJoiningMember(String name, URI peerUrl) throws Exception {
    URI clientUrl = loopbackUrl(TestCluster.freePort());
    String initialCluster = initialCluster(List.of(name + "=" + peerUrl));
    EtcdServer server =
        EtcdServer.start(config(name, clientUrl, peerUrl, initialCluster, "existing"));
    synchronized (servers) {
      servers.add(server);
    }
    return new JoiningMember() {
      @Override
      public URI clientUrl() {
        return clientUrl;
      }

      @Override
      public void close() {
        server.close();
      }
    };
  }

  @Override
  public void close() {
    List<EtcdServer> all;
    synchronized (servers) {
      all = List.copyOf(servers);
      servers.clear();
    }
    long startNanos = System.nanoTime();
    all.parallelStream().forEach(EtcdServer::close);
    LOG.info("Tern members stopped after {} ms", (System.nanoTime() - startNanos) / 1_000_000);
  }

  private ServerConfig config(
      String name, URI clientUrl, URI peerUrl, String initialCluster, String clusterState) {
    ServerConfig.Builder b =
        ServerConfig.builder()
            .name(name)
            .dataDir(dir.resolve(name))
            .listenClientUrls(clientUrl.toString())
            .advertiseClientUrls(clientUrl.toString())
            .listenPeerUrls(peerUrl.toString())
            .initialAdvertisePeerUrls(peerUrl.toString())
            .initialCluster(initialCluster)
            .initialClusterState(clusterState)
            .initialClusterToken(TOKEN)
            .heartbeatMillis(100)
            .electionMillis(1000)
            .progressNotifyInterval(Duration.ofMillis(500));
    if (options.quotaBackendBytes() > 0) {
      b.quotaBackendBytes(options.quotaBackendBytes());
    }
    return b.build();
  }

  private String initialCluster(List<String> extra) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      parts.add(names.get(i) + "=" + peerUrls.get(i));
    }
    parts.addAll(extra);
    return String.join(",", parts);
  }

  private static URI loopbackUrl(int port) {
    return URI.create("http://127.0.0.1:" + port);
  }
}
