package io.tern.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.tern.api.Event;
import io.tern.api.KVGrpc;
import io.tern.api.MaintenanceGrpc;
import io.tern.api.PutRequest;
import io.tern.api.PutResponse;
import io.tern.api.RangeRequest;
import io.tern.api.RequestOp;
import io.tern.api.StatusRequest;
import io.tern.api.StatusResponse;
import io.tern.api.TxnRequest;
import io.tern.api.WatchCreateRequest;
import io.tern.api.WatchGrpc;
import io.tern.api.WatchRequest;
import io.tern.api.WatchResponse;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * One run of {@code tern bench}: connections, the clients' request loops, watchers, the progress
 * line. Clients are callbacks, not threads: each sends its next request from the completion of the
 * previous one (on the gRPC event loop), or from the timer when the open loop says it is not yet
 * time.
 *
 * <p>A run measures one or more levels (client counts) in turn, on the same connections and
 * watchers and in the same JVM, after an optional unmeasured priming phase: the generator's own
 * code is then compiled and warm at every level, also at one client, where a fresh JVM would
 * measure its interpreter and first-tier compiler along with the server.
 */
final class LoadRun {
  /** Requests in flight while prefilling the key space for read workloads. */
  private static final int PREFILL_IN_FLIGHT = 64;

  /** Pause of a client after a failed request, so a dead endpoint is not hammered in a loop. */
  private static final long ERROR_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  /** The levels' shared settings (workload, key space, endpoints, connections, watchers). */
  private final BenchOptions o;

  private final List<BenchOptions> levels;
  private final Duration prime;
  private final BenchOptions primeLoad;
  private final PrintWriter progressOut;
  private final KeySpace keys;
  private final ByteString value;
  private final long timeoutNanos;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final List<Watcher> watchers = new ArrayList<>();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "tern-bench-timer");
            t.setDaemon(true);
            return t;
          });

  private volatile boolean closing;

  /** The phase running now (the watchers read it from their own threads). */
  private volatile Phase phase;

  /**
   * @param levels the levels to measure, in order; they differ only in clients and conns
   * @param prime unmeasured load before the first level (zero for none)
   * @param primeLoad the clients and connections of that load (the rest as the levels')
   * @param progressOut where the live line goes once per second, or null for none
   */
  LoadRun(
      List<BenchOptions> levels, Duration prime, BenchOptions primeLoad, PrintWriter progressOut) {
    if (levels.isEmpty() || prime.isNegative()) {
      throw new IllegalArgumentException("no level, or a negative prime");
    }
    this.levels = List.copyOf(levels);
    this.o = levels.get(0);
    this.prime = prime;
    this.primeLoad = primeLoad;
    this.progressOut = progressOut;
    this.keys = new KeySpace(o.keySize(), o.keySpace());
    byte[] v = new byte[o.valSize()];
    new SplittableRandom(42).nextBytes(v);
    this.value = UnsafeByteOperations.unsafeWrap(v);
    this.timeoutNanos = o.timeout().toNanos();
  }

  /** Runs the priming phase and every level; one result per level, in order. */
  List<BenchResult> run() throws BenchException, InterruptedException {
    try {
      List<BenchEndpoint> targets = o.leaderOnly() ? List.of(leader()) : o.endpoints();
      int conns =
          Math.max(
              primeLoad.conns(), levels.stream().mapToInt(BenchOptions::conns).max().orElseThrow());
      for (int i = 0; i < conns; i++) {
        channels.add(channel(targets.get(i % targets.size())));
      }
      long present = checkAndCount();
      if (o.workload().reads() && o.prefill() && present < keys.size()) {
        prefill();
      }
      if (o.workload() == Workload.WATCH) {
        openWatchers(targets, conns);
      }
      if (!prime.isZero()) {
        if (progressOut != null) {
          progressOut.printf(
              "priming: %d clients for %s (not measured)%n", primeLoad.clients(), prime);
        }
        drive(new Phase(primeLoad, prime, true));
      }
      List<BenchResult> results = new ArrayList<>();
      for (BenchOptions level : levels) {
        if (progressOut != null && levels.size() > 1) {
          progressOut.printf("level: %d clients, %d connections%n", level.clients(), level.conns());
        }
        Phase p = new Phase(level, level.warmup(), false);
        drive(p);
        results.add(result(p, targets));
      }
      return results;
    } finally {
      close();
    }
  }

  private static ManagedChannel channel(BenchEndpoint e) {
    return NettyChannelBuilder.forAddress(e.host(), e.port())
        .usePlaintext()
        .directExecutor()
        .maxInboundMessageSize(64 << 20)
        .build();
  }

  private BenchEndpoint leader() throws BenchException {
    List<String> seen = new ArrayList<>();
    for (BenchEndpoint e : o.endpoints()) {
      ManagedChannel ch = channel(e);
      try {
        StatusResponse s =
            MaintenanceGrpc.newBlockingStub(ch)
                .withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS)
                .status(StatusRequest.getDefaultInstance());
        if (s.getLeader() != 0 && s.getLeader() == s.getHeader().getMemberId()) {
          return e;
        }
        seen.add(e + " (leader " + Long.toHexString(s.getLeader()) + ")");
      } catch (StatusRuntimeException ex) {
        seen.add(e + " (" + describe(ex) + ")");
      } finally {
        ch.shutdownNow();
      }
    }
    throw new BenchException("no endpoint is the leader: " + String.join(", ", seen));
  }

  private static String describe(StatusRuntimeException e) {
    Status s = e.getStatus();
    StringBuilder sb = new StringBuilder(s.getCode().name());
    if (s.getDescription() != null) {
      sb.append(": ").append(s.getDescription());
    }
    if (s.getCause() != null && s.getCause().getMessage() != null) {
      sb.append(" (").append(s.getCause().getMessage()).append(')');
    }
    return sb.toString();
  }

  /**
   * Checks every connection with a count of the key space (linearizable on the first), so an
   * unreachable endpoint fails the run before it starts; returns the count.
   */
  private long checkAndCount() throws BenchException {
    long count = 0;
    for (int i = channels.size() - 1; i >= 0; i--) {
      RangeRequest req =
          RangeRequest.newBuilder()
              .setKey(keys.key(0))
              .setRangeEnd(keys.rangeEnd())
              .setCountOnly(true)
              .setSerializable(i != 0)
              .build();
      try {
        count =
            KVGrpc.newBlockingStub(channels.get(i))
                .withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS)
                .range(req)
                .getCount();
      } catch (StatusRuntimeException e) {
        throw new BenchException(
            "connection " + i + " to " + channels.get(i).authority() + ": " + describe(e));
      }
    }
    return count;
  }

  /** Puts every key of the key space once, so reads find values. */
  private void prefill() throws BenchException, InterruptedException {
    if (progressOut != null) {
      progressOut.printf("prefilling %,d keys%n", keys.size());
    }
    AtomicLong next = new AtomicLong();
    AtomicReference<Status> failure = new AtomicReference<>();
    int lanes = (int) Math.min(PREFILL_IN_FLIGHT, keys.size());
    CountDownLatch done = new CountDownLatch(lanes);
    final class Lane implements StreamObserver<PutResponse> {
      private final KVGrpc.KVStub kv;

      Lane(int i) {
        kv = KVGrpc.newStub(channels.get(i % channels.size()));
      }

      void next() {
        long i = next.getAndIncrement();
        if (i >= keys.size() || failure.get() != null) {
          done.countDown();
          return;
        }
        kv.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS)
            .put(PutRequest.newBuilder().setKey(keys.key(i)).setValue(value).build(), this);
      }

      @Override
      public void onNext(PutResponse r) {}

      @Override
      public void onError(Throwable t) {
        failure.compareAndSet(null, Status.fromThrowable(t));
        done.countDown();
      }

      @Override
      public void onCompleted() {
        next();
      }
    }
    for (int i = 0; i < lanes; i++) {
      new Lane(i).next();
    }
    done.await();
    if (failure.get() != null) {
      throw new BenchException("prefill failed: " + failure.get());
    }
  }

  private void openWatchers(List<BenchEndpoint> targets, int clientConns)
      throws BenchException, InterruptedException {
    List<ManagedChannel> watchChannels = new ArrayList<>();
    for (int i = 0; i < o.watchConns(); i++) {
      // Past the clients' connections in the round-robin, so a watcher shares none of them.
      ManagedChannel ch = channel(targets.get((clientConns + i) % targets.size()));
      watchChannels.add(ch);
      channels.add(ch);
    }
    for (int i = 0; i < o.watchers(); i++) {
      Watcher w = new Watcher();
      watchers.add(w);
      w.open(WatchGrpc.newStub(watchChannels.get(i % watchChannels.size())));
    }
    for (Watcher w : watchers) {
      if (!w.created.await(timeoutNanos, TimeUnit.NANOSECONDS)) {
        throw new BenchException("a watch was not created within " + o.timeout());
      }
      if (w.failure != null) {
        throw new BenchException("watch failed: " + w.failure);
      }
    }
  }

  /**
   * The state of one phase: the priming load or one measured level. Clients and watchers hold the
   * phase they report to, so a late completion never lands in the next phase's figures.
   */
  private final class Phase {
    final BenchOptions opts;
    final Stats stats = new Stats();
    final long startNanos;
    final long measureStart;
    final long measureStartEpochMillis;
    final long end;
    final AtomicLong remaining;
    final CountDownLatch clientsDone;

    /**
     * @param warmup load before measuring starts
     * @param unmeasured whether nothing is measured: the phase ends when the warm-up does
     */
    Phase(BenchOptions opts, Duration warmup, boolean unmeasured) {
      this.opts = opts;
      this.startNanos = System.nanoTime();
      this.measureStart = startNanos + warmup.toNanos();
      this.measureStartEpochMillis = System.currentTimeMillis() + warmup.toMillis();
      if (unmeasured) {
        this.end = measureStart;
        this.remaining = null;
      } else {
        this.end =
            opts.duration() == null ? Long.MAX_VALUE : measureStart + opts.duration().toNanos();
        this.remaining = opts.total() > 0 ? new AtomicLong(opts.total()) : null;
      }
      this.clientsDone = new CountDownLatch(opts.clients());
    }
  }

  private void drive(Phase p) throws InterruptedException {
    phase = p;
    Progress progress = new Progress(p);
    var task = timer.scheduleAtFixedRate(progress, 1, 1, TimeUnit.SECONDS);
    SplittableRandom seeds = new SplittableRandom();
    List<Client> clients = new ArrayList<>();
    for (int i = 0; i < p.opts.clients(); i++) {
      clients.add(new Client(p, i, seeds.split()));
    }
    for (Client c : clients) {
      c.issue();
    }
    if (p.end == Long.MAX_VALUE) {
      p.clientsDone.await();
    } else {
      // Every request has a deadline, so the clients end shortly after it; the margin is slack.
      long wait = p.end - System.nanoTime() + timeoutNanos + TimeUnit.SECONDS.toNanos(10);
      if (!p.clientsDone.await(wait, TimeUnit.NANOSECONDS)) {
        throw new IllegalStateException("clients did not stop after the end of the run");
      }
    }
    if (!watchers.isEmpty() && p.measureStart < p.end) {
      awaitWatchEvents(p);
    }
    task.cancel(false);
    synchronized (progress) {
      progress.stopped = true;
      if (progress.lines > 0 && progress.terminal) {
        progressOut.println();
      }
    }
    p.stats.collect();
  }

  /** Waits (bounded by the request timeout) until every measured put reached every watcher. */
  private void awaitWatchEvents(Phase p) throws InterruptedException {
    Stats stats = p.stats;
    long deadline = System.nanoTime() + timeoutNanos;
    while (System.nanoTime() < deadline) {
      stats.collect();
      long expected = stats.histogram(Stats.Kind.PUT).getTotalCount() * watchers.size();
      if (stats.histogram(Stats.Kind.WATCH).getTotalCount() >= expected) {
        return;
      }
      Thread.sleep(10);
    }
  }

  private BenchResult result(Phase p, List<BenchEndpoint> targets) {
    Stats stats = p.stats;
    long last = stats.lastMeasuredEnd();
    long elapsed =
        last == Long.MIN_VALUE ? System.nanoTime() - p.measureStart : last - p.measureStart;
    Map<String, LatencySummary> kinds = new LinkedHashMap<>();
    for (Stats.Kind k : Stats.Kind.values()) {
      LatencySummary s = LatencySummary.of(stats.histogram(k));
      if (s.count() > 0) {
        kinds.put(k.label, s);
      }
    }
    return new BenchResult(
        p.opts,
        Math.max(0, elapsed),
        LatencySummary.of(stats.requests()),
        kinds,
        stats.errors(),
        stats.unsent(),
        targets.stream().map(BenchEndpoint::toString).collect(Collectors.joining(",")),
        p.measureStartEpochMillis);
  }

  private void close() {
    closing = true;
    timer.shutdownNow();
    for (ManagedChannel ch : channels) {
      ch.shutdownNow();
    }
    for (ManagedChannel ch : channels) {
      try {
        ch.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** One client: a loop of requests, one in flight, driven by completions. */
  private final class Client {
    private final Phase p;
    private final BenchOptions o;
    private final Stats stats;
    private final int id;
    private final KVGrpc.KVStub kv;
    private final SplittableRandom random;
    private final long interval;
    private long nextIntended;
    private long sequence;
    private boolean finished;

    Client(Phase p, int id, SplittableRandom random) {
      this.p = p;
      this.o = p.opts;
      this.stats = p.stats;
      this.id = id;
      this.kv = KVGrpc.newStub(channels.get(id % o.conns()));
      this.random = random;
      if (o.openLoop()) {
        double perClient = o.clients() * 1e9 / o.rate();
        this.interval = Math.max(1, (long) perClient);
        // Spread the clients' schedules over one interval.
        this.nextIntended = p.startNanos + (long) (perClient * id / o.clients());
      } else {
        this.interval = 0;
      }
    }

    /** Sends the next request now, later (open loop, not yet time), or ends the client. */
    void issue() {
      if (finished) {
        return;
      }
      long now = System.nanoTime();
      long end = p.end;
      long start;
      if (o.openLoop()) {
        start = nextIntended;
        if (start >= end || now >= end) {
          if (start < end) {
            stats.unsent((end - 1 - start) / interval + 1);
          }
          finish();
          return;
        }
        if (start > now) {
          schedule(start - now);
          return;
        }
        nextIntended += interval;
      } else {
        start = now;
        if (now >= end) {
          finish();
          return;
        }
      }
      boolean measured = start >= p.measureStart;
      if (measured && p.remaining != null && p.remaining.getAndDecrement() <= 0) {
        finish();
        return;
      }
      send(start, measured);
    }

    private void schedule(long delayNanos) {
      try {
        timer.schedule(this::issue, delayNanos, TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        finish(); // the run is being torn down
      }
    }

    private void finish() {
      if (!finished) {
        finished = true;
        p.clientsDone.countDown();
      }
    }

    private void send(long start, boolean measured) {
      KVGrpc.KVStub stub = kv.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
      switch (o.workload()) {
        case PUT -> stub.put(put(nextKey(), value), new Call<>(Stats.Kind.PUT, start, measured));
        case RANGE_L -> stub.range(range(false), new Call<>(Stats.Kind.RANGE, start, measured));
        case RANGE_S -> stub.range(range(true), new Call<>(Stats.Kind.RANGE, start, measured));
        case TXN_PUT -> stub.txn(txn(), new Call<>(Stats.Kind.TXN, start, measured));
        case MIXED -> {
          if (random.nextDouble() < o.readRatio()) {
            stub.range(range(o.serializableReads()), new Call<>(Stats.Kind.RANGE, start, measured));
          } else {
            stub.put(put(nextKey(), value), new Call<>(Stats.Kind.PUT, start, measured));
          }
        }
        case WATCH -> {
          byte[] v = new byte[o.valSize()];
          long t = System.nanoTime();
          for (int i = 0; i < BenchOptions.TIMESTAMP_BYTES; i++) {
            v[i] = (byte) (t >>> (56 - 8 * i));
          }
          stub.put(
              put(nextKey(), UnsafeByteOperations.unsafeWrap(v)),
              new Call<>(Stats.Kind.PUT, start, measured));
        }
      }
    }

    private long nextIndex() {
      if (o.sequentialKeys()) {
        return Math.floorMod(id + sequence++ * o.clients(), keys.size());
      }
      return random.nextLong(keys.size());
    }

    private ByteString nextKey() {
      return keys.key(nextIndex());
    }

    private PutRequest put(ByteString key, ByteString v) {
      return PutRequest.newBuilder().setKey(key).setValue(v).build();
    }

    private RangeRequest range(boolean serializable) {
      return RangeRequest.newBuilder().setKey(nextKey()).setSerializable(serializable).build();
    }

    private TxnRequest txn() {
      // Consecutive indexes (wrapping) keep the keys of one txn distinct.
      long first = nextIndex();
      TxnRequest.Builder b = TxnRequest.newBuilder();
      for (int i = 0; i < o.txnOps(); i++) {
        ByteString k = keys.key((first + i) % keys.size());
        b.addSuccess(RequestOp.newBuilder().setRequestPut(put(k, value)));
      }
      return b.build();
    }

    /** The completion of one request. */
    private final class Call<T> implements StreamObserver<T> {
      private final Stats.Kind kind;
      private final long start;
      private final boolean measured;

      Call(Stats.Kind kind, long start, boolean measured) {
        this.kind = kind;
        this.start = start;
        this.measured = measured;
      }

      @Override
      public void onNext(T response) {}

      @Override
      public void onError(Throwable t) {
        if (closing) {
          finish();
          return;
        }
        stats.failure(Status.fromThrowable(t).getCode().name(), System.nanoTime(), measured);
        // Never from this callback: a failure can be reported inside the call that sent it.
        schedule(ERROR_PAUSE_NANOS);
      }

      @Override
      public void onCompleted() {
        stats.success(kind, start, System.nanoTime(), measured);
        issue();
      }
    }
  }

  /** One watch stream over the whole key space, timing each put's event against its send time. */
  private final class Watcher implements StreamObserver<WatchResponse> {
    final CountDownLatch created = new CountDownLatch(1);
    volatile String failure;
    private StreamObserver<WatchRequest> requests;

    void open(WatchGrpc.WatchStub stub) {
      requests = stub.watch(this);
      requests.onNext(
          WatchRequest.newBuilder()
              .setCreateRequest(
                  WatchCreateRequest.newBuilder().setKey(keys.key(0)).setRangeEnd(keys.rangeEnd()))
              .build());
    }

    @Override
    public void onNext(WatchResponse r) {
      if (r.getCreated()) {
        created.countDown();
      }
      if (r.getCanceled()) {
        fail("canceled", "watch canceled: " + r.getCancelReason());
        return;
      }
      long now = System.nanoTime();
      Phase p = phase;
      if (p == null) {
        return; // events of puts from before this run's first phase
      }
      for (Event e : r.getEventsList()) {
        ByteString v = e.getKv().getValue();
        if (e.getType() != Event.EventType.PUT || v.size() < BenchOptions.TIMESTAMP_BYTES) {
          continue;
        }
        long sent = 0;
        for (int i = 0; i < BenchOptions.TIMESTAMP_BYTES; i++) {
          sent = (sent << 8) | (v.byteAt(i) & 0xff);
        }
        // Values written by anything but this run's clients carry no send time of ours.
        if (sent >= p.startNanos && sent <= now) {
          p.stats.success(Stats.Kind.WATCH, sent, now, sent >= p.measureStart);
        }
      }
    }

    @Override
    public void onError(Throwable t) {
      if (!closing) {
        fail(Status.fromThrowable(t).getCode().name(), String.valueOf(Status.fromThrowable(t)));
      }
    }

    @Override
    public void onCompleted() {
      if (!closing) {
        fail("ended", "the server ended the watch stream");
      }
    }

    private void fail(String label, String detail) {
      failure = detail;
      Phase p = phase;
      if (p != null) {
        p.stats.failure("watch " + label, System.nanoTime(), true);
      }
      created.countDown();
    }
  }

  /** The live line on the progress stream, once per second. */
  private final class Progress implements Runnable {
    final boolean terminal = System.console() != null;
    private final Phase p;
    boolean stopped;
    int lines;
    private long lastCompleted;
    private long lastNanos = System.nanoTime();

    Progress(Phase p) {
      this.p = p;
    }

    @Override
    public synchronized void run() {
      if (stopped || progressOut == null) {
        return;
      }
      Stats stats = p.stats;
      stats.collect();
      long now = System.nanoTime();
      long completed = stats.completed();
      double perSecond = (completed - lastCompleted) * 1e9 / Math.max(1, now - lastNanos);
      lastCompleted = completed;
      lastNanos = now;
      String line =
          Report.progress(
              now - p.startNanos,
              now < p.measureStart,
              perSecond,
              LatencySummary.of(stats.requests()),
              stats.failed());
      if (terminal) {
        progressOut.print("\r" + line + "    ");
      } else {
        progressOut.println(line);
      }
      progressOut.flush();
      lines++;
    }
  }
}
