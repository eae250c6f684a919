package io.tern.raft.core;

import java.util.List;
import java.util.Objects;

/**
 * A Raft message. One flat immutable value for every type; the meaning of the numeric fields per
 * type:
 *
 * <ul>
 *   <li>APPEND: {@code index}/{@code logTerm} are prevLogIndex/prevLogTerm, {@code entries} follow
 *       it, {@code commit} is the leader's commit index.
 *   <li>APPEND_RESPONSE: accepted: {@code index} is the last index now matching the leader.
 *       Rejected ({@code reject}): {@code index} is the rejected prevLogIndex, {@code rejectHint}
 *       and {@code logTerm} give the follower's hint (the index to probe from and the term there).
 *   <li>HEARTBEAT: {@code commit} (capped to what the follower is known to match), {@code context}
 *       the leader's heartbeat round (for ReadIndex and lease confirmation), echoed in the reply.
 *   <li>VOTE / PRE_VOTE: {@code index}/{@code logTerm} are the candidate's last log index and term.
 *       For PRE_VOTE {@code term} is the term the candidate would campaign in. {@code context} is 1
 *       for a campaign started by leadership transfer.
 *   <li>READ_INDEX: {@code context} identifies the request; the response carries it back with
 *       {@code index} the read index, or {@code reject} if the leader could not serve it.
 *   <li>SNAPSHOT (from the core to its own driver): send {@code to} the latest snapshot, whose
 *       index is at least {@code index}.
 *   <li>INSTALL_SNAPSHOT (from the driver to its own core, on behalf of leader {@code from} in
 *       {@code term}): the snapshot {@code snapshot} is complete and durable here.
 *   <li>SNAPSHOT_CHUNK (driver to driver): {@code data} of snapshot {@code snapshot} at {@code
 *       offset}; {@code total} and {@code context} are the whole snapshot's length and CRC32C
 *       (which together with the meta identify it), {@code checksum} the CRC32C of {@code data}.
 *   <li>SNAPSHOT_CHUNK_ACK: {@code offset} is the next offset the receiver expects of the snapshot
 *       at {@code index} identified by {@code context}; {@code rejectHint} is 1 when the sender
 *       should resend from there (a gap, or a receiver that holds nothing of it); {@code commit} is
 *       1 once the snapshot is installed; {@code reject}: the sender is a stale leader and should
 *       stop.
 * </ul>
 */
public final class Message {
  private final MessageType type;
  private final long from;
  private final long to;
  private final long term;
  private final long logTerm;
  private final long index;
  private final List<Entry> entries;
  private final long commit;
  private final boolean reject;
  private final long rejectHint;
  private final long context;
  private final SnapshotMeta snapshot;
  private final long offset;
  private final long total;
  private final long checksum;
  private final byte[] data;

  public Message(
      MessageType type,
      long from,
      long to,
      long term,
      long logTerm,
      long index,
      List<Entry> entries,
      long commit,
      boolean reject,
      long rejectHint,
      long context,
      SnapshotMeta snapshot,
      long offset,
      long total,
      long checksum,
      byte[] data) {
    this.type = Objects.requireNonNull(type, "type");
    this.from = from;
    this.to = to;
    this.term = term;
    this.logTerm = logTerm;
    this.index = index;
    this.entries = entries == null ? List.of() : entries;
    this.commit = commit;
    this.reject = reject;
    this.rejectHint = rejectHint;
    this.context = context;
    this.snapshot = snapshot;
    this.offset = offset;
    this.total = total;
    this.checksum = checksum;
    this.data = data == null ? EMPTY : data;
  }

  private static final byte[] EMPTY = new byte[0];

  public static Builder builder(MessageType type) {
    return new Builder(type);
  }

  public Builder toBuilder() {
    return new Builder(type)
        .from(from)
        .to(to)
        .term(term)
        .logTerm(logTerm)
        .index(index)
        .entries(entries)
        .commit(commit)
        .reject(reject)
        .rejectHint(rejectHint)
        .context(context)
        .snapshot(snapshot)
        .offset(offset)
        .total(total)
        .checksum(checksum)
        .data(data);
  }

  public MessageType type() {
    return type;
  }

  public long from() {
    return from;
  }

  public long to() {
    return to;
  }

  public long term() {
    return term;
  }

  public long logTerm() {
    return logTerm;
  }

  public long index() {
    return index;
  }

  public List<Entry> entries() {
    return entries;
  }

  public long commit() {
    return commit;
  }

  public boolean reject() {
    return reject;
  }

  public long rejectHint() {
    return rejectHint;
  }

  public long context() {
    return context;
  }

  /** The snapshot described (SNAPSHOT_CHUNK, INSTALL_SNAPSHOT), or null. */
  public SnapshotMeta snapshot() {
    return snapshot;
  }

  public long offset() {
    return offset;
  }

  public long total() {
    return total;
  }

  public long checksum() {
    return checksum;
  }

  /** Chunk content (SNAPSHOT_CHUNK); not copied, do not modify. */
  public byte[] data() {
    return data;
  }

  /** Payload bytes (entries' sizes); what the network is charged for besides a fixed header. */
  public long payloadBytes() {
    long n = data.length;
    for (Entry e : entries) {
      n += e.sizeBytes();
    }
    return n;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    sb.append(type).append(' ').append(from).append("->").append(to).append(" t").append(term);
    switch (type) {
      case APPEND -> {
        sb.append(" prev=").append(index).append('@').append(logTerm);
        sb.append(" n=").append(entries.size()).append(" commit=").append(commit);
      }
      case APPEND_RESPONSE -> {
        sb.append(reject ? " REJECT idx=" : " ok idx=").append(index);
        if (reject) {
          sb.append(" hint=").append(rejectHint).append('@').append(logTerm);
        }
      }
      case HEARTBEAT -> sb.append(" commit=").append(commit).append(" round=").append(context);
      case HEARTBEAT_RESPONSE -> sb.append(" round=").append(context);
      case VOTE, PRE_VOTE ->
          sb.append(" last=")
              .append(index)
              .append('@')
              .append(logTerm)
              .append(" ctx=")
              .append(context);
      case VOTE_RESPONSE, PRE_VOTE_RESPONSE -> sb.append(reject ? " REJECT" : " GRANT");
      case PROPOSE -> sb.append(" n=").append(entries.size());
      case READ_INDEX -> sb.append(" ctx=").append(context);
      case READ_INDEX_RESPONSE ->
          sb.append(" ctx=").append(context).append(reject ? " REJECT" : " idx=" + index);
      case TIMEOUT_NOW -> {}
      case SNAPSHOT -> sb.append(" idx>=").append(index);
      case REMOVED -> sb.append(" config=").append(index);
      case INSTALL_SNAPSHOT -> sb.append(" snap=").append(snapshot);
      case SNAPSHOT_CHUNK ->
          sb.append(" snap=")
              .append(snapshot == null ? "?" : snapshot.index() + "@" + snapshot.term())
              .append(" off=")
              .append(offset)
              .append('/')
              .append(total)
              .append(" len=")
              .append(data.length);
      case SNAPSHOT_CHUNK_ACK ->
          sb.append(" idx=")
              .append(index)
              .append(reject ? " REJECT" : commit == 1 ? " installed" : " next=" + offset)
              .append(rejectHint == 1 ? " resend" : "");
    }
    return sb.toString();
  }

  /** Builds messages; all fields default to zero, false or empty. */
  public static final class Builder {
    private final MessageType type;
    private long from;
    private long to;
    private long term;
    private long logTerm;
    private long index;
    private List<Entry> entries = List.of();
    private long commit;
    private boolean reject;
    private long rejectHint;
    private long context;
    private SnapshotMeta snapshot;
    private long offset;
    private long total;
    private long checksum;
    private byte[] data;

    private Builder(MessageType type) {
      this.type = type;
    }

    public Builder from(long v) {
      from = v;
      return this;
    }

    public Builder to(long v) {
      to = v;
      return this;
    }

    public Builder term(long v) {
      term = v;
      return this;
    }

    public Builder logTerm(long v) {
      logTerm = v;
      return this;
    }

    public Builder index(long v) {
      index = v;
      return this;
    }

    public Builder entries(List<Entry> v) {
      entries = v;
      return this;
    }

    public Builder commit(long v) {
      commit = v;
      return this;
    }

    public Builder reject(boolean v) {
      reject = v;
      return this;
    }

    public Builder rejectHint(long v) {
      rejectHint = v;
      return this;
    }

    public Builder context(long v) {
      context = v;
      return this;
    }

    public Builder snapshot(SnapshotMeta v) {
      snapshot = v;
      return this;
    }

    public Builder offset(long v) {
      offset = v;
      return this;
    }

    public Builder total(long v) {
      total = v;
      return this;
    }

    public Builder checksum(long v) {
      checksum = v;
      return this;
    }

    public Builder data(byte[] v) {
      data = v;
      return this;
    }

    public Message build() {
      return new Message(
          type,
          from,
          to,
          term,
          logTerm,
          index,
          entries,
          commit,
          reject,
          rejectHint,
          context,
          snapshot,
          offset,
          total,
          checksum,
          data);
    }
  }
}
