package io.tern.sim.disk;

import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.node.Snapshot;
import io.tern.raft.node.SnapshotSink;
import io.tern.raft.node.SnapshotStore;
import io.tern.sim.Simulation;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * A simulated store of one member's snapshots; like {@link SimDisk} it outlives the member's
 * incarnations.
 *
 * <p>Content is held in memory. A sink collects its bytes in a growable buffer; {@link
 * SnapshotSink#commit()} computes the size and CRC32C and makes the snapshot durable and visible at
 * once (no latency: the time to write a snapshot is modelled by the background executor that runs
 * the writer). {@link #latest()} is the committed snapshot with the highest index, the most
 * recently committed one among equal indexes. The store retains the {@value #RETAINED} highest
 * (index, then commit order) committed snapshots and forgets older ones; a {@link Snapshot} already
 * handed out stays readable, since it is immutable and in memory.
 *
 * <p>Use {@link #open()} to get the {@link SnapshotStore} of a new incarnation: it ends the
 * previous incarnation, whose sinks then fail on commit with an {@link IOException} and leave
 * nothing, as a half-written file of a crashed process would. {@link #crash()} does the same
 * without starting a new incarnation. The store itself is also a {@link SnapshotStore} acting for
 * the current incarnation. Thread-safe.
 */
public final class SimSnapshotStore implements SnapshotStore {
  /** How many committed snapshots the store keeps. */
  public static final int RETAINED = 2;

  private static final Comparator<Stored> NEWEST_FIRST =
      Comparator.comparingLong((Stored s) -> s.meta().index())
          .thenComparingLong(Stored::sequence)
          .reversed();

  private final Simulation sim;
  private final long nodeId;

  /** Committed snapshots still retained, highest first. */
  private final List<Stored> retained = new ArrayList<>();

  private long epoch;
  private long sequence;
  private long snapshotsCommitted;
  private long bytesCommitted;
  private long staleCommits;
  private long aborted;

  public SimSnapshotStore(Simulation sim, long nodeId) {
    this.sim = Objects.requireNonNull(sim, "sim");
    this.nodeId = nodeId;
  }

  public long nodeId() {
    return nodeId;
  }

  /**
   * Starts a new incarnation: sinks of every earlier one can no longer commit. Returns the store
   * the new incarnation should use.
   */
  public synchronized SnapshotStore open() {
    epoch++;
    sim.trace("snap.open", nodeId, epoch, retained.size(), null);
    return new View(epoch);
  }

  /** Ends the current incarnation: its sinks can no longer commit. Committed snapshots survive. */
  public synchronized void crash() {
    epoch++;
    sim.trace("snap.crash", nodeId, epoch, retained.size(), null);
  }

  // ------------------------------------------------------------ SnapshotStore of the current
  // incarnation

  @Override
  public synchronized Snapshot latest() {
    return retained.isEmpty() ? null : retained.get(0);
  }

  @Override
  public synchronized SnapshotSink create(SnapshotMeta meta) {
    return new Sink(Objects.requireNonNull(meta, "meta"), epoch);
  }

  // ------------------------------------------------------------ inspection

  /** The committed snapshots still retained, highest index (then most recent) first. */
  public synchronized List<Snapshot> retained() {
    return List.copyOf(retained);
  }

  /** Snapshots committed (including those since forgotten). */
  public synchronized long snapshotsCommitted() {
    return snapshotsCommitted;
  }

  /** Content bytes of every committed snapshot. */
  public synchronized long bytesCommitted() {
    return bytesCommitted;
  }

  /** Commits refused because the sink's incarnation had ended. */
  public synchronized long staleCommits() {
    return staleCommits;
  }

  /** Sinks aborted. */
  public synchronized long aborted() {
    return aborted;
  }

  // ------------------------------------------------------------ implementation

  private synchronized Snapshot commit(Sink sink, byte[] content) throws IOException {
    if (sink.sinkEpoch != epoch) {
      staleCommits++;
      sim.trace("snap.stale-commit", nodeId, sink.meta.index(), sink.sinkEpoch, null);
      throw new IOException(
          "snapshot " + sink.meta + " of node " + nodeId + ": its incarnation has ended");
    }
    CRC32C crc = new CRC32C();
    crc.update(content);
    Stored s = new Stored(sink.meta, content, crc.getValue(), ++sequence);
    retained.add(s);
    retained.sort(NEWEST_FIRST);
    while (retained.size() > RETAINED) {
      retained.remove(retained.size() - 1);
    }
    snapshotsCommitted++;
    bytesCommitted += content.length;
    sim.trace(
        "snap.commit",
        nodeId,
        sink.meta.index(),
        content.length,
        sim.isTraceLogEnabled()
            ? "n"
                + nodeId
                + " snap="
                + sink.meta
                + " size="
                + content.length
                + " crc="
                + Long.toHexString(s.checksum())
                + " latest="
                + retained.get(0).meta().index()
            : null);
    return s;
  }

  private synchronized void recordAbort(Sink sink) {
    aborted++;
    sim.trace("snap.abort", nodeId, sink.meta.index(), sink.written(), null);
  }

  /** A store bound to one incarnation. */
  private final class View implements SnapshotStore {
    private final long viewEpoch;

    View(long viewEpoch) {
      this.viewEpoch = viewEpoch;
    }

    @Override
    public Snapshot latest() {
      return SimSnapshotStore.this.latest();
    }

    @Override
    public SnapshotSink create(SnapshotMeta meta) {
      return new Sink(Objects.requireNonNull(meta, "meta"), viewEpoch);
    }

    @Override
    public String toString() {
      synchronized (SimSnapshotStore.this) {
        return "SimSnapshotStore.View["
            + nodeId
            + "#"
            + viewEpoch
            + (viewEpoch == epoch ? "]" : " dead]");
      }
    }
  }

  /** A snapshot being written by one incarnation; used by one thread at a time. */
  private final class Sink extends OutputStream implements SnapshotSink {
    private final SnapshotMeta meta;
    private final long sinkEpoch;
    private byte[] buf = new byte[256];
    private int count;
    private boolean finished;

    Sink(SnapshotMeta meta, long epoch) {
      this.meta = meta;
      this.sinkEpoch = epoch;
    }

    @Override
    public OutputStream out() {
      return this;
    }

    @Override
    public long written() {
      return count;
    }

    @Override
    public void write(int b) throws IOException {
      ensureOpen();
      grow(1);
      buf[count++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      ensureOpen();
      grow(len);
      System.arraycopy(b, off, buf, count, len);
      count += len;
    }

    private void ensureOpen() throws IOException {
      if (finished) {
        throw new IOException("snapshot sink " + meta + " is already committed or aborted");
      }
    }

    private void grow(int more) {
      long need = (long) count + more;
      if (need > Integer.MAX_VALUE - 8) {
        throw new OutOfMemoryError("simulated snapshot too large: " + need + " bytes");
      }
      if (need > buf.length) {
        buf =
            Arrays.copyOf(
                buf, (int) Math.max(need, Math.min(2L * buf.length, Integer.MAX_VALUE - 8)));
      }
    }

    @Override
    public Snapshot commit() throws IOException {
      if (finished) {
        throw new IllegalStateException(
            "snapshot sink " + meta + " is already committed or aborted");
      }
      finished = true;
      byte[] content = Arrays.copyOf(buf, count);
      buf = null;
      return SimSnapshotStore.this.commit(this, content);
    }

    @Override
    public void abort() {
      if (finished) {
        return;
      }
      finished = true;
      buf = null;
      recordAbort(this);
    }

    @Override
    public String toString() {
      return "SimSnapshotStore.Sink[" + nodeId + " " + meta + " " + count + "B]";
    }
  }

  /** A committed snapshot: immutable, content held in memory. */
  private record Stored(SnapshotMeta meta, byte[] content, long checksum, long sequence)
      implements Snapshot {
    @Override
    public long size() {
      return content.length;
    }

    @Override
    public byte[] read(long offset, int maxLength) throws IOException {
      if (offset < 0 || maxLength < 0) {
        throw new IllegalArgumentException("bad read at " + offset + " of " + maxLength + " bytes");
      }
      if (offset > content.length) {
        throw new IOException(
            "read at "
                + offset
                + " beyond the end of snapshot "
                + meta
                + " ("
                + size()
                + " bytes)");
      }
      int from = (int) offset;
      int to = (int) Math.min(content.length, offset + maxLength);
      return Arrays.copyOfRange(content, from, to);
    }

    @Override
    public InputStream open() {
      return new ByteArrayInputStream(content);
    }

    @Override
    public boolean equals(Object o) {
      return this == o;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(this);
    }

    @Override
    public String toString() {
      return "Snapshot["
          + meta
          + " "
          + content.length
          + "B crc="
          + Long.toHexString(checksum)
          + "]";
    }
  }
}
