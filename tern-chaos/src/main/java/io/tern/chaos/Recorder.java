package io.tern.chaos;

import java.util.ArrayList;
import java.util.List;

/**
 * The history of one run: every client operation with its invocation and completion times
 * (nanoseconds since the run's start, on this JVM's monotonic clock) and its outcome. Thread-safe.
 */
final class Recorder {
  /** ok: the reply said it happened; fail: it certainly had no effect; unknown: either. */
  enum Status {
    PENDING,
    OK,
    FAIL,
    UNKNOWN
  }

  /** One operation; the outcome fields are set once, when it completes. */
  static final class Op {
    final long id;
    final int client;
    final String type;
    final String key;
    final String value;
    final String expected;
    final String member;
    final long invoke;
    private Status status = Status.PENDING;
    private Object output;
    private long complete = -1;
    private long revision;
    private String error;

    Op(
        long id,
        int client,
        String type,
        String key,
        String value,
        String expected,
        String member,
        long invoke) {
      this.id = id;
      this.client = client;
      this.type = type;
      this.key = key;
      this.value = value;
      this.expected = expected;
      this.member = member;
      this.invoke = invoke;
    }

    synchronized Status status() {
      return status;
    }

    synchronized Object output() {
      return output;
    }

    synchronized long complete() {
      return complete;
    }

    synchronized long revision() {
      return revision;
    }

    synchronized String error() {
      return error;
    }

    private synchronized void resolve(Status s, Object out, long rev, String err, long time) {
      if (status != Status.PENDING) {
        throw new IllegalStateException("operation resolved twice: " + id);
      }
      status = s;
      output = out;
      revision = rev;
      error = err;
      complete = time;
    }
  }

  private final long start;
  private final List<Op> ops = new ArrayList<>(); // guarded by this

  Recorder(long startNanos) {
    this.start = startNanos;
  }

  /** Nanoseconds since the run started. */
  long now() {
    return System.nanoTime() - start;
  }

  long startNanos() {
    return start;
  }

  synchronized Op invoke(
      int client, String type, String key, String value, String expected, String member) {
    Op op = new Op(ops.size(), client, type, key, value, expected, member, now());
    ops.add(op);
    return op;
  }

  void ok(Op op, Object output, long revision) {
    op.resolve(Status.OK, output, revision, null, now());
  }

  void fail(Op op, String error) {
    op.resolve(Status.FAIL, null, 0, error, now());
  }

  void unknown(Op op, String error) {
    op.resolve(Status.UNKNOWN, null, 0, error, now());
  }

  synchronized List<Op> ops() {
    return List.copyOf(ops);
  }
}
