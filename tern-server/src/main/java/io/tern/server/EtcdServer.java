package io.tern.server;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.tern.api.DeleteRangeResponse;
import io.tern.api.InternalRequest;
import io.tern.api.KVGrpc;
import io.tern.api.MemberAttributes;
import io.tern.api.PutResponse;
import io.tern.api.RangeResponse;
import io.tern.api.ResponseHeader;
import io.tern.api.TxnResponse;
import io.tern.embed.RaftServer;
import io.tern.embed.RaftServerOptions;
import io.tern.embed.ServerStatus;
import io.tern.kv.KvException;
import io.tern.kv.KvOptions;
import io.tern.kv.KvStateMachine;
import io.tern.raft.NotLeaderException;
import io.tern.raft.node.ReadMode;
import io.tern.transport.TransportOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member of a Tern cluster serving the etcd v3 gRPC API: the replicated {@link KvStateMachine}
 * (under {@code <data-dir>/kv}), the {@link RaftServer} replicating it (under {@code
 * <data-dir>/raft}, peers on {@code --listen-peer-urls}) and a gRPC server on {@code
 * --listen-client-urls} with the KV, Watch, Lease, Cluster and Maintenance services.
 *
 * <p>The member's id and the cluster's id are fixed at the first start and kept in {@code
 * <data-dir>/member.properties}; a restart ignores the {@code --initial-*} settings and learns the
 * peers' addresses from the replicated member table.
 *
 * <p>Thread-safe. {@link #close()} stops everything in reverse order.
 */
public final class EtcdServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EtcdServer.class);

  /** The etcd version this server reports (the API level it implements). */
  public static final String VERSION = "3.5.0";

  /** Room above {@code --max-request-bytes} for gRPC, so too large requests get etcd's answer. */
  static final int GRPC_INBOUND_SLACK = 512 << 10;

  private final ServerConfig config;
  private final KvStateMachine kv;
  private final ScheduledExecutorService timer;
  private final ExecutorService workers;
  private final LeaderClients leaderClients;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CompletableFuture<Void> terminated = new CompletableFuture<>();
  private final Object membersLock = new Object();
  private volatile MemberIdentity identity;
  private volatile RaftServer raft;
  private volatile Server grpc;
  private volatile long term;
  private volatile List<MemberAttributes> members = List.of();
  private MemberPublisher publisher;
  private LeaseExpiry leaseExpiry;
  private WatchService watchService;

  private EtcdServer(ServerConfig config, MemberIdentity identity, KvStateMachine kv) {
    this.config = config;
    this.identity = identity;
    this.kv = kv;
    this.timer = Executors.newSingleThreadScheduledExecutor(daemon("tern-server-timer"));
    int n = Math.max(8, 2 * Runtime.getRuntime().availableProcessors());
    this.workers = Executors.newFixedThreadPool(n, daemon("tern-server-worker"));
    this.leaderClients = new LeaderClients();
  }

  /**
   * Starts a member: recovers or creates its data directory, joins its peers and serves clients.
   *
   * @throws IOException if the data directory cannot be used
   * @throws IllegalArgumentException if the settings contradict each other
   * @throws io.tern.embed.RaftServerException if the Raft member cannot start (port in use, corrupt
   *     log)
   */
  public static EtcdServer start(ServerConfig config) throws IOException {
    LOG.info("starting a member: {}", config);
    Files.createDirectories(config.dataDir());
    boolean restart = MemberIdentity.exists(config.dataDir());
    MemberIdentity identity =
        restart ? MemberIdentity.load(config.dataDir()) : MemberIdentities.fresh(config);
    if (restart) {
      LOG.info(
          "member {} restarting from {}: the --initial-* settings are ignored",
          Long.toHexString(identity.memberId()),
          config.dataDir());
    }
    KvOptions kvOptions =
        KvOptions.builder()
            .quotaBackendBytes(config.quotaBackendBytes())
            .maxTxnOps(config.maxTxnOps())
            .maxRequestBytes(config.maxRequestBytes())
            .build();
    KvStateMachine kv = KvStateMachine.open(config.dataDir().resolve("kv"), kvOptions);
    EtcdServer server = new EtcdServer(config, identity, kv);
    try {
      server.startRaft();
      if (!restart) {
        identity.store(config.dataDir());
      }
      server.startGrpc();
      server.startBackgroundTasks();
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    LOG.info(
        "member {} ({}) of cluster {} serving clients on {}",
        Long.toHexString(server.memberId()),
        config.name(),
        Long.toHexString(server.clusterId()),
        server.clientAddresses());
    return server;
  }

  private void startRaft() {
    kv.setMemberListener(this::onMembers);
    Map<Long, InetSocketAddress> voters = new TreeMap<>();
    identity.initialVoters().forEach((id, url) -> voters.put(id, url.address()));
    int maxMessage =
        Math.max(
            TransportOptions.defaults().maxMessageBytes(),
            config.maxRequestBytes() + (2 << 20) + TransportOptions.MIN_MESSAGE_BYTES);
    RaftServerOptions options =
        RaftServerOptions.builder(identity.memberId())
            .dataDir(config.dataDir().resolve("raft"))
            .raftAddress(config.listenPeerUrl().address())
            .initialVoters(voters)
            .join(identity.join())
            .tickMillis(config.heartbeatMillis())
            .heartbeatTicks(1)
            .electionTicks(config.electionTicks())
            .leaseRead(config.leaseRead())
            .snapshotEntries(config.snapshotCount())
            .transport(TransportOptions.builder().maxMessageBytes(maxMessage).build())
            .build();
    raft = RaftServer.start(options, kv);
    raft.failed()
        .thenAccept(t -> LOG.error("member {} stopped on an error; closing it", this, t))
        .thenRunAsync(this::close, workers);
    onMembers(kv.members());
  }

  private void startGrpc() throws IOException {
    watchService = new WatchService(this);
    List<PeerUrl> urls = config.listenClientUrls();
    NettyServerBuilder b = NettyServerBuilder.forAddress(urls.get(0).address());
    for (PeerUrl url : urls.subList(1, urls.size())) {
      b.addListenAddress(url.address());
    }
    b.maxInboundMessageSize(config.maxRequestBytes() + GRPC_INBOUND_SLACK)
        .permitKeepAliveTime(5, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        // The key-value calls run on the Netty thread that read them: they only check the request
        // and hand it to Raft (a serializable range moves to a worker itself), and the answer is
        // sent from where the write was applied. Every other call runs on a worker.
        .directExecutor()
        .callExecutor(
            new ServerCallExecutorSupplier() {
              @Override
              public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
                String service = call.getMethodDescriptor().getServiceName();
                return KVGrpc.SERVICE_NAME.equals(service) ? null : workers;
              }
            })
        .addService(ServerInterceptors.intercept(new KvService(this), Forwarding.INTERCEPTOR))
        .addService(ServerInterceptors.intercept(watchService, Forwarding.INTERCEPTOR))
        .addService(ServerInterceptors.intercept(new LeaseService(this), Forwarding.INTERCEPTOR))
        .addService(ServerInterceptors.intercept(new ClusterService(this), Forwarding.INTERCEPTOR))
        .addService(
            ServerInterceptors.intercept(new MaintenanceService(this), Forwarding.INTERCEPTOR));
    grpc = b.build().start();
  }

  private void startBackgroundTasks() {
    refreshStatus();
    long tick = config.heartbeatMillis();
    timer.scheduleWithFixedDelay(this::refreshStatus, tick, tick, TimeUnit.MILLISECONDS);
    publisher = new MemberPublisher(this);
    timer.scheduleWithFixedDelay(publisher::run, 0, 500, TimeUnit.MILLISECONDS);
    leaseExpiry = new LeaseExpiry(this);
    timer.scheduleWithFixedDelay(leaseExpiry::run, 500, 500, TimeUnit.MILLISECONDS);
    long progress = config.progressNotifyInterval().toMillis();
    timer.scheduleWithFixedDelay(
        watchService::progressNotify, progress, progress, TimeUnit.MILLISECONDS);
  }

  // ---------------------------------------------------------------- identity and state

  public long memberId() {
    return identity.memberId();
  }

  public long clusterId() {
    return identity.clusterId();
  }

  /** The voters this member started with (empty for a member that joined a running cluster). */
  Map<Long, PeerUrl> identityVoters() {
    return identity.join() ? Map.of() : identity.initialVoters();
  }

  public ServerConfig config() {
    return config;
  }

  public RaftServer raft() {
    return raft;
  }

  public KvStateMachine kv() {
    return kv;
  }

  /** The addresses the client gRPC server is bound to (actual ports). */
  public List<InetSocketAddress> clientAddresses() {
    List<InetSocketAddress> out = new ArrayList<>();
    Server s = grpc;
    if (s != null) {
      for (SocketAddress a : s.getListenSockets()) {
        if (a instanceof InetSocketAddress i) {
          out.add(i);
        }
      }
    }
    return out;
  }

  /** The latest Raft term this member has seen (refreshed every heartbeat interval). */
  long term() {
    return term;
  }

  /** The replicated member table as last applied here. */
  List<MemberAttributes> members() {
    return members;
  }

  Optional<MemberAttributes> member(long id) {
    return members.stream().filter(m -> m.getId() == id).findFirst();
  }

  ScheduledExecutorService timer() {
    return timer;
  }

  ExecutorService workers() {
    return workers;
  }

  LeaderClients leaderClients() {
    return leaderClients;
  }

  boolean isClosed() {
    return closed.get();
  }

  void learnClusterId(long clusterId) throws IOException {
    if (identity.clusterId() == 0 && clusterId != 0) {
      identity = identity.withClusterId(clusterId);
      identity.store(config.dataDir());
      LOG.info(
          "member {} joined cluster {}", Long.toHexString(memberId()), Long.toHexString(clusterId));
    }
  }

  private void refreshStatus() {
    RaftServer r = raft;
    if (r == null || closed.get()) {
      return;
    }
    r.status()
        .thenAccept(
            s -> {
              if (s.term() > term) {
                term = s.term();
              }
            });
  }

  CompletableFuture<ServerStatus> status() {
    return raft.status()
        .thenApply(
            s -> {
              if (s.term() > term) {
                term = s.term();
              }
              return s;
            });
  }

  /** Called on the apply thread with the whole table after every change (and here at start). */
  private void onMembers(List<MemberAttributes> table) {
    synchronized (membersLock) {
      members = List.copyOf(table);
      RaftServer r = raft;
      if (r == null) {
        return;
      }
      for (MemberAttributes m : members) {
        if (m.getId() == memberId() || m.getPeerUrlsCount() == 0) {
          continue;
        }
        try {
          r.setPeerAddress(m.getId(), PeerUrl.parse("member table", m.getPeerUrls(0)).address());
        } catch (IllegalArgumentException e) {
          LOG.warn(
              "member {} has an unusable peer URL: {}",
              Long.toHexString(m.getId()),
              e.getMessage());
        } catch (RuntimeException e) {
          return; // closing
        }
      }
    }
    MemberPublisher p = publisher;
    if (p != null && !closed.get()) {
      try {
        timer.execute(p::run);
      } catch (RejectedExecutionException e) {
        // closing
      }
    }
  }

  // ---------------------------------------------------------------- requests

  /** A header for a response reflecting {@code revision}. */
  ResponseHeader header(long revision) {
    return ResponseHeader.newBuilder()
        .setClusterId(clusterId())
        .setMemberId(memberId())
        .setRevision(revision)
        .setRaftTerm(term)
        .build();
  }

  /** {@code response} with its header completed; its own header revision is kept if set. */
  @SuppressWarnings("unchecked")
  <T extends Message> T withHeader(T response) {
    // The key-value responses, the hot path, without reflection.
    if (response instanceof PutResponse r) {
      return (T) r.toBuilder().setHeader(header(r.getHeader())).build();
    }
    if (response instanceof RangeResponse r) {
      return (T) r.toBuilder().setHeader(header(r.getHeader())).build();
    }
    if (response instanceof TxnResponse r) {
      return (T) r.toBuilder().setHeader(header(r.getHeader())).build();
    }
    if (response instanceof DeleteRangeResponse r) {
      return (T) r.toBuilder().setHeader(header(r.getHeader())).build();
    }
    FieldDescriptor f = response.getDescriptorForType().findFieldByName("header");
    if (f == null) {
      return response;
    }
    return (T)
        response.toBuilder().setField(f, header((ResponseHeader) response.getField(f))).build();
  }

  /** A complete header for a response whose own header carries at most its revision. */
  private ResponseHeader header(ResponseHeader partial) {
    return header(partial.getRevision() > 0 ? partial.getRevision() : kv.revision());
  }

  /**
   * Replicates a write and completes with the state machine's response (header filled in), or fails
   * with the {@link KvException} it refused the write with, or a Raft error. Completes on the apply
   * thread (or the Raft loop, for a Raft error): a dependent stage should only send the answer.
   */
  <T extends Message> CompletableFuture<T> write(InternalRequest.Builder request, Class<T> type) {
    InternalRequest r = request.setMemberId(memberId()).build();
    return raft.propose(r.toByteArray())
        .thenApply(
            result -> {
              if (result instanceof KvException e) {
                throw new CompletionException(e);
              }
              if (!type.isInstance(result)) {
                throw new IllegalStateException(
                    "the state machine answered "
                        + r.getRequestCase()
                        + " with "
                        + (result == null ? "null" : result.getClass().getName()));
              }
              return withHeader(type.cast(result));
            });
  }

  /** Replicates a write whose result is not a response message (member table changes). */
  CompletableFuture<Object> writeRaw(InternalRequest.Builder request) {
    InternalRequest r = request.setMemberId(memberId()).build();
    return raft.propose(r.toByteArray())
        .thenApply(
            result -> {
              if (result instanceof KvException e) {
                throw new CompletionException(e);
              }
              return result;
            });
  }

  /**
   * Completes once this member has applied every write committed before the call (a ReadIndex round
   * with {@code --lease-read=false}, else the leader's lease while it holds); the caller then reads
   * the local store on a worker thread.
   */
  CompletableFuture<Void> linearizableBarrier() {
    return barrierOnApply().thenApplyAsync(ignored -> null, workers);
  }

  /**
   * A linearizable read answered on the calling thread from the leader's lease ({@link
   * RaftServer#tryLeaseRead}); empty with {@code --lease-read=false}, or when the lease cannot
   * serve it, and the caller then reads after {@link #linearizableBarrier()}.
   */
  <T> Optional<T> readOnLease(Supplier<T> read) {
    return config.leaseRead() ? raft.tryLeaseRead(read) : Optional.empty();
  }

  /**
   * Like {@link #linearizableBarrier()}, but completes on the apply thread (or on the thread that
   * fails it), for a caller whose read costs no more than one key's lookup: it then saves the hop
   * to a worker (a thread wake-up per read, the largest cost of a linearizable get in profiles).
   */
  CompletableFuture<Void> linearizableBarrierOnApply() {
    return barrierOnApply().thenApply(ignored -> null);
  }

  private CompletableFuture<Boolean> barrierOnApply() {
    ReadMode mode = config.leaseRead() ? ReadMode.LEASE : ReadMode.READ_INDEX;
    return raft.read(mode, () -> Boolean.TRUE);
  }

  /**
   * Runs {@code local} if this member leads; otherwise forwards the call to the leader's client URL
   * with {@code remote} (a call another member forwarded here is not forwarded again) and answers
   * once this member has applied everything the leader had committed by then.
   */
  <R extends Message> CompletableFuture<R> onLeader(
      Supplier<CompletableFuture<R>> local,
      BiFunction<PeerUrl, Long, CompletableFuture<R>> remote) {
    RaftServer r = raft;
    if (r.isLeader()) {
      return local
          .get()
          .exceptionallyCompose(
              t ->
                  CompletableFuture.failedFuture(
                      GrpcErrors.unwrap(t) instanceof NotLeaderException
                          ? GrpcErrors.status(Status.Code.UNAVAILABLE, GrpcErrors.LEADER_CHANGED)
                          : t));
    }
    long leader = r.leader();
    if (leader == 0) {
      return CompletableFuture.failedFuture(
          GrpcErrors.status(Status.Code.UNAVAILABLE, GrpcErrors.NO_LEADER));
    }
    if (Forwarding.forwarded()) {
      return CompletableFuture.failedFuture(
          GrpcErrors.status(Status.Code.UNAVAILABLE, GrpcErrors.LEADER_CHANGED));
    }
    Optional<MemberAttributes> m = member(leader);
    if (m.isEmpty() || m.get().getClientUrlsCount() == 0) {
      return CompletableFuture.failedFuture(
          GrpcErrors.status(
              Status.Code.UNAVAILABLE, "etcdserver: the leader's client URL is not known yet"));
    }
    PeerUrl url;
    try {
      url = PeerUrl.parse("member table", m.get().getClientUrls(0));
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(e);
    }
    // Like etcd, where the member that accepted a change answers once it has applied it: wait
    // until this member has applied what the leader committed, so a client that asks this member
    // next (MemberList is served from its own table) sees the change. The change itself succeeded,
    // so a failed wait (leader lost meanwhile) does not fail the call.
    return remote
        .apply(url, leader)
        .thenCompose(answer -> linearizableBarrier().handle((ignored, t) -> answer))
        .thenApply(this::withHeader);
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    Server s = grpc;
    if (s != null) {
      s.shutdown();
    }
    if (watchService != null) {
      watchService.close();
    }
    timer.shutdownNow();
    if (s != null) {
      try {
        if (!s.awaitTermination(2, TimeUnit.SECONDS)) {
          s.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    leaderClients.close();
    RaftServer r = raft;
    if (r != null) {
      r.close();
    }
    try {
      kv.close();
    } catch (Exception e) {
      LOG.warn("closing the key-value store failed", e);
    }
    workers.shutdownNow();
    LOG.info("member {} ({}) stopped", Long.toHexString(memberId()), config.name());
    terminated.complete(null);
  }

  /** Completes once the server has stopped (closed, or stopped on an error). */
  public CompletableFuture<Void> terminated() {
    return terminated.copy();
  }

  /** The error that stopped the Raft member, if one did. */
  public Optional<Throwable> failure() {
    RaftServer r = raft;
    return r == null ? Optional.empty() : r.failure();
  }

  @Override
  public String toString() {
    return "EtcdServer[" + config.name() + " " + Long.toHexString(memberId()) + "]";
  }

  /** A failure's message with those of its causes, for people. */
  public static String describe(Throwable t) {
    StringBuilder b = new StringBuilder(String.valueOf(t.getMessage()));
    for (Throwable c = t.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      if (c.getMessage() != null && !b.toString().contains(c.getMessage())) {
        b.append(": ").append(c.getMessage());
      }
    }
    return b.toString();
  }

  static ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** Ids derived from the settings at a member's first start. */
  static final class MemberIdentities {
    private MemberIdentities() {}

    static MemberIdentity fresh(ServerConfig config) {
      String token = config.initialClusterToken();
      Map<Long, PeerUrl> all = new LinkedHashMap<>();
      long self = 0;
      for (Map.Entry<String, List<PeerUrl>> e : config.initialCluster().entrySet()) {
        long id = MemberIds.memberId(e.getValue(), token);
        all.put(id, e.getValue().get(0));
        if (e.getKey().equals(config.name())) {
          self = id;
        }
      }
      if (config.initialClusterState() == ServerConfig.ClusterState.NEW) {
        return new MemberIdentity(self, MemberIds.clusterId(all.keySet(), token), false, all);
      }
      Map<Long, PeerUrl> others = new LinkedHashMap<>(all);
      others.remove(self);
      if (others.isEmpty()) {
        throw new IllegalArgumentException(
            "--initial-cluster-state existing: --initial-cluster must also list the running"
                + " members this one joins");
      }
      return new MemberIdentity(self, 0, true, others);
    }
  }
}
