package io.tern.server;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * Client channels to other members' client URLs, for calls that must run on the leader (membership
 * changes, leader moves). One channel per URL, kept until close.
 */
final class LeaderClients implements AutoCloseable {
  /** How long a forwarded call may take. */
  static final long DEADLINE_SECONDS = 15;

  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /** A stub of {@code url}'s member, marked as forwarded, with a deadline. */
  <S extends AbstractStub<S>> S stub(PeerUrl url, long memberId, StubFactory<S> factory) {
    if (closed) {
      throw GrpcErrors.status(io.grpc.Status.Code.UNAVAILABLE, GrpcErrors.STOPPED);
    }
    ManagedChannel channel =
        channels.computeIfAbsent(
            url.authority(),
            a ->
                NettyChannelBuilder.forTarget(a)
                    .usePlaintext()
                    .maxInboundMessageSize(64 << 20)
                    .build());
    Metadata md = new Metadata();
    md.put(Forwarding.HEADER, Long.toUnsignedString(memberId));
    return factory
        .create(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  /** Runs a unary call, completing the future with its answer. */
  static <Q, R> CompletableFuture<R> call(BiConsumer<Q, StreamObserver<R>> method, Q request) {
    CompletableFuture<R> f = new CompletableFuture<>();
    method.accept(
        request,
        new StreamObserver<R>() {
          @Override
          public void onNext(R value) {
            f.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            f.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            if (!f.isDone()) {
              f.completeExceptionally(
                  new IllegalStateException("the call ended without an answer"));
            }
          }
        });
    return f;
  }

  @Override
  public void close() {
    closed = true;
    for (ManagedChannel c : channels.values()) {
      c.shutdownNow();
    }
    for (ManagedChannel c : channels.values()) {
      try {
        c.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Makes a stub on a channel ({@code KVGrpc::newStub} and the like). */
  @FunctionalInterface
  interface StubFactory<S> {
    S create(io.grpc.Channel channel);
  }
}
