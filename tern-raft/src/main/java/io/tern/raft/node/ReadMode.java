package io.tern.raft.node;

/** How a linearizable read confirms that it sees every write committed before it began. */
public enum ReadMode {
  /** A ReadIndex round: the leader confirms leadership with a heartbeat quorum (thesis 6.4). */
  READ_INDEX,
  /**
   * The leader's lease, when valid, with no round trip; falls back to READ_INDEX otherwise. Safe
   * only while clock drift between members stays within the configured margin.
   */
  LEASE
}
