package io.tern.bench.compare;

/**
 * The client protocol every benchmark server speaks on its client port (TCP, big-endian).
 *
 * <pre>
 * request:  [int len][long requestId][payload: len - 8 bytes]
 * response: [int len = 9][long requestId][byte status]
 * </pre>
 *
 * <p>A request with a non-empty payload is a proposal: the server proposes the payload through its
 * Raft library and answers once the entry is committed and applied on that member ({@link #OK}), or
 * {@link #NOT_LEADER} / {@link #FAILED}. A request with an empty payload is a probe ("are you the
 * leader?"): {@link #OK} from the leader, {@link #NOT_LEADER} from anyone else. Responses on one
 * connection may come in any order; the request id pairs them.
 */
public final class Protocol {
  public static final byte OK = 0;
  public static final byte NOT_LEADER = 1;
  public static final byte FAILED = 2;

  /** Bytes of a response frame, length prefix included. */
  public static final int RESPONSE_BYTES = 4 + 8 + 1;

  /** Largest request accepted (length field), a guard against garbage. */
  public static final int MAX_REQUEST = 1 << 20;

  private Protocol() {}
}
