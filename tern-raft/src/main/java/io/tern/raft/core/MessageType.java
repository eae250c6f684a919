package io.tern.raft.core;

/** Kinds of Raft messages exchanged between members (and, for PROPOSE, forwarded to the leader). */
public enum MessageType {
  /** AppendEntries request (paper Figure 2). */
  APPEND,
  APPEND_RESPONSE,
  /** Empty AppendEntries carrying only the commit index and a read/lease round in context. */
  HEARTBEAT,
  HEARTBEAT_RESPONSE,
  /** RequestVote (paper Figure 2). */
  VOTE,
  VOTE_RESPONSE,
  /** Pre-vote (thesis section 9.6): asks whether a vote would be granted, without a term bump. */
  PRE_VOTE,
  PRE_VOTE_RESPONSE,
  /** Proposals forwarded by a follower to the leader. */
  PROPOSE,
  /** A follower asking the leader for a read index; context identifies the request. */
  READ_INDEX,
  READ_INDEX_RESPONSE,
  /** Leadership transfer: tells the target to campaign at once (thesis section 3.10). */
  TIMEOUT_NOW,
  /**
   * From the core to its driver: a follower needs the snapshot (it is behind the compacted log).
   */
  SNAPSHOT,
  /** From the driver to its core: a snapshot received from the leader is complete and durable. */
  INSTALL_SNAPSHOT,
  /** One piece of a snapshot, between drivers; the cores never see it. */
  SNAPSHOT_CHUNK,
  SNAPSHOT_CHUNK_ACK,
  /**
   * To a member that campaigns though a committed configuration (ending at {@code index}) leaves it
   * out: it stops campaigning.
   */
  REMOVED;

  /** Whether this is a reply to a request of the given member's current term. */
  public boolean isResponse() {
    return switch (this) {
      case APPEND_RESPONSE,
          HEARTBEAT_RESPONSE,
          VOTE_RESPONSE,
          PRE_VOTE_RESPONSE,
          READ_INDEX_RESPONSE ->
          true;
      default -> false;
    };
  }
}
