package io.tern.raft.node;

import io.tern.raft.core.Message;
import java.util.List;
import java.util.function.Consumer;

/**
 * Best-effort delivery of Raft messages between members. Raft tolerates loss, duplication and
 * reordering, so sends never block and may drop; the protocol retries.
 */
public interface Transport {
  /** Starts delivering messages addressed to this member to {@code inbound}, on any thread. */
  void start(Consumer<Message> inbound);

  /**
   * Sends messages (each to its {@code to()}); must not block. Called from the node's loop thread
   * and from the thread completing log writes (acknowledgements that wait for durability), possibly
   * at the same time: implementations must be thread-safe.
   */
  void send(List<Message> messages);

  /** Stops sending and delivering. */
  void close();
}
