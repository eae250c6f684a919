package io.tern.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The settings of one {@link EtcdServer}, named like etcd's flags and config-file keys. Immutable;
 * {@link Builder#build()} validates every field and fills etcd's defaults, throwing {@link
 * IllegalArgumentException} with a message naming the setting that is wrong.
 *
 * <p>Defaults: name {@code default}; data dir {@code <name>.etcd}; client URL {@code
 * http://localhost:2379}; peer URL {@code http://localhost:2380}; advertised URLs the listen URLs
 * (a wildcard host advertised as {@code localhost}); initial cluster {@code
 * <name>=<initial-advertise-peer-urls>}; state {@code new}; token {@code etcd-cluster}; snapshot
 * count 100,000; heartbeat 100 ms; election timeout 1,000 ms; quota 0 (2 GiB); max request bytes
 * 1.5 MiB; max txn ops 128; lease reads off; watch progress notifications every 10 minutes.
 */
public final class ServerConfig {
  private static final Logger LOG = LoggerFactory.getLogger(ServerConfig.class);

  /** Whether the member starts a new cluster or joins a running one (first start only). */
  public enum ClusterState {
    NEW,
    EXISTING
  }

  public static final long DEFAULT_SNAPSHOT_COUNT = 100_000;
  public static final long DEFAULT_HEARTBEAT_MS = 100;
  public static final long DEFAULT_ELECTION_MS = 1_000;
  public static final int DEFAULT_MAX_REQUEST_BYTES = 3 << 19;
  public static final int DEFAULT_MAX_TXN_OPS = 128;
  public static final Duration DEFAULT_PROGRESS_NOTIFY = Duration.ofMinutes(10);

  /** etcd's ceiling on the election timeout. */
  public static final long MAX_ELECTION_MS = 50_000;

  /** Requests are kept below what the peer transport carries in one message. */
  public static final int MAX_MAX_REQUEST_BYTES = 64 << 20;

  private static final Set<String> KEYS =
      Set.of(
          "name",
          "data-dir",
          "listen-client-urls",
          "advertise-client-urls",
          "listen-peer-urls",
          "initial-advertise-peer-urls",
          "initial-cluster",
          "initial-cluster-state",
          "initial-cluster-token",
          "snapshot-count",
          "heartbeat-interval",
          "election-timeout",
          "quota-backend-bytes",
          "max-request-bytes",
          "max-txn-ops",
          "lease-read",
          "experimental-lease-read",
          "experimental-watch-progress-notify-interval");

  private final String name;
  private final Path dataDir;
  private final List<PeerUrl> listenClientUrls;
  private final List<PeerUrl> advertiseClientUrls;
  private final PeerUrl listenPeerUrl;
  private final List<PeerUrl> initialAdvertisePeerUrls;
  private final Map<String, List<PeerUrl>> initialCluster;
  private final ClusterState initialClusterState;
  private final String initialClusterToken;
  private final long snapshotCount;
  private final long heartbeatMillis;
  private final long electionMillis;
  private final long quotaBackendBytes;
  private final int maxRequestBytes;
  private final int maxTxnOps;
  private final boolean leaseRead;
  private final Duration progressNotifyInterval;

  private ServerConfig(Builder b) {
    name = b.name == null ? "default" : b.name.strip();
    if (name.isEmpty()) {
      throw new IllegalArgumentException("--name must not be empty");
    }
    dataDir = b.dataDir != null ? b.dataDir : Path.of(name + ".etcd");
    listenClientUrls =
        PeerUrl.parseList(
            "--listen-client-urls", orDefault(b.listenClientUrls, "http://localhost:2379"));
    advertiseClientUrls =
        b.advertiseClientUrls == null
            ? listenClientUrls.stream().map(PeerUrl::reachable).toList()
            : PeerUrl.parseList("--advertise-client-urls", b.advertiseClientUrls);
    List<PeerUrl> listenPeer =
        PeerUrl.parseList(
            "--listen-peer-urls", orDefault(b.listenPeerUrls, "http://localhost:2380"));
    if (listenPeer.size() != 1) {
      throw new IllegalArgumentException(
          "--listen-peer-urls: Tern listens for peers on one URL, got " + listenPeer);
    }
    listenPeerUrl = listenPeer.get(0);
    initialAdvertisePeerUrls =
        b.initialAdvertisePeerUrls == null
            ? List.of(listenPeerUrl.reachable())
            : PeerUrl.parseList("--initial-advertise-peer-urls", b.initialAdvertisePeerUrls);
    initialCluster =
        parseInitialCluster(
            b.initialCluster == null
                ? name + "=" + PeerUrl.join(initialAdvertisePeerUrls)
                : b.initialCluster);
    List<PeerUrl> mine = initialCluster.get(name);
    if (mine == null) {
      throw new IllegalArgumentException(
          "--initial-cluster "
              + b.initialCluster
              + " must list this member's name '"
              + name
              + "' with its peer URLs");
    }
    if (!new HashSet<>(mine).equals(new HashSet<>(initialAdvertisePeerUrls))) {
      throw new IllegalArgumentException(
          "--initial-cluster has "
              + name
              + "="
              + PeerUrl.join(mine)
              + " but --initial-advertise-peer-urls is "
              + PeerUrl.join(initialAdvertisePeerUrls)
              + ": they must name the same URLs");
    }
    initialClusterState = parseState(orDefault(b.initialClusterState, "new"));
    initialClusterToken = orDefault(b.initialClusterToken, "etcd-cluster").strip();
    if (initialClusterToken.isEmpty()) {
      throw new IllegalArgumentException("--initial-cluster-token must not be empty");
    }
    snapshotCount = b.snapshotCount == null ? DEFAULT_SNAPSHOT_COUNT : b.snapshotCount;
    if (snapshotCount < 1) {
      throw new IllegalArgumentException("--snapshot-count must be positive, was " + snapshotCount);
    }
    heartbeatMillis = b.heartbeatMillis == null ? DEFAULT_HEARTBEAT_MS : b.heartbeatMillis;
    electionMillis = b.electionMillis == null ? DEFAULT_ELECTION_MS : b.electionMillis;
    if (heartbeatMillis < 1) {
      throw new IllegalArgumentException(
          "--heartbeat-interval must be at least 1 ms, was " + heartbeatMillis);
    }
    if (electionMillis < 5 * heartbeatMillis) {
      throw new IllegalArgumentException(
          "--election-timeout ("
              + electionMillis
              + " ms) must be at least 5 times --heartbeat-interval ("
              + heartbeatMillis
              + " ms)");
    }
    if (electionMillis > MAX_ELECTION_MS) {
      throw new IllegalArgumentException(
          "--election-timeout must be at most " + MAX_ELECTION_MS + " ms, was " + electionMillis);
    }
    quotaBackendBytes = b.quotaBackendBytes == null ? 0 : b.quotaBackendBytes;
    if (quotaBackendBytes < 0) {
      throw new IllegalArgumentException(
          "--quota-backend-bytes must be >= 0 (0: the default, 2 GiB), was " + quotaBackendBytes);
    }
    maxRequestBytes = b.maxRequestBytes == null ? DEFAULT_MAX_REQUEST_BYTES : b.maxRequestBytes;
    if (maxRequestBytes < 1 || maxRequestBytes > MAX_MAX_REQUEST_BYTES) {
      throw new IllegalArgumentException(
          "--max-request-bytes must be in [1, "
              + MAX_MAX_REQUEST_BYTES
              + "], was "
              + maxRequestBytes);
    }
    maxTxnOps = b.maxTxnOps == null ? DEFAULT_MAX_TXN_OPS : b.maxTxnOps;
    if (maxTxnOps < 1) {
      throw new IllegalArgumentException("--max-txn-ops must be positive, was " + maxTxnOps);
    }
    leaseRead = b.leaseRead;
    progressNotifyInterval =
        b.progressNotifyInterval == null ? DEFAULT_PROGRESS_NOTIFY : b.progressNotifyInterval;
    if (progressNotifyInterval.isNegative() || progressNotifyInterval.isZero()) {
      throw new IllegalArgumentException(
          "--experimental-watch-progress-notify-interval must be positive, was "
              + progressNotifyInterval);
    }
  }

  private static String orDefault(String v, String d) {
    return v == null ? d : v;
  }

  private static ClusterState parseState(String s) {
    return switch (s.strip().toLowerCase(Locale.ROOT)) {
      case "new" -> ClusterState.NEW;
      case "existing" -> ClusterState.EXISTING;
      default ->
          throw new IllegalArgumentException(
              "--initial-cluster-state must be 'new' or 'existing', was '" + s + "'");
    };
  }

  /** {@code name1=url1,name1=url2,name2=url3}: the URLs of each name, in order of appearance. */
  static Map<String, List<PeerUrl>> parseInitialCluster(String text) {
    Map<String, List<PeerUrl>> cluster = new LinkedHashMap<>();
    Set<PeerUrl> seen = new HashSet<>();
    for (String part : text.split(",")) {
      if (part.isBlank()) {
        continue;
      }
      int eq = part.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(
            "--initial-cluster: '" + part.strip() + "' is not name=http://host:port");
      }
      String memberName = part.substring(0, eq).strip();
      PeerUrl url = PeerUrl.parse("--initial-cluster", part.substring(eq + 1));
      if (!seen.add(url)) {
        throw new IllegalArgumentException(
            "--initial-cluster lists " + url + " more than once: peer URLs must be unique");
      }
      cluster.computeIfAbsent(memberName, k -> new ArrayList<>()).add(url);
    }
    if (cluster.isEmpty()) {
      throw new IllegalArgumentException("--initial-cluster must name at least one member");
    }
    Map<String, List<PeerUrl>> frozen = new LinkedHashMap<>();
    cluster.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
    return Collections.unmodifiableMap(frozen);
  }

  // ---------------------------------------------------------------- accessors

  public String name() {
    return name;
  }

  public Path dataDir() {
    return dataDir;
  }

  public List<PeerUrl> listenClientUrls() {
    return listenClientUrls;
  }

  public List<PeerUrl> advertiseClientUrls() {
    return advertiseClientUrls;
  }

  public PeerUrl listenPeerUrl() {
    return listenPeerUrl;
  }

  public List<PeerUrl> initialAdvertisePeerUrls() {
    return initialAdvertisePeerUrls;
  }

  /** Member name → its peer URLs, in the order given. */
  public Map<String, List<PeerUrl>> initialCluster() {
    return initialCluster;
  }

  public ClusterState initialClusterState() {
    return initialClusterState;
  }

  public String initialClusterToken() {
    return initialClusterToken;
  }

  public long snapshotCount() {
    return snapshotCount;
  }

  public long heartbeatMillis() {
    return heartbeatMillis;
  }

  public long electionMillis() {
    return electionMillis;
  }

  /** 0 means the default (2 GiB). */
  public long quotaBackendBytes() {
    return quotaBackendBytes;
  }

  public int maxRequestBytes() {
    return maxRequestBytes;
  }

  public int maxTxnOps() {
    return maxTxnOps;
  }

  public boolean leaseRead() {
    return leaseRead;
  }

  public Duration progressNotifyInterval() {
    return progressNotifyInterval;
  }

  /** Election timeout in heartbeat ticks (the Raft tick is one heartbeat interval). */
  int electionTicks() {
    return (int) Math.max(3, electionMillis / heartbeatMillis);
  }

  /** Every setting, as etcd's flags. */
  @Override
  public String toString() {
    return "--name="
        + name
        + " --data-dir="
        + dataDir
        + " --listen-client-urls="
        + PeerUrl.join(listenClientUrls)
        + " --advertise-client-urls="
        + PeerUrl.join(advertiseClientUrls)
        + " --listen-peer-urls="
        + listenPeerUrl
        + " --initial-advertise-peer-urls="
        + PeerUrl.join(initialAdvertisePeerUrls)
        + " --initial-cluster="
        + String.join(
            ",",
            initialCluster.entrySet().stream()
                .flatMap(e -> e.getValue().stream().map(u -> e.getKey() + "=" + u))
                .toList())
        + " --initial-cluster-state="
        + initialClusterState.name().toLowerCase(Locale.ROOT)
        + " --initial-cluster-token="
        + initialClusterToken
        + " --snapshot-count="
        + snapshotCount
        + " --heartbeat-interval="
        + heartbeatMillis
        + " --election-timeout="
        + electionMillis
        + " --quota-backend-bytes="
        + quotaBackendBytes
        + " --max-request-bytes="
        + maxRequestBytes
        + " --max-txn-ops="
        + maxTxnOps
        + " --lease-read="
        + leaseRead
        + " --experimental-watch-progress-notify-interval="
        + progressNotifyInterval.toMillis()
        + "ms";
  }

  // ---------------------------------------------------------------- construction

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads etcd's YAML config file keys ({@code name}, {@code data-dir}, {@code listen-client-urls},
   * ...). Keys Tern does not implement are logged and ignored, so an etcd config file works
   * unchanged.
   *
   * @throws IOException if the file cannot be read
   * @throws IllegalArgumentException if it is not a YAML mapping or a value is invalid
   */
  public static ServerConfig fromYaml(Path file) throws IOException {
    Object doc;
    try (InputStream in = Files.newInputStream(file)) {
      doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "config file " + file + " is not valid YAML: " + e.getMessage(), e);
    }
    if (doc == null) {
      return builder().build();
    }
    if (!(doc instanceof Map<?, ?> map)) {
      throw new IllegalArgumentException("config file " + file + " must hold a YAML mapping");
    }
    Builder b = builder();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String key = String.valueOf(e.getKey());
      Object value = e.getValue();
      if (!KEYS.contains(key)) {
        LOG.warn("config file {}: ignoring '{}', which Tern does not implement", file, key);
        continue;
      }
      if (value == null) {
        continue;
      }
      if (value instanceof List<?> list) {
        value = String.join(",", list.stream().map(String::valueOf).toList());
      }
      b.set(key, String.valueOf(value));
    }
    return b.build();
  }

  /** Mutable builder; unset fields take etcd's defaults on {@link #build()}. */
  public static final class Builder {
    private String name;
    private Path dataDir;
    private String listenClientUrls;
    private String advertiseClientUrls;
    private String listenPeerUrls;
    private String initialAdvertisePeerUrls;
    private String initialCluster;
    private String initialClusterState;
    private String initialClusterToken;
    private Long snapshotCount;
    private Long heartbeatMillis;
    private Long electionMillis;
    private Long quotaBackendBytes;
    private Integer maxRequestBytes;
    private Integer maxTxnOps;
    private boolean leaseRead = true;
    private Duration progressNotifyInterval;

    private Builder() {}

    /**
     * Sets one setting by its etcd name (without dashes in front), from text.
     *
     * @throws IllegalArgumentException if the key is unknown or the value malformed
     */
    public Builder set(String key, String value) {
      switch (key) {
        case "name" -> name(value);
        case "data-dir" -> dataDir(Path.of(value));
        case "listen-client-urls" -> listenClientUrls(value);
        case "advertise-client-urls" -> advertiseClientUrls(value);
        case "listen-peer-urls" -> listenPeerUrls(value);
        case "initial-advertise-peer-urls" -> initialAdvertisePeerUrls(value);
        case "initial-cluster" -> initialCluster(value);
        case "initial-cluster-state" -> initialClusterState(value);
        case "initial-cluster-token" -> initialClusterToken(value);
        case "snapshot-count" -> snapshotCount(parseLong(key, value));
        case "heartbeat-interval" -> heartbeatMillis(parseLong(key, value));
        case "election-timeout" -> electionMillis(parseLong(key, value));
        case "quota-backend-bytes" -> quotaBackendBytes(parseLong(key, value));
        case "max-request-bytes" -> maxRequestBytes(toInt(key, parseLong(key, value)));
        case "max-txn-ops" -> maxTxnOps(toInt(key, parseLong(key, value)));
        case "lease-read", "experimental-lease-read" -> leaseRead(parseBoolean(key, value));
        case "experimental-watch-progress-notify-interval" ->
            progressNotifyInterval(parseDuration(key, value));
        default -> throw new IllegalArgumentException("unknown setting '" + key + "'");
      }
      return this;
    }

    public Builder name(String v) {
      name = v;
      return this;
    }

    public Builder dataDir(Path v) {
      dataDir = v;
      return this;
    }

    /** Comma-separated {@code http://host:port} URLs. */
    public Builder listenClientUrls(String v) {
      listenClientUrls = v;
      return this;
    }

    public Builder advertiseClientUrls(String v) {
      advertiseClientUrls = v;
      return this;
    }

    public Builder listenPeerUrls(String v) {
      listenPeerUrls = v;
      return this;
    }

    public Builder initialAdvertisePeerUrls(String v) {
      initialAdvertisePeerUrls = v;
      return this;
    }

    /** {@code name=http://host:port,...}. */
    public Builder initialCluster(String v) {
      initialCluster = v;
      return this;
    }

    /** {@code new} or {@code existing}. */
    public Builder initialClusterState(String v) {
      initialClusterState = v;
      return this;
    }

    public Builder initialClusterToken(String v) {
      initialClusterToken = v;
      return this;
    }

    public Builder snapshotCount(long v) {
      snapshotCount = v;
      return this;
    }

    public Builder heartbeatMillis(long v) {
      heartbeatMillis = v;
      return this;
    }

    public Builder electionMillis(long v) {
      electionMillis = v;
      return this;
    }

    public Builder quotaBackendBytes(long v) {
      quotaBackendBytes = v;
      return this;
    }

    public Builder maxRequestBytes(int v) {
      maxRequestBytes = v;
      return this;
    }

    public Builder maxTxnOps(int v) {
      maxTxnOps = v;
      return this;
    }

    public Builder leaseRead(boolean v) {
      leaseRead = v;
      return this;
    }

    public Builder progressNotifyInterval(Duration v) {
      progressNotifyInterval = v;
      return this;
    }

    /**
     * @throws IllegalArgumentException naming the first invalid setting
     */
    public ServerConfig build() {
      return new ServerConfig(this);
    }

    private static long parseLong(String key, String value) {
      try {
        return Long.parseLong(value.strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--" + key + " must be an integer, was '" + value + "'");
      }
    }

    private static int toInt(String key, long v) {
      if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("--" + key + " is out of range: " + v);
      }
      return (int) v;
    }

    private static boolean parseBoolean(String key, String value) {
      return switch (value.strip().toLowerCase(Locale.ROOT)) {
        case "true" -> true;
        case "false" -> false;
        default ->
            throw new IllegalArgumentException(
                "--" + key + " must be true or false, was '" + value + "'");
      };
    }

    /** Go-style durations: {@code 500ms}, {@code 10s}, {@code 10m}, {@code 1h}. */
    static Duration parseDuration(String key, String value) {
      String s = value.strip().toLowerCase(Locale.ROOT);
      try {
        if (s.endsWith("ms")) {
          return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
        }
        long n = Long.parseLong(s.substring(0, s.length() - 1));
        return switch (s.charAt(s.length() - 1)) {
          case 's' -> Duration.ofSeconds(n);
          case 'm' -> Duration.ofMinutes(n);
          case 'h' -> Duration.ofHours(n);
          default -> throw new NumberFormatException();
        };
      } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
        throw new IllegalArgumentException(
            "--" + key + " must be a duration like 500ms, 10s or 10m, was '" + value + "'");
      }
    }
  }
}
