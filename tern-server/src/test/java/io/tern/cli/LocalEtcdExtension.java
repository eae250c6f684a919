package io.tern.cli;

import io.tern.api.MaintenanceGrpc;
import io.tern.api.StatusRequest;
import io.tern.api.StatusResponse;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts one single-member etcd (Debian's etcd-server, /usr/bin/etcd) on free loopback ports in a
 * temporary directory, shared by every test class of the run: it lives in the root context's store,
 * which closes it (JUnit closes stored AutoCloseable values) at the end of the run. Skips the tests
 * when etcd is not installed. All etcd-specific startup code lives here, so the tests move to a
 * Tern cluster by swapping this fixture in {@link WithEtcdEndpoint}.
 */
public final class LocalEtcdExtension implements ParameterResolver {
  static final Path ETCD = Path.of("/usr/bin/etcd");

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
    return p.getParameter().getType() == EtcdEndpoint.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext c) {
    Assumptions.assumeTrue(
        Files.isExecutable(ETCD), "etcd is not installed (apt-get install etcd-server)");
    return c.getRoot()
        .getStore(ExtensionContext.Namespace.create(LocalEtcdExtension.class))
        .getOrComputeIfAbsent("etcd", k -> start(), LocalEtcd.class);
  }

  private static LocalEtcd start() {
    try {
      return LocalEtcd.start();
    } catch (IOException e) {
      throw new IllegalStateException("could not start etcd", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted starting etcd", e);
    }
  }

  /** One etcd process. */
  static final class LocalEtcd implements EtcdEndpoint, AutoCloseable {
    private final Process process;
    private final Path dir;
    private final String endpoint;

    private LocalEtcd(Process process, Path dir, String endpoint) {
      this.process = process;
      this.dir = dir;
      this.endpoint = endpoint;
    }

    static LocalEtcd start() throws IOException, InterruptedException {
      Path dir = Files.createTempDirectory("tern-cli-etcd");
      int clientPort = freePort();
      int peerPort = freePort();
      String client = "http://127.0.0.1:" + clientPort;
      String peer = "http://127.0.0.1:" + peerPort;
      Process p =
          new ProcessBuilder(
                  List.of(
                      ETCD.toString(),
                      "--name=cli-test",
                      "--data-dir=" + dir.resolve("data"),
                      "--listen-client-urls=" + client,
                      "--advertise-client-urls=" + client,
                      "--listen-peer-urls=" + peer,
                      "--initial-advertise-peer-urls=" + peer,
                      "--initial-cluster=cli-test=" + peer,
                      "--initial-cluster-token=tern-cli-test"))
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("etcd.log").toFile())
              .start();
      LocalEtcd etcd = new LocalEtcd(p, dir, "127.0.0.1:" + clientPort);
      try {
        etcd.awaitLeader(Duration.ofSeconds(30));
      } catch (RuntimeException | InterruptedException e) {
        etcd.close();
        throw e;
      }
      return etcd;
    }

    @Override
    public String endpoints() {
      return endpoint;
    }

    /** Polls the member's status until it reports a leader. */
    private void awaitLeader(Duration timeout) throws InterruptedException, IOException {
      long deadline = System.nanoTime() + timeout.toNanos();
      try (Connection c =
          new Connection(
              List.of(Endpoint.parse(endpoint)), Duration.ofMillis(500), Duration.ofSeconds(1))) {
        while (true) {
          if (!process.isAlive()) {
            throw new IllegalStateException(
                "etcd exited: " + Files.readString(dir.resolve("etcd.log")));
          }
          try {
            StatusResponse s =
                c.deadline(MaintenanceGrpc.newBlockingStub(c.channel()))
                    .status(StatusRequest.getDefaultInstance());
            if (s.getLeader() != 0) {
              return;
            }
          } catch (io.grpc.StatusRuntimeException e) {
            // not up yet
          }
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("etcd did not elect a leader within " + timeout);
          }
          TimeUnit.MILLISECONDS.sleep(100);
        }
      }
    }

    @Override
    public void close() throws IOException {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }

    private static int freePort() throws IOException {
      try (ServerSocket s = new ServerSocket(0)) {
        return s.getLocalPort();
      }
    }
  }
}
