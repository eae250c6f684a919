package io.tern.kv;

import com.google.protobuf.ByteString;
import java.util.Comparator;

/** Key-range membership with etcd's {@code range_end} conventions. */
final class WatchKeys {
  private static final Comparator<ByteString> UNSIGNED =
      ByteString.unsignedLexicographicalComparator();

  private WatchKeys() {}

  /**
   * Whether {@code k} is selected by {@code (key, rangeEnd)}: empty {@code rangeEnd} = exactly
   * {@code key}; {@code "\0"} = every key {@code >= key}; otherwise {@code [key, rangeEnd)}.
   */
  static boolean contains(ByteString key, ByteString rangeEnd, ByteString k) {
    if (rangeEnd.isEmpty()) {
      return k.equals(key);
    }
    if (UNSIGNED.compare(k, key) < 0) {
      return false;
    }
    return isFromKey(rangeEnd) || UNSIGNED.compare(k, rangeEnd) < 0;
  }

  static boolean isFromKey(ByteString rangeEnd) {
    return rangeEnd.size() == 1 && rangeEnd.byteAt(0) == 0;
  }
}
