/**
 * Durable storage for a Tern member: {@link io.tern.storage.RocksDbLogStore} (the Raft log and hard
 * state in RocksDB, group-committed with one fsync per batch, every record checksummed) and {@link
 * io.tern.storage.FileSnapshotStore} (snapshots as checksummed files, committed by atomic rename).
 * Both check durable data when opened and refuse to start on corruption ({@link
 * io.tern.storage.StorageCorruptionException}); I/O failures surface as {@link
 * io.tern.storage.StorageException}, after which the store accepts nothing more.
 */
package io.tern.storage;
