package io.tern.sim.kv;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A command of the simulator's key-value store, and its binary encoding.
 *
 * <p>Format: one op byte, then the op's strings, each as an unsigned LEB128 varint holding {@code
 * length + 1} (0 encodes null) followed by that many bytes of UTF-8. PUT and APPEND carry key and
 * value, GET the key, CAS the key, the expected value (null: the key must be absent) and the new
 * value. Strings must be well-formed UTF-16 (no unpaired surrogates) to round-trip.
 *
 * @param value the value to write (PUT), the suffix to append (APPEND), the new value (CAS); null
 *     for GET
 * @param expected the value CAS compares with (null: absent); null for other ops
 */
public record KvCommand(Op op, String key, String value, String expected) {
  /** Command kinds; the codes are part of the format. */
  public enum Op {
    PUT(1),
    GET(2),
    APPEND(3),
    CAS(4);

    private final byte code;

    Op(int code) {
      this.code = (byte) code;
    }

    static Op of(byte code) {
      for (Op op : values()) {
        if (op.code == code) {
          return op;
        }
      }
      throw new IllegalArgumentException("unknown KV op code " + code);
    }
  }

  public KvCommand {
    Objects.requireNonNull(op, "op");
    Objects.requireNonNull(key, "key");
    switch (op) {
      case PUT, APPEND, CAS -> Objects.requireNonNull(value, "value");
      case GET -> {
        if (value != null) {
          throw new IllegalArgumentException("GET carries no value");
        }
      }
    }
    if (op != Op.CAS && expected != null) {
      throw new IllegalArgumentException(op + " carries no expected value");
    }
  }

  public static KvCommand put(String key, String value) {
    return new KvCommand(Op.PUT, key, value, null);
  }

  public static KvCommand get(String key) {
    return new KvCommand(Op.GET, key, null, null);
  }

  public static KvCommand append(String key, String suffix) {
    return new KvCommand(Op.APPEND, key, suffix, null);
  }

  /** Sets {@code key} to {@code newValue} if its value is {@code expected} (null: absent). */
  public static KvCommand cas(String key, String expected, String newValue) {
    return new KvCommand(Op.CAS, key, newValue, expected);
  }

  public byte[] encode() {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    byte[] v = value == null ? null : value.getBytes(StandardCharsets.UTF_8);
    byte[] x = expected == null ? null : expected.getBytes(StandardCharsets.UTF_8);
    int size = 1 + encodedSize(k);
    switch (op) {
      case PUT, APPEND -> size += encodedSize(v);
      case CAS -> size += encodedSize(x) + encodedSize(v);
      case GET -> {}
    }
    ByteBuffer buf = ByteBuffer.allocate(size);
    buf.put(op.code);
    putString(buf, k);
    switch (op) {
      case PUT, APPEND -> putString(buf, v);
      case CAS -> {
        putString(buf, x);
        putString(buf, v);
      }
      case GET -> {}
    }
    return buf.array();
  }

  /**
   * Decodes what {@link #encode()} produced.
   *
   * @throws IllegalArgumentException if {@code data} is not exactly one well-formed command
   */
  public static KvCommand decode(byte[] data) {
    if (data == null || data.length == 0) {
      throw new IllegalArgumentException("empty KV command");
    }
    ByteBuffer buf = ByteBuffer.wrap(data);
    Op op = Op.of(buf.get());
    String key = getString(buf);
    if (key == null) {
      throw new IllegalArgumentException("null key in KV command");
    }
    KvCommand cmd =
        switch (op) {
          case PUT -> new KvCommand(op, key, requireValue(getString(buf)), null);
          case APPEND -> new KvCommand(op, key, requireValue(getString(buf)), null);
          case GET -> new KvCommand(op, key, null, null);
          case CAS -> {
            String expected = getString(buf);
            yield new KvCommand(op, key, requireValue(getString(buf)), expected);
          }
        };
    if (buf.hasRemaining()) {
      throw new IllegalArgumentException(buf.remaining() + " trailing bytes after " + cmd);
    }
    return cmd;
  }

  private static String requireValue(String v) {
    if (v == null) {
      throw new IllegalArgumentException("null value in KV command");
    }
    return v;
  }

  private static int encodedSize(byte[] s) {
    return s == null ? 1 : varintSize(s.length + 1L) + s.length;
  }

  private static int varintSize(long v) {
    int n = 1;
    while ((v >>>= 7) != 0) {
      n++;
    }
    return n;
  }

  private static void putString(ByteBuffer buf, byte[] s) {
    long v = s == null ? 0 : s.length + 1L;
    while ((v & ~0x7FL) != 0) {
      buf.put((byte) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    buf.put((byte) v);
    if (s != null) {
      buf.put(s);
    }
  }

  private static String getString(ByteBuffer buf) {
    long v = 0;
    int shift = 0;
    while (true) {
      if (!buf.hasRemaining()) {
        throw new IllegalArgumentException("truncated KV command");
      }
      byte b = buf.get();
      v |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        break;
      }
      shift += 7;
      if (shift > 28) {
        throw new IllegalArgumentException("string length varint too long");
      }
    }
    if (v == 0) {
      return null;
    }
    long len = v - 1;
    if (len > buf.remaining()) {
      throw new IllegalArgumentException("truncated KV command: string of " + len + " bytes");
    }
    ByteBuffer slice = buf.slice();
    slice.limit((int) len);
    buf.position(buf.position() + (int) len);
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(slice)
          .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("malformed UTF-8 in KV command", e);
    }
  }

  @Override
  public String toString() {
    return switch (op) {
      case PUT -> "PUT(" + key + "=" + value + ")";
      case GET -> "GET(" + key + ")";
      case APPEND -> "APPEND(" + key + "+=" + value + ")";
      case CAS -> "CAS(" + key + ": " + expected + "->" + value + ")";
    };
  }
}
