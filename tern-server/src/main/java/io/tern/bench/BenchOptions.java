package io.tern.bench;

import java.time.Duration;
import java.util.List;

/**
 * One {@code tern bench} run, validated: every field has a usable value once built.
 *
 * @param endpoints members' client addresses; connections are spread over them round-robin
 * @param clients concurrent clients, each with exactly one request in flight
 * @param conns gRPC connections the clients share (client i uses connection i mod conns)
 * @param keySpace keys are drawn from {@code [0, keySpace)}, encoded big-endian in keySize bytes
 * @param rate total requests per second of the open loop; 0 runs a closed loop
 * @param duration the measured time, or null when {@code total} bounds the run instead
 * @param total the number of measured requests, or 0 when {@code duration} bounds the run
 * @param warmup time before measuring, with the same load
 * @param readRatio fraction of reads in the mixed workload
 * @param serializableReads whether the mixed workload's reads are serializable
 * @param txnOps puts per txn of the txn-put workload
 * @param watchers watch streams of the watch workload, over watchConns connections of their own
 * @param prefill whether read workloads first put every key of the key space that is missing
 * @param leaderOnly whether to send everything to the member that leads, found by Status
 * @param timeout deadline of each request
 */
public record BenchOptions(
    List<BenchEndpoint> endpoints,
    Workload workload,
    int clients,
    int conns,
    int keySize,
    int valSize,
    long keySpace,
    double rate,
    Duration duration,
    long total,
    Duration warmup,
    double readRatio,
    boolean serializableReads,
    int txnOps,
    int watchers,
    int watchConns,
    boolean sequentialKeys,
    boolean prefill,
    boolean leaderOnly,
    Duration timeout) {

  /** etcd's default --max-txn-ops, which Tern shares. */
  static final int MAX_TXN_OPS = 128;

  /** Bytes of the send time the watch workload writes at the start of each value. */
  static final int TIMESTAMP_BYTES = 8;

  public BenchOptions {
    endpoints = List.copyOf(endpoints);
    require(!endpoints.isEmpty(), "--endpoints: at least one endpoint is needed");
    require(workload != null, "a workload is needed (one of " + Workload.names() + ")");
    require(clients >= 1, "--clients must be at least 1, got " + clients);
    require(conns >= 1, "--conns must be at least 1, got " + conns);
    require(
        conns <= clients,
        "--conns ("
            + conns
            + ") must not exceed --clients ("
            + clients
            + "): a connection"
            + " without a client would stay idle");
    require(keySize >= 1, "--key-size must be at least 1 byte, got " + keySize);
    require(valSize >= 0, "--val-size must not be negative, got " + valSize);
    require(keySpace >= 1, "--key-space must be at least 1, got " + keySpace);
    require(
        keySize >= 8 || keySpace <= 1L << (8 * keySize),
        "--key-space "
            + keySpace
            + " does not fit in "
            + keySize
            + "-byte keys (at most "
            + (1L << (8 * keySize))
            + ")");
    require(
        Double.isFinite(rate) && rate >= 0,
        "--rate must be a number of requests per second (0 for a closed loop), got " + rate);
    require((duration == null) != (total == 0), "give either --duration or --total, not both");
    require(
        duration == null || (!duration.isNegative() && !duration.isZero()),
        "--duration must be positive, got " + duration);
    require(total >= 0, "--total must be positive, got " + total);
    require(warmup != null && !warmup.isNegative(), "--warmup must not be negative");
    require(readRatio >= 0 && readRatio <= 1, "--read-ratio must be in [0, 1], got " + readRatio);
    require(
        txnOps >= 1 && txnOps <= MAX_TXN_OPS,
        "--txn-ops must be in [1, " + MAX_TXN_OPS + "], got " + txnOps);
    require(
        txnOps <= keySpace,
        "--txn-ops ("
            + txnOps
            + ") exceeds --key-space ("
            + keySpace
            + "): a txn cannot put the same key twice");
    require(watchers >= 1, "--watchers must be at least 1, got " + watchers);
    require(watchConns >= 1, "--watch-conns must be at least 1, got " + watchConns);
    require(
        watchConns <= watchers,
        "--watch-conns (" + watchConns + ") must not exceed --watchers (" + watchers + ")");
    require(
        workload != Workload.WATCH || valSize >= TIMESTAMP_BYTES,
        "--val-size must be at least "
            + TIMESTAMP_BYTES
            + " for the watch workload (each value carries its send time)");
    require(
        timeout != null && !timeout.isNegative() && !timeout.isZero(),
        "--timeout must be positive");
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /** The same run with another number of clients and connections (one level of a series). */
  public BenchOptions withClients(int clients, int conns) {
    return new BenchOptions(
        endpoints,
        workload,
        clients,
        conns,
        keySize,
        valSize,
        keySpace,
        rate,
        duration,
        total,
        warmup,
        readRatio,
        serializableReads,
        txnOps,
        watchers,
        watchConns,
        sequentialKeys,
        prefill,
        leaderOnly,
        timeout);
  }

  public boolean openLoop() {
    return rate > 0;
  }

  public static Builder builder(Workload workload) {
    return new Builder(workload);
  }

  /** Defaults: one client on one connection to 127.0.0.1:2379, closed loop for 10 s. */
  public static final class Builder {
    private List<BenchEndpoint> endpoints = List.of(new BenchEndpoint("127.0.0.1", 2379));
    private final Workload workload;
    private int clients = 1;
    private int conns = 1;
    private int keySize = 8;
    private int valSize = 256;
    private long keySpace = 10_000;
    private double rate;
    private Duration duration;
    private long total;
    private Duration warmup = Duration.ZERO;
    private double readRatio = 0.5;
    private boolean serializableReads;
    private int txnOps = 1;
    private int watchers = 1;
    private int watchConns = 1;
    private boolean sequentialKeys;
    private boolean prefill = true;
    private boolean leaderOnly;
    private Duration timeout = Duration.ofSeconds(5);

    private Builder(Workload workload) {
      this.workload = workload;
    }

    public Builder endpoints(List<BenchEndpoint> v) {
      endpoints = v;
      return this;
    }

    public Builder clients(int v) {
      clients = v;
      return this;
    }

    public Builder conns(int v) {
      conns = v;
      return this;
    }

    public Builder keySize(int v) {
      keySize = v;
      return this;
    }

    public Builder valSize(int v) {
      valSize = v;
      return this;
    }

    public Builder keySpace(long v) {
      keySpace = v;
      return this;
    }

    public Builder rate(double v) {
      rate = v;
      return this;
    }

    /** Bounds the run by time (the default: 10 s when neither this nor total is set). */
    public Builder duration(Duration v) {
      duration = v;
      return this;
    }

    /** Bounds the run by a number of measured requests. */
    public Builder total(long v) {
      total = v;
      return this;
    }

    public Builder warmup(Duration v) {
      warmup = v;
      return this;
    }

    public Builder readRatio(double v) {
      readRatio = v;
      return this;
    }

    public Builder serializableReads(boolean v) {
      serializableReads = v;
      return this;
    }

    public Builder txnOps(int v) {
      txnOps = v;
      return this;
    }

    public Builder watchers(int v) {
      watchers = v;
      return this;
    }

    public Builder watchConns(int v) {
      watchConns = v;
      return this;
    }

    public Builder sequentialKeys(boolean v) {
      sequentialKeys = v;
      return this;
    }

    public Builder prefill(boolean v) {
      prefill = v;
      return this;
    }

    public Builder leaderOnly(boolean v) {
      leaderOnly = v;
      return this;
    }

    public Builder timeout(Duration v) {
      timeout = v;
      return this;
    }

    /** Throws IllegalArgumentException naming the offending option. */
    public BenchOptions build() {
      Duration d = duration == null && total == 0 ? Duration.ofSeconds(10) : duration;
      return new BenchOptions(
          endpoints,
          workload,
          clients,
          conns,
          keySize,
          valSize,
          keySpace,
          rate,
          d,
          total,
          warmup,
          readRatio,
          serializableReads,
          txnOps,
          watchers,
          watchConns,
          sequentialKeys,
          prefill,
          leaderOnly,
          timeout);
    }
  }
}
