package io.tern.kv;

import com.google.protobuf.ByteString;
import java.util.Comparator;

/**
 * etcd's key ranges: an empty range end selects the single key, {@code "\0"} every key at or after
 * it, anything else the half-open interval {@code [key, rangeEnd)}. Keys compare bytewise,
 * unsigned.
 */
final class KeyRanges {
  static final Comparator<ByteString> ORDER = ByteString.unsignedLexicographicalComparator();

  private KeyRanges() {}

  static boolean isSingleKey(ByteString rangeEnd) {
    return rangeEnd.isEmpty();
  }

  static boolean isUnbounded(ByteString rangeEnd) {
    return rangeEnd.size() == 1 && rangeEnd.byteAt(0) == 0;
  }

  static boolean contains(ByteString key, ByteString rangeEnd, ByteString k) {
    if (isSingleKey(rangeEnd)) {
      return k.equals(key);
    }
    if (ORDER.compare(k, key) < 0) {
      return false;
    }
    return isUnbounded(rangeEnd) || ORDER.compare(k, rangeEnd) < 0;
  }
}
