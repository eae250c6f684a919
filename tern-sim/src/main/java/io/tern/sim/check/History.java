package io.tern.sim.check;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Records the operations of a simulated run for the {@link LinearizabilityChecker}. Not
 * thread-safe: the simulator is single-threaded.
 *
 * <p>Every operation is invoked with {@link #invoke} and later resolved at most once with {@link
 * #ok}, {@link #fail} or {@link #unknown}. Operations left unresolved stay {@link
 * OpStatus#PENDING}, which the checker treats like {@link OpStatus#UNKNOWN}.
 */
public final class History {
  private final ArrayList<Operation> ops = new ArrayList<>();

  /**
   * Records the invocation of an operation.
   *
   * @param value the PUT value, the APPEND suffix or the CAS new value; ignored for GET
   * @param expected the CAS expected value (null meaning "key absent"); ignored for other kinds
   * @return the id of the new operation
   */
  public long invoke(
      int client, OpKind kind, String key, String value, String expected, long time) {
    if (kind == null || key == null) {
      throw new IllegalArgumentException("kind and key are required");
    }
    if (kind == OpKind.APPEND && value == null) {
      throw new IllegalArgumentException("APPEND needs a non-null suffix");
    }
    long id = ops.size();
    String v = kind == OpKind.GET ? null : value;
    String e = kind == OpKind.CAS ? expected : null;
    ops.add(Operation.pending(id, client, kind, key, v, e, time));
    return id;
  }

  /**
   * Records a successful completion.
   *
   * @param output the value read (String, or null if absent) for GET, a Boolean for CAS, null for
   *     PUT and APPEND (ignored)
   */
  public void ok(long id, Object output, long time) {
    Operation op = pending(id, time);
    Object out =
        switch (op.kind()) {
          case GET -> {
            if (output != null && !(output instanceof String)) {
              throw new IllegalArgumentException("GET output must be a String or null: " + output);
            }
            yield output;
          }
          case CAS -> {
            if (!(output instanceof Boolean)) {
              throw new IllegalArgumentException("CAS output must be a Boolean: " + output);
            }
            yield output;
          }
          case PUT, APPEND -> null;
        };
    ops.set((int) id, op.withOk(out, time));
  }

  /** Records that the operation definitely had no effect. */
  public void fail(long id, long time) {
    ops.set((int) id, pending(id, time).withFail(time));
  }

  /**
   * Records that the outcome will never be known (timed out, client crashed). Calling it again on
   * an already unknown operation is a no-op.
   */
  public void unknown(long id) {
    Operation op = get(id);
    if (op.status() == OpStatus.UNKNOWN) {
      return;
    }
    if (op.status() != OpStatus.PENDING) {
      throw new IllegalStateException("operation already resolved: " + op);
    }
    ops.set((int) id, op.withUnknown());
  }

  /** The operation with the given id. */
  public Operation get(long id) {
    if (id < 0 || id >= ops.size()) {
      throw new IllegalArgumentException("no such operation: " + id);
    }
    return ops.get((int) id);
  }

  /** A snapshot of all operations, in invocation order. */
  public List<Operation> operations() {
    return Collections.unmodifiableList(new ArrayList<>(ops));
  }

  /** The number of recorded operations. */
  public int size() {
    return ops.size();
  }

  /** The operations, one per line, in invocation order. */
  public String dump() {
    StringBuilder sb = new StringBuilder(ops.size() * 48);
    for (Operation op : ops) {
      sb.append(op.describe()).append('\n');
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return "History[" + ops.size() + " ops]";
  }

  private Operation pending(long id, long time) {
    Operation op = get(id);
    if (op.status() != OpStatus.PENDING) {
      throw new IllegalStateException("operation already resolved: " + op);
    }
    if (time < op.invokeTime()) {
      throw new IllegalArgumentException("completion time " + time + " precedes invocation: " + op);
    }
    return op;
  }
}
