package io.tern.raft.core;

import java.util.Objects;

/**
 * One log entry. Immutable: the data array is never modified after construction, by convention (it
 * is not copied, to keep the replication path free of copies).
 */
public final class Entry {
  /** Fixed per-entry overhead counted against byte budgets, besides the payload. */
  public static final int OVERHEAD_BYTES = 32;

  private static final byte[] EMPTY = new byte[0];

  private final long term;
  private final long index;
  private final EntryType type;
  private final long requestId;
  private final byte[] data;

  public Entry(long term, long index, EntryType type, long requestId, byte[] data) {
    if (term < 0 || index < 0) {
      throw new IllegalArgumentException("negative term or index: " + term + "/" + index);
    }
    this.term = term;
    this.index = index;
    this.type = Objects.requireNonNull(type, "type");
    this.requestId = requestId;
    this.data = data == null ? EMPTY : data;
  }

  /** An entry not yet placed in the log (term and index are assigned by the leader). */
  public static Entry proposal(long requestId, byte[] data) {
    return new Entry(0, 0, EntryType.NORMAL, requestId, data);
  }

  /** The same entry placed at {@code index} in {@code term}. */
  public Entry placed(long term, long index) {
    return new Entry(term, index, type, requestId, data);
  }

  public long term() {
    return term;
  }

  public long index() {
    return index;
  }

  public EntryType type() {
    return type;
  }

  /** Opaque id the proposer uses to match the applied entry to its waiting caller; 0 if none. */
  public long requestId() {
    return requestId;
  }

  /** The payload; do not modify. */
  public byte[] data() {
    return data;
  }

  /** Bytes this entry counts for against message and inflight budgets. */
  public long sizeBytes() {
    return OVERHEAD_BYTES + data.length;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Entry e)) {
      return false;
    }
    return term == e.term
        && index == e.index
        && type == e.type
        && requestId == e.requestId
        && java.util.Arrays.equals(data, e.data);
  }

  @Override
  public int hashCode() {
    return Objects.hash(term, index, type, requestId, java.util.Arrays.hashCode(data));
  }

  @Override
  public String toString() {
    return "Entry{"
        + index
        + "@"
        + term
        + " "
        + type
        + " rid="
        + requestId
        + " "
        + data.length
        + "B}";
  }
}
