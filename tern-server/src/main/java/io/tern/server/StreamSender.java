package io.tern.server;

import com.google.protobuf.MessageLite;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;

/**
 * Sends the responses of one server stream from any thread, one at a time and in the order given (a
 * {@link ServerCallStreamObserver} is not thread-safe), without blocking the caller: responses
 * queue here while the client is not ready and are written on {@code executor}. A stream whose
 * queue grows past {@code maxQueuedBytes} is failed, so a client that stops reading cannot exhaust
 * the server's memory.
 */
final class StreamSender<T extends MessageLite> {
  private final ServerCallStreamObserver<T> out;
  private final Executor executor;
  private final long maxQueuedBytes;
  private final Runnable onOverflow;
  private final Object lock = new Object();
  private final ArrayDeque<T> queue = new ArrayDeque<>();
  private long queuedBytes;
  private boolean draining;
  private boolean finished; // no more responses are accepted
  private Status ending; // the terminal status to send after the queue, once finished
  private boolean ended; // the terminal call was made

  StreamSender(
      ServerCallStreamObserver<T> out,
      Executor executor,
      long maxQueuedBytes,
      Runnable onOverflow) {
    this.out = out;
    this.executor = executor;
    this.maxQueuedBytes = maxQueuedBytes;
    this.onOverflow = onOverflow;
    out.setOnReadyHandler(this::kick);
  }

  /** Queues a response; ignored once the stream is finished. */
  void send(T response) {
    boolean overflow = false;
    synchronized (lock) {
      if (finished) {
        return;
      }
      queue.add(response);
      queuedBytes += response.getSerializedSize();
      if (queuedBytes > maxQueuedBytes) {
        queue.clear();
        queuedBytes = 0;
        finished = true;
        ending =
            Status.RESOURCE_EXHAUSTED.withDescription(
                "etcdserver: the client reads its stream too slowly");
        overflow = true;
      }
    }
    if (overflow) {
      onOverflow.run();
    }
    kick();
  }

  /** Ends the stream after the queued responses: OK if {@code status} is null. */
  void finish(Status status) {
    synchronized (lock) {
      if (finished) {
        return;
      }
      finished = true;
      ending = status == null ? Status.OK : status;
    }
    kick();
  }

  /** Whether the stream was finished (no more responses are accepted). */
  boolean isFinished() {
    synchronized (lock) {
      return finished;
    }
  }

  private void kick() {
    synchronized (lock) {
      if (draining || ended || (queue.isEmpty() && ending == null)) {
        return;
      }
      draining = true;
    }
    try {
      executor.execute(this::drain);
    } catch (RuntimeException e) {
      synchronized (lock) {
        draining = false;
      }
    }
  }

  private void drain() {
    while (true) {
      T next;
      Status end = null;
      synchronized (lock) {
        if (ended) {
          draining = false;
          return;
        }
        if (!queue.isEmpty() && out.isReady()) {
          next = queue.poll();
          queuedBytes -= next.getSerializedSize();
        } else if (queue.isEmpty() && ending != null) {
          next = null;
          end = ending;
          ended = true;
        } else {
          draining = false;
          return;
        }
      }
      try {
        if (next != null) {
          out.onNext(next);
        } else if (end.isOk()) {
          out.onCompleted();
        } else {
          out.onError(end.asRuntimeException());
        }
      } catch (RuntimeException e) {
        // The call was canceled: nothing more can be sent.
        synchronized (lock) {
          ended = true;
          finished = true;
          queue.clear();
          draining = false;
        }
        return;
      }
    }
  }
}
