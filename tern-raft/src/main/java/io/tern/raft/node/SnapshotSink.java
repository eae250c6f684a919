package io.tern.raft.node;

import java.io.IOException;
import java.io.OutputStream;

/**
 * A snapshot being written: content goes to {@link #out()}; {@link #commit()} makes it durable and
 * visible atomically; {@link #abort()} discards it. A sink neither committed nor aborted when its
 * process dies leaves nothing behind.
 */
public interface SnapshotSink {
  OutputStream out();

  /** Bytes written so far. */
  long written();

  /** Makes the content durable and the snapshot visible through {@link SnapshotStore#latest()}. */
  Snapshot commit() throws IOException;

  void abort();
}
