package io.tern.cli;

import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.tern.api.ClusterGrpc;
import io.tern.api.KVGrpc;
import io.tern.api.LeaseGrpc;
import io.tern.api.MaintenanceGrpc;
import io.tern.api.WatchGrpc;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC connection of one command invocation: one channel over every endpoint (the first that
 * answers serves all requests), plus a channel per endpoint for the commands that address members
 * one by one (endpoint status, defrag, ...). Every blocking stub it hands out carries the command
 * timeout as its deadline, counted from the moment the stub is made.
 */
final class Connection implements AutoCloseable {
  private static final Metadata.Key<String> HAS_LEADER =
      Metadata.Key.of("hasleader", Metadata.ASCII_STRING_MARSHALLER);

  private final List<Endpoint> endpoints;
  private final Duration dialTimeout;
  private final Duration commandTimeout;
  private final Map<String, ManagedChannel> perEndpoint = new LinkedHashMap<>();
  private ManagedChannel shared;

  Connection(List<Endpoint> endpoints, Duration dialTimeout, Duration commandTimeout) {
    if (endpoints.isEmpty()) {
      throw new CliException("no endpoints given");
    }
    this.endpoints = List.copyOf(endpoints);
    this.dialTimeout = dialTimeout;
    this.commandTimeout = commandTimeout;
  }

  static Connection of(ClientOptions options) {
    List<Endpoint> eps = new ArrayList<>();
    for (String e : options.endpoints()) {
      if (!e.isBlank()) {
        eps.add(Endpoint.parse(e));
      }
    }
    return new Connection(eps, options.dialTimeout(), options.commandTimeout());
  }

  List<Endpoint> endpoints() {
    return endpoints;
  }

  Duration commandTimeout() {
    return commandTimeout;
  }

  /** The channel over all endpoints, connected (or given up on) within the dial timeout. */
  ManagedChannel channel() {
    ManagedChannel ch;
    synchronized (this) {
      if (shared == null) {
        shared = build(endpoints);
      }
      ch = shared;
    }
    awaitReady(ch);
    return ch;
  }

  /** A channel to exactly this endpoint, for requests whose answer depends on the member. */
  ManagedChannel channel(Endpoint endpoint) {
    ManagedChannel ch;
    synchronized (this) {
      ch = perEndpoint.computeIfAbsent(endpoint.authority(), a -> build(List.of(endpoint)));
    }
    awaitReady(ch);
    return ch;
  }

  KVGrpc.KVBlockingStub kv() {
    return deadline(KVGrpc.newBlockingStub(channel()));
  }

  LeaseGrpc.LeaseBlockingStub lease() {
    return deadline(LeaseGrpc.newBlockingStub(channel()));
  }

  LeaseGrpc.LeaseStub leaseStream() {
    return LeaseGrpc.newStub(channel());
  }

  ClusterGrpc.ClusterBlockingStub cluster() {
    return deadline(ClusterGrpc.newBlockingStub(channel()));
  }

  MaintenanceGrpc.MaintenanceBlockingStub maintenance() {
    return deadline(MaintenanceGrpc.newBlockingStub(channel()));
  }

  MaintenanceGrpc.MaintenanceBlockingStub maintenance(Endpoint endpoint) {
    return deadline(MaintenanceGrpc.newBlockingStub(channel(endpoint)));
  }

  KVGrpc.KVBlockingStub kv(Endpoint endpoint) {
    return deadline(KVGrpc.newBlockingStub(channel(endpoint)));
  }

  /** A watch stub that asks the server to refuse (rather than stall) without a leader. */
  WatchGrpc.WatchStub watch() {
    Metadata md = new Metadata();
    md.put(HAS_LEADER, "true");
    return WatchGrpc.newStub(channel())
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
  }

  <S extends AbstractStub<S>> S deadline(S stub) {
    return stub.withDeadlineAfter(commandTimeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  private static ManagedChannel build(List<Endpoint> eps) {
    return Grpc.newChannelBuilder(EndpointResolver.target(eps), InsecureChannelCredentials.create())
        .maxInboundMessageSize(Integer.MAX_VALUE)
        .build();
  }

  /**
   * Waits up to the dial timeout for a connection. Requests made afterwards fail fast if no
   * endpoint could be reached, with the transport's reason.
   */
  private void awaitReady(ManagedChannel ch) {
    if (ch.getState(false) == ConnectivityState.READY) {
      return;
    }
    long deadline = System.nanoTime() + dialTimeout.toNanos();
    ConnectivityState state = ch.getState(true);
    // TRANSIENT_FAILURE: every endpoint was tried and refused; failing now beats waiting.
    while (state == ConnectivityState.IDLE || state == ConnectivityState.CONNECTING) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return;
      }
      CountDownLatch changed = new CountDownLatch(1);
      ch.notifyWhenStateChanged(state, changed::countDown);
      try {
        if (!changed.await(left, TimeUnit.NANOSECONDS)) {
          return;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      state = ch.getState(true);
    }
  }

  @Override
  public synchronized void close() {
    List<ManagedChannel> all = new ArrayList<>(perEndpoint.values());
    if (shared != null) {
      all.add(shared);
    }
    for (ManagedChannel ch : all) {
      ch.shutdownNow();
    }
    for (ManagedChannel ch : all) {
      try {
        ch.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
