package io.tern.sim.check;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Helpers that build histories for the checker tests. */
final class TestHistories {
  private TestHistories() {}

  /** A fluent wrapper around {@link History} with explicit invocation and completion times. */
  static final class Builder {
    final History h = new History();

    Builder put(int client, String key, String value, long invoke, long complete) {
      h.ok(h.invoke(client, OpKind.PUT, key, value, null, invoke), null, complete);
      return this;
    }

    Builder get(int client, String key, String output, long invoke, long complete) {
      h.ok(h.invoke(client, OpKind.GET, key, null, null, invoke), output, complete);
      return this;
    }

    Builder append(int client, String key, String suffix, long invoke, long complete) {
      h.ok(h.invoke(client, OpKind.APPEND, key, suffix, null, invoke), null, complete);
      return this;
    }

    Builder cas(
        int client,
        String key,
        String expected,
        String value,
        boolean output,
        long invoke,
        long complete) {
      h.ok(h.invoke(client, OpKind.CAS, key, value, expected, invoke), output, complete);
      return this;
    }

    Builder putUnknown(int client, String key, String value, long invoke) {
      h.unknown(h.invoke(client, OpKind.PUT, key, value, null, invoke));
      return this;
    }

    Builder appendUnknown(int client, String key, String suffix, long invoke) {
      h.unknown(h.invoke(client, OpKind.APPEND, key, suffix, null, invoke));
      return this;
    }

    Builder casUnknown(int client, String key, String expected, String value, long invoke) {
      h.unknown(h.invoke(client, OpKind.CAS, key, value, expected, invoke));
      return this;
    }

    Builder getUnknown(int client, String key, long invoke) {
      h.unknown(h.invoke(client, OpKind.GET, key, null, null, invoke));
      return this;
    }

    Builder putPending(int client, String key, String value, long invoke) {
      h.invoke(client, OpKind.PUT, key, value, null, invoke);
      return this;
    }

    Builder putFail(int client, String key, String value, long invoke, long complete) {
      h.fail(h.invoke(client, OpKind.PUT, key, value, null, invoke), complete);
      return this;
    }

    LinearizabilityChecker.Result check() {
      return LinearizabilityChecker.check(h);
    }
  }

  static Builder history() {
    return new Builder();
  }

  /**
   * Generates a history that is linearizable by construction: operations are executed one by one
   * against a real map at strictly increasing linearization points, and each operation's interval
   * is drawn around its point; a client never has two operations in flight.
   *
   * @param unknownRate the fraction of operations whose outcome is UNKNOWN (half of those took
   *     effect, half did not)
   * @param failRate the fraction of operations that FAIL (no effect)
   */
  static List<Operation> linearizable(
      Random rnd, int nOps, int nKeys, int nClients, double unknownRate, double failRate) {
    Map<String, String> store = new HashMap<>();
    List<Operation> ops = new ArrayList<>(nOps);
    long[] clientFree = new long[nClients]; // last completion (or time-out) of each client
    long t = 0;
    for (int i = 0; i < nOps; i++) {
      t += 1 + rnd.nextInt(8);
      long minFree = Long.MAX_VALUE;
      for (long f : clientFree) {
        minFree = Math.min(minFree, f);
      }
      if (minFree >= t) {
        t = minFree + 1;
      }
      int c;
      do {
        c = rnd.nextInt(nClients);
      } while (clientFree[c] >= t);
      long invoke = clientFree[c] + 1 + (long) rnd.nextInt((int) Math.min(t - clientFree[c], 40));
      invoke = Math.max(invoke, t - 40);
      long complete = t + rnd.nextInt(40);
      String key = "k" + rnd.nextInt(nKeys);
      String cur = store.get(key);
      OpKind kind = OpKind.values()[rnd.nextInt(4)];
      String value = null;
      String expected = null;
      switch (kind) {
        case PUT -> value = rnd.nextInt(10) == 0 ? "x" : "v" + i;
        case APPEND -> value = "a" + i + ";";
        case CAS -> {
          value = "c" + i;
          int r = rnd.nextInt(10);
          expected = r < 6 ? cur : r < 8 ? null : "v" + rnd.nextInt(i + 1);
        }
        case GET -> {}
      }
      double r = rnd.nextDouble();
      OpStatus status =
          r < failRate
              ? OpStatus.FAIL
              : r < failRate + unknownRate ? OpStatus.UNKNOWN : OpStatus.OK;
      boolean takesEffect =
          status == OpStatus.OK || (status == OpStatus.UNKNOWN && rnd.nextBoolean());
      Object output = null;
      if (takesEffect) {
        switch (kind) {
          case PUT -> store.put(key, value);
          case APPEND -> store.put(key, (cur == null ? "" : cur) + value);
          case GET -> output = cur;
          case CAS -> {
            boolean match = java.util.Objects.equals(cur, expected);
            if (match) {
              store.put(key, value);
            }
            output = match;
          }
        }
      }
      long end = status == OpStatus.UNKNOWN ? Operation.NEVER : complete;
      ops.add(
          new Operation(
              i,
              c,
              kind,
              key,
              value,
              expected,
              status == OpStatus.OK ? output : null,
              status,
              invoke,
              end));
      clientFree[c] = complete; // an UNKNOWN op "times out" at `complete`
    }
    return ops;
  }
}
