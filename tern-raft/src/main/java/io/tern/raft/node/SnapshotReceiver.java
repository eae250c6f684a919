package io.tern.raft.node;

import io.tern.raft.core.Message;
import io.tern.raft.core.MessageType;
import io.tern.raft.core.SnapshotMeta;
import java.io.IOException;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Assembles the snapshot a leader streams to this member, one transfer at a time: chunks are taken
 * only in order, each checked against its CRC32C, the whole against the snapshot's CRC32C before it
 * is committed to the {@link SnapshotStore}. A chunk of another snapshot (a new leader, a newer
 * snapshot) discards the partial one. Every chunk is acknowledged with the offset expected next.
 *
 * <p>Owned by the node's loop thread; not thread-safe.
 */
final class SnapshotReceiver {
  private static final Logger LOG = LoggerFactory.getLogger(SnapshotReceiver.class);

  /** Chunks kept ahead of a gap at most; more are dropped and resent. */
  private static final int MAX_EARLY_CHUNKS = 64;

  /** What happened to one chunk: the acknowledgement to send, and a completed snapshot or null. */
  record Result(Message ack, Snapshot completed) {}

  private final long self;
  private final SnapshotStore store;

  private SnapshotMeta meta;
  private long total;
  private long checksum;
  private SnapshotSink sink;
  private CRC32C crc;
  private long received;

  /** Intact chunks that arrived ahead of a gap, by offset. */
  private final TreeMap<Long, byte[]> early = new TreeMap<>();

  SnapshotReceiver(long self, SnapshotStore store) {
    this.self = self;
    this.store = store;
  }

  /**
   * Takes one chunk.
   *
   * @param currentTerm this member's term: chunks of older terms are refused
   * @param held the highest index this member already holds (committed, or in a snapshot): an older
   *     snapshot is acknowledged as installed without being transferred
   */
  Result onChunk(Message m, long currentTerm, long held) {
    SnapshotMeta snap = m.snapshot();
    if (m.term() < currentTerm) {
      return new Result(ack(m, currentTerm).reject(true).build(), null);
    }
    if (snap.index() <= held) {
      return new Result(installed(m, currentTerm), null);
    }
    if (sink != null && !sameTransfer(m)) {
      discard("replaced by " + snap + " from " + m.from());
    }
    if (sink == null) {
      if (m.offset() != 0) {
        return new Result(resendFrom(m, currentTerm, 0), null);
      }
      try {
        sink = store.create(snap);
      } catch (IOException e) {
        LOG.warn("member {} cannot store snapshot {}: {}", self, snap, e.toString());
        return new Result(resendFrom(m, currentTerm, 0), null);
      }
      meta = snap;
      total = m.total();
      checksum = m.context();
      crc = new CRC32C();
      received = 0;
    }
    if (m.offset() < received) {
      return new Result(ack(m, currentTerm).offset(received).build(), null); // a duplicate
    }
    if (!intact(m)) {
      LOG.warn("member {} got a corrupt chunk of snapshot {} at {}", self, snap, m.offset());
      return new Result(resendFrom(m, currentTerm, received), null);
    }
    if (m.offset() > received) {
      // Ahead of a gap: a reordered chunk (keep it for when the gap fills) or a lost one. Ask
      // for a resend once two chunks wait behind the gap, as TCP's fast retransmit does.
      if (early.size() < MAX_EARLY_CHUNKS) {
        early.putIfAbsent(m.offset(), m.data());
      }
      return new Result(
          early.size() >= 2
              ? resendFrom(m, currentTerm, received)
              : ack(m, currentTerm).offset(received).build(),
          null);
    }
    try {
      append(m.data());
      for (byte[] next = early.remove(received); next != null; next = early.remove(received)) {
        append(next);
      }
    } catch (IOException e) {
      discard("write failed: " + e);
      return new Result(resendFrom(m, currentTerm, 0), null);
    }
    early.headMap(received).clear();
    if (received < total) {
      return new Result(ack(m, currentTerm).offset(received).build(), null);
    }
    if (crc.getValue() != checksum) {
      discard("checksum mismatch over the whole snapshot");
      return new Result(resendFrom(m, currentTerm, 0), null);
    }
    Snapshot done;
    try {
      done = sink.commit();
    } catch (IOException e) {
      discard("commit failed: " + e);
      return new Result(resendFrom(m, currentTerm, 0), null);
    }
    sink = null;
    early.clear();
    LOG.debug("member {} received snapshot {} ({} bytes) from {}", self, snap, total, m.from());
    return new Result(installed(m, currentTerm), done);
  }

  private boolean intact(Message m) {
    CRC32C chunkCrc = new CRC32C();
    chunkCrc.update(m.data());
    return chunkCrc.getValue() == m.checksum() && m.offset() + m.data().length <= total;
  }

  private void append(byte[] data) throws IOException {
    sink.out().write(data);
    crc.update(data);
    received += data.length;
  }

  private boolean sameTransfer(Message m) {
    return meta.equals(m.snapshot()) && total == m.total() && checksum == m.context();
  }

  /** Drops a partial transfer (a new incarnation would have lost it anyway). */
  void discard(String why) {
    if (sink != null) {
      LOG.debug(
          "member {} drops partial snapshot {} at {}/{}: {}", self, meta, received, total, why);
      sink.abort();
      sink = null;
      early.clear();
    }
  }

  /** Bytes of the partial transfer held, or -1 when none is in progress. */
  long receivedBytes() {
    return sink == null ? -1 : received;
  }

  private Message.Builder ack(Message m, long currentTerm) {
    return Message.builder(MessageType.SNAPSHOT_CHUNK_ACK)
        .from(self)
        .to(m.from())
        .term(Math.max(currentTerm, m.term()))
        .index(m.snapshot().index())
        .context(m.context())
        .total(m.total());
  }

  private Message resendFrom(Message m, long currentTerm, long offset) {
    return ack(m, currentTerm).offset(offset).rejectHint(1).build();
  }

  private Message installed(Message m, long currentTerm) {
    return ack(m, currentTerm).offset(m.total()).commit(1).build();
  }
}
