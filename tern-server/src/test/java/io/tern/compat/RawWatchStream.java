package io.tern.compat;

import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.api.WatchCancelRequest;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchProgressRequest;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One Watch stream driven message by message with jetcd's generated stub, for what jetcd's
 * high-level client hides: several watches on one stream, watch ids, cancel requests.
 */
final class RawWatchStream implements AutoCloseable {
  private final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
  private final StreamObserver<WatchRequest> requests;
  private volatile ClientCallStreamObserver<WatchRequest> call;

  RawWatchStream(Channel channel) {
    requests =
        WatchGrpc.newStub(channel)
            .watch(
                new ClientResponseObserver<WatchRequest, WatchResponse>() {
                  @Override
                  public void beforeStart(ClientCallStreamObserver<WatchRequest> requestStream) {
                    call = requestStream;
                  }

                  @Override
                  public void onNext(WatchResponse response) {
                    inbox.add(response);
                  }

                  @Override
                  public void onError(Throwable t) {
                    inbox.add(t);
                  }

                  @Override
                  public void onCompleted() {
                    inbox.add(new AssertionError("watch stream completed by the server"));
                  }
                });
  }

  /** Sends a create request and returns the watch id from the server's "created" answer. */
  long create(WatchCreateRequest request) {
    send(WatchRequest.newBuilder().setCreateRequest(request).build());
    WatchResponse created = next();
    assertThat(created.getCreated()).as("created answer %s", created).isTrue();
    assertThat(created.getEventsCount()).isZero();
    return created.getWatchId();
  }

  void cancel(long watchId) {
    send(
        WatchRequest.newBuilder()
            .setCancelRequest(WatchCancelRequest.newBuilder().setWatchId(watchId))
            .build());
  }

  void requestProgress() {
    send(
        WatchRequest.newBuilder()
            .setProgressRequest(WatchProgressRequest.getDefaultInstance())
            .build());
  }

  /** The next response; fails if none arrives within the RPC timeout. */
  WatchResponse next() {
    Object item;
    try {
      item = inbox.poll(Await.RPC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
    if (item == null) {
      throw new AssertionError("no watch response within " + Await.RPC_TIMEOUT);
    }
    if (item instanceof Throwable t) {
      throw new AssertionError("watch stream failed", t);
    }
    return (WatchResponse) item;
  }

  /** Responses up to and including the first one matching {@code last}. */
  List<WatchResponse> until(Predicate<WatchResponse> last) {
    List<WatchResponse> seen = new ArrayList<>();
    while (true) {
      WatchResponse response = next();
      seen.add(response);
      if (last.test(response)) {
        return seen;
      }
    }
  }

  private synchronized void send(WatchRequest request) {
    requests.onNext(request);
  }

  @Override
  public void close() {
    ClientCallStreamObserver<WatchRequest> c = call;
    if (c != null) {
      c.cancel("test done", null);
    }
  }
}
