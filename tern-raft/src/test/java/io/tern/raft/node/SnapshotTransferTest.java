package io.tern.raft.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.tern.raft.core.Message;
import io.tern.raft.core.MessageType;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.tracker.Membership;
import io.tern.raft.node.SnapshotSender.Outcome;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * A {@link SnapshotSender} and a {@link SnapshotReceiver} wired together through a hand-driven
 * network that can lose, duplicate, reorder and corrupt messages.
 */
class SnapshotTransferTest {
  private static final long LEADER = 1;
  private static final long FOLLOWER = 2;
  private static final long TERM = 5;
  private static final int CHUNK = 4096;
  private static final int WINDOW = 4;
  private static final int RESEND_TICKS = 3;
  private static final int GIVE_UP_TICKS = 10;
  private static final Membership MEMBERS = Membership.ofVoters(1, 2, 3);

  // ---------------------------------------------------------------------------------------------
  // 1. Flow control and a clean transfer

  @Test
  void transfersLargeSnapshotWithinTheWindow() throws IOException {
    MemSnapshot snap = MemSnapshot.of(meta(100, 3), randomBytes(100_000, 1));
    Link link = new Link(sender(TERM, snap));
    Random rnd = new Random(7);

    link.pump();
    int steps = 0;
    while (link.outcome == Outcome.CONTINUE) {
      assertThat(++steps).isLessThan(1_000);
      // However deliveries interleave, unacknowledged chunks never exceed the window.
      assertThat(link.chunks.size()).isLessThanOrEqualTo(WINDOW);
      boolean toReceiver = !link.chunks.isEmpty() && (link.acks.isEmpty() || rnd.nextBoolean());
      if (toReceiver) {
        link.toReceiver(link.chunks.poll());
      } else {
        link.toSender(link.acks.poll());
      }
    }

    assertThat(link.outcome).isEqualTo(Outcome.INSTALLED);
    Message last = link.lastAckHandled;
    assertThat(last.type()).isEqualTo(MessageType.SNAPSHOT_CHUNK_ACK);
    assertThat(last.commit()).isEqualTo(1);
    assertThat(last.reject()).isFalse();
    assertThat(last.offset()).isEqualTo(100_000);
    assertThat(last.index()).isEqualTo(100);
    assertThat(last.context()).isEqualTo(snap.checksum());
    // Nothing was lost, so nothing was sent twice: ceil(100000 / 4096) chunks.
    assertThat(link.chunksSent).isEqualTo(25);
    assertThat(link.sender.chunksSent()).isEqualTo(25);
    assertThat(link.bytesSent).isEqualTo(100_000);
    link.assertInstalled(snap);
    assertThat(link.store.sinks).hasSize(1);
    assertThat(link.receiver.receivedBytes()).isEqualTo(-1);
  }

  @Test
  void chunksCarryTheirOwnAndTheWholeSnapshotsChecksums() throws IOException {
    MemSnapshot snap = MemSnapshot.of(meta(100, 3), randomBytes(10_000, 2));
    SnapshotSender sender = sender(TERM, snap);

    List<Message> chunks = sender.pump();

    assertThat(chunks).extracting(Message::offset).containsExactly(0L, 4096L, 8192L);
    assertThat(chunks).extracting(m -> m.data().length).containsExactly(4096, 4096, 1808);
    for (Message m : chunks) {
      assertThat(m.type()).isEqualTo(MessageType.SNAPSHOT_CHUNK);
      assertThat(m.from()).isEqualTo(LEADER);
      assertThat(m.to()).isEqualTo(FOLLOWER);
      assertThat(m.term()).isEqualTo(TERM);
      assertThat(m.snapshot()).isEqualTo(snap.meta());
      assertThat(m.total()).isEqualTo(10_000);
      assertThat(m.context()).isEqualTo(snap.checksum());
      assertThat(m.checksum()).isEqualTo(crc(m.data()));
      assertThat(m.data())
          .isEqualTo(
              Arrays.copyOfRange(snap.bytes, (int) m.offset(), (int) m.offset() + m.data().length));
    }
    // The whole snapshot is in flight: nothing more until an ack or a resend timeout.
    assertThat(sender.pump()).isEmpty();
  }

  // ---------------------------------------------------------------------------------------------
  // 2. Lost chunks and lost acks

  @Test
  void lostChunkIsResentFromTheGap() throws IOException {
    MemSnapshot snap = MemSnapshot.of(meta(100, 3), randomBytes(50_000, 3));
    Link link = new Link(sender(TERM, snap));

    List<Message> first = link.pump();
    assertThat(first).extracting(Message::offset).containsExactly(0L, 4096L, 8192L, 12288L);
    link.chunks.clear(); // take the window off the wire; chunk 4096 is lost

    Message ack0 = link.toReceiver(first.get(0)).ack();
    assertThat(ack0.offset()).isEqualTo(4096);
    assertThat(ack0.rejectHint()).isZero();

    // One chunk past the gap may just be reordered: it is kept, and the ack repeats the offset.
    Message early = link.toReceiver(first.get(2)).ack();
    assertThat(early.rejectHint()).isZero();
    assertThat(early.offset()).isEqualTo(4096);
    // A second one means the chunk at the gap is probably lost: ask for a resend from there.
    Message gap = link.toReceiver(first.get(3)).ack();
    assertThat(gap.rejectHint()).isEqualTo(1);
    assertThat(gap.offset()).isEqualTo(4096);
    assertThat(gap.reject()).isFalse();
    assertThat(gap.commit()).isZero();
    assertThat(link.receiver.receivedBytes()).isEqualTo(4096);
    link.acks.clear();

    assertThat(link.toSender(ack0)).isEqualTo(Outcome.CONTINUE);
    List<Message> afterAck0 = new ArrayList<>(link.chunks);
    assertThat(afterAck0).extracting(Message::offset).containsExactly(16384L);
    link.chunks.clear(); // lost too

    assertThat(link.toSender(gap)).isEqualTo(Outcome.CONTINUE);
    assertThat(link.chunks).isNotEmpty();
    assertThat(link.chunks.peek().offset()).isEqualTo(4096);

    link.runFifo(1_000);
    assertThat(link.outcome).isEqualTo(Outcome.INSTALLED);
    link.assertInstalled(snap);
  }

  @Test
  void lostAcksRewindToTheAcknowledgedOffsetThenGiveUp() throws IOException {
    MemSnapshot snap = MemSnapshot.of(meta(100, 3), randomBytes(50_000, 4));
    Link link = new Link(sender(TERM, snap));

    List<Message> first = link.pump();
    link.chunks.clear();
    Message ack0 = link.toReceiver(first.get(0)).ack();
    for (Message m : first.subList(1, first.size())) {
      link.toReceiver(m);
    }
    link.acks.clear(); // every ack but the first is lost
    assertThat(link.receiver.receivedBytes()).isEqualTo(4 * CHUNK);
    link.toSender(ack0);
    assertThat(link.chunks).extracting(Message::offset).containsExactly(16384L);
    link.chunks.clear(); // lost as well

    int ticks = 0;
    for (int round = 1; round <= 3; round++) {
      for (int i = 1; i < RESEND_TICKS; i++) {
        assertThat(link.tick()).isEqualTo(Outcome.CONTINUE);
        ticks++;
        assertThat(link.chunks).as("no resend before %d ticks", RESEND_TICKS).isEmpty();
      }
      assertThat(link.tick()).isEqualTo(Outcome.CONTINUE);
      ticks++;
      // Stalled: everything beyond the acknowledged offset goes out again.
      assertThat(link.chunks)
          .extracting(Message::offset)
          .containsExactly(4096L, 8192L, 12288L, 16384L);
      link.chunks.clear();
    }
    assertThat(ticks).isEqualTo(9);
    assertThat(link.tick()).isEqualTo(Outcome.FAILED);
    assertThat(ticks + 1).isEqualTo(GIVE_UP_TICKS);
  }

  @Test
  void progressResetsTheGiveUpCount() throws IOException {
    MemSnapshot snap = MemSnapshot.of(meta(100, 3), randomBytes(50_000, 5));
    Link link = new Link(sender(TERM, snap));

    List<Message> first = link.pump();
    link.chunks.clear();
    List<Message> acks = new ArrayList<>();
    for (Message m : first) {
      acks.add(link.toReceiver(m).ack());
    }
    link.acks.clear();

    for (Message ack : acks) {
      for (int i = 1; i < GIVE_UP_TICKS; i++) {
        assertThat(link.tick()).isEqualTo(Outcome.CONTINUE);
      }
      link.chunks.clear();
      assertThat(link.toSender(ack)).isEqualTo(Outcome.CONTINUE); // progress: the clock restarts
    }
    link.chunks.clear();
    for (int i = 1; i < GIVE_UP_TICKS; i++) {
      assertThat(link.tick()).isEqualTo(Outcome.CONTINUE);
    }
    assertThat(link.tick()).isEqualTo(Outcome.FAILED);
  }

  // ---------------------------------------------------------------------------------------------
  // 3. Corruption

  @Test
  void corruptedChunkIsRefusedAndResent() throws IOException {
    MemSnapshot snap = MemSnapshot.of(meta(100, 3), randomBytes(30_000, 6));
    Link link = new Link(sender(TERM, snap));

    List<Message> first = link.pump();
    link.chunks.clear();
    link.toReceiver(first.get(0));
    link.toReceiver(first.get(1));
    assertThat(link.receiver.receivedBytes()).isEqualTo(8192);

    Message bad = corrupt(first.get(2), 100);
    Message refused = link.toReceiver(bad).ack();
    assertThat(refused.rejectHint()).isEqualTo(1);
    assertThat(refused.offset()).isEqualTo(8192);
    assertThat(refused.commit()).isZero();
    assertThat(link.receiver.receivedBytes()).as("no progress on a bad chunk").isEqualTo(8192);
    assertThat(link.store.sinks.get(0).out.size()).isEqualTo(8192);

    // The next (intact) chunk is kept behind the gap; the ack still asks for 8192.
    Message gap = link.toReceiver(first.get(3)).ack();
    assertThat(gap.offset()).isEqualTo(8192);

    link.runFifo(1_000);
    assertThat(link.outcome).isEqualTo(Outcome.INSTALLED);
    link.assertInstalled(snap);
    assertThat(link.store.sinks).hasSize(1);
  }

  @Test
  void chunkCorruptedOnEveryOtherDeliveryStillYieldsAnExactCopy() throws IOException {
    MemSnapshot snap = MemSnapshot.of(meta(100, 3), randomBytes(40_000, 7));
    Link link = new Link(sender(TERM, snap));
    Random rnd = new Random(11);

    link.pump();
    int steps = 0;
    int corrupted = 0;
    while (link.outcome == Outcome.CONTINUE) {
      assertThat(++steps).isLessThan(10_000);
      if (!link.chunks.isEmpty()) {
        Message m = link.chunks.poll();
        if (m.data().length > 0 && rnd.nextInt(3) == 0) {
          m = corrupt(m, rnd.nextInt(m.data().length));
          corrupted++;
        }
        link.toReceiver(m);
      } else if (!link.acks.isEmpty()) {
        link.toSender(link.acks.poll());
      } else {
        link.tick();
      }
    }
    assertThat(corrupted).isPositive();
    assertThat(link.outcome).isEqualTo(Outcome.INSTALLED);
    link.assertInstalled(snap);
  }

  // ---------------------------------------------------------------------------------------------
  // 4. Duplicates and reordering

  @Test
  void duplicateChunkDoesNotAdvanceTwice() throws IOException {
    MemSnapshot snap = MemSnapshot.of(meta(100, 3), randomBytes(30_000, 8));
    Link link = new Link(sender(TERM, snap));

    List<Message> first = link.pump();
    link.chunks.clear();
    assertThat(link.toReceiver(first.get(0)).ack().offset()).isEqualTo(4096);
    assertThat(link.toReceiver(first.get(1)).ack().offset()).isEqualTo(8192);

    for (Message dup : List.of(first.get(1), first.get(0), first.get(1))) {
      Message ack = link.toReceiver(dup).ack();
      assertThat(ack.offset()).as("a duplicate acknowledges what is held").isEqualTo(8192);
      assertThat(ack.rejectHint()).isZero();
      assertThat(ack.reject()).isFalse();
      assertThat(link.receiver.receivedBytes()).isEqualTo(8192);
    }
    assertThat(link.store.sinks.get(0).out.size()).isEqualTo(8192);

    assertThat(link.toReceiver(first.get(2)).ack().offset()).isEqualTo(12288);
    link.runFifo(1_000);
    assertThat(link.outcome).isEqualTo(Outcome.INSTALLED);
    link.assertInstalled(snap);
  }

  @Test
  void aChunkOvertakenByTheNextIsKeptWithoutAResend() throws IOException {
    MemSnapshot snap = MemSnapshot.of(meta(100, 3), randomBytes(16_384, 9));
    Link link = new Link(sender(TERM, snap));

    List<Message> first = link.pump();
    link.chunks.clear();
    assertThat(link.toReceiver(first.get(0)).ack().offset()).isEqualTo(4096);
    Message overtaking = link.toReceiver(first.get(2)).ack();
    assertThat(overtaking.offset()).isEqualTo(4096);
    assertThat(overtaking.rejectHint()).as("one chunk ahead may be reordering").isZero();
    // The late chunk fills the gap and the kept one is written right behind it.
    assertThat(link.toReceiver(first.get(1)).ack().offset()).isEqualTo(12_288);
    assertThat(link.receiver.receivedBytes()).isEqualTo(12_288);
    Message last = link.toReceiver(first.get(3)).ack();
    assertThat(last.commit()).isEqualTo(1);
    assertThat(link.toSender(last)).isEqualTo(Outcome.INSTALLED);
    link.assertInstalled(snap);
    assertThat(link.sender.chunksSent()).as("nothing was sent twice").isEqualTo(4);
  }

  @Test
  void duplicatedAndReorderedMessagesStillYieldAnExactCopy() throws IOException {
    for (long seed = 1; seed <= 30; seed++) {
      MemSnapshot snap = MemSnapshot.of(meta(100, 3), randomBytes(60_000, 100 + seed));
      Link link = new Link(sender(TERM, snap));
      link.checkWindow = false; // acks arrive out of order: the sender's view is not the last ack
      Random rnd = new Random(seed);

      List<Message> wireChunks = new ArrayList<>();
      List<Message> wireAcks = new ArrayList<>();
      link.pump();
      int steps = 0;
      while (link.outcome == Outcome.CONTINUE) {
        assertThat(++steps).as("seed %d", seed).isLessThan(20_000);
        wireChunks.addAll(link.chunks);
        link.chunks.clear();
        wireAcks.addAll(link.acks);
        link.acks.clear();
        if (wireChunks.isEmpty() && wireAcks.isEmpty()) {
          link.tick();
          continue;
        }
        boolean chunk = !wireChunks.isEmpty() && (wireAcks.isEmpty() || rnd.nextInt(3) != 0);
        List<Message> wire = chunk ? wireChunks : wireAcks;
        // Any message on the wire may be next (reordering); some are delivered twice.
        int i = rnd.nextInt(wire.size());
        Message m = rnd.nextInt(4) == 0 ? wire.get(i) : wire.remove(i);
        if (chunk) {
          long before = link.receiver.receivedBytes();
          Message ack = link.toReceiver(m).ack();
          long after = link.receiver.receivedBytes();
          if (before >= 0 && after >= 0) {
            // The offset moves only when the chunk expected next arrives (then past any chunks
            // that arrived early and were kept).
            if (m.offset() == before) {
              assertThat(after)
                  .as("seed %d", seed)
                  .isGreaterThanOrEqualTo(before + m.data().length);
            } else {
              assertThat(after).as("seed %d", seed).isEqualTo(before);
            }
          }
          assertThat(ack.reject()).isFalse();
        } else {
          link.toSender(m);
        }
      }
      assertThat(link.outcome).as("seed %d", seed).isEqualTo(Outcome.INSTALLED);
      link.assertInstalled(snap);
      assertThat(link.store.sinks).as("seed %d", seed).hasSize(1);
      assertThat(link.completions).as("seed %d", seed).isEqualTo(1);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // 5. A new sender resumes where the receiver stands

  @Test
  void newSenderResumesFromWhatTheReceiverHolds() throws IOException {
    MemSnapshot snap = MemSnapshot.of(meta(100, 3), randomBytes(100_000, 9));
    Link link = new Link(sender(TERM, snap));

    link.pump();
    while (link.receiver.receivedBytes() < 50_000) {
      link.stepFifo();
    }
    long held = link.receiver.receivedBytes();
    assertThat(held).isEqualTo(53_248); // 13 chunks
    link.chunks.clear();
    link.acks.clear();

    // The leader restarts (a new term) and streams the same snapshot again.
    link.currentTerm = TERM + 1;
    link.replaceSender(sender(TERM + 1, snap));
    List<Message> first = link.pump();
    assertThat(first).extracting(Message::offset).containsExactly(0L, 4096L, 8192L, 12288L);
    link.chunks.clear();

    Message ack = link.toReceiver(first.get(0)).ack();
    assertThat(ack.offset()).isEqualTo(held);
    assertThat(ack.rejectHint()).isZero();
    assertThat(ack.term()).isEqualTo(TERM + 1);
    assertThat(link.receiver.receivedBytes()).isEqualTo(held);
    link.acks.clear();

    assertThat(link.toSender(ack)).isEqualTo(Outcome.CONTINUE);
    assertThat(link.chunks).extracting(Message::offset).first().isEqualTo(held);
    assertThat(link.chunks).allSatisfy(m -> assertThat(m.offset()).isGreaterThanOrEqualTo(held));

    link.runFifo(1_000);
    assertThat(link.outcome).isEqualTo(Outcome.INSTALLED);
    link.assertInstalled(snap);
    assertThat(link.store.sinks).as("the partial transfer was kept").hasSize(1);
    // Only the probing window of the prefix went out again, not the 53 248 bytes held.
    assertThat(link.bytesSent).isEqualTo((long) WINDOW * CHUNK + (100_000 - held));
    assertThat(link.bytesSent).isLessThan(100_000);
  }

  // ---------------------------------------------------------------------------------------------
  // 6. The receiver restarts

  @Test
  void restartedReceiverAsksForTheWholeSnapshot() throws IOException {
    MemSnapshot snap = MemSnapshot.of(meta(100, 3), randomBytes(60_000, 10));
    Link link = new Link(sender(TERM, snap));

    link.pump();
    while (link.receiver.receivedBytes() < 20_000) {
      link.stepFifo();
    }
    link.acks.clear();
    assertThat(link.chunks).isNotEmpty();

    link.receiver = new SnapshotReceiver(FOLLOWER, link.store); // crashed and restarted
    Message next = link.chunks.poll();
    assertThat(next.offset()).isPositive();
    Message ack = link.toReceiver(next).ack();
    assertThat(ack.rejectHint()).isEqualTo(1);
    assertThat(ack.offset()).isZero();
    assertThat(ack.reject()).isFalse();
    assertThat(link.receiver.receivedBytes()).isEqualTo(-1);
    link.acks.clear();
    link.chunks.clear();

    assertThat(link.toSender(ack)).isEqualTo(Outcome.CONTINUE);
    assertThat(link.chunks).extracting(Message::offset).containsExactly(0L, 4096L, 8192L, 12288L);

    link.runFifo(1_000);
    assertThat(link.outcome).isEqualTo(Outcome.INSTALLED);
    link.assertInstalled(snap);
    assertThat(link.store.sinks).hasSize(2);
    assertThat(link.store.sinks.get(0).committed).isFalse();
  }

  // ---------------------------------------------------------------------------------------------
  // 7. Another snapshot, a stale leader, a snapshot already held

  @Test
  void newerSnapshotDiscardsThePartialOne() throws IOException {
    MemSnapshot older = MemSnapshot.of(meta(100, 3), randomBytes(40_000, 11));
    MemSnapshot newer = MemSnapshot.of(meta(200, 4), randomBytes(30_000, 12));
    Link link = new Link(sender(TERM, older));

    link.pump();
    while (link.receiver.receivedBytes() < 10_000) {
      link.stepFifo();
    }
    link.chunks.clear();
    link.acks.clear();
    MemSink partial = link.store.sinks.get(0);
    assertThat(partial.aborted).isFalse();

    link.replaceSender(sender(TERM, newer));
    link.pump();
    Message ack = link.toReceiver(link.chunks.poll()).ack();
    assertThat(partial.aborted).isTrue();
    assertThat(partial.committed).isFalse();
    assertThat(link.store.sinks).hasSize(2);
    assertThat(link.store.sinks.get(1).meta).isEqualTo(newer.meta());
    assertThat(ack.index()).isEqualTo(200);
    assertThat(ack.offset()).isEqualTo(4096);
    assertThat(link.receiver.receivedBytes()).isEqualTo(4096);

    link.runFifo(1_000);
    assertThat(link.outcome).isEqualTo(Outcome.INSTALLED);
    link.assertInstalled(newer);
    assertThat(link.store.committed).hasSize(1);
  }

  @Test
  void sameMetaWithAnotherChecksumIsAnotherSnapshot() throws IOException {
    MemSnapshot a = MemSnapshot.of(meta(100, 3), randomBytes(40_000, 13));
    MemSnapshot b = MemSnapshot.of(meta(100, 3), randomBytes(40_000, 14));
    assertThat(b.checksum()).isNotEqualTo(a.checksum());
    Link link = new Link(sender(TERM, a));

    link.pump();
    while (link.receiver.receivedBytes() < 10_000) {
      link.stepFifo();
    }
    link.acks.clear();
    // A chunk of b beyond offset 0 arrives first: a's partial is dropped, b must start over.
    SnapshotSender senderB = sender(TERM, b);
    Message bChunk = senderB.pump().get(2);
    Message ack = link.toReceiver(bChunk).ack();
    assertThat(link.store.sinks.get(0).aborted).isTrue();
    assertThat(link.receiver.receivedBytes()).isEqualTo(-1);
    assertThat(ack.rejectHint()).isEqualTo(1);
    assertThat(ack.offset()).isZero();
    assertThat(ack.context()).isEqualTo(b.checksum());
    assertThat(senderB.matches(ack)).isTrue();
    assertThat(link.sender.matches(ack)).as("a's sender ignores b's ack").isFalse();
    link.acks.clear();
    link.chunks.clear();

    link.replaceSender(senderB);
    link.toSender(ack);
    link.runFifo(1_000);
    assertThat(link.outcome).isEqualTo(Outcome.INSTALLED);
    link.assertInstalled(b);
  }

  @Test
  void chunkOfAStaleTermIsRejectedWithTheCurrentTerm() throws IOException {
    MemSnapshot snap = MemSnapshot.of(meta(100, 3), randomBytes(20_000, 15));
    Link link = new Link(sender(TERM, snap));
    link.pump();
    link.toReceiver(link.chunks.poll());
    assertThat(link.receiver.receivedBytes()).isEqualTo(4096);
    link.acks.clear();

    link.currentTerm = TERM + 2; // the follower has moved on
    Message stale = link.chunks.poll();
    Message ack = link.toReceiver(stale).ack();
    assertThat(ack.type()).isEqualTo(MessageType.SNAPSHOT_CHUNK_ACK);
    assertThat(ack.reject()).isTrue();
    assertThat(ack.term()).isEqualTo(TERM + 2);
    assertThat(ack.commit()).isZero();
    assertThat(ack.from()).isEqualTo(FOLLOWER);
    assertThat(ack.to()).isEqualTo(LEADER);
    assertThat(link.receiver.receivedBytes()).as("stale chunk not written").isEqualTo(4096);
    assertThat(link.store.sinks.get(0).out.size()).isEqualTo(4096);

    assertThat(link.sender.matches(ack)).isTrue();
    assertThat(link.sender.onAck(ack)).isEqualTo(Outcome.FAILED);
  }

  @Test
  void snapshotAlreadyHeldIsAcknowledgedAsInstalled() throws IOException {
    MemSnapshot snap = MemSnapshot.of(meta(100, 3), randomBytes(20_000, 16));
    for (long held : new long[] {100, 150}) {
      MemStore store = new MemStore();
      SnapshotReceiver receiver = new SnapshotReceiver(FOLLOWER, store);
      SnapshotSender sender = sender(TERM, snap);
      Message chunk = sender.pump().get(1); // any chunk, even one at offset > 0

      SnapshotReceiver.Result r = receiver.onChunk(chunk, TERM, held);

      assertThat(r.completed()).isNull();
      assertThat(r.ack().commit()).isEqualTo(1);
      assertThat(r.ack().reject()).isFalse();
      assertThat(r.ack().offset()).isEqualTo(20_000);
      assertThat(store.sinks).as("nothing stored").isEmpty();
      assertThat(store.latest()).isNull();
      assertThat(receiver.receivedBytes()).isEqualTo(-1);
      assertThat(sender.onAck(r.ack())).isEqualTo(Outcome.INSTALLED);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // 8. The empty snapshot

  @Test
  void emptySnapshotTravelsAsOneEmptyChunk() throws IOException {
    MemSnapshot snap = MemSnapshot.of(meta(100, 3), new byte[0]);
    assertThat(snap.checksum()).isZero();
    Link link = new Link(sender(TERM, snap));

    List<Message> out = link.pump();
    assertThat(out).hasSize(1);
    Message only = out.get(0);
    assertThat(only.offset()).isZero();
    assertThat(only.total()).isZero();
    assertThat(only.data()).isEmpty();
    assertThat(only.checksum()).isEqualTo(crc(new byte[0]));

    SnapshotReceiver.Result r = link.toReceiver(link.chunks.poll());
    assertThat(r.completed()).isNotNull();
    assertThat(r.ack().commit()).isEqualTo(1);
    assertThat(r.ack().offset()).isZero();
    assertThat(link.toSender(link.acks.poll())).isEqualTo(Outcome.INSTALLED);
    link.assertInstalled(snap);
  }

  // ---------------------------------------------------------------------------------------------
  // A receiver that cannot store anything

  /**
   * A receiver whose store fails ({@code create} throws: disk full) answers every chunk with
   * "resend from 0". Each such answer makes the sender rewind and send a whole window again, so the
   * chunks on the wire multiply by the window each round trip (4, 16, 64, ...), although the class
   * promises at most {@code window} chunks in flight beyond the acknowledged offset.
   */
  @Test
  void receiverThatCannotStoreDoesNotMultiplyTheChunksInFlight() throws IOException {
    MemSnapshot snap = MemSnapshot.of(meta(100, 3), randomBytes(100_000, 17));
    Link link = new Link(sender(TERM, snap));
    link.store.failCreate = true;

    link.pump();
    List<Integer> perRound = new ArrayList<>();
    for (int round = 0; round < 3; round++) {
      perRound.add(link.chunks.size());
      while (!link.chunks.isEmpty()) {
        Message ack = link.toReceiver(link.chunks.poll()).ack();
        assertThat(ack.rejectHint()).isEqualTo(1);
        assertThat(ack.offset()).isZero();
      }
      while (!link.acks.isEmpty()) {
        link.toSender(link.acks.poll());
      }
    }
    perRound.add(link.chunks.size());
    assertThat(perRound)
        .as("chunks on the wire per round trip")
        .allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(WINDOW));
  }

  /**
   * The same receiver makes no progress at all, yet the sender never gives up: a "resend from 0"
   * answer resets its idle count as if it were progress.
   */
  @Test
  void senderGivesUpWhenTheReceiverNeverProgresses() throws IOException {
    MemSnapshot snap = MemSnapshot.of(meta(100, 3), randomBytes(100_000, 18));
    Link link = new Link(sender(TERM, snap));
    link.store.failCreate = true;

    link.pump();
    Outcome outcome = Outcome.CONTINUE;
    int ticks = 0;
    while (outcome == Outcome.CONTINUE && ticks < 5 * GIVE_UP_TICKS) {
      // Each tick the receiver answers the first chunk on the wire; the others are lost.
      Message first = link.chunks.poll();
      link.chunks.clear();
      if (first != null) {
        Message ack = link.toReceiver(first).ack();
        link.acks.clear();
        assertThat(ack.rejectHint()).isEqualTo(1);
        assertThat(ack.offset()).isZero();
        link.toSender(ack);
      }
      outcome = link.tick();
      ticks++;
    }
    assertThat(link.store.sinks).isEmpty();
    assertThat(outcome)
        .as("after %d ticks with the receiver stuck at offset 0", ticks)
        .isEqualTo(Outcome.FAILED);
    assertThat(ticks).isLessThanOrEqualTo(GIVE_UP_TICKS);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private static SnapshotMeta meta(long index, long term) {
    return new SnapshotMeta(index, term, MEMBERS);
  }

  private static SnapshotSender sender(long term, Snapshot snap) {
    return new SnapshotSender(
        LEADER, FOLLOWER, term, snap, CHUNK, WINDOW, RESEND_TICKS, GIVE_UP_TICKS);
  }

  private static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static long crc(byte[] b) {
    CRC32C c = new CRC32C();
    c.update(b);
    return c.getValue();
  }

  /** A copy of {@code m} with one data byte flipped and the original (now wrong) checksum. */
  private static Message corrupt(Message m, int at) {
    byte[] data = m.data().clone();
    data[at] ^= 0x5a;
    return m.toBuilder().data(data).build();
  }

  /** One sender, one receiver, and the messages between them, delivered by the test. */
  private static final class Link {
    final MemStore store = new MemStore();
    SnapshotReceiver receiver = new SnapshotReceiver(FOLLOWER, store);
    SnapshotSender sender;
    long currentTerm = TERM;
    long held;

    final ArrayDeque<Message> chunks = new ArrayDeque<>();
    final ArrayDeque<Message> acks = new ArrayDeque<>();

    long bytesSent;
    int chunksSent;
    Outcome outcome = Outcome.CONTINUE;
    Message lastAckHandled;
    long ackedOffset; // as the sender last heard it (acks handled in order)
    boolean checkWindow = true;
    Snapshot completed;
    int completions;

    Link(SnapshotSender sender) {
      this.sender = sender;
    }

    void replaceSender(SnapshotSender s) {
      sender = s;
      outcome = Outcome.CONTINUE;
      ackedOffset = 0;
      bytesSent = 0;
      chunksSent = 0;
    }

    List<Message> pump() throws IOException {
      List<Message> out = sender.pump();
      for (Message m : out) {
        assertThat(m.type()).isEqualTo(MessageType.SNAPSHOT_CHUNK);
        assertThat(m.checksum()).isEqualTo(crc(m.data()));
        if (checkWindow) {
          assertThat(m.offset() + m.data().length)
              .as("chunk at %d with %d acknowledged", m.offset(), ackedOffset)
              .isLessThanOrEqualTo(ackedOffset + (long) WINDOW * CHUNK);
        }
        bytesSent += m.data().length;
        chunksSent++;
      }
      chunks.addAll(out);
      return out;
    }

    SnapshotReceiver.Result toReceiver(Message chunk) {
      SnapshotReceiver.Result r = receiver.onChunk(chunk, currentTerm, held);
      Message ack = r.ack();
      assertThat(ack.type()).isEqualTo(MessageType.SNAPSHOT_CHUNK_ACK);
      assertThat(ack.index()).isEqualTo(chunk.snapshot().index());
      assertThat(ack.context()).isEqualTo(chunk.context());
      if (r.completed() != null) {
        completed = r.completed();
        completions++;
        held = Math.max(held, r.completed().meta().index()); // as RaftNode does
      }
      acks.add(ack);
      return r;
    }

    /** Hands an ack to the sender as RaftNode does: ignore foreign ones, pump on CONTINUE. */
    Outcome toSender(Message ack) throws IOException {
      if (!sender.matches(ack) || outcome != Outcome.CONTINUE) {
        return outcome;
      }
      outcome = sender.onAck(ack);
      lastAckHandled = ack;
      if (ack.commit() != 1) {
        ackedOffset = ack.rejectHint() == 1 ? ack.offset() : Math.max(ackedOffset, ack.offset());
      }
      if (outcome == Outcome.CONTINUE) {
        pump();
      }
      return outcome;
    }

    Outcome tick() throws IOException {
      Outcome o = sender.onTick();
      if (o == Outcome.CONTINUE) {
        pump();
      } else {
        outcome = o;
      }
      return o;
    }

    /** Delivers the oldest chunk, then the oldest ack; ticks when nothing is on the wire. */
    void stepFifo() throws IOException {
      if (chunks.isEmpty() && acks.isEmpty()) {
        tick();
        return;
      }
      if (!chunks.isEmpty()) {
        toReceiver(chunks.poll());
      }
      if (!acks.isEmpty()) {
        toSender(acks.poll());
      }
    }

    void runFifo(int maxSteps) throws IOException {
      for (int i = 0; outcome == Outcome.CONTINUE; i++) {
        assertThat(i).as("transfer did not finish").isLessThan(maxSteps);
        stepFifo();
      }
    }

    void assertInstalled(MemSnapshot original) throws IOException {
      assertThat(completions).isEqualTo(1);
      assertThat(completed).isNotNull();
      assertThat(completed.meta()).isEqualTo(original.meta());
      assertThat(completed.size()).isEqualTo(original.size());
      assertThat(completed.checksum()).isEqualTo(original.checksum());
      try (InputStream in = completed.open()) {
        assertThat(in.readAllBytes()).isEqualTo(original.bytes);
      }
      assertThat(store.latest()).isSameAs(completed);
    }
  }

  private static final class MemSnapshot implements Snapshot {
    final SnapshotMeta meta;
    final byte[] bytes;
    final long checksum;

    private MemSnapshot(SnapshotMeta meta, byte[] bytes, long checksum) {
      this.meta = meta;
      this.bytes = bytes;
      this.checksum = checksum;
    }

    static MemSnapshot of(SnapshotMeta meta, byte[] bytes) {
      return new MemSnapshot(meta, bytes.clone(), crc(bytes));
    }

    @Override
    public SnapshotMeta meta() {
      return meta;
    }

    @Override
    public long size() {
      return bytes.length;
    }

    @Override
    public long checksum() {
      return checksum;
    }

    @Override
    public byte[] read(long offset, int maxLength) {
      int from = (int) Math.min(offset, bytes.length);
      int to = (int) Math.min((long) from + maxLength, bytes.length);
      return Arrays.copyOfRange(bytes, from, to);
    }

    @Override
    public InputStream open() {
      return new ByteArrayInputStream(bytes);
    }
  }

  private static final class MemStore implements SnapshotStore {
    final List<MemSnapshot> committed = Collections.synchronizedList(new ArrayList<>());
    final List<MemSink> sinks = Collections.synchronizedList(new ArrayList<>());
    volatile boolean failCreate;

    @Override
    public Snapshot latest() {
      synchronized (committed) {
        return committed.stream().max(Comparator.comparingLong(s -> s.meta.index())).orElse(null);
      }
    }

    @Override
    public SnapshotSink create(SnapshotMeta meta) throws IOException {
      if (failCreate) {
        throw new IOException("no space left on device");
      }
      MemSink sink = new MemSink(this, meta);
      sinks.add(sink);
      return sink;
    }
  }

  private static final class MemSink implements SnapshotSink {
    final MemStore store;
    final SnapshotMeta meta;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    boolean committed;
    boolean aborted;

    MemSink(MemStore store, SnapshotMeta meta) {
      this.store = store;
      this.meta = meta;
    }

    @Override
    public OutputStream out() {
      if (committed || aborted) {
        throw new IllegalStateException("sink already " + (committed ? "committed" : "aborted"));
      }
      return out;
    }

    @Override
    public long written() {
      return out.size();
    }

    @Override
    public Snapshot commit() {
      if (committed || aborted) {
        throw new IllegalStateException("sink already " + (committed ? "committed" : "aborted"));
      }
      committed = true;
      byte[] bytes = out.toByteArray();
      CRC32C c = new CRC32C();
      c.update(bytes);
      MemSnapshot snap = new MemSnapshot(meta, bytes, c.getValue());
      store.committed.add(snap);
      return snap;
    }

    @Override
    public void abort() {
      if (!committed) {
        aborted = true;
      }
    }
  }
}
