package io.tern.raft.node;

import io.tern.raft.core.SnapshotMeta;
import java.io.IOException;
import java.io.InputStream;

/** A complete, durable snapshot held by a {@link SnapshotStore}. Immutable; thread-safe. */
public interface Snapshot {
  SnapshotMeta meta();

  /** Length of the content in bytes. */
  long size();

  /** CRC32C of the whole content. */
  long checksum();

  /** Reads up to {@code maxLength} bytes of content at {@code offset} (fewer only at the end). */
  byte[] read(long offset, int maxLength) throws IOException;

  /** The content from the start. */
  InputStream open() throws IOException;
}
