package io.tern.kv;

/**
 * The result of {@link KvStateMachine#hashKv}: a CRC32C (Castagnoli, as an unsigned 32-bit value)
 * over every key revision in {@code (compactRevision, hashRevision]}. Members with the same history
 * and compaction give the same hash.
 */
public record HashKv(long hash, long hashRevision, long compactRevision) {}
