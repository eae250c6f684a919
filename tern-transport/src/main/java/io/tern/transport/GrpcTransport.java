package io.tern.transport;

import com.google.common.net.HostAndPort;
import com.google.common.net.InetAddresses;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.tern.raft.core.Message;
import io.tern.raft.core.MessageType;
import io.tern.raft.node.Transport;
import io.tern.transport.proto.MessageBatch;
import io.tern.transport.proto.RaftMessage;
import io.tern.transport.proto.RaftTransportGrpc;
import io.tern.transport.proto.StreamAck;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Transport} over gRPC (Netty).
 *
 * <p>Each member runs one server. To each peer it keeps two client-streaming RPCs, each on its own
 * connection: {@code Stream} carries every message but snapshot traffic, {@code Snapshot} carries
 * {@code SNAPSHOT_CHUNK} and {@code SNAPSHOT_CHUNK_ACK}, so a bulk transfer never sits in front of
 * a heartbeat or a vote. Messages to one peer on one stream arrive in the order they were sent (or
 * not at all).
 *
 * <p>{@link #send} never blocks: it queues each message for its peer's stream and returns. Each
 * queue is bounded by count and bytes; a message that does not fit is dropped (Raft resends) and
 * counted. A sender drains the queue into {@code MessageBatch} frames whenever gRPC flow control
 * lets the stream take more, so a slow or unreachable peer holds at most its queue's worth of
 * memory and delays no other peer. A failed stream is reopened with jittered exponential backoff.
 *
 * <p>Inbound messages are delivered to the consumer given to {@link #start} on the Netty I/O thread
 * that read them, in order per sending peer and stream; the consumer must not block. Outbound
 * batches are written by the thread that calls {@link #send} when no other thread is writing to
 * that peer's stream, and otherwise by the thread that is (a callback thread when gRPC reports the
 * stream writable again).
 *
 * <p>Thread-safe. Peers can be added, moved and removed at any time ({@link #setPeer}, {@link
 * #removePeer}), as membership changes.
 */
public final class GrpcTransport implements Transport {
  private static final Logger LOG = LoggerFactory.getLogger(GrpcTransport.class);

  /** The server accepts keepalive pings this often: below every client's floor of 10 s. */
  private static final long PERMIT_KEEPALIVE_SECONDS = 5;

  /** Only empty acknowledgements come back on a client's streams. */
  private static final int CLIENT_MAX_INBOUND_BYTES = 64 << 10;

  private enum State {
    NEW,
    STARTED,
    CLOSED
  }

  private final long id;
  private final InetSocketAddress listenAddress;
  private final TransportOptions options;
  private final ConcurrentHashMap<Long, Peer> peers = new ConcurrentHashMap<>();

  private final Object lifecycle = new Object();
  private volatile State state = State.NEW;
  private volatile Consumer<Message> inbound;
  // Set once by start, before state becomes STARTED.
  private volatile EventLoopGroup eventLoops;
  private volatile ExecutorService callbacks;
  private volatile ScheduledExecutorService timer;
  private volatile Server server;

  private final LongAdder messagesSent = new LongAdder();
  private final LongAdder batchesSent = new LongAdder();
  private final LongAdder messagesReceived = new LongAdder();
  private final LongAdder snapshotMessagesReceived = new LongAdder();
  private final LongAdder droppedQueueFull = new LongAdder();
  private final LongAdder droppedOversize = new LongAdder();
  private final LongAdder droppedUnknownPeer = new LongAdder();
  private final LongAdder droppedMalformed = new LongAdder();
  private final LongAdder droppedMisaddressed = new LongAdder();
  private final LongAdder streamFailures = new LongAdder();

  private final LogLimiter queueFullLog = new LogLimiter(5, TimeUnit.SECONDS);
  private final LogLimiter oversizeLog = new LogLimiter(5, TimeUnit.SECONDS);
  private final LogLimiter unknownPeerLog = new LogLimiter(5, TimeUnit.SECONDS);
  private final LogLimiter inboundLog = new LogLimiter(5, TimeUnit.SECONDS);

  /** Headers of every outbound stream naming this member and where it listens; set by start. */
  private volatile ClientInterceptor senderHeaders;

  /** The sending member's id, in the headers of each stream it opens. */
  static final Metadata.Key<String> SENDER_ID =
      Metadata.Key.of("tern-sender-id", Metadata.ASCII_STRING_MARSHALLER);

  /**
   * Where the sending member listens for Raft traffic ({@code ip:port}), in the headers of each
   * stream it opens, when it listens on one address (not a wildcard).
   */
  static final Metadata.Key<String> SENDER_ADDRESS =
      Metadata.Key.of("tern-sender-address", Metadata.ASCII_STRING_MARSHALLER);

  /**
   * A transport for member {@code id}, listening on {@code listenAddress} (port 0 picks a free
   * port, see {@link #localAddress()}), sending to the members in {@code peers} (an entry for
   * {@code id} itself is ignored).
   */
  public GrpcTransport(
      long id,
      InetSocketAddress listenAddress,
      Map<Long, InetSocketAddress> peers,
      TransportOptions options) {
    this.id = id;
    this.listenAddress = Objects.requireNonNull(listenAddress, "listenAddress");
    this.options = Objects.requireNonNull(options, "options");
    Objects.requireNonNull(peers, "peers").forEach(this::setPeer);
  }

  /** A transport with {@link TransportOptions#defaults()}. */
  public GrpcTransport(
      long id, InetSocketAddress listenAddress, Map<Long, InetSocketAddress> peers) {
    this(id, listenAddress, peers, TransportOptions.defaults());
  }

  /** This member's id. */
  public long id() {
    return id;
  }

  public TransportOptions options() {
    return options;
  }

  /**
   * Starts the server and delivers every message received from then on to {@code inbound}.
   *
   * @throws TransportException if the server cannot listen on the address
   * @throws IllegalStateException if already started or closed
   */
  @Override
  public void start(Consumer<Message> inbound) {
    Objects.requireNonNull(inbound, "inbound");
    synchronized (lifecycle) {
      if (state != State.NEW) {
        throw new IllegalStateException("transport of member " + id + " is " + state);
      }
      this.inbound = inbound;
      String prefix = "tern-transport-" + id;
      eventLoops =
          new MultiThreadIoEventLoopGroup(
              options.eventLoopThreads(),
              new DefaultThreadFactory(prefix + "-io", true),
              NioIoHandler.newFactory());
      callbacks =
          Executors.newFixedThreadPool(options.callbackThreads(), daemon(prefix + "-callback"));
      timer = Executors.newSingleThreadScheduledExecutor(daemon(prefix + "-timer"));
      try {
        server =
            NettyServerBuilder.forAddress(listenAddress)
                .bossEventLoopGroup(eventLoops)
                .workerEventLoopGroup(eventLoops)
                .channelType(NioServerSocketChannel.class)
                // Inbound batches are decoded and handed to the consumer on the Netty thread that
                // read them: the consumer only queues them for the Raft loop.
                .directExecutor()
                .maxInboundMessageSize(options.maxMessageBytes())
                .permitKeepAliveTime(PERMIT_KEEPALIVE_SECONDS, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .addService(ServerInterceptors.intercept(new Service(), new SenderLearner()))
                .build()
                .start();
        senderHeaders = MetadataUtils.newAttachHeadersInterceptor(senderMetadata(server));
      } catch (IOException | RuntimeException e) {
        state = State.CLOSED;
        releaseThreads(System.nanoTime() + options.closeTimeout().toNanos());
        throw new TransportException(
            "member " + id + " cannot listen for peers on " + listenAddress, e);
      }
      state = State.STARTED;
    }
    LOG.info("member {} listening for peers on {}", id, localAddress());
  }

  /**
   * The address the server is bound to (with the actual port when started on port 0).
   *
   * @throws IllegalStateException if not started
   */
  public InetSocketAddress localAddress() {
    Server s = server;
    if (s == null || state == State.NEW) {
      throw new IllegalStateException("transport of member " + id + " is not started");
    }
    for (SocketAddress a : s.getListenSockets()) {
      if (a instanceof InetSocketAddress inet) {
        return inet;
      }
    }
    throw new IllegalStateException("server of member " + id + " has no listening socket");
  }

  /**
   * Queues each message for its destination and returns at once. Messages to a member without an
   * address, too large to send, or finding their peer's queue full are dropped and counted (see
   * {@link #stats()}). After {@link #close()} every message is dropped.
   *
   * @throws IllegalStateException if the transport was never started
   */
  @Override
  public void send(List<Message> messages) {
    State s = state;
    if (s == State.NEW) {
      throw new IllegalStateException("transport of member " + id + " is not started");
    }
    if (s == State.CLOSED) {
      return;
    }
    PeerLane last = null;
    List<PeerLane> touched = null;
    for (Message m : messages) {
      Peer peer = peers.get(m.to());
      if (peer == null) {
        droppedUnknownPeer.increment();
        if (unknownPeerLog.allow()) {
          LOG.warn("member {}: no address for member {}; dropping {}", id, m.to(), m);
        }
        continue;
      }
      if (m.payloadBytes() > options.maxMessageBytes()) {
        dropOversize(m, m.payloadBytes());
        continue;
      }
      PeerLane lane = isSnapshotTraffic(m.type()) ? peer.snapshots : peer.messages;
      switch (lane.offer(m, MessageCodec.estimatedSize(m))) {
        case QUEUED -> {
          if (lane != last) {
            if (touched == null) {
              touched = new ArrayList<>(2);
            }
            if (!touched.contains(lane)) {
              touched.add(lane);
            }
            last = lane;
          }
        }
        case FULL -> {
          droppedQueueFull.increment();
          if (queueFullLog.allow()) {
            LOG.warn(
                "member {}: queue to member {} is full ({} messages, {} bytes); dropping {}",
                id,
                m.to(),
                lane.queuedMessages(),
                lane.queuedBytes(),
                m);
          }
        }
        case CLOSED -> droppedUnknownPeer.increment();
      }
    }
    if (touched != null) {
      for (PeerLane lane : touched) {
        lane.signalInline();
      }
    }
  }

  /**
   * Adds member {@code peer} at {@code address}, or moves it there (its connections are re-made;
   * messages already queued are kept). Ignored for this member itself and after {@link #close()}.
   */
  public void setPeer(long peer, InetSocketAddress address) {
    Objects.requireNonNull(address, "address");
    if (peer == id || state == State.CLOSED) {
      return;
    }
    Peer p = peers.computeIfAbsent(peer, k -> new Peer(k, address));
    p.messages.retarget(address);
    p.snapshots.retarget(address);
  }

  /** Forgets member {@code peer}: its queued messages are dropped and its connections closed. */
  public void removePeer(long peer) {
    Peer p = peers.remove(peer);
    if (p != null) {
      p.messages.shutdown();
      p.snapshots.shutdown();
      LOG.info("member {}: removed peer {}", id, peer);
    }
  }

  /** The current address book (without this member). */
  public Map<Long, InetSocketAddress> peers() {
    Map<Long, InetSocketAddress> book = new TreeMap<>();
    peers.forEach((k, p) -> book.put(k, p.messages.address()));
    return Collections.unmodifiableMap(book);
  }

  /** The state of the streams to {@code peer}, if it has an address. */
  public Optional<PeerStats> peerStats(long peer) {
    Peer p = peers.get(peer);
    if (p == null) {
      return Optional.empty();
    }
    return Optional.of(
        new PeerStats(
            peer,
            p.messages.address(),
            p.messages.connected(),
            p.messages.queuedMessages(),
            p.messages.queuedBytes(),
            p.snapshots.queuedMessages(),
            p.snapshots.queuedBytes(),
            p.messages.sent.sum(),
            p.snapshots.sent.sum(),
            p.messages.dropped.sum() + p.snapshots.dropped.sum()));
  }

  public TransportStats stats() {
    return new TransportStats(
        messagesSent.sum(),
        batchesSent.sum(),
        messagesReceived.sum(),
        snapshotMessagesReceived.sum(),
        droppedQueueFull.sum(),
        droppedOversize.sum(),
        droppedUnknownPeer.sum(),
        droppedMalformed.sum(),
        droppedMisaddressed.sum(),
        streamFailures.sum());
  }

  /**
   * Stops the server and every connection at once (queued and in-flight messages are lost) and
   * waits up to {@link TransportOptions#closeTimeout()} for the threads to end. Idempotent.
   */
  @Override
  public void close() {
    synchronized (lifecycle) {
      if (state == State.CLOSED) {
        return;
      }
      boolean started = state == State.STARTED;
      state = State.CLOSED;
      if (!started) {
        peers.clear();
        return;
      }
    }
    long deadline = System.nanoTime() + options.closeTimeout().toNanos();
    Server s = server;
    s.shutdownNow();
    List<ManagedChannel> channels = new ArrayList<>();
    for (Peer p : peers.values()) {
      for (PeerLane lane : List.of(p.messages, p.snapshots)) {
        ManagedChannel ch = lane.shutdown();
        if (ch != null) {
          channels.add(ch);
        }
      }
    }
    peers.clear();
    boolean interrupted = false;
    try {
      if (!s.awaitTermination(remaining(deadline), TimeUnit.NANOSECONDS)) {
        LOG.warn("member {}: transport server did not stop in time", id);
      }
      for (ManagedChannel ch : channels) {
        if (!ch.awaitTermination(remaining(deadline), TimeUnit.NANOSECONDS)) {
          LOG.warn("member {}: a peer connection did not close in time", id);
        }
      }
    } catch (InterruptedException e) {
      interrupted = true;
    }
    interrupted |= releaseThreads(deadline);
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    LOG.info("member {}: transport closed", id);
  }

  /** Stops the executors and event loops; true if interrupted while waiting. */
  private boolean releaseThreads(long deadline) {
    timer.shutdownNow();
    callbacks.shutdownNow();
    eventLoops.shutdownGracefully(0, remaining(deadline), TimeUnit.NANOSECONDS);
    try {
      boolean done =
          timer.awaitTermination(remaining(deadline), TimeUnit.NANOSECONDS)
              & callbacks.awaitTermination(remaining(deadline), TimeUnit.NANOSECONDS)
              & eventLoops.awaitTermination(remaining(deadline), TimeUnit.NANOSECONDS);
      if (!done) {
        LOG.warn("member {}: transport threads did not stop in time", id);
      }
      return false;
    } catch (InterruptedException e) {
      return true;
    }
  }

  private static long remaining(long deadline) {
    return Math.max(0, deadline - System.nanoTime());
  }

  private static ThreadFactory daemon(String prefix) {
    return new DefaultThreadFactory(prefix, true);
  }

  static boolean isSnapshotTraffic(MessageType type) {
    return type == MessageType.SNAPSHOT_CHUNK || type == MessageType.SNAPSHOT_CHUNK_ACK;
  }

  // ---- for PeerLane ----

  /** The interceptor attaching this member's id and address to a stream it opens. */
  ClientInterceptor senderHeaders() {
    return senderHeaders;
  }

  private Metadata senderMetadata(Server s) {
    Metadata md = new Metadata();
    md.put(SENDER_ID, Long.toUnsignedString(id));
    InetSocketAddress local =
        s.getListenSockets().stream()
            .filter(InetSocketAddress.class::isInstance)
            .map(InetSocketAddress.class::cast)
            .findFirst()
            .orElse(null);
    if (local != null && !local.isUnresolved() && !local.getAddress().isAnyLocalAddress()) {
      String ip = local.getAddress().getHostAddress();
      md.put(
          SENDER_ADDRESS,
          (local.getAddress() instanceof java.net.Inet6Address ? "[" + ip + "]" : ip)
              + ":"
              + local.getPort());
    }
    return md;
  }

  /**
   * A member restarted with an old configuration (or an embedding that did not persist addresses)
   * may be reached by a member added while it was away, typically a new leader: it could not answer
   * until it had caught up, which needs the answers. Each stream names its sender and where it
   * listens, and an inbound stream from a member without an address gives it that one. A known
   * address is never replaced this way (moves go through {@link #setPeer}).
   */
  private final class SenderLearner implements ServerInterceptor {
    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
      String sender = headers.get(SENDER_ID);
      String address = headers.get(SENDER_ADDRESS);
      if (sender != null && address != null) {
        learn(sender, address);
      }
      return next.startCall(call, headers);
    }
  }

  private void learn(String sender, String address) {
    long from;
    InetSocketAddress where;
    try {
      from = Long.parseUnsignedLong(sender);
      where = parseLiteral(address);
    } catch (IllegalArgumentException e) {
      if (inboundLog.allow()) {
        LOG.warn("member {}: ignoring unusable sender headers {} / {}", id, sender, address);
      }
      return;
    }
    if (from == id || from == 0 || peers.containsKey(from) || state != State.STARTED) {
      return;
    }
    boolean[] added = {false};
    peers.computeIfAbsent(
        from,
        k -> {
          added[0] = true;
          return new Peer(k, where);
        });
    if (!added[0]) {
      return;
    }
    LOG.info("member {}: learned address {} of member {} from its stream", id, where, from);
  }

  /**
   * Parses {@code ip:port} with a literal IPv4 or IPv6 address (never a host name: no DNS lookup on
   * a Netty thread).
   *
   * @throws IllegalArgumentException if it is anything else
   */
  static InetSocketAddress parseLiteral(String address) {
    HostAndPort hp = HostAndPort.fromString(address); // IllegalArgumentException if malformed
    if (!hp.hasPort() || hp.getPort() == 0) {
      throw new IllegalArgumentException("not ip:port with a port: " + address);
    }
    // forString accepts only IP literals (IllegalArgumentException otherwise): never a lookup.
    return new InetSocketAddress(InetAddresses.forString(hp.getHost()), hp.getPort());
  }

  ManagedChannel newChannel(InetSocketAddress address) {
    NettyChannelBuilder b =
        address.isUnresolved()
            ? NettyChannelBuilder.forAddress(address.getHostString(), address.getPort())
            : NettyChannelBuilder.forAddress(address);
    return b.usePlaintext()
        .eventLoopGroup(eventLoops)
        .channelType(NioSocketChannel.class)
        // Only readiness and end-of-stream events come back; they just signal the drain.
        .directExecutor()
        .maxInboundMessageSize(CLIENT_MAX_INBOUND_BYTES)
        .keepAliveTime(options.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
        .keepAliveTimeout(options.keepAliveTimeout().toNanos(), TimeUnit.NANOSECONDS)
        .disableRetry() // retries would buffer stream messages; Raft retries instead
        .build();
  }

  /** Runs {@code task} on a callback thread; false if the transport no longer runs tasks. */
  boolean execute(Runnable task) {
    ExecutorService ex = callbacks;
    if (ex == null || state != State.STARTED) {
      return false;
    }
    try {
      ex.execute(task);
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  boolean schedule(Runnable task, long delay, TimeUnit unit) {
    ScheduledExecutorService t = timer;
    if (t == null || state != State.STARTED) {
      return false;
    }
    try {
      t.schedule(task, delay, unit);
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  void countSent(int messages) {
    messagesSent.add(messages);
    batchesSent.increment();
  }

  void countStreamFailure() {
    streamFailures.increment();
  }

  void dropOversize(Message m, long bytes) {
    droppedOversize.increment();
    if (oversizeLog.allow()) {
      LOG.warn(
          "member {}: dropping {}: {} bytes exceed maxMessageBytes {} (configure the same limit on"
              + " every member, and keep entries and snapshot chunks below it)",
          id,
          m,
          bytes,
          options.maxMessageBytes());
    } else {
      LOG.debug("member {}: dropping oversize {} ({} bytes)", id, m, bytes);
    }
  }

  private final class Peer {
    final PeerLane messages;
    final PeerLane snapshots;

    Peer(long peer, InetSocketAddress address) {
      messages = new PeerLane(GrpcTransport.this, peer, PeerLane.Kind.MESSAGES, address);
      snapshots = new PeerLane(GrpcTransport.this, peer, PeerLane.Kind.SNAPSHOTS, address);
    }
  }

  private final class Service extends RaftTransportGrpc.RaftTransportImplBase {
    @Override
    public StreamObserver<MessageBatch> stream(StreamObserver<StreamAck> responses) {
      return new Receiver(responses, messagesReceived);
    }

    @Override
    public StreamObserver<MessageBatch> snapshot(StreamObserver<StreamAck> responses) {
      return new Receiver(responses, snapshotMessagesReceived);
    }
  }

  /** One inbound stream from a peer; gRPC calls it serially, in the order batches arrive. */
  private final class Receiver implements StreamObserver<MessageBatch> {
    private final StreamObserver<StreamAck> responses;
    private final LongAdder received;

    Receiver(StreamObserver<StreamAck> responses, LongAdder received) {
      this.responses = responses;
      this.received = received;
    }

    @Override
    public void onNext(MessageBatch batch) {
      Consumer<Message> sink = inbound;
      if (state != State.STARTED) {
        return;
      }
      for (RaftMessage p : batch.getMessagesList()) {
        Message m;
        try {
          m = MessageCodec.fromProto(p);
        } catch (MalformedMessageException e) {
          droppedMalformed.increment();
          if (inboundLog.allow()) {
            LOG.warn("member {}: dropping malformed message from member {}", id, p.getFrom(), e);
          }
          continue;
        }
        if (m.to() != id) {
          droppedMisaddressed.increment();
          if (inboundLog.allow()) {
            LOG.warn(
                "member {}: dropping {} addressed to member {} (stale address book?)",
                id,
                m,
                m.to());
          }
          continue;
        }
        received.increment();
        try {
          sink.accept(m);
        } catch (RuntimeException e) {
          LOG.error("member {}: inbound handler failed on {}", id, m, e);
        }
      }
    }

    @Override
    public void onError(Throwable t) {
      LOG.debug("member {}: inbound stream ended: {}", id, Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      responses.onNext(StreamAck.getDefaultInstance());
      responses.onCompleted();
    }
  }
}
