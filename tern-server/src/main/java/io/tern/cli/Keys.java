package io.tern.cli;

import com.google.protobuf.ByteString;

/** Key ranges as etcd's clients compute them. */
final class Keys {
  /** The range end meaning "every key from the start key on". */
  static final ByteString FROM_KEY = ByteString.copyFrom(new byte[] {0});

  private Keys() {}

  static ByteString utf8(String s) {
    return ByteString.copyFromUtf8(s);
  }

  /**
   * The end of the range holding every key that starts with {@code prefix}: the prefix with its
   * last byte below 0xff incremented and the rest dropped; "\0" (to the end) if there is none.
   */
  static ByteString prefixEnd(ByteString prefix) {
    byte[] b = prefix.toByteArray();
    for (int i = b.length - 1; i >= 0; i--) {
      if ((b[i] & 0xff) < 0xff) {
        b[i]++;
        return ByteString.copyFrom(b, 0, i + 1);
      }
    }
    return FROM_KEY;
  }

  /** Range for a key argument, with etcdctl's --prefix / --from-key handling of "". */
  record Range(ByteString key, ByteString end) {}

  static Range range(String key, String rangeEnd, boolean prefix, boolean fromKey) {
    if (prefix && fromKey) {
      throw new CliException(
          "`--prefix` and `--from-key` cannot be set at the same time, choose one");
    }
    if (rangeEnd != null && (prefix || fromKey)) {
      throw new CliException(
          "too many arguments, only accept one argument when `--prefix` or `--from-key` is set");
    }
    ByteString k = utf8(key);
    if (prefix) {
      return k.isEmpty() ? new Range(FROM_KEY, FROM_KEY) : new Range(k, prefixEnd(k));
    }
    if (fromKey) {
      return new Range(k.isEmpty() ? FROM_KEY : k, FROM_KEY);
    }
    return new Range(k, rangeEnd == null ? ByteString.EMPTY : utf8(rangeEnd));
  }
}
