package io.tern.kv;

import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Settings of a {@link KvStateMachine}. Immutable; build with {@link #builder()}.
 *
 * <p>Every member of a cluster must use the same {@link #maxTxnOps()}: a transaction over the limit
 * is refused in apply, so members with different limits would diverge.
 */
public final class KvOptions {
  /** Default {@link #quotaBackendBytes()}: 2 GiB, etcd's default. */
  public static final long DEFAULT_QUOTA_BACKEND_BYTES = 2L << 30;

  /** Default {@link #maxTxnOps()}: etcd's default. */
  public static final int DEFAULT_MAX_TXN_OPS = 128;

  /** Default {@link #maxRequestBytes()}: 1.5 MiB, etcd's default. */
  public static final int DEFAULT_MAX_REQUEST_BYTES = 3 << 19;

  /** Default of {@link #keyCacheBytes()}. */
  public static final long DEFAULT_KEY_CACHE_BYTES = 32L << 20;

  /** Default of {@link #memtableBytes()}. */
  public static final long DEFAULT_MEMTABLE_BYTES = 32L << 20;

  /** Smallest {@link #memtableBytes()}. */
  public static final long MIN_MEMTABLE_BYTES = 1L << 20;

  private final long quotaBackendBytes;
  private final int maxTxnOps;
  private final int maxRequestBytes;
  private final LongSupplier nanoClock;
  private final long keyCacheBytes;
  private final long memtableBytes;

  private KvOptions(Builder b) {
    this.quotaBackendBytes =
        b.quotaBackendBytes == 0 ? DEFAULT_QUOTA_BACKEND_BYTES : b.quotaBackendBytes;
    this.maxTxnOps = b.maxTxnOps;
    this.maxRequestBytes = b.maxRequestBytes;
    this.nanoClock = b.nanoClock;
    this.keyCacheBytes = b.keyCacheBytes;
    this.memtableBytes = b.memtableBytes;
  }

  public static Builder builder() {
    return new Builder();
  }

  public static KvOptions defaults() {
    return builder().build();
  }

  /** Size of the database (bytes) beyond which {@link KvStateMachine#overQuota()} holds. */
  public long quotaBackendBytes() {
    return quotaBackendBytes;
  }

  /** Most operations a transaction may hold (compares, and ops of the branches), etcd's limit. */
  public int maxTxnOps() {
    return maxTxnOps;
  }

  /** Largest encoded request (bytes) {@link KvStateMachine#validate} accepts. */
  public int maxRequestBytes() {
    return maxRequestBytes;
  }

  /**
   * The member-local monotonic clock (nanoseconds) lease expiry is measured with; never used for
   * replicated state. Default {@link System#nanoTime()}.
   */
  public LongSupplier nanoClock() {
    return nanoClock;
  }

  /**
   * Memory (bytes, approximate) the apply thread may use to remember the newest record of recently
   * used keys, so writes need not search the database for a key's current version; 0 disables it.
   * Default 32 MiB.
   */
  public long keyCacheBytes() {
    return keyCacheBytes;
  }

  /**
   * Memory (bytes) of the store's RocksDB memtables, all column families together; when they fill,
   * all are flushed to disk at once. The store writes no log of its own (the Raft log is its
   * write-ahead log), so this also bounds what a crash makes the member apply again from the Raft
   * log. Default 32 MiB, at least 1 MiB.
   */
  public long memtableBytes() {
    return memtableBytes;
  }

  public Builder toBuilder() {
    return new Builder()
        .keyCacheBytes(keyCacheBytes)
        .memtableBytes(memtableBytes)
        .quotaBackendBytes(quotaBackendBytes)
        .maxTxnOps(maxTxnOps)
        .maxRequestBytes(maxRequestBytes)
        .nanoClock(nanoClock);
  }

  @Override
  public String toString() {
    return "KvOptions{quotaBackendBytes="
        + quotaBackendBytes
        + ", maxTxnOps="
        + maxTxnOps
        + ", maxRequestBytes="
        + maxRequestBytes
        + ", keyCacheBytes="
        + keyCacheBytes
        + ", memtableBytes="
        + memtableBytes
        + "}";
  }

  public static final class Builder {
    private long quotaBackendBytes = DEFAULT_QUOTA_BACKEND_BYTES;
    private int maxTxnOps = DEFAULT_MAX_TXN_OPS;
    private int maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;
    private LongSupplier nanoClock = System::nanoTime;
    private long keyCacheBytes = DEFAULT_KEY_CACHE_BYTES;
    private long memtableBytes = DEFAULT_MEMTABLE_BYTES;

    private Builder() {}

    /** Bytes, at least {@link #MIN_MEMTABLE_BYTES}. */
    public Builder memtableBytes(long bytes) {
      this.memtableBytes = bytes;
      return this;
    }

    /** Bytes; 0 disables the cache. */
    public Builder keyCacheBytes(long bytes) {
      this.keyCacheBytes = bytes;
      return this;
    }

    /** Bytes; 0 selects the default (2 GiB). */
    public Builder quotaBackendBytes(long bytes) {
      this.quotaBackendBytes = bytes;
      return this;
    }

    public Builder maxTxnOps(int ops) {
      this.maxTxnOps = ops;
      return this;
    }

    public Builder maxRequestBytes(int bytes) {
      this.maxRequestBytes = bytes;
      return this;
    }

    public Builder nanoClock(LongSupplier clock) {
      this.nanoClock = Objects.requireNonNull(clock, "nanoClock");
      return this;
    }

    /**
     * @throws IllegalArgumentException if a value is out of range
     */
    public KvOptions build() {
      if (quotaBackendBytes < 0) {
        throw new IllegalArgumentException("quotaBackendBytes < 0: " + quotaBackendBytes);
      }
      if (keyCacheBytes < 0) {
        throw new IllegalArgumentException("keyCacheBytes < 0: " + keyCacheBytes);
      }
      if (memtableBytes < MIN_MEMTABLE_BYTES) {
        throw new IllegalArgumentException(
            "memtableBytes < " + MIN_MEMTABLE_BYTES + ": " + memtableBytes);
      }
      if (maxTxnOps < 1) {
        throw new IllegalArgumentException("maxTxnOps < 1: " + maxTxnOps);
      }
      if (maxRequestBytes < 1) {
        throw new IllegalArgumentException("maxRequestBytes < 1: " + maxRequestBytes);
      }
      return new KvOptions(this);
    }
  }
}
