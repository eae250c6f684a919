package io.tern.cli;

import io.tern.server.TestCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Three etcd processes (Debian's etcd-server, /usr/bin/etcd) on loopback, selected with {@code
 * -Dtern.cli.target=etcd}. Skips the tests when etcd is not installed.
 */
final class EtcdCliCluster implements EtcdEndpoint, AutoCloseable {
  static final Path ETCD = Path.of("/usr/bin/etcd");
  private static final Duration READY = Duration.ofSeconds(30);
  private static final String TOKEN = "tern-cli-test";

  private final Path dir;
  private final List<List<String>> commands = new ArrayList<>();
  private final List<Process> processes = new ArrayList<>();
  private final List<String> endpoints = new ArrayList<>();
  private final List<Process> joined = new ArrayList<>();

  private EtcdCliCluster(Path dir) {
    this.dir = dir;
  }

  static EtcdCliCluster start(Path dir) throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(ETCD), "etcd is not installed (apt-get install etcd-server)");
    EtcdCliCluster c = new EtcdCliCluster(dir);
    try {
      List<String> peers = new ArrayList<>();
      StringBuilder initial = new StringBuilder();
      for (int i = 0; i < 3; i++) {
        c.endpoints.add("127.0.0.1:" + TestCluster.freePort());
        peers.add("http://127.0.0.1:" + TestCluster.freePort());
        initial.append(i == 0 ? "" : ",").append("e").append(i).append('=').append(peers.get(i));
      }
      for (int i = 0; i < 3; i++) {
        c.commands.add(
            command(
                "e" + i, dir.resolve("e" + i), c.endpoints.get(i), peers.get(i), initial, "new"));
        c.processes.add(c.launch(c.commands.get(i), "e" + i));
      }
      CliClusterExtension.awaitLeader(c.endpoints, READY, c::allAlive);
    } catch (Exception e) {
      c.close();
      throw e;
    }
    return c;
  }

  private static List<String> command(
      String name, Path data, String client, String peer, CharSequence initial, String state) {
    return List.of(
        ETCD.toString(),
        "--name=" + name,
        "--data-dir=" + data,
        "--listen-client-urls=http://" + client,
        "--advertise-client-urls=http://" + client,
        "--listen-peer-urls=" + peer,
        "--initial-advertise-peer-urls=" + peer,
        "--initial-cluster=" + initial,
        "--initial-cluster-state=" + state,
        "--initial-cluster-token=" + TOKEN,
        "--heartbeat-interval=50",
        "--election-timeout=500");
  }

  private Process launch(List<String> command, String log) throws IOException {
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(log + ".log").toFile()))
        .start();
  }

  private boolean allAlive() {
    return processes.stream().allMatch(Process::isAlive);
  }

  @Override
  public List<String> endpointList() {
    return List.copyOf(endpoints);
  }

  @Override
  public String description() {
    return "etcd";
  }

  @Override
  public synchronized void stop(int i) {
    terminate(processes.get(i));
  }

  @Override
  public synchronized void restart(int i) throws Exception {
    terminate(processes.get(i));
    processes.set(i, launch(commands.get(i), "e" + i));
    CliClusterExtension.awaitLeader(endpoints, READY, () -> processes.get(i).isAlive());
  }

  @Override
  public String newPeerUrl() throws Exception {
    return "http://127.0.0.1:" + TestCluster.freePort();
  }

  @Override
  public synchronized Joined join(String name, String peerUrl, String initialCluster)
      throws Exception {
    String client = "127.0.0.1:" + TestCluster.freePort();
    Process p =
        launch(
            command(
                name,
                dir.resolve("joined-" + joined.size()),
                client,
                peerUrl,
                initialCluster,
                "existing"),
            "joined-" + joined.size());
    joined.add(p);
    return new Joined() {
      @Override
      public String endpoint() {
        return client;
      }

      @Override
      public void close() {
        terminate(p);
      }
    };
  }

  private static void terminate(Process p) {
    p.destroy();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public synchronized void close() {
    joined.forEach(EtcdCliCluster::terminate);
    processes.forEach(EtcdCliCluster::terminate);
  }
}
