package io.tern.chaos;

import static io.tern.chaos.Cluster.bytes;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.tern.api.Event;
import io.tern.api.WatchCreateRequest;
import io.tern.api.WatchGrpc;
import io.tern.api.WatchRequest;
import io.tern.api.WatchResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Watches a prefix from a start revision, recording every event with the time it arrived. When its
 * stream breaks (member killed or removed), and also at random every few seconds, it resumes on a
 * random member from the last revision it saw + 1, as etcd clients do.
 */
final class PrefixWatcher implements AutoCloseable {
  /** One received event. */
  record Received(
      long time, long revision, Event.EventType type, String key, String value, int stream) {}

  final String name;
  final String prefix;
  final ConcurrentLinkedQueue<Received> events = new ConcurrentLinkedQueue<>();
  final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
  final AtomicInteger reconnects = new AtomicInteger();
  private final Cluster cluster;
  private final Recorder rec;
  private final Random rnd;
  private final boolean roam;
  private final ScheduledExecutorService timer;
  private int generation; // guarded by this
  private long lastRevision; // guarded by this
  private StreamObserver<WatchRequest> requests; // guarded by this
  private boolean closed; // guarded by this

  PrefixWatcher(
      String name, String prefix, Cluster cluster, Recorder rec, long seed, boolean roam) {
    this.name = name;
    this.prefix = prefix;
    this.cluster = cluster;
    this.rec = rec;
    this.rnd = new Random(seed);
    this.roam = roam;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, name + "-timer");
              t.setDaemon(true);
              return t;
            });
  }

  static ByteString prefixEnd(String prefix) {
    byte[] b = prefix.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    b[b.length - 1]++;
    return ByteString.copyFrom(b);
  }

  synchronized long lastRevision() {
    return lastRevision;
  }

  synchronized void start(long startRevision) {
    lastRevision = startRevision - 1;
    connect();
    if (roam) {
      scheduleRoam();
    }
  }

  private void scheduleRoam() {
    timer.schedule(
        () -> {
          synchronized (this) {
            if (closed) {
              return;
            }
            cancelStream();
            reconnects.incrementAndGet();
            connect();
          }
          scheduleRoam();
        },
        3000 + rnd.nextInt(5000),
        TimeUnit.MILLISECONDS);
  }

  private synchronized void cancelStream() {
    generation++;
    if (requests != null) {
      try {
        requests.onError(io.grpc.Status.CANCELLED.asRuntimeException());
      } catch (RuntimeException ignored) {
        // already gone
      }
      requests = null;
    }
  }

  private synchronized void connect() {
    if (closed) {
      return;
    }
    int gen = ++generation;
    List<Member> ms = cluster.members();
    Member m = ms.get(rnd.nextInt(ms.size()));
    requests = WatchGrpc.newStub(m.channel()).watch(new Responses(gen));
    requests.onNext(
        WatchRequest.newBuilder()
            .setCreateRequest(
                WatchCreateRequest.newBuilder()
                    .setKey(bytes(prefix))
                    .setRangeEnd(prefixEnd(prefix))
                    .setStartRevision(lastRevision + 1))
            .build());
  }

  private synchronized void broken(int gen) {
    if (gen != generation || closed) {
      return;
    }
    generation++;
    requests = null;
    reconnects.incrementAndGet();
    timer.schedule(this::connect, 200, TimeUnit.MILLISECONDS);
  }

  private synchronized void received(int gen, WatchResponse r) {
    if (gen != generation) {
      return;
    }
    if (r.getCanceled() || r.getCompactRevision() != 0) {
      violations.add(
          "stream "
              + gen
              + " canceled ("
              + r.getCancelReason()
              + "), compact "
              + r.getCompactRevision());
      if (requests != null) {
        requests.onCompleted();
      }
      broken(gen);
      return;
    }
    long now = rec.now();
    for (Event e : r.getEventsList()) {
      events.add(
          new Received(
              now,
              e.getKv().getModRevision(),
              e.getType(),
              e.getKv().getKey().toStringUtf8(),
              e.getKv().getValue().toStringUtf8(),
              gen));
      lastRevision = Math.max(lastRevision, e.getKv().getModRevision());
    }
  }

  List<Received> snapshot() {
    return new ArrayList<>(events);
  }

  private final class Responses implements StreamObserver<WatchResponse> {
    private final int gen;

    Responses(int gen) {
      this.gen = gen;
    }

    @Override
    public void onNext(WatchResponse r) {
      received(gen, r);
    }

    @Override
    public void onError(Throwable t) {
      broken(gen);
    }

    @Override
    public void onCompleted() {
      broken(gen);
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      cancelStream();
    }
    timer.shutdownNow();
  }
}
