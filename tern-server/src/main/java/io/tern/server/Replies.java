package io.tern.server;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.tern.kv.KvException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;

/** Answers unary calls from futures and from code that may fail with a {@link KvException}. */
final class Replies {
  private Replies() {}

  /** Sends the future's outcome once it completes, on {@code executor}. */
  static <T> void send(StreamObserver<T> out, CompletableFuture<T> f, Executor executor) {
    f.whenCompleteAsync(outcome(out), executor);
  }

  /**
   * Sends the future's outcome on the thread that completes it (the apply thread for a write):
   * sending only serializes the answer and queues it for the connection's Netty thread.
   */
  static <T> void sendWhenDone(StreamObserver<T> out, CompletableFuture<T> f) {
    f.whenComplete(outcome(out));
  }

  /** Sends a completed future's value, or its failure, to {@code out}. */
  private static <T> BiConsumer<T, Throwable> outcome(StreamObserver<T> out) {
    return (value, failure) -> {
      if (failure != null) {
        fail(out, failure);
      } else {
        succeed(out, value);
      }
    };
  }

  /** Runs {@code body} now and sends what it returns or the error it fails with. */
  static <T> void sendNow(StreamObserver<T> out, Body<T> body) {
    T value;
    try {
      value = body.get();
    } catch (KvException | RuntimeException e) {
      fail(out, e);
      return;
    }
    succeed(out, value);
  }

  /** Runs {@code body} now and keeps what it returns or the error it fails with, to send later. */
  static <T> Outcome<T> capture(Body<T> body) {
    try {
      return new Outcome<>(body.get(), null);
    } catch (KvException | RuntimeException e) {
      return new Outcome<>(null, e);
    }
  }

  /** An answer or the error to send instead. */
  record Outcome<T>(T value, Exception failure) {
    void sendTo(StreamObserver<T> out) {
      if (failure != null) {
        fail(out, failure);
      } else {
        succeed(out, value);
      }
    }
  }

  static <T> void succeed(StreamObserver<T> out, T value) {
    try {
      out.onNext(value);
      out.onCompleted();
    } catch (StatusRuntimeException | IllegalStateException e) {
      // the client canceled the call meanwhile
    }
  }

  static void fail(StreamObserver<?> out, Throwable failure) {
    try {
      out.onError(GrpcErrors.toStatus(failure));
    } catch (StatusRuntimeException | IllegalStateException e) {
      // the client canceled the call meanwhile
    }
  }

  /** Code producing an answer. */
  @FunctionalInterface
  interface Body<T> {
    T get() throws KvException;
  }
}
