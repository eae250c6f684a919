package io.tern.embed;

import io.tern.raft.core.Message;
import io.tern.raft.node.Transport;
import io.tern.transport.GrpcTransport;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Starts the gRPC transport when constructed rather than when the node starts it, so that a port
 * that cannot be bound fails {@link RaftServer#start} on the caller's thread and the bound address
 * is known at once. Messages that arrive before the node takes over are dropped (Raft resends).
 */
final class EagerTransport implements Transport {
  private final GrpcTransport grpc;
  private final LongAdder droppedEarly = new LongAdder();
  private volatile Consumer<Message> inbound;

  /**
   * @throws io.tern.transport.TransportException if the server cannot listen
   */
  EagerTransport(GrpcTransport grpc) {
    this.grpc = grpc;
    grpc.start(this::deliver);
  }

  private void deliver(Message m) {
    Consumer<Message> c = inbound;
    if (c == null) {
      droppedEarly.increment();
      return;
    }
    c.accept(m);
  }

  GrpcTransport grpc() {
    return grpc;
  }

  /** Messages dropped because they arrived before the node started. */
  long droppedEarly() {
    return droppedEarly.sum();
  }

  @Override
  public void start(Consumer<Message> inbound) {
    if (this.inbound != null) {
      throw new IllegalStateException("transport of member " + grpc.id() + " already started");
    }
    this.inbound = inbound;
  }

  @Override
  public void send(List<Message> messages) {
    grpc.send(messages);
  }

  @Override
  public void close() {
    grpc.close();
  }
}
