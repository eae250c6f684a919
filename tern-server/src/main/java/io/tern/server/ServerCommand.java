package io.tern.server;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tern server}: runs one member until SIGTERM or Ctrl-C, with etcd's flags. */
@Command(
    name = "server",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Runs one member of a Tern cluster, serving the etcd v3 API.",
      "Flags are etcd's; a member restarted with its data directory ignores the --initial-* flags."
    })
public final class ServerCommand implements Callable<Integer> {
  /** Exit status for invalid settings. */
  public static final int EXIT_USAGE = 2;

  /** Exit status when the member cannot start or stopped on an error. */
  public static final int EXIT_FAILED = 1;

  @Option(
      names = "--config-file",
      paramLabel = "FILE",
      description = "Read the settings from this YAML file (etcd's keys); other flags are ignored.")
  Path configFile;

  @Option(names = "--name", description = "Human-readable name of this member (default: default).")
  String name;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "Where the member keeps its data (default: <name>.etcd).")
  Path dataDir;

  @Option(
      names = "--listen-client-urls",
      paramLabel = "URLS",
      description = "URLs to serve clients on (default: http://localhost:2379).")
  String listenClientUrls;

  @Option(
      names = "--advertise-client-urls",
      paramLabel = "URLS",
      description = "Client URLs told to the cluster (default: the listen URLs).")
  String advertiseClientUrls;

  @Option(
      names = "--listen-peer-urls",
      paramLabel = "URL",
      description = "URL to listen on for the other members (default: http://localhost:2380).")
  String listenPeerUrls;

  @Option(
      names = "--initial-advertise-peer-urls",
      paramLabel = "URLS",
      description = "This member's peer URLs told to the cluster (default: the listen URL).")
  String initialAdvertisePeerUrls;

  @Option(
      names = "--initial-cluster",
      paramLabel = "NAME=URL,...",
      description = "The initial members and their peer URLs (default: <name>=<peer URL>).")
  String initialCluster;

  @Option(
      names = "--initial-cluster-state",
      paramLabel = "new|existing",
      description = "new: bootstrap a cluster; existing: join one after MemberAdd (default: new).")
  String initialClusterState;

  @Option(
      names = "--initial-cluster-token",
      paramLabel = "TOKEN",
      description =
          "Distinguishes clusters; part of member and cluster ids (default: etcd-cluster).")
  String initialClusterToken;

  @Option(
      names = "--snapshot-count",
      paramLabel = "N",
      description = "Applied entries between snapshots (default: 100000).")
  String snapshotCount;

  @Option(
      names = "--heartbeat-interval",
      paramLabel = "MS",
      description = "Heartbeat interval in ms; the Raft tick (default: 100).")
  String heartbeatInterval;

  @Option(
      names = "--election-timeout",
      paramLabel = "MS",
      description = "Election timeout in ms, at least 5 heartbeats (default: 1000).")
  String electionTimeout;

  @Option(
      names = "--quota-backend-bytes",
      paramLabel = "BYTES",
      description = "Database size that raises the NOSPACE alarm; 0: 2 GiB (default: 0).")
  String quotaBackendBytes;

  @Option(
      names = "--max-request-bytes",
      paramLabel = "BYTES",
      description = "Largest client request accepted (default: 1572864).")
  String maxRequestBytes;

  @Option(
      names = "--max-txn-ops",
      paramLabel = "N",
      description = "Most operations in one transaction (default: 128).")
  String maxTxnOps;

  @Option(
      names = {"--lease-read", "--experimental-lease-read"},
      paramLabel = "BOOL",
      arity = "0..1",
      fallbackValue = "true",
      description =
          "Serve linearizable reads from the leader's lease, without a heartbeat round"
              + " (default: true; false: a ReadIndex heartbeat round for every read batch).")
  String leaseRead;

  @Option(
      names = "--experimental-watch-progress-notify-interval",
      paramLabel = "DURATION",
      description = "Interval of watch progress notifications, e.g. 10m, 5s (default: 10m).")
  String progressNotifyInterval;

  @Override
  public Integer call() {
    ServerConfig config;
    try {
      config = config();
    } catch (IllegalArgumentException e) {
      System.err.println("tern server: " + e.getMessage());
      return EXIT_USAGE;
    } catch (java.io.IOException e) {
      System.err.println("tern server: cannot read " + configFile + ": " + e.getMessage());
      return EXIT_USAGE;
    }
    EtcdServer server;
    try {
      server = EtcdServer.start(config);
    } catch (IllegalArgumentException e) {
      System.err.println("tern server: " + e.getMessage());
      return EXIT_USAGE;
    } catch (Exception e) {
      System.err.println("tern server: cannot start: " + EtcdServer.describe(e));
      return EXIT_FAILED;
    }
    Thread hook = new Thread(server::close, "tern-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    server.terminated().join();
    if (server.failure().isPresent()) {
      System.err.println("tern server: stopped on an error: " + server.failure().get());
      return EXIT_FAILED;
    }
    return 0;
  }

  /** The settings from the config file, or else from the flags. */
  ServerConfig config() throws java.io.IOException {
    if (configFile != null) {
      return ServerConfig.fromYaml(configFile);
    }
    ServerConfig.Builder b = ServerConfig.builder();
    set(b, "name", name);
    set(b, "data-dir", dataDir == null ? null : dataDir.toString());
    set(b, "listen-client-urls", listenClientUrls);
    set(b, "advertise-client-urls", advertiseClientUrls);
    set(b, "listen-peer-urls", listenPeerUrls);
    set(b, "initial-advertise-peer-urls", initialAdvertisePeerUrls);
    set(b, "initial-cluster", initialCluster);
    set(b, "initial-cluster-state", initialClusterState);
    set(b, "initial-cluster-token", initialClusterToken);
    set(b, "snapshot-count", snapshotCount);
    set(b, "heartbeat-interval", heartbeatInterval);
    set(b, "election-timeout", electionTimeout);
    set(b, "quota-backend-bytes", quotaBackendBytes);
    set(b, "max-request-bytes", maxRequestBytes);
    set(b, "max-txn-ops", maxTxnOps);
    set(b, "experimental-watch-progress-notify-interval", progressNotifyInterval);
    set(b, "lease-read", leaseRead);
    return b.build();
  }

  private static void set(ServerConfig.Builder b, String key, String value) {
    if (value != null) {
      b.set(key, value);
    }
  }
}
