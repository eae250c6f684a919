package io.tern.transport;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link GrpcTransport}. Immutable and validated on construction; build one with
 * {@link #builder()}.
 *
 * @param maxQueuedMessages messages queued for one peer's message stream before new ones are
 *     dropped. Default 4096.
 * @param maxQueuedBytes estimated bytes queued for one peer's message stream before new ones are
 *     dropped (a message always fits in an empty queue). Default 64 MiB.
 * @param maxQueuedSnapshotMessages snapshot chunks and acknowledgements queued for one peer's
 *     snapshot stream before new ones are dropped. Default 64.
 * @param maxQueuedSnapshotBytes estimated bytes queued for one peer's snapshot stream before new
 *     ones are dropped. Default 32 MiB.
 * @param maxMessageBytes the largest gRPC message (one serialized batch) this member accepts and
 *     sends; a single Raft message larger than this is dropped. Every member must use the same
 *     value. Default 16 MiB.
 * @param maxBatchBytes a batch is cut before it grows past this many bytes (a single message up to
 *     {@code maxMessageBytes} still goes alone). At most {@code maxMessageBytes}. Default 1 MiB.
 * @param minBackoff delay before the first reconnection attempt after a stream fails. Default 50
 *     ms.
 * @param maxBackoff the delay between reconnection attempts doubles up to this. Default 2 s.
 * @param keepAliveTime idle time after which a connection is probed with an HTTP/2 ping, so a peer
 *     that vanished without closing its connection is noticed. At least 10 s (gRPC's floor).
 *     Default 10 s.
 * @param keepAliveTimeout how long a ping may go unanswered before the connection is closed.
 *     Default 5 s.
 * @param eventLoopThreads Netty event loop threads, shared by the server and every peer connection.
 *     Default min(4, available processors).
 * @param callbackThreads threads draining outbound queues when the sender did not (the stream was
 *     busy or not writable). Default 2.
 * @param closeTimeout how long {@link GrpcTransport#close()} waits for connections and threads to
 *     end. Default 5 s.
 */
public record TransportOptions(
    int maxQueuedMessages,
    long maxQueuedBytes,
    int maxQueuedSnapshotMessages,
    long maxQueuedSnapshotBytes,
    int maxMessageBytes,
    int maxBatchBytes,
    Duration minBackoff,
    Duration maxBackoff,
    Duration keepAliveTime,
    Duration keepAliveTimeout,
    int eventLoopThreads,
    int callbackThreads,
    Duration closeTimeout) {

  /** The smallest {@code maxMessageBytes} accepted: room for any message without payload. */
  public static final int MIN_MESSAGE_BYTES = 4 << 10;

  public TransportOptions {
    positive(maxQueuedMessages, "maxQueuedMessages");
    positive(maxQueuedBytes, "maxQueuedBytes");
    positive(maxQueuedSnapshotMessages, "maxQueuedSnapshotMessages");
    positive(maxQueuedSnapshotBytes, "maxQueuedSnapshotBytes");
    if (maxMessageBytes < MIN_MESSAGE_BYTES) {
      throw new IllegalArgumentException(
          "maxMessageBytes must be >= " + MIN_MESSAGE_BYTES + ", got " + maxMessageBytes);
    }
    if (maxBatchBytes < 1 || maxBatchBytes > maxMessageBytes) {
      throw new IllegalArgumentException(
          "maxBatchBytes must be in [1, maxMessageBytes="
              + maxMessageBytes
              + "], got "
              + maxBatchBytes);
    }
    positive(minBackoff, "minBackoff");
    positive(maxBackoff, "maxBackoff");
    if (maxBackoff.compareTo(minBackoff) < 0) {
      throw new IllegalArgumentException(
          "maxBackoff " + maxBackoff + " is below minBackoff " + minBackoff);
    }
    Objects.requireNonNull(keepAliveTime, "keepAliveTime");
    if (keepAliveTime.compareTo(Duration.ofSeconds(10)) < 0) {
      throw new IllegalArgumentException("keepAliveTime must be >= 10s, got " + keepAliveTime);
    }
    positive(keepAliveTimeout, "keepAliveTimeout");
    positive(eventLoopThreads, "eventLoopThreads");
    positive(callbackThreads, "callbackThreads");
    positive(closeTimeout, "closeTimeout");
  }

  /** The defaults documented on this record. */
  public static TransportOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return new Builder()
        .maxQueuedMessages(maxQueuedMessages)
        .maxQueuedBytes(maxQueuedBytes)
        .maxQueuedSnapshotMessages(maxQueuedSnapshotMessages)
        .maxQueuedSnapshotBytes(maxQueuedSnapshotBytes)
        .maxMessageBytes(maxMessageBytes)
        .maxBatchBytes(maxBatchBytes)
        .minBackoff(minBackoff)
        .maxBackoff(maxBackoff)
        .keepAliveTime(keepAliveTime)
        .keepAliveTimeout(keepAliveTimeout)
        .eventLoopThreads(eventLoopThreads)
        .callbackThreads(callbackThreads)
        .closeTimeout(closeTimeout);
  }

  private static void positive(long v, String name) {
    if (v < 1) {
      throw new IllegalArgumentException(name + " must be >= 1, got " + v);
    }
  }

  private static void positive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + d);
    }
  }

  /** Builds {@link TransportOptions}; unset fields keep their defaults. */
  public static final class Builder {
    private int maxQueuedMessages = 4096;
    private long maxQueuedBytes = 64L << 20;
    private int maxQueuedSnapshotMessages = 64;
    private long maxQueuedSnapshotBytes = 32L << 20;
    private int maxMessageBytes = 16 << 20;
    private int maxBatchBytes = 1 << 20;
    private Duration minBackoff = Duration.ofMillis(50);
    private Duration maxBackoff = Duration.ofSeconds(2);
    private Duration keepAliveTime = Duration.ofSeconds(10);
    private Duration keepAliveTimeout = Duration.ofSeconds(5);
    private int eventLoopThreads = Math.min(4, Runtime.getRuntime().availableProcessors());
    private int callbackThreads = 2;
    private Duration closeTimeout = Duration.ofSeconds(5);

    private Builder() {}

    public Builder maxQueuedMessages(int v) {
      maxQueuedMessages = v;
      return this;
    }

    public Builder maxQueuedBytes(long v) {
      maxQueuedBytes = v;
      return this;
    }

    public Builder maxQueuedSnapshotMessages(int v) {
      maxQueuedSnapshotMessages = v;
      return this;
    }

    public Builder maxQueuedSnapshotBytes(long v) {
      maxQueuedSnapshotBytes = v;
      return this;
    }

    public Builder maxMessageBytes(int v) {
      maxMessageBytes = v;
      return this;
    }

    public Builder maxBatchBytes(int v) {
      maxBatchBytes = v;
      return this;
    }

    public Builder minBackoff(Duration v) {
      minBackoff = v;
      return this;
    }

    public Builder maxBackoff(Duration v) {
      maxBackoff = v;
      return this;
    }

    public Builder keepAliveTime(Duration v) {
      keepAliveTime = v;
      return this;
    }

    public Builder keepAliveTimeout(Duration v) {
      keepAliveTimeout = v;
      return this;
    }

    public Builder eventLoopThreads(int v) {
      eventLoopThreads = v;
      return this;
    }

    public Builder callbackThreads(int v) {
      callbackThreads = v;
      return this;
    }

    public Builder closeTimeout(Duration v) {
      closeTimeout = v;
      return this;
    }

    public TransportOptions build() {
      return new TransportOptions(
          maxQueuedMessages,
          maxQueuedBytes,
          maxQueuedSnapshotMessages,
          maxQueuedSnapshotBytes,
          maxMessageBytes,
          maxBatchBytes,
          minBackoff,
          maxBackoff,
          keepAliveTime,
          keepAliveTimeout,
          eventLoopThreads,
          callbackThreads,
          closeTimeout);
    }
  }
}
