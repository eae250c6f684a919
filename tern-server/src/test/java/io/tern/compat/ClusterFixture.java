package io.tern.compat;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A running 3-member cluster that the compatibility suite talks to over the etcd v3 gRPC API.
 *
 * <p>The suite is written against this interface only, so the same tests run against real etcd
 * (which proves that they encode etcd's behaviour) and against Tern. {@link #start} is the one
 * place that chooses the implementation.
 *
 * <p>What the suite expects of every implementation, beyond the etcd v3 API:
 *
 * <ul>
 *   <li>members listen on loopback, plaintext, and are ready (a leader is elected) when {@link
 *       #start} returns;
 *   <li>limits are the defaults: max request 1.5 MiB, 128 operations per txn;
 *   <li>heartbeat 100 ms and election timeout 1 s, so a lease granted with a TTL of 2 s gets that
 *       TTL (etcd's minimum TTL is 1.5 election timeouts, rounded up) and expires a few seconds
 *       later;
 *   <li>watches that asked for progress notifications get one within a few seconds of idling (etcd:
 *       {@code --experimental-watch-progress-notify-interval}, set to 500 ms; the test waits up to
 *       10 s).
 * </ul>
 */
public interface ClusterFixture extends AutoCloseable {

  /** What a test may ask of the cluster it starts. */
  record Options(long quotaBackendBytes) {
    /** 0 = the server's default quota (2 GiB). */
    public Options {
      if (quotaBackendBytes < 0) {
        throw new IllegalArgumentException("quotaBackendBytes < 0: " + quotaBackendBytes);
      }
    }

    public static Options defaults() {
      return new Options(0);
    }
  }

  /**
   * Starts a 3-member cluster with its data under {@code dir} and waits until it has a leader.
   * Aborts the calling test (a JUnit assumption) when the implementation cannot run here.
   *
   * <p>Tern (in this JVM) by default; {@code -Dtern.compat.target=etcd} runs the suite against real
   * etcd processes instead, which checks that the suite encodes etcd's behaviour.
   */
  static ClusterFixture start(Path dir, Options options) throws Exception {
    String target = System.getProperty(TARGET_PROPERTY, "tern").strip();
    return switch (target) {
      case "tern" -> TernClusterFixture.start(dir, options);
      case "etcd" -> EtcdClusterFixture.start(dir, options);
      default ->
          throw new IllegalArgumentException(
              "-D" + TARGET_PROPERTY + " must be 'tern' or 'etcd', was '" + target + "'");
    };
  }

  /** The system property choosing the implementation: {@code tern} (default) or {@code etcd}. */
  String TARGET_PROPERTY = "tern.compat.target";

  /**
   * etcd-io/etcd#18667: a txn with a range at a compacted or future revision is applied (without
   * the range) on members the client is not connected to, so the cluster diverges.
   */
  String ETCD_18667 = "etcd-io/etcd#18667";

  /** The implementation and its version, for test reports, e.g. "etcd 3.4.23". */
  String description();

  /**
   * Known bugs of this implementation (constants above) whose tests are skipped because they would
   * break the cluster for the rest of the suite.
   */
  default Set<String> knownBugs() {
    return Set.of();
  }

  /** Member names, in member order. */
  List<String> names();

  /** Client URLs ({@code http://127.0.0.1:port}), in member order. */
  List<URI> clientUrls();

  /** Peer URLs, in member order. */
  List<URI> peerUrls();

  /** A loopback peer URL on a port nothing listens on yet. */
  URI newPeerUrl() throws IOException;

  /**
   * Starts a new member process that joins the running cluster (like etcd's {@code
   * --initial-cluster-state existing}). The caller has already added it with MemberAdd under this
   * peer URL. Returns once the process runs; it may still be catching up.
   */
  JoiningMember startJoiningMember(String name, URI peerUrl) throws Exception;

  /** A member started by {@link #startJoiningMember}; closing stops its process. */
  interface JoiningMember extends AutoCloseable {
    URI clientUrl();

    @Override
    void close();
  }

  /** Stops every process started by this fixture and deletes nothing the caller owns. */
  @Override
  void close();
}
