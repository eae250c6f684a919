package io.tern.transport;

/**
 * Counters of one {@link GrpcTransport} since it was built. Drops are not errors: Raft retries
 * whatever is lost; the counters say how often it had to.
 *
 * @param messagesSent messages written to a stream (both kinds)
 * @param batchesSent batches written to a stream (both kinds)
 * @param messagesReceived messages delivered from peers' message streams
 * @param snapshotMessagesReceived messages delivered from peers' snapshot streams
 * @param droppedQueueFull messages dropped because their peer's queue was full
 * @param droppedOversize messages dropped because they would not fit in {@link
 *     TransportOptions#maxMessageBytes()}
 * @param droppedUnknownPeer messages dropped because their destination has no address (or was
 *     removed, or the transport was closing)
 * @param droppedMalformed received messages dropped because they did not decode
 * @param droppedMisaddressed received messages dropped because they were addressed to another
 *     member
 * @param streamFailures outgoing streams that failed or could not be opened
 */
public record TransportStats(
    long messagesSent,
    long batchesSent,
    long messagesReceived,
    long snapshotMessagesReceived,
    long droppedQueueFull,
    long droppedOversize,
    long droppedUnknownPeer,
    long droppedMalformed,
    long droppedMisaddressed,
    long streamFailures) {}
