package io.tern.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;

/**
 * The benchmark's keys: index i in {@code [0, size)} as a big-endian number in the last bytes of a
 * fixed-length key, so keys sort in index order and the whole space is one range.
 */
final class KeySpace {
  private final int keySize;
  private final long size;

  KeySpace(int keySize, long size) {
    if (keySize < 1 || size < 1 || (keySize < 8 && size > 1L << (8 * keySize))) {
      throw new IllegalArgumentException("key space " + size + " of " + keySize + "-byte keys");
    }
    this.keySize = keySize;
    this.size = size;
  }

  long size() {
    return size;
  }

  ByteString key(long index) {
    if (index < 0 || index >= size) {
      throw new IllegalArgumentException("key index " + index + " outside [0, " + size + ")");
    }
    return encode(index);
  }

  /** The range_end that, with {@code key(0)}, covers exactly the key space. */
  ByteString rangeEnd() {
    if (keySize < 8 && size == 1L << (8 * keySize)) {
      // Every key of this length is in the space: etcd's "\0" end means "from key(0) on".
      return ByteString.copyFrom(new byte[] {0});
    }
    return encode(size);
  }

  private ByteString encode(long index) {
    byte[] k = new byte[keySize];
    long v = index;
    for (int i = keySize - 1; i >= 0 && v != 0; i--) {
      k[i] = (byte) v;
      v >>>= 8;
    }
    return UnsafeByteOperations.unsafeWrap(k);
  }
}
