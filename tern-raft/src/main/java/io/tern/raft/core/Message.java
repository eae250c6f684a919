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
      long context) {
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
  }

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
        .context(context);
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

  /** Payload bytes (entries' sizes); what the network is charged for besides a fixed header. */
  public long payloadBytes() {
    long n = 0;
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

    public Message build() {
      return new Message(
          type, from, to, term, logTerm, index, entries, commit, reject, rejectHint, context);
    }
  }
}
