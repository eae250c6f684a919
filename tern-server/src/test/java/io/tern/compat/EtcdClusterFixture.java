package io.tern.compat;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real etcd cluster of 3 processes on loopback, from Debian's etcd-server package. All
 * etcd-specific startup code of the suite lives here.
 */
final class EtcdClusterFixture implements ClusterFixture {
  private static final Logger LOG = LoggerFactory.getLogger(EtcdClusterFixture.class);
  private static final Path ETCD = Path.of("/usr/bin/etcd");
  private static final int SIZE = 3;
  private static final String TOKEN = "tern-compat";
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

  private final Path dir;
  private final Options options;
  private final String version;
  private final List<String> names = new ArrayList<>();
  private final List<URI> clientUrls = new ArrayList<>();
  private final List<URI> peerUrls = new ArrayList<>();
  private final List<Process> processes = new ArrayList<>();
  private final Thread shutdownHook = new Thread(this::destroyAll, "etcd-fixture-shutdown");

  private EtcdClusterFixture(Path dir, Options options, String version) {
    this.dir = dir;
    this.options = options;
    this.version = version;
  }

  static EtcdClusterFixture start(Path dir, Options options) throws Exception {
    assumeTrue(
        Files.isExecutable(ETCD),
        "etcd is not installed (apt-get install -y etcd-server etcd-client); skipping");
    EtcdClusterFixture fixture = new EtcdClusterFixture(dir, options, etcdVersion());
    Runtime.getRuntime().addShutdownHook(fixture.shutdownHook);
    try {
      for (int i = 0; i < SIZE; i++) {
        fixture.names.add("m" + i);
        fixture.clientUrls.add(loopbackUrl(freePort()));
        fixture.peerUrls.add(loopbackUrl(freePort()));
      }
      String initialCluster = fixture.initialCluster(List.of());
      for (int i = 0; i < SIZE; i++) {
        fixture.processes.add(
            fixture.launch(
                fixture.names.get(i),
                fixture.clientUrls.get(i),
                fixture.peerUrls.get(i),
                initialCluster,
                "new"));
      }
      long startNanos = System.nanoTime();
      for (URI url : fixture.clientUrls) {
        awaitHealthy(url);
      }
      LOG.info("etcd cluster healthy after {} ms", (System.nanoTime() - startNanos) / 1_000_000);
      return fixture;
    } catch (Exception | Error e) {
      fixture.close();
      throw e;
    }
  }

  @Override
  public String description() {
    return "etcd " + version;
  }

  @Override
  public Set<String> knownBugs() {
    return Set.of(ETCD_18667);
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
    return loopbackUrl(freePort());
  }

  /**
   * etcd checks a joining member's --initial-cluster against the running cluster's membership, so
   * this assumes the cluster's members are exactly this fixture's members plus the new one.
   */
  @Override
  public JoiningMember startJoiningMember(String name, URI peerUrl) throws Exception {
    URI clientUrl = loopbackUrl(freePort());
    String initialCluster = initialCluster(List.of(name + "=" + peerUrl));
    Process process = launch(name, clientUrl, peerUrl, initialCluster, "existing");
    synchronized (processes) {
      processes.add(process);
    }
    return new JoiningMember() {
      @Override
      public URI clientUrl() {
        return clientUrl;
      }

      @Override
      public void close() {
        stop(process);
      }
    };
  }

  @Override
  public void close() {
    destroyAll();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // The hook is running or has run already.
    }
  }

  private void destroyAll() {
    List<Process> all;
    synchronized (processes) {
      all = List.copyOf(processes);
    }
    long startNanos = System.nanoTime();
    all.forEach(Process::destroyForcibly);
    all.forEach(EtcdClusterFixture::stop);
    LOG.info("etcd processes stopped after {} ms", (System.nanoTime() - startNanos) / 1_000_000);
  }

  private Process launch(
      String name, URI clientUrl, URI peerUrl, String initialCluster, String clusterState)
      throws IOException {
    Path dataDir = dir.resolve(name);
    List<String> command =
        new ArrayList<>(
            List.of(
                ETCD.toString(),
                "--name=" + name,
                "--data-dir=" + dataDir,
                "--listen-client-urls=" + clientUrl,
                "--advertise-client-urls=" + clientUrl,
                "--listen-peer-urls=" + peerUrl,
                "--initial-advertise-peer-urls=" + peerUrl,
                "--initial-cluster=" + initialCluster,
                "--initial-cluster-state=" + clusterState,
                "--initial-cluster-token=" + TOKEN,
                "--heartbeat-interval=100",
                "--election-timeout=1000",
                "--experimental-watch-progress-notify-interval=500ms",
                "--logger=zap",
                "--log-outputs=stderr"));
    if (options.quotaBackendBytes() > 0) {
      command.add("--quota-backend-bytes=" + options.quotaBackendBytes());
    }
    Path log = dir.resolve(name + ".log");
    LOG.info("starting etcd member {} ({}), log {}", name, clientUrl, log);
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
  }

  private String initialCluster(List<String> extra) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      parts.add(names.get(i) + "=" + peerUrls.get(i));
    }
    parts.addAll(extra);
    return String.join(",", parts);
  }

  /**
   * Kills the process: a graceful etcd stop hands leadership over and waits for peers (seconds per
   * member), and nothing of a test cluster's data is kept.
   */
  private static void stop(Process process) {
    process.destroyForcibly();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        LOG.warn("etcd process {} did not exit", process.pid());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** etcd's /health on the client port reports true once the member sees a leader. */
  private static void awaitHealthy(URI clientUrl) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    HttpRequest request =
        HttpRequest.newBuilder(clientUrl.resolve("/health"))
            .timeout(Duration.ofSeconds(2))
            .GET()
            .build();
    Await.until(
        "etcd member " + clientUrl + " healthy",
        READY_TIMEOUT,
        () -> {
          try {
            HttpResponse<String> response =
                http.send(request, HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 && response.body().contains("\"true\"");
          } catch (IOException notYet) {
            return false;
          }
        });
  }

  private static String etcdVersion() throws IOException, InterruptedException {
    Process process = new ProcessBuilder(ETCD.toString(), "--version").start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    process.waitFor();
    String first = out.lines().findFirst().orElse("");
    return first.replaceFirst("(?i)^etcd version:\\s*", "").trim();
  }

  private static URI loopbackUrl(int port) {
    return URI.create("http://127.0.0.1:" + port);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }
}
