package io.tern.transport;

import com.google.protobuf.CodedOutputStream;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.tern.raft.core.Message;
import io.tern.transport.proto.MessageBatch;
import io.tern.transport.proto.RaftMessage;
import io.tern.transport.proto.RaftTransportGrpc;
import io.tern.transport.proto.StreamAck;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One outgoing stream to one peer (its message stream or its snapshot stream), with its own
 * connection, a queue bounded by count and bytes, and reconnection with backoff.
 *
 * <p>Everything but the queue is owned by the drain loop, which runs on the sending thread ({@link
 * #signalInline()}) or on the transport's callback executor, and is serialized by {@link #wip}:
 * {@link #signal()} runs it once more after any event (messages queued, the stream became writable,
 * the stream ended, a backoff timer fired, the address changed). It writes batches while the stream
 * {@link ClientCallStreamObserver#isReady() is ready}, so gRPC flow control, not memory, absorbs a
 * slow peer; what cannot be written waits in the bounded queue, and what does not fit there is
 * dropped.
 */
final class PeerLane {
  private static final Logger LOG = LoggerFactory.getLogger(PeerLane.class);

  /** Which stream of the peer this is. */
  enum Kind {
    MESSAGES("message"),
    SNAPSHOTS("snapshot");

    final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  /** What became of a message offered to the queue. */
  enum Offer {
    QUEUED,
    FULL,
    CLOSED
  }

  private record Queued(Message message, long bytes) {}

  private final GrpcTransport owner;
  private final long peer;
  private final Kind kind;
  private final int maxMessages;
  private final long maxBytes;

  private final Object lock = new Object();
  // Guarded by lock.
  private final ArrayDeque<Queued> queue = new ArrayDeque<>();
  private long queuedBytes;
  private InetSocketAddress address;
  private boolean addressChanged;
  private boolean closed;
  private ManagedChannel channel;

  private final AtomicInteger wip = new AtomicInteger();
  private final AtomicBoolean timerArmed = new AtomicBoolean();
  final LongAdder sent = new LongAdder();
  final LongAdder dropped = new LongAdder();
  private volatile boolean connected;

  // Owned by the drain loop.
  private Attempt attempt;
  private int failures;
  private boolean backingOff;
  private long retryAtNanos;
  private RaftMessage carry;

  PeerLane(GrpcTransport owner, long peer, Kind kind, InetSocketAddress address) {
    this.owner = owner;
    this.peer = peer;
    this.kind = kind;
    this.address = address;
    TransportOptions o = owner.options();
    if (kind == Kind.MESSAGES) {
      maxMessages = o.maxQueuedMessages();
      maxBytes = o.maxQueuedBytes();
    } else {
      maxMessages = o.maxQueuedSnapshotMessages();
      maxBytes = o.maxQueuedSnapshotBytes();
    }
  }

  /**
   * Queues {@code m} unless the queue is full (an empty queue takes any message); does not start
   * the drain, call {@link #signal()} after a burst.
   */
  Offer offer(Message m, long estimatedBytes) {
    synchronized (lock) {
      if (closed) {
        return Offer.CLOSED;
      }
      if (!queue.isEmpty()
          && (queue.size() >= maxMessages || queuedBytes + estimatedBytes > maxBytes)) {
        dropped.increment();
        return Offer.FULL;
      }
      queue.addLast(new Queued(m, estimatedBytes));
      queuedBytes += estimatedBytes;
      return Offer.QUEUED;
    }
  }

  /** Points the lane at a new address: the current connection is dropped, queued messages kept. */
  void retarget(InetSocketAddress newAddress) {
    synchronized (lock) {
      if (closed || newAddress.equals(address)) {
        return;
      }
      address = newAddress;
      addressChanged = true;
    }
    signal();
  }

  /** Stops the lane for good: drops the queue and the connection; returns it to await. */
  ManagedChannel shutdown() {
    ManagedChannel ch;
    synchronized (lock) {
      closed = true;
      queue.clear();
      queuedBytes = 0;
      ch = channel;
      channel = null;
    }
    connected = false;
    if (ch != null) {
      ch.shutdownNow();
    }
    return ch;
  }

  InetSocketAddress address() {
    synchronized (lock) {
      return address;
    }
  }

  int queuedMessages() {
    synchronized (lock) {
      return queue.size();
    }
  }

  long queuedBytes() {
    synchronized (lock) {
      return queuedBytes;
    }
  }

  boolean connected() {
    return connected;
  }

  /** Runs the drain loop (again) on the callback executor. */
  void signal() {
    if (wip.getAndIncrement() == 0) {
      if (!owner.execute(this::drainLoop)) {
        wip.set(0); // the transport is closing; nothing more will be sent
      }
    }
  }

  /**
   * Runs the drain loop (again) on the calling thread if no other thread is draining, else lets the
   * running drain pick up what was queued. Saves the sender a thread hand-off per batch; gRPC's
   * {@code onNext} only serializes the batch and queues it for Netty, so the caller does not block.
   */
  void signalInline() {
    if (wip.getAndIncrement() == 0) {
      drainLoop();
    }
  }

  private void drainLoop() {
    int missed = 1;
    while (true) {
      try {
        drain();
      } catch (RuntimeException e) {
        LOG.error(
            "member {}: {} stream to peer {} failed unexpectedly", owner.id(), kind.label, peer, e);
        Attempt a = attempt;
        attempt = null;
        connected = false;
        if (a != null && a.call != null) {
          a.call.cancel("sender failed", e);
        }
        backOff();
      }
      missed = wip.addAndGet(-missed);
      if (missed == 0) {
        return;
      }
    }
  }

  private void drain() {
    ManagedChannel stale = null;
    synchronized (lock) {
      if (closed) {
        return;
      }
      if (addressChanged) {
        addressChanged = false;
        stale = channel;
        channel = null;
        attempt = null;
        connected = false;
        failures = 0;
        backingOff = false;
      }
    }
    if (stale != null) {
      stale.shutdownNow(); // ends the old stream; its callbacks no longer match attempt
    }
    Attempt a = attempt;
    if (a != null && a.ended) {
      ended(a);
      a = null;
    }
    if (a == null) {
      if (carry == null && queuedMessages() == 0) {
        return; // streams open on demand
      }
      if (backingOff) {
        long wait = retryAtNanos - System.nanoTime();
        if (wait > 0) {
          armTimer(wait);
          return;
        }
        backingOff = false;
      }
      a = open();
      if (a == null) {
        return;
      }
    }
    if (!a.connected && a.call.isReady()) {
      a.connected = true;
      connected = true;
      if (failures > 0) {
        LOG.info(
            "member {}: {} stream to peer {} reconnected after {} failed attempt(s)",
            owner.id(),
            kind.label,
            peer,
            failures);
      }
      failures = 0;
    }
    while (a.call.isReady()) {
      MessageBatch batch = nextBatch();
      if (batch == null) {
        return;
      }
      a.call.onNext(batch);
      int n = batch.getMessagesCount();
      sent.add(n);
      owner.countSent(n);
    }
  }

  private Attempt open() {
    ManagedChannel ch;
    synchronized (lock) {
      if (closed) {
        return null;
      }
      if (channel == null) {
        channel = owner.newChannel(address);
      }
      ch = channel;
    }
    if (failures > 0) {
      ch.resetConnectBackoff(); // our backoff governs retries, not the channel's (up to 2 min)
    }
    Attempt a = new Attempt();
    attempt = a;
    RaftTransportGrpc.RaftTransportStub stub =
        RaftTransportGrpc.newStub(ch).withInterceptors(owner.senderHeaders());
    if (kind == Kind.MESSAGES) {
      stub.stream(a);
    } else {
      stub.snapshot(a);
    }
    return a;
  }

  private void ended(Attempt a) {
    attempt = null;
    connected = false;
    owner.countStreamFailure();
    Status status = a.cause == null ? Status.OK : Status.fromThrowable(a.cause);
    String why =
        status.getCode()
            + (status.getDescription() == null ? "" : ": " + status.getDescription())
            + (a.cause == null ? " (closed by peer)" : "");
    InetSocketAddress to = address();
    if (a.connected) {
      LOG.warn(
          "member {}: {} stream to peer {} at {} broke ({}); reconnecting",
          owner.id(),
          kind.label,
          peer,
          to,
          why);
    } else if (failures == 0) {
      LOG.info(
          "member {}: cannot open {} stream to peer {} at {} ({}); retrying with backoff",
          owner.id(),
          kind.label,
          peer,
          to,
          why);
    } else {
      LOG.debug(
          "member {}: {} stream to peer {} at {}: attempt {} failed ({})",
          owner.id(),
          kind.label,
          peer,
          to,
          failures + 1,
          why);
    }
    backOff();
  }

  private void backOff() {
    failures++;
    TransportOptions o = owner.options();
    long delay =
        Backoff.delayNanos(
            failures,
            o.minBackoff().toNanos(),
            o.maxBackoff().toNanos(),
            ThreadLocalRandom.current().nextDouble());
    backingOff = true;
    retryAtNanos = System.nanoTime() + delay;
  }

  private void armTimer(long delayNanos) {
    if (timerArmed.compareAndSet(false, true)) {
      boolean scheduled =
          owner.schedule(
              () -> {
                timerArmed.set(false);
                signal();
              },
              delayNanos,
              TimeUnit.NANOSECONDS);
      if (!scheduled) {
        timerArmed.set(false);
      }
    }
  }

  /**
   * Takes queued messages into one batch of at most {@code maxBatchBytes} (or one message up to
   * {@code maxMessageBytes}); drops messages too large to ever send. Null if nothing is queued.
   */
  private MessageBatch nextBatch() {
    TransportOptions o = owner.options();
    MessageBatch.Builder batch = null;
    long size = 0;
    while (true) {
      RaftMessage p = carry;
      carry = null;
      if (p == null) {
        Message m = poll();
        if (m == null) {
          break;
        }
        p = MessageCodec.toProto(m);
        int bytes = CodedOutputStream.computeMessageSize(MessageBatch.MESSAGES_FIELD_NUMBER, p);
        if (bytes > o.maxMessageBytes()) {
          owner.dropOversize(m, bytes);
          continue;
        }
      }
      int bytes = CodedOutputStream.computeMessageSize(MessageBatch.MESSAGES_FIELD_NUMBER, p);
      if (batch != null && size + bytes > o.maxBatchBytes()) {
        carry = p;
        break;
      }
      if (batch == null) {
        batch = MessageBatch.newBuilder();
      }
      batch.addMessages(p);
      size += bytes;
    }
    return batch == null ? null : batch.build();
  }

  private Message poll() {
    synchronized (lock) {
      Queued q = queue.pollFirst();
      if (q == null) {
        return null;
      }
      queuedBytes -= q.bytes();
      return q.message();
    }
  }

  /** One attempt at a stream: gRPC reports to it, the drain loop acts on what it recorded. */
  private final class Attempt implements ClientResponseObserver<MessageBatch, StreamAck> {
    ClientCallStreamObserver<MessageBatch> call; // set in beforeStart, on the drain thread
    boolean connected; // drain-owned
    volatile boolean ended;
    volatile Throwable cause;

    @Override
    public void beforeStart(ClientCallStreamObserver<MessageBatch> requestStream) {
      call = requestStream;
      requestStream.setOnReadyHandler(PeerLane.this::signal);
    }

    @Override
    public void onNext(StreamAck value) {}

    @Override
    public void onError(Throwable t) {
      cause = t;
      ended = true;
      signal();
    }

    @Override
    public void onCompleted() {
      ended = true;
      signal();
    }
  }
}
