package io.tern.raft.node;

import io.tern.raft.core.Message;
import io.tern.raft.core.MessageType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Streams one snapshot to one follower in chunks, for a leader in one term. Flow control: at most
 * {@code window} chunks beyond the receiver's acknowledged offset are in flight. The receiver
 * acknowledges every chunk with the offset it expects next, so a sender restarted (or a new leader
 * sending the same snapshot) skips what the receiver already holds, and lost chunks are sent again
 * once acknowledgements stall.
 *
 * <p>Owned by the node's loop thread; not thread-safe.
 */
final class SnapshotSender {
  /** What the caller should do after an event. */
  enum Outcome {
    CONTINUE,
    INSTALLED,
    FAILED
  }

  private final long self;
  private final long to;
  private final long term;
  private final Snapshot snapshot;
  private final int chunkBytes;
  private final int window;
  private final int resendTicks;
  private final int giveUpTicks;

  private long nextOffset;
  private long ackedOffset;
  private int idleTicks;
  private long chunksSent;

  SnapshotSender(
      long self,
      long to,
      long term,
      Snapshot snapshot,
      int chunkBytes,
      int window,
      int resendTicks,
      int giveUpTicks) {
    this.self = self;
    this.to = to;
    this.term = term;
    this.snapshot = snapshot;
    this.chunkBytes = chunkBytes;
    this.window = window;
    this.resendTicks = resendTicks;
    this.giveUpTicks = giveUpTicks;
  }

  long to() {
    return to;
  }

  long term() {
    return term;
  }

  Snapshot snapshot() {
    return snapshot;
  }

  long chunksSent() {
    return chunksSent;
  }

  /** Chunks the window allows now; at least one chunk (possibly empty) when nothing was sent. */
  List<Message> pump() throws IOException {
    List<Message> out = new ArrayList<>();
    long total = snapshot.size();
    long limit = ackedOffset + (long) window * chunkBytes;
    while (nextOffset < total && nextOffset < limit) {
      int len = (int) Math.min(chunkBytes, total - nextOffset);
      byte[] data = snapshot.read(nextOffset, len);
      if (data.length != len) {
        throw new IOException(
            "snapshot " + snapshot.meta() + " read " + data.length + " bytes, expected " + len);
      }
      out.add(chunk(nextOffset, data));
      nextOffset += len;
    }
    if (total == 0 && nextOffset == 0 && ackedOffset == 0) {
      out.add(chunk(0, new byte[0])); // an empty snapshot still needs its one (empty) chunk
    }
    chunksSent += out.size();
    return out;
  }

  private Message chunk(long offset, byte[] data) {
    CRC32C crc = new CRC32C();
    crc.update(data);
    return Message.builder(MessageType.SNAPSHOT_CHUNK)
        .from(self)
        .to(to)
        .term(term)
        .snapshot(snapshot.meta())
        .offset(offset)
        .total(snapshot.size())
        .context(snapshot.checksum())
        .checksum(crc.getValue())
        .data(data)
        .build();
  }

  /** Whether {@code ack} answers this transfer (same snapshot). */
  boolean matches(Message ack) {
    return ack.index() == snapshot.meta().index() && ack.context() == snapshot.checksum();
  }

  /** Handles the receiver's acknowledgement. */
  Outcome onAck(Message ack) {
    if (ack.reject() || ack.term() > term) {
      return Outcome.FAILED;
    }
    if (ack.commit() == 1) {
      return Outcome.INSTALLED;
    }
    long offset = ack.offset();
    if (ack.rejectHint() == 1) {
      // A gap (lost chunk) or a receiver that holds nothing (it restarted): resend from there.
      ackedOffset = offset;
      nextOffset = offset;
      idleTicks = 0;
    } else if (offset > ackedOffset) {
      ackedOffset = offset;
      nextOffset = Math.max(nextOffset, offset); // the receiver may hold more: a resumed transfer
      idleTicks = 0;
    }
    return Outcome.CONTINUE;
  }

  /** A tick passed: resends from the acknowledged offset when stalled, gives up when dead. */
  Outcome onTick() {
    idleTicks++;
    if (idleTicks >= giveUpTicks) {
      return Outcome.FAILED;
    }
    if (idleTicks % resendTicks == 0) {
      nextOffset = ackedOffset;
    }
    return Outcome.CONTINUE;
  }
}
