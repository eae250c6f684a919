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

  /** The receiver holds everything before this: the window starts here. */
  private long ackedOffset;

  /** The highest offset the receiver ever reported holding. */
  private long highestAcked;

  /** The offset last rewound to (on a resend request or a stall), or -1 since new progress. */
  private long rewoundTo = -1;

  /** Whether the one empty chunk of an empty snapshot is in flight. */
  private boolean emptySent;

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
    if (total == 0 && !emptySent) {
      out.add(chunk(0, new byte[0])); // an empty snapshot still needs its one (empty) chunk
      emptySent = true;
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
    boolean resend = ack.rejectHint() == 1;
    if (offset > highestAcked || !resend && offset > ackedOffset) {
      idleTicks = 0; // progress; repeated requests to resend from the same place are not
    }
    highestAcked = Math.max(highestAcked, offset);
    if (resend) {
      // A gap (a lost or corrupt chunk) or a receiver that holds nothing (it restarted): resend
      // from there, once. The other chunks in flight draw the same answer; the stall timer covers
      // a resend that is lost too.
      if (offset != rewoundTo) {
        rewind(offset);
      }
    } else if (offset > ackedOffset) {
      ackedOffset = offset;
      nextOffset = Math.max(nextOffset, offset); // the receiver may hold more: a resumed transfer
      rewoundTo = -1;
    }
    return Outcome.CONTINUE;
  }

  private void rewind(long offset) {
    ackedOffset = offset;
    nextOffset = offset;
    rewoundTo = offset;
    emptySent = false;
  }

  /** A tick passed: resends from the acknowledged offset when stalled, gives up when dead. */
  Outcome onTick() {
    idleTicks++;
    if (idleTicks >= giveUpTicks) {
      return Outcome.FAILED;
    }
    if (idleTicks % resendTicks == 0) {
      rewind(ackedOffset);
    }
    return Outcome.CONTINUE;
  }
}
