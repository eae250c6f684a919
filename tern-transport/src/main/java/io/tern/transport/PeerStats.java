package io.tern.transport;

import java.net.InetSocketAddress;

/**
 * The state of the streams to one peer.
 *
 * @param peer the peer's member id
 * @param address where it is reached
 * @param connected whether its message stream is established
 * @param queuedMessages messages waiting for the message stream
 * @param queuedBytes their estimated size
 * @param queuedSnapshotMessages messages waiting for the snapshot stream
 * @param queuedSnapshotBytes their estimated size
 * @param sentMessages messages written to the message stream
 * @param sentSnapshotMessages messages written to the snapshot stream
 * @param droppedQueueFull messages to this peer dropped because a queue was full
 */
public record PeerStats(
    long peer,
    InetSocketAddress address,
    boolean connected,
    int queuedMessages,
    long queuedBytes,
    int queuedSnapshotMessages,
    long queuedSnapshotBytes,
    long sentMessages,
    long sentSnapshotMessages,
    long droppedQueueFull) {}
