package io.tern.raft.core;

/**
 * A read request that became ready: it may be served once the local applied index reaches {@code
 * index}.
 */
public record ReadState(long context, long index) {}
