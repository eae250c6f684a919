package io.tern.server;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.tern.api.Event;
import io.tern.api.WatchCreateRequest;
import io.tern.api.WatchGrpc;
import io.tern.api.WatchRequest;
import io.tern.api.WatchResponse;
import io.tern.kv.KvException;
import io.tern.kv.Watch;
import io.tern.kv.WatchListener;
import io.tern.kv.WatchSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * etcd's Watch service: one bidirectional stream carries any number of watches, each a {@link
 * Watch} on this member's {@link io.tern.kv.WatchHub}. Every response carries the header; a watch's
 * first response is its {@code created} one.
 */
final class WatchService extends WatchGrpc.WatchImplBase {
  /** etcd's watch id for responses that concern the whole stream (progress requests). */
  static final long ALL_WATCHES = -1;

  /** A stream whose unsent responses exceed this is failed. */
  static final long MAX_QUEUED_BYTES = 64L << 20;

  private final EtcdServer server;
  private final Set<WatchStream> streams = ConcurrentHashMap.newKeySet();

  WatchService(EtcdServer server) {
    this.server = server;
  }

  @Override
  public StreamObserver<WatchRequest> watch(StreamObserver<WatchResponse> responses) {
    WatchStream s = new WatchStream((ServerCallStreamObserver<WatchResponse>) responses);
    streams.add(s);
    return s;
  }

  /** Asks every watch created with progress_notify for a progress response. */
  void progressNotify() {
    for (WatchStream s : streams) {
      s.progressNotify();
    }
  }

  /** Cancels every watch and ends every stream (the server is stopping). */
  void close() {
    for (WatchStream s : streams) {
      s.end(Status.UNAVAILABLE.withDescription(GrpcErrors.STOPPED));
    }
  }

  /** One client stream and its watches. */
  private final class WatchStream implements StreamObserver<WatchRequest> {
    private final StreamSender<WatchResponse> sender;
    private final Map<Long, Entry> watches = new HashMap<>(); // guarded by this
    private long nextId;
    private boolean ended;

    /** Watches whose answer to a stream-wide progress request is awaited, with the answers. */
    private Map<Long, Long> progressAll;

    WatchStream(ServerCallStreamObserver<WatchResponse> out) {
      this.sender =
          new StreamSender<>(out, server.workers(), MAX_QUEUED_BYTES, this::cancelAllWatches);
      out.setOnCancelHandler(() -> end(null));
    }

    @Override
    public void onNext(WatchRequest request) {
      switch (request.getRequestUnionCase()) {
        case CREATE_REQUEST -> create(request.getCreateRequest());
        case CANCEL_REQUEST -> cancel(request.getCancelRequest().getWatchId());
        case PROGRESS_REQUEST -> progressAll();
        case REQUESTUNION_NOT_SET -> {}
      }
    }

    @Override
    public void onError(Throwable t) {
      end(null);
    }

    @Override
    public void onCompleted() {
      end(Status.OK);
    }

    private synchronized void create(WatchCreateRequest c) {
      if (ended) {
        return;
      }
      long id = c.getWatchId();
      if (id != 0 && watches.containsKey(id)) {
        sender.send(
            response(server.kv().watchHub().revision(), id)
                .setCreated(true)
                .setCanceled(true)
                .setCancelReason("mvcc: duplicate watch ID")
                .build());
        return;
      }
      if (id == 0) {
        while (watches.containsKey(nextId)) {
          nextId++;
        }
        id = nextId++;
      }
      boolean noPut = false;
      boolean noDelete = false;
      for (WatchCreateRequest.FilterType f : c.getFiltersList()) {
        noPut |= f == WatchCreateRequest.FilterType.NOPUT;
        noDelete |= f == WatchCreateRequest.FilterType.NODELETE;
      }
      WatchSpec spec =
          new WatchSpec(
              c.getKey(), c.getRangeEnd(), c.getStartRevision(), c.getPrevKv(), noPut, noDelete);
      Entry entry = new Entry(id, c.getProgressNotify());
      watches.put(id, entry);
      // Queued before the hub can call the listener, so "created" is the watch's first response.
      sender.send(response(server.kv().watchHub().revision(), id).setCreated(true).build());
      try {
        entry.watch = server.kv().watchHub().watch(spec, entry);
      } catch (KvException e) {
        watches.remove(id);
        sender.send(
            response(server.kv().revision(), id)
                .setCanceled(true)
                .setCancelReason(e.getMessage())
                .build());
      }
    }

    private synchronized void cancel(long id) {
      Entry e = watches.remove(id);
      if (e == null) {
        return;
      }
      e.cancel();
      sender.send(response(server.kv().revision(), id).setCanceled(true).build());
      answerProgressAll();
    }

    private synchronized void progressAll() {
      if (ended) {
        return;
      }
      if (watches.isEmpty()) {
        sender.send(response(server.kv().watchHub().revision(), ALL_WATCHES).build());
        return;
      }
      if (progressAll == null) {
        progressAll = new HashMap<>();
        for (Entry e : watches.values()) {
          progressAll.put(e.id, null);
        }
      }
      for (Entry e : new ArrayList<>(watches.values())) {
        e.requestProgress();
      }
    }

    /** Sends the stream-wide progress response once every watch asked has answered. */
    private void answerProgressAll() {
      if (progressAll == null) {
        return;
      }
      progressAll.keySet().retainAll(watches.keySet());
      long min = Long.MAX_VALUE;
      for (Long r : progressAll.values()) {
        if (r == null) {
          return;
        }
        min = Math.min(min, r);
      }
      progressAll = null;
      long revision = min == Long.MAX_VALUE ? server.kv().watchHub().revision() : min;
      sender.send(response(revision, ALL_WATCHES).build());
    }

    private synchronized void progressNotify() {
      for (Entry e : watches.values()) {
        if (e.progressNotify) {
          e.periodicProgress = true;
          e.requestProgress();
        }
      }
    }

    private synchronized void onProgress(Entry e, long revision) {
      if (watches.get(e.id) != e) {
        return;
      }
      if (progressAll != null && progressAll.containsKey(e.id)) {
        progressAll.put(e.id, revision);
        answerProgressAll();
      }
      if (e.periodicProgress) {
        e.periodicProgress = false;
        sender.send(response(revision, e.id).build());
      }
    }

    private synchronized void onCanceled(Entry e, long compactRevision, String reason) {
      if (watches.get(e.id) != e) {
        return;
      }
      watches.remove(e.id);
      sender.send(
          response(server.kv().revision(), e.id)
              .setCanceled(true)
              .setCompactRevision(compactRevision)
              .setCancelReason(reason)
              .build());
      answerProgressAll();
    }

    private synchronized void cancelAllWatches() {
      for (Entry e : watches.values()) {
        e.cancel();
      }
      watches.clear();
      progressAll = null;
    }

    /** Ends the stream: every watch is canceled; {@code status} null when the client went away. */
    void end(Status status) {
      synchronized (this) {
        if (ended) {
          return;
        }
        ended = true;
        cancelAllWatches();
      }
      streams.remove(this);
      if (status != null) {
        sender.finish(status);
      }
    }

    private WatchResponse.Builder response(long revision, long watchId) {
      return WatchResponse.newBuilder().setHeader(server.header(revision)).setWatchId(watchId);
    }

    /** One watch of this stream; the hub calls it, never concurrently. */
    private final class Entry implements WatchListener {
      final long id;
      final boolean progressNotify;
      volatile Watch watch;
      boolean periodicProgress; // guarded by the stream

      Entry(long id, boolean progressNotify) {
        this.id = id;
        this.progressNotify = progressNotify;
      }

      void cancel() {
        Watch w = watch;
        if (w != null) {
          w.cancel();
        }
      }

      void requestProgress() {
        Watch w = watch;
        if (w != null) {
          w.requestProgress();
        }
      }

      @Override
      public void onEvents(long revision, List<Event> events) {
        sender.send(response(revision, id).addAllEvents(events).build());
      }

      @Override
      public void onProgress(long revision) {
        WatchStream.this.onProgress(this, revision);
      }

      @Override
      public void onCanceled(long compactRevision, String reason) {
        WatchStream.this.onCanceled(this, compactRevision, reason);
      }
    }
  }
}
