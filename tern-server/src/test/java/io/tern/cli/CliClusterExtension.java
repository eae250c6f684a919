package io.tern.cli;

import io.grpc.StatusRuntimeException;
import io.tern.api.MaintenanceGrpc;
import io.tern.api.StatusRequest;
import io.tern.api.StatusResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts the 3-member cluster the client command tests run against, once per test run: it lives in
 * the root context's store, which closes it at the end of the run. {@code -Dtern.cli.target} picks
 * the implementation: {@code tern} (the default: members in this JVM, {@link TernCliCluster}) or
 * {@code etcd} (etcd processes, {@link EtcdCliCluster}, which checks that the tests encode etcd's
 * behaviour).
 */
public final class CliClusterExtension implements ParameterResolver {
  /** The system property choosing the implementation. */
  static final String TARGET_PROPERTY = "tern.cli.target";

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
    return p.getParameter().getType() == EtcdEndpoint.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext c) {
    String target = System.getProperty(TARGET_PROPERTY, "tern").strip();
    return c.getRoot()
        .getStore(ExtensionContext.Namespace.create(CliClusterExtension.class))
        .getOrComputeIfAbsent(target, CliClusterExtension::start, Started.class)
        .cluster();
  }

  /** The cluster and its temporary directory, removed when JUnit closes the store. */
  private record Started(EtcdEndpoint cluster, AutoCloseable closer, Path dir)
      implements AutoCloseable {
    @Override
    public void close() throws Exception {
      try {
        closer.close();
      } finally {
        deleteTree(dir);
      }
    }
  }

  private static Started start(String target) {
    Path dir;
    try {
      dir = Files.createTempDirectory("tern-cli-" + target);
    } catch (IOException e) {
      throw new IllegalStateException("no temporary directory", e);
    }
    boolean started = false;
    try {
      Started s =
          switch (target) {
            case "tern" -> {
              TernCliCluster c = TernCliCluster.start(dir);
              yield new Started(c, c, dir);
            }
            case "etcd" -> {
              EtcdCliCluster c = EtcdCliCluster.start(dir);
              yield new Started(c, c, dir);
            }
            default ->
                throw new IllegalArgumentException(
                    "-D" + TARGET_PROPERTY + " must be 'tern' or 'etcd', was '" + target + "'");
          };
      started = true;
      return s;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted starting the " + target + " cluster", e);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("could not start the " + target + " cluster", e);
    } finally {
      if (!started) {
        deleteTree(dir);
      }
    }
  }

  /**
   * Polls Status on every endpoint until all of them report the same leader and that leader is one
   * of them (members that lost their leader go on naming it until they elect another), failing
   * after {@code timeout}; {@code alive} is checked on each round (false: the cluster died, stop
   * waiting).
   */
  static void awaitLeader(List<String> endpoints, Duration timeout, BooleanSupplier alive)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "";
    while (true) {
      Set<Long> leaders = new HashSet<>();
      Set<Long> members = new HashSet<>();
      for (String e : endpoints) {
        try (Connection c =
            new Connection(
                List.of(Endpoint.parse(e)), Duration.ofMillis(500), Duration.ofSeconds(1))) {
          StatusResponse s =
              c.deadline(MaintenanceGrpc.newBlockingStub(c.channel()))
                  .status(StatusRequest.getDefaultInstance());
          leaders.add(s.getLeader());
          members.add(s.getHeader().getMemberId());
        } catch (StatusRuntimeException ex) {
          last = e + ": " + ex.getStatus();
          leaders.add(0L);
        }
      }
      if (leaders.size() == 1 && members.containsAll(leaders)) {
        return;
      }
      if (!alive.getAsBoolean()) {
        throw new IllegalStateException("the cluster stopped while waiting for a leader");
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "no leader known to all of " + endpoints + " within " + timeout + " (" + last + ")");
      }
      TimeUnit.MILLISECONDS.sleep(50);
    }
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      throw new IllegalStateException("could not delete " + dir, e);
    }
  }
}
