/**
 * Tern's peer-to-peer Raft transport over gRPC.
 *
 * <p>{@link io.tern.transport.GrpcTransport} implements {@link io.tern.raft.node.Transport}: per
 * peer, one long-lived client-streaming RPC carries batches of Raft messages (pipelined, in order),
 * and a second one, on its own connection, carries snapshot chunks and their acknowledgements.
 * {@link io.tern.transport.MessageCodec} converts between {@link io.tern.raft.core.Message} and the
 * wire format in {@code raft.proto} (package {@code tern.raft.v1}).
 */
package io.tern.transport;
