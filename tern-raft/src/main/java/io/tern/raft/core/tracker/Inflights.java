package io.tern.raft.core.tracker;

/**
 * The append messages in flight to one follower, bounded by count and bytes: a ring of (last index
 * of the message, payload bytes), oldest first. Acknowledging index i frees every message whose
 * last index is at most i.
 */
public final class Inflights {
  private final int maxCount;
  private final long maxBytes;
  private long[] lastIndexes;
  private long[] sizes;
  private int start;
  private int count;
  private long bytes;

  public Inflights(int maxCount, long maxBytes) {
    if (maxCount < 1 || maxBytes < 1) {
      throw new IllegalArgumentException("limits must be positive");
    }
    this.maxCount = maxCount;
    this.maxBytes = maxBytes;
    int initial = Math.min(maxCount, 16);
    this.lastIndexes = new long[initial];
    this.sizes = new long[initial];
  }

  /** Whether no more messages may be sent until some are acknowledged. */
  public boolean full() {
    return count >= maxCount || bytes >= maxBytes;
  }

  public int count() {
    return count;
  }

  public long bytes() {
    return bytes;
  }

  /** Records a message ending at {@code lastIndex}; indexes must increase. */
  public void add(long lastIndex, long size) {
    if (full()) {
      throw new IllegalStateException("inflights full: " + count + " msgs, " + bytes + " bytes");
    }
    if (count > 0 && lastIndex <= lastIndexes[(start + count - 1) % lastIndexes.length]) {
      throw new IllegalStateException("inflight index " + lastIndex + " does not increase");
    }
    if (count == lastIndexes.length) {
      grow();
    }
    int slot = (start + count) % lastIndexes.length;
    lastIndexes[slot] = lastIndex;
    sizes[slot] = size;
    count++;
    bytes += size;
  }

  private void grow() {
    int n = Math.min(maxCount, lastIndexes.length * 2);
    long[] li = new long[n];
    long[] sz = new long[n];
    for (int i = 0; i < count; i++) {
      li[i] = lastIndexes[(start + i) % lastIndexes.length];
      sz[i] = sizes[(start + i) % lastIndexes.length];
    }
    lastIndexes = li;
    sizes = sz;
    start = 0;
  }

  /** Frees every message whose last index is at most {@code index}. */
  public void freeLe(long index) {
    while (count > 0 && lastIndexes[start] <= index) {
      bytes -= sizes[start];
      start = (start + 1) % lastIndexes.length;
      count--;
    }
    if (count == 0) {
      start = 0;
    }
  }

  public void reset() {
    start = 0;
    count = 0;
    bytes = 0;
  }
}
