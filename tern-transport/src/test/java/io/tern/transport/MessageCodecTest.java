package io.tern.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.Message;
import io.tern.raft.core.MessageType;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.quorum.JointConfig;
import io.tern.raft.core.quorum.MajorityConfig;
import io.tern.raft.core.tracker.Membership;
import io.tern.raft.core.tracker.MembershipCodec;
import io.tern.transport.proto.RaftMessage;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class MessageCodecTest {
  private static final Membership JOINT =
      new Membership(
          new JointConfig(MajorityConfig.of(1, 2, 3), MajorityConfig.of(1, 2, 4)), Set.of(5L, 6L));

  @ParameterizedTest
  @EnumSource(MessageType.class)
  void everyFieldOfEveryTypeRoundTrips(MessageType type) throws Exception {
    Message m =
        Message.builder(type)
            .from(1)
            .to(Long.MAX_VALUE)
            .term(7)
            .logTerm(6)
            .index(1L << 40)
            .entries(
                List.of(
                    new Entry(6, (1L << 40) + 1, EntryType.NORMAL, -42, bytes(3, 1)),
                    new Entry(
                        7, (1L << 40) + 2, EntryType.CONFIG, 0, MembershipCodec.encode(JOINT)),
                    new Entry(7, (1L << 40) + 3, EntryType.NORMAL, Long.MIN_VALUE, null)))
            .commit(99)
            .reject(true)
            .rejectHint(12345)
            .context(-1)
            .snapshot(new SnapshotMeta(1000, 5, JOINT))
            .offset(3L << 33)
            .total(Long.MAX_VALUE)
            .checksum(0xFFFF_FFFFL)
            .data(bytes(100, 2))
            .build();

    assertSame(roundTrip(m), m);
  }

  @ParameterizedTest
  @EnumSource(MessageType.class)
  void defaultsRoundTrip(MessageType type) throws Exception {
    Message m = Message.builder(type).build();

    Message back = roundTrip(m);

    assertSame(back, m);
    assertThat(back.snapshot()).isNull();
    assertThat(back.entries()).isEmpty();
    assertThat(back.data()).isEmpty();
  }

  @Test
  void largeDataAndManyEntriesRoundTrip() throws Exception {
    List<Entry> entries =
        java.util.stream.IntStream.range(0, 1000)
            .mapToObj(i -> new Entry(3, 10 + i, EntryType.NORMAL, i, bytes(i % 64, i)))
            .toList();
    Message m =
        Message.builder(MessageType.SNAPSHOT_CHUNK)
            .from(2)
            .to(3)
            .snapshot(new SnapshotMeta(0, 0, Membership.ofVoters(2, 3)))
            .entries(entries)
            .data(bytes(4 << 20, 9))
            .build();

    assertSame(roundTrip(m), m);
  }

  @Test
  void encodingSharesPayloadsAndEstimateIsClose() {
    byte[] data = bytes(50_000, 4);
    Message m =
        Message.builder(MessageType.APPEND)
            .to(2)
            .entries(List.of(new Entry(1, 1, EntryType.NORMAL, 1, data)))
            .build();

    RaftMessage p = MessageCodec.toProto(m);

    assertThat(p.getEntries(0).getData().size()).isEqualTo(data.length);
    long exact = p.getSerializedSize();
    assertThat(MessageCodec.estimatedSize(m)).isBetween(exact, exact + 200);
  }

  @Test
  void unknownTypesAreMalformed() {
    RaftMessage unspecified = RaftMessage.newBuilder().setTo(1).build();
    RaftMessage unknown = RaftMessage.newBuilder().setTypeValue(999).build();
    RaftMessage badEntryType =
        RaftMessage.newBuilder()
            .setType(io.tern.transport.proto.MessageType.MESSAGE_TYPE_APPEND)
            .addEntries(io.tern.transport.proto.Entry.newBuilder().setTypeValue(77))
            .build();

    for (RaftMessage p : List.of(unspecified, unknown, badEntryType)) {
      assertThatThrownBy(() -> MessageCodec.fromProto(p))
          .isInstanceOf(MalformedMessageException.class)
          .hasMessageContaining("unknown");
    }
  }

  @Test
  void outOfRangePositionsAndBadMembershipAreMalformed() {
    RaftMessage negativeEntry =
        RaftMessage.newBuilder()
            .setType(io.tern.transport.proto.MessageType.MESSAGE_TYPE_APPEND)
            .addEntries(
                io.tern.transport.proto.Entry.newBuilder()
                    .setType(io.tern.transport.proto.EntryType.ENTRY_TYPE_NORMAL)
                    .setIndex(-1))
            .build();
    RaftMessage badMembership =
        RaftMessage.newBuilder()
            .setType(io.tern.transport.proto.MessageType.MESSAGE_TYPE_SNAPSHOT_CHUNK)
            .setSnapshot(
                io.tern.transport.proto.SnapshotMeta.newBuilder()
                    .setIndex(5)
                    .setMembership(ByteString.copyFrom(new byte[] {1, 0, 0})))
            .build();
    RaftMessage negativeSnapshot =
        RaftMessage.newBuilder()
            .setType(io.tern.transport.proto.MessageType.MESSAGE_TYPE_SNAPSHOT_CHUNK)
            .setSnapshot(
                io.tern.transport.proto.SnapshotMeta.newBuilder()
                    .setTerm(-5)
                    .setMembership(
                        ByteString.copyFrom(MembershipCodec.encode(Membership.ofVoters(1)))))
            .build();

    assertThatThrownBy(() -> MessageCodec.fromProto(negativeEntry))
        .isInstanceOf(MalformedMessageException.class)
        .hasMessageContaining("entry position");
    assertThatThrownBy(() -> MessageCodec.fromProto(badMembership))
        .isInstanceOf(MalformedMessageException.class)
        .hasMessageContaining("membership");
    assertThatThrownBy(() -> MessageCodec.fromProto(negativeSnapshot))
        .isInstanceOf(MalformedMessageException.class)
        .hasMessageContaining("snapshot position");
  }

  /** Through bytes, as on the wire. */
  private static Message roundTrip(Message m) throws Exception {
    byte[] wire = MessageCodec.toProto(m).toByteArray();
    return MessageCodec.fromProto(RaftMessage.parseFrom(wire));
  }

  static void assertSame(Message actual, Message expected) {
    assertThat(actual.type()).isEqualTo(expected.type());
    assertThat(actual.from()).isEqualTo(expected.from());
    assertThat(actual.to()).isEqualTo(expected.to());
    assertThat(actual.term()).isEqualTo(expected.term());
    assertThat(actual.logTerm()).isEqualTo(expected.logTerm());
    assertThat(actual.index()).isEqualTo(expected.index());
    assertThat(actual.entries()).containsExactlyElementsOf(expected.entries());
    assertThat(actual.commit()).isEqualTo(expected.commit());
    assertThat(actual.reject()).isEqualTo(expected.reject());
    assertThat(actual.rejectHint()).isEqualTo(expected.rejectHint());
    assertThat(actual.context()).isEqualTo(expected.context());
    assertThat(actual.snapshot()).isEqualTo(expected.snapshot());
    assertThat(actual.offset()).isEqualTo(expected.offset());
    assertThat(actual.total()).isEqualTo(expected.total());
    assertThat(actual.checksum()).isEqualTo(expected.checksum());
    assertThat(actual.data()).isEqualTo(expected.data());
  }

  static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }
}
