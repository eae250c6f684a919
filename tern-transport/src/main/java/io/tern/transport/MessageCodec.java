package io.tern.transport;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.Message;
import io.tern.raft.core.MessageType;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.tracker.Membership;
import io.tern.raft.core.tracker.MembershipCodec;
import io.tern.transport.proto.RaftMessage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Converts between {@link Message} and its wire form {@link RaftMessage}, field for field.
 *
 * <p>Encoding does not copy payloads: entry and chunk data are wrapped, relying on the convention
 * that they are never modified once built. Decoding copies them out of the received buffer and
 * checks everything a {@link Message} requires, throwing {@link MalformedMessageException} for
 * input no correct peer sends.
 */
public final class MessageCodec {
  /** Bytes {@link #estimatedSize} charges per message besides its payload. */
  static final int MESSAGE_OVERHEAD_BYTES = 96;

  /** Bytes {@link #estimatedSize} charges per entry besides its payload. */
  static final int ENTRY_OVERHEAD_BYTES = 32;

  private MessageCodec() {}

  /** The wire form of {@code m}; shares (does not copy) its payloads. */
  public static RaftMessage toProto(Message m) {
    RaftMessage.Builder b =
        RaftMessage.newBuilder()
            .setType(toProto(m.type()))
            .setFrom(m.from())
            .setTo(m.to())
            .setTerm(m.term())
            .setLogTerm(m.logTerm())
            .setIndex(m.index())
            .setCommit(m.commit())
            .setReject(m.reject())
            .setRejectHint(m.rejectHint())
            .setContext(m.context())
            .setOffset(m.offset())
            .setTotal(m.total())
            .setChecksum(m.checksum())
            .setData(wrap(m.data()));
    for (Entry e : m.entries()) {
      b.addEntries(
          io.tern.transport.proto.Entry.newBuilder()
              .setTerm(e.term())
              .setIndex(e.index())
              .setType(toProto(e.type()))
              .setRequestId(e.requestId())
              .setData(wrap(e.data())));
    }
    SnapshotMeta s = m.snapshot();
    if (s != null) {
      b.setSnapshot(
          io.tern.transport.proto.SnapshotMeta.newBuilder()
              .setIndex(s.index())
              .setTerm(s.term())
              .setMembership(
                  UnsafeByteOperations.unsafeWrap(MembershipCodec.encode(s.membership()))));
    }
    return b.build();
  }

  /**
   * The message {@code p} describes.
   *
   * @throws MalformedMessageException if {@code p} is not a valid message (unknown type, negative
   *     entry position, undecodable membership)
   */
  public static Message fromProto(RaftMessage p) {
    MessageType type = fromProto(p.getType());
    List<Entry> entries;
    if (p.getEntriesCount() == 0) {
      entries = List.of();
    } else {
      List<Entry> list = new ArrayList<>(p.getEntriesCount());
      for (io.tern.transport.proto.Entry e : p.getEntriesList()) {
        if (e.getTerm() < 0 || e.getIndex() < 0) {
          throw new MalformedMessageException(
              "entry position out of range: " + e.getIndex() + "@" + e.getTerm() + " in " + type);
        }
        list.add(
            new Entry(
                e.getTerm(),
                e.getIndex(),
                fromProto(e.getType()),
                e.getRequestId(),
                e.getData().toByteArray()));
      }
      entries = Collections.unmodifiableList(list);
    }
    SnapshotMeta snapshot = null;
    if (p.hasSnapshot()) {
      io.tern.transport.proto.SnapshotMeta s = p.getSnapshot();
      if (s.getTerm() < 0 || s.getIndex() < 0) {
        throw new MalformedMessageException(
            "snapshot position out of range: " + s.getIndex() + "@" + s.getTerm());
      }
      Membership membership;
      try {
        membership = MembershipCodec.decode(s.getMembership().toByteArray());
      } catch (IllegalArgumentException e) {
        throw new MalformedMessageException("bad snapshot membership in " + type, e);
      }
      snapshot = new SnapshotMeta(s.getIndex(), s.getTerm(), membership);
    }
    return new Message(
        type,
        p.getFrom(),
        p.getTo(),
        p.getTerm(),
        p.getLogTerm(),
        p.getIndex(),
        entries,
        p.getCommit(),
        p.getReject(),
        p.getRejectHint(),
        p.getContext(),
        snapshot,
        p.getOffset(),
        p.getTotal(),
        p.getChecksum(),
        p.getData().toByteArray());
  }

  /**
   * A cheap upper-bound-ish estimate of {@code m}'s wire size, used to bound queues without
   * encoding: the payloads plus a fixed charge per message and per entry.
   */
  public static long estimatedSize(Message m) {
    long n = MESSAGE_OVERHEAD_BYTES + m.data().length;
    for (Entry e : m.entries()) {
      n += ENTRY_OVERHEAD_BYTES + e.data().length;
    }
    if (m.snapshot() != null) {
      n += 32 + 8L * m.snapshot().membership().members().size() * 2;
    }
    return n;
  }

  private static ByteString wrap(byte[] data) {
    return data.length == 0 ? ByteString.EMPTY : UnsafeByteOperations.unsafeWrap(data);
  }

  static io.tern.transport.proto.MessageType toProto(MessageType t) {
    return switch (t) {
      case APPEND -> io.tern.transport.proto.MessageType.MESSAGE_TYPE_APPEND;
      case APPEND_RESPONSE -> io.tern.transport.proto.MessageType.MESSAGE_TYPE_APPEND_RESPONSE;
      case HEARTBEAT -> io.tern.transport.proto.MessageType.MESSAGE_TYPE_HEARTBEAT;
      case HEARTBEAT_RESPONSE ->
          io.tern.transport.proto.MessageType.MESSAGE_TYPE_HEARTBEAT_RESPONSE;
      case VOTE -> io.tern.transport.proto.MessageType.MESSAGE_TYPE_VOTE;
      case VOTE_RESPONSE -> io.tern.transport.proto.MessageType.MESSAGE_TYPE_VOTE_RESPONSE;
      case PRE_VOTE -> io.tern.transport.proto.MessageType.MESSAGE_TYPE_PRE_VOTE;
      case PRE_VOTE_RESPONSE -> io.tern.transport.proto.MessageType.MESSAGE_TYPE_PRE_VOTE_RESPONSE;
      case PROPOSE -> io.tern.transport.proto.MessageType.MESSAGE_TYPE_PROPOSE;
      case READ_INDEX -> io.tern.transport.proto.MessageType.MESSAGE_TYPE_READ_INDEX;
      case READ_INDEX_RESPONSE ->
          io.tern.transport.proto.MessageType.MESSAGE_TYPE_READ_INDEX_RESPONSE;
      case TIMEOUT_NOW -> io.tern.transport.proto.MessageType.MESSAGE_TYPE_TIMEOUT_NOW;
      case SNAPSHOT -> io.tern.transport.proto.MessageType.MESSAGE_TYPE_SNAPSHOT;
      case INSTALL_SNAPSHOT -> io.tern.transport.proto.MessageType.MESSAGE_TYPE_INSTALL_SNAPSHOT;
      case SNAPSHOT_CHUNK -> io.tern.transport.proto.MessageType.MESSAGE_TYPE_SNAPSHOT_CHUNK;
      case SNAPSHOT_CHUNK_ACK ->
          io.tern.transport.proto.MessageType.MESSAGE_TYPE_SNAPSHOT_CHUNK_ACK;
      case REMOVED -> io.tern.transport.proto.MessageType.MESSAGE_TYPE_REMOVED;
    };
  }

  static MessageType fromProto(io.tern.transport.proto.MessageType t) {
    return switch (t) {
      case MESSAGE_TYPE_APPEND -> MessageType.APPEND;
      case MESSAGE_TYPE_APPEND_RESPONSE -> MessageType.APPEND_RESPONSE;
      case MESSAGE_TYPE_HEARTBEAT -> MessageType.HEARTBEAT;
      case MESSAGE_TYPE_HEARTBEAT_RESPONSE -> MessageType.HEARTBEAT_RESPONSE;
      case MESSAGE_TYPE_VOTE -> MessageType.VOTE;
      case MESSAGE_TYPE_VOTE_RESPONSE -> MessageType.VOTE_RESPONSE;
      case MESSAGE_TYPE_PRE_VOTE -> MessageType.PRE_VOTE;
      case MESSAGE_TYPE_PRE_VOTE_RESPONSE -> MessageType.PRE_VOTE_RESPONSE;
      case MESSAGE_TYPE_PROPOSE -> MessageType.PROPOSE;
      case MESSAGE_TYPE_READ_INDEX -> MessageType.READ_INDEX;
      case MESSAGE_TYPE_READ_INDEX_RESPONSE -> MessageType.READ_INDEX_RESPONSE;
      case MESSAGE_TYPE_TIMEOUT_NOW -> MessageType.TIMEOUT_NOW;
      case MESSAGE_TYPE_SNAPSHOT -> MessageType.SNAPSHOT;
      case MESSAGE_TYPE_INSTALL_SNAPSHOT -> MessageType.INSTALL_SNAPSHOT;
      case MESSAGE_TYPE_SNAPSHOT_CHUNK -> MessageType.SNAPSHOT_CHUNK;
      case MESSAGE_TYPE_SNAPSHOT_CHUNK_ACK -> MessageType.SNAPSHOT_CHUNK_ACK;
      case MESSAGE_TYPE_REMOVED -> MessageType.REMOVED;
      case MESSAGE_TYPE_UNSPECIFIED, UNRECOGNIZED ->
          throw new MalformedMessageException("unknown message type " + t);
    };
  }

  static io.tern.transport.proto.EntryType toProto(EntryType t) {
    return switch (t) {
      case NORMAL -> io.tern.transport.proto.EntryType.ENTRY_TYPE_NORMAL;
      case CONFIG -> io.tern.transport.proto.EntryType.ENTRY_TYPE_CONFIG;
    };
  }

  static EntryType fromProto(io.tern.transport.proto.EntryType t) {
    return switch (t) {
      case ENTRY_TYPE_NORMAL -> EntryType.NORMAL;
      case ENTRY_TYPE_CONFIG -> EntryType.CONFIG;
      case ENTRY_TYPE_UNSPECIFIED, UNRECOGNIZED ->
          throw new MalformedMessageException("unknown entry type " + t);
    };
  }
}
