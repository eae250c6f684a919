package io.tern.sim.check;

import java.util.Objects;

/**
 * An immutable operation of a recorded history. Times are simulated nanoseconds.
 *
 * @param id the operation id, unique within its history
 * @param client the client that issued the operation
 * @param kind the operation kind
 * @param key the single key the operation touches
 * @param value the PUT value, the APPEND suffix or the CAS new value; null for GET
 * @param expected the CAS expected value (null meaning "key absent"); null for other kinds
 * @param output the observed output for {@link OpStatus#OK} operations: the value (or null) for
 *     GET, a {@link Boolean} for CAS, null for PUT and APPEND; ignored for other statuses
 * @param status the outcome
 * @param invokeTime when the operation was invoked
 * @param completeTime when the outcome was observed; {@link #NEVER} for PENDING and UNKNOWN
 *     operations (the checker treats their completion as +infinity whatever the value)
 */
public record Operation(
    long id,
    int client,
    OpKind kind,
    String key,
    String value,
    String expected,
    Object output,
    OpStatus status,
    long invokeTime,
    long completeTime) {

  /** The completion time of operations that never completed (+infinity). */
  public static final long NEVER = Long.MAX_VALUE;

  public Operation {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(status, "status");
  }

  /** A new operation that has been invoked but has no outcome yet. */
  public static Operation pending(
      long id, int client, OpKind kind, String key, String value, String expected, long time) {
    return new Operation(
        id, client, kind, key, value, expected, null, OpStatus.PENDING, time, NEVER);
  }

  /** This operation completed successfully with {@code output} at {@code time}. */
  public Operation withOk(Object output, long time) {
    return new Operation(
        id, client, kind, key, value, expected, output, OpStatus.OK, invokeTime, time);
  }

  /** This operation definitely failed (had no effect), observed at {@code time}. */
  public Operation withFail(long time) {
    return new Operation(
        id, client, kind, key, value, expected, null, OpStatus.FAIL, invokeTime, time);
  }

  /** This operation with an unknown outcome. */
  public Operation withUnknown() {
    return new Operation(
        id, client, kind, key, value, expected, null, OpStatus.UNKNOWN, invokeTime, NEVER);
  }

  /** This operation with a different output (same status and times); handy for tests. */
  public Operation withOutput(Object newOutput) {
    return new Operation(
        id, client, kind, key, value, expected, newOutput, status, invokeTime, completeTime);
  }

  /** Whether the operation may have modified the key (everything but GET). */
  public boolean isWrite() {
    return kind != OpKind.GET;
  }

  /** Whether the outcome is unknown to the checker (PENDING or UNKNOWN). */
  public boolean isIndefinite() {
    return status == OpStatus.PENDING || status == OpStatus.UNKNOWN;
  }

  /** A readable one-line description, e.g. {@code #7 c2 CAS k3 "a"=>"b" -> true [100, 250]}. */
  public String describe() {
    StringBuilder sb = new StringBuilder(64);
    sb.append('#').append(id).append(" c").append(client).append(' ').append(kind);
    sb.append(' ').append(key);
    switch (kind) {
      case PUT, APPEND -> sb.append(' ').append(quote(value));
      case CAS -> sb.append(' ').append(quote(expected)).append("=>").append(quote(value));
      case GET -> {}
    }
    sb.append(" -> ");
    switch (status) {
      case OK -> {
        if (kind == OpKind.PUT || kind == OpKind.APPEND) {
          sb.append("ok");
        } else if (output == null || output instanceof String) {
          sb.append(quote((String) output));
        } else {
          sb.append(output);
        }
      }
      case FAIL -> sb.append("FAIL");
      case UNKNOWN -> sb.append("UNKNOWN");
      case PENDING -> sb.append("PENDING");
    }
    sb.append(" [").append(invokeTime).append(", ");
    if (isIndefinite() || completeTime == NEVER) {
      sb.append("inf)");
    } else {
      sb.append(completeTime).append(']');
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return describe();
  }

  /** Formats a register value: quoted, or {@code nil} for absent. */
  static String quote(String s) {
    if (s == null) {
      return "nil";
    }
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> sb.append(c);
      }
    }
    return sb.append('"').toString();
  }
}
