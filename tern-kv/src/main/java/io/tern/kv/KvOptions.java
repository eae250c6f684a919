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

  private final long quotaBackendBytes;
  private final int maxTxnOps;
  private final int maxRequestBytes;
  private final LongSupplier nanoClock;
  private final long keyCacheBytes;

  private KvOptions(Builder b) {
    this.quotaBackendBytes =
        b.quotaBackendBytes == 0 ? DEFAULT_QUOTA_BACKEND_BYTES : b.quotaBackendBytes;
    this.maxTxnOps = b.maxTxnOps;
    this.maxRequestBytes = b.maxRequestBytes;
    this.nanoClock = b.nanoClock;
    this.keyCacheBytes = b.keyCacheBytes;
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

  public Builder toBuilder() {
    return new Builder()
        .keyCacheBytes(keyCacheBytes)
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
        + "}";
  }

  public static final class Builder {
    private long quotaBackendBytes = DEFAULT_QUOTA_BACKEND_BYTES;
    private int maxTxnOps = DEFAULT_MAX_TXN_OPS;
    private int maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;
    private LongSupplier nanoClock = System::nanoTime;
    private long keyCacheBytes = DEFAULT_KEY_CACHE_BYTES;

    private Builder() {}

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
