package io.tern.sim.check;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Checks that a {@link History} of key-value operations is linearizable.
 *
 * <p>Linearizability is local, so the history is split by key and each key's sub-history (a single
 * register with PUT, GET, APPEND and CAS) is checked on its own. Per key, the search is the Wing &
 * Gong backtracking search with Lowe's improvements: call and return events sit in a time-ordered
 * doubly-linked list, an operation is linearized "just in time" by lifting its events out of the
 * list, and a cache of visited configurations (the set of linearized operations plus the register
 * value) prunes configurations that were already explored.
 *
 * <p>Operation statuses:
 *
 * <ul>
 *   <li>{@link OpStatus#FAIL} operations had no effect and are ignored.
 *   <li>{@link OpStatus#UNKNOWN} and {@link OpStatus#PENDING} operations may take effect at any
 *       point after their invocation, or never, and their output is unconstrained. Reads among them
 *       are dropped. Writes get a call event but no return event (their return is at +infinity), so
 *       they never constrain the order of other operations; the search may linearize them wherever
 *       allowed but does not have to: it succeeds as soon as every OK operation is linearized.
 * </ul>
 *
 * <p>Real-time order: an operation must be linearized after every operation whose completion time
 * is strictly less than its invocation time. Operations whose completion and invocation times are
 * equal are treated as concurrent (the permissive choice: it can hide a violation, never invent
 * one).
 */
public final class LinearizabilityChecker {
  /** The default search budget per key, in search steps. */
  public static final long DEFAULT_MAX_STEPS_PER_KEY = 5_000_000L;

  private static final int MAX_LISTED_OPS = 2_000;
  private static final int MAX_LISTED_BLOCKERS = 10;

  private LinearizabilityChecker() {}

  /** The verdict of a check. */
  public enum Verdict {
    /** The history is linearizable. */
    OK,
    /** The history is not linearizable (for the reported key). */
    VIOLATION,
    /** The search budget of some key was exhausted before a verdict was reached. */
    UNDECIDED
  }

  /**
   * The outcome of a check.
   *
   * @param verdict the verdict; VIOLATION wins over UNDECIDED when keys disagree
   * @param key the key that is not linearizable (VIOLATION) or whose budget ran out (UNDECIDED);
   *     null for OK
   * @param explanation a readable explanation; for VIOLATION it lists the operations of the key and
   *     the longest linearizable prefix found
   */
  public record Result(Verdict verdict, String key, String explanation) {
    public Result {
      Objects.requireNonNull(verdict, "verdict");
    }

    /** Whether the history is linearizable. */
    public boolean ok() {
      return verdict == Verdict.OK;
    }

    @Override
    public String toString() {
      return verdict + (key == null ? "" : " (key " + key + ")") + ": " + explanation;
    }
  }

  /** Checks a recorded history with the default step budget per key. */
  public static Result check(History h) {
    return check(h.operations(), DEFAULT_MAX_STEPS_PER_KEY);
  }

  /**
   * Checks a list of operations (in any order).
   *
   * @param maxStepsPerKey the search budget per key; a key exceeding it makes the result UNDECIDED
   *     unless another key is a VIOLATION
   * @throws IllegalArgumentException if an operation is malformed (wrong output type, completion
   *     before invocation, APPEND without suffix)
   */
  public static Result check(List<Operation> ops, long maxStepsPerKey) {
    if (maxStepsPerKey <= 0) {
      throw new IllegalArgumentException("maxStepsPerKey must be positive: " + maxStepsPerKey);
    }
    Map<String, List<Operation>> byKey = new TreeMap<>();
    for (Operation op : ops) {
      validate(op);
      byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
    }
    Result undecided = null;
    long totalSteps = 0;
    for (Map.Entry<String, List<Operation>> e : byKey.entrySet()) {
      KeySearch search = new KeySearch(e.getKey(), e.getValue(), maxStepsPerKey);
      Verdict v = search.run();
      totalSteps += search.steps;
      if (v == Verdict.VIOLATION) {
        return new Result(v, e.getKey(), search.explain("not linearizable"));
      }
      if (v == Verdict.UNDECIDED && undecided == null) {
        undecided =
            new Result(
                v,
                e.getKey(),
                search.explain("undecided: step budget of " + maxStepsPerKey + " exhausted"));
      }
    }
    if (undecided != null) {
      return undecided;
    }
    return new Result(
        Verdict.OK,
        null,
        "linearizable: "
            + ops.size()
            + " ops over "
            + byKey.size()
            + " keys, "
            + totalSteps
            + " search steps");
  }

  private static void validate(Operation op) {
    if (op.kind() == OpKind.APPEND && op.value() == null && op.status() != OpStatus.FAIL) {
      throw new IllegalArgumentException("APPEND without suffix: " + op);
    }
    if (op.status() != OpStatus.OK) {
      return;
    }
    if (op.completeTime() < op.invokeTime()) {
      throw new IllegalArgumentException("completes before it is invoked: " + op);
    }
    Object out = op.output();
    if (op.kind() == OpKind.GET && out != null && !(out instanceof String)) {
      throw new IllegalArgumentException("GET output must be a String or null: " + op);
    }
    if (op.kind() == OpKind.CAS && !(out instanceof Boolean)) {
      throw new IllegalArgumentException("CAS output must be a Boolean: " + op);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Sequential model: a single register holding a String (null = absent).

  /** Whether {@code op} may take effect in {@code state}, given its observed output. */
  private static boolean allowed(Operation op, boolean indefinite, String state) {
    if (indefinite) {
      return true; // output unconstrained (indefinite GETs were dropped)
    }
    return switch (op.kind()) {
      case PUT, APPEND -> true;
      case GET -> Objects.equals(op.output(), state);
      case CAS -> ((Boolean) op.output()) == Objects.equals(op.expected(), state);
    };
  }

  /** The register value after {@code op} takes effect in {@code state}. */
  private static String apply(Operation op, String state) {
    return switch (op.kind()) {
      case PUT -> op.value();
      case GET -> state;
      case APPEND -> (state == null ? "" : state) + op.value();
      case CAS -> Objects.equals(op.expected(), state) ? op.value() : state;
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Per-key search.

  /** A call or return event in the doubly-linked event list. */
  private static final class Node {
    final int op; // index into KeySearch.ops
    final boolean call;
    final long time;
    Node match; // the return of a call (null for indefinite ops)
    Node prev;
    Node next;

    Node(int op, boolean call, long time) {
      this.op = op;
      this.call = call;
      this.time = time;
    }
  }

  /**
   * The indefinite writes linearized so far whose effect no OK operation has observed yet, each
   * with its shadow: the register value as it would be had that write been left out. Immutable,
   * sorted by op index.
   *
   * <p>If a linearization stays valid when an indefinite write is left out, the write is useless.
   * The search only looks for linearizations without useless indefinite writes (if any valid
   * linearization exists, one with a minimal number of indefinite writes does, and none of its
   * writes is useless). A write is useless if its shadow run catches up with the real one (the
   * values become equal, e.g. after an overwrite) before some OK operation that is legal in the
   * real run is illegal in the shadow run; the search therefore abandons such a branch as soon as
   * a shadow catches up, and forgets the shadow once the write has been observed.
   */
  private static final class Unobserved {
    static final Unobserved NONE = new Unobserved(new int[0], new String[0]);

    final int[] ops;
    final String[] shadows;
    final int hash;

    Unobserved(int[] ops, String[] shadows) {
      this.ops = ops;
      this.shadows = shadows;
      this.hash = 31 * Arrays.hashCode(ops) + Arrays.hashCode(shadows);
    }

    /**
     * The shadows after {@code op} takes effect, the register becoming {@code next}; null if some
     * shadow catches up unobserved (the branch is useless).
     */
    Unobserved advance(Operation op, boolean indefinite, String next) {
      if (ops.length == 0) {
        return this;
      }
      int[] o = new int[ops.length];
      String[] sh = new String[ops.length];
      int k = 0;
      for (int j = 0; j < ops.length; j++) {
        String shadow = shadows[j];
        if (!indefinite && !allowed(op, false, shadow)) {
          continue; // observed: leaving the write out would make `op` illegal
        }
        String after = apply(op, shadow);
        if (Objects.equals(after, next)) {
          return null;
        }
        o[k] = ops[j];
        sh[k++] = after;
      }
      return k == ops.length
          ? new Unobserved(o, sh)
          : new Unobserved(Arrays.copyOf(o, k), Arrays.copyOf(sh, k));
    }

    /** These shadows plus indefinite write {@code op}, whose shadow is {@code shadow}. */
    Unobserved with(int op, String shadow) {
      int n = ops.length;
      int pos = 0;
      while (pos < n && ops[pos] < op) {
        pos++;
      }
      int[] o = new int[n + 1];
      String[] sh = new String[n + 1];
      System.arraycopy(ops, 0, o, 0, pos);
      System.arraycopy(shadows, 0, sh, 0, pos);
      o[pos] = op;
      sh[pos] = shadow;
      System.arraycopy(ops, pos, o, pos + 1, n - pos);
      System.arraycopy(shadows, pos, sh, pos + 1, n - pos);
      return new Unobserved(o, sh);
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Unobserved u
          && u.hash == hash
          && Arrays.equals(u.ops, ops)
          && Arrays.equals(u.shadows, shadows);
    }
  }

  /**
   * A cache entry: the set of linearized OK ops, the register value and the unobserved writes,
   * plus the minimal sets of linearized indefinite ops visited with them. Also used as a mutable
   * lookup probe.
   */
  private static final class Config {
    long[] okBits;
    String state;
    Unobserved unobserved;
    int hash;
    /** A {@code long[]} (one set) or an {@code ArrayList<long[]>} of pairwise incomparable sets. */
    Object unknownSets;

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Config c
          && c.hash == hash
          && Objects.equals(c.state, state)
          && Arrays.equals(c.okBits, okBits)
          && c.unobserved.equals(unobserved);
    }
  }

  private static final class KeySearch {
    private static final long[] NO_BITS = new long[0];

    final String key;
    final List<Operation> keyOps; // every op of the key, for explanations
    final long budget;
    /** The ops to check: OK ops at [0, okCount), indefinite writes at [okCount, ops.length). */
    final Operation[] ops;

    final int okCount;
    final Node head = new Node(-1, false, Long.MIN_VALUE);
    final long[] zobrist;

    long steps;
    // Current configuration.
    String state;
    Unobserved unobserved = Unobserved.NONE;
    final long[] okBits;
    final long[] unknownBits;
    long okHash;
    int linearizedOk;
    // Backtracking stack.
    final Node[] stackNode;
    final String[] stackState;
    final Unobserved[] stackUnobserved;
    final boolean[] stackPhase;
    int depth;
    // Longest prefix found (by number of OK ops linearized).
    int bestOk = -1;
    int[] bestPrefix = new int[0];

    final HashMap<Config, Config> cache = new HashMap<>();
    final Config probe = new Config();
    // Scratch space of feasible().
    final ArrayList<String> appends = new ArrayList<>();
    final ArrayList<Operation> resets = new ArrayList<>();
    final ArrayList<String> reachable = new ArrayList<>();

    KeySearch(String key, List<Operation> keyOps, long budget) {
      this.key = key;
      this.keyOps = keyOps;
      this.budget = budget;
      List<Operation> definite = new ArrayList<>();
      List<Operation> indefinite = new ArrayList<>();
      for (Operation op : keyOps) {
        switch (op.status()) {
          case OK -> definite.add(op);
          case UNKNOWN, PENDING -> {
            if (op.kind() != OpKind.GET) {
              indefinite.add(op);
            }
          }
          case FAIL -> {}
        }
      }
      okCount = definite.size();
      ops = new Operation[okCount + indefinite.size()];
      for (int i = 0; i < okCount; i++) {
        ops[i] = definite.get(i);
      }
      for (int i = 0; i < indefinite.size(); i++) {
        ops[okCount + i] = indefinite.get(i);
      }
      okBits = new long[(okCount + 63) >>> 6];
      unknownBits = indefinite.isEmpty() ? NO_BITS : new long[(indefinite.size() + 63) >>> 6];
      zobrist = new long[okCount];
      for (int i = 0; i < okCount; i++) {
        zobrist[i] = mix64(i + 0x9E3779B97F4A7C15L);
      }
      stackNode = new Node[ops.length];
      stackState = new String[ops.length];
      stackUnobserved = new Unobserved[ops.length];
      stackPhase = new boolean[ops.length];
      buildEventList();
    }

    private void buildEventList() {
      List<Node> events = new ArrayList<>(ops.length * 2);
      for (int i = 0; i < ops.length; i++) {
        Node call = new Node(i, true, ops[i].invokeTime());
        events.add(call);
        if (i < okCount) {
          Node ret = new Node(i, false, ops[i].completeTime());
          call.match = ret;
          events.add(ret);
        }
      }
      // By time; at equal times calls come first, so that such ops count as concurrent.
      events.sort(
          Comparator.comparingLong((Node n) -> n.time)
              .thenComparing(n -> !n.call)
              .thenComparingInt(n -> n.op));
      Node prev = head;
      for (Node n : events) {
        prev.next = n;
        n.prev = prev;
        prev = n;
      }
    }

    /**
     * The search. Candidates for the next linearization point are the calls before the first
     * return left in the list. OK ops are tried first; indefinite writes, which have no return
     * event, only once no OK candidate leads anywhere ("phase" two).
     */
    Verdict run() {
      if (okCount == 0) {
        return Verdict.OK;
      }
      recordBest(null);
      visit(); // the initial configuration
      Node entry = head.next;
      boolean unknownPhase = false;
      while (true) {
        if (++steps > budget) {
          return Verdict.UNDECIDED;
        }
        if (entry != null && entry.call) {
          boolean indefinite = entry.op >= okCount;
          if (indefinite == unknownPhase && tryLinearize(entry, indefinite, unknownPhase)) {
            if (!indefinite) {
              linearizedOk++;
              if (linearizedOk == okCount) {
                return Verdict.OK;
              }
            }
            entry = head.next;
            unknownPhase = false;
          } else {
            entry = entry.next;
          }
        } else {
          // Reached the first return left: no candidate left in this phase.
          if (!unknownPhase && unknownBits.length > 0) {
            unknownPhase = true;
            entry = head.next;
            continue;
          }
          if (depth == 0) {
            return Verdict.VIOLATION;
          }
          depth--;
          entry = stackNode[depth];
          state = stackState[depth];
          unobserved = stackUnobserved[depth];
          unknownPhase = stackPhase[depth];
          stackNode[depth] = null;
          stackState[depth] = null;
          stackUnobserved[depth] = null;
          unlift(entry);
          clearBit(entry.op);
          if (entry.op < okCount) {
            linearizedOk--;
          }
          entry = entry.next;
        }
      }
    }

    /** Linearizes the op of {@code call} next if that can lead anywhere new; pushes it if so. */
    private boolean tryLinearize(Node call, boolean indefinite, boolean phase) {
      int i = call.op;
      Operation op = ops[i];
      if (!allowed(op, indefinite, state)) {
        return false;
      }
      String next = apply(op, state);
      Unobserved nextUnobserved = unobserved.advance(op, indefinite, next);
      if (nextUnobserved == null) {
        return false;
      }
      if (indefinite) {
        if (Objects.equals(next, state)) {
          return false; // no effect: same as leaving it out
        }
        nextUnobserved = nextUnobserved.with(i, state);
      }
      String before = state;
      Unobserved unobservedBefore = unobserved;
      state = next;
      unobserved = nextUnobserved;
      setBit(i);
      lift(call);
      boolean last = !indefinite && linearizedOk + 1 == okCount;
      if (!indefinite && linearizedOk + 1 > bestOk) {
        recordBest(call); // a linearizable prefix, even if it turns out to be a dead end
      }
      if (last || (feasible() && visit())) {
        stackNode[depth] = call;
        stackState[depth] = before;
        stackUnobserved[depth] = unobservedBefore;
        stackPhase[depth] = phase;
        depth++;
        return true;
      }
      unlift(call);
      clearBit(i);
      state = before;
      unobserved = unobservedBefore;
      return false;
    }

    /**
     * A necessary condition for the current configuration to lead anywhere. The OK op with the
     * earliest return left (the "blocker") must be linearized before any op invoked after that
     * return. If it is a GET or a successful CAS, the register must then hold a given target value,
     * which has to be reachable from the current value using only the other candidates (the calls
     * before that return). Reachability is over-approximated: values reachable by resets (PUTs,
     * and CASes whose expected value is itself reachable) are collected to a fixpoint, and a value
     * counts as reachable if it is one of them or extends one of them via some candidate APPEND.
     */
    private boolean feasible() {
      Node first = head.next;
      while (first != null && first.call) {
        first = first.next;
      }
      if (first == null) {
        return true;
      }
      Operation blocker = ops[first.op];
      String target;
      if (blocker.kind() == OpKind.GET) {
        target = (String) blocker.output();
      } else if (blocker.kind() == OpKind.CAS && (Boolean) blocker.output()) {
        target = blocker.expected();
      } else {
        return true;
      }
      if (Objects.equals(state, target)) {
        return true;
      }
      appends.clear();
      resets.clear();
      for (Node n = head.next; n != first; n = n.next) {
        if (n.op == first.op) {
          continue;
        }
        Operation c = ops[n.op];
        switch (c.kind()) {
          case APPEND -> appends.add(c.value());
          case PUT -> resets.add(c);
          case CAS -> {
            if (n.op >= okCount || (Boolean) c.output()) {
              resets.add(c); // a CAS that may have succeeded
            }
          }
          case GET -> {}
        }
      }
      reachable.clear();
      reachable.add(state);
      if (reaches(target)) {
        return true;
      }
      boolean changed = true;
      while (changed && !resets.isEmpty()) {
        changed = false;
        for (int i = resets.size() - 1; i >= 0; i--) {
          Operation c = resets.get(i);
          if (c.kind() == OpKind.PUT || reaches(c.expected())) {
            resets.set(i, resets.get(resets.size() - 1));
            resets.remove(resets.size() - 1);
            reachable.add(c.value());
            if (Objects.equals(c.value(), target) || grows(c.value(), target)) {
              return true;
            }
            changed = true;
          }
        }
      }
      return false;
    }

    /** Whether {@code w} is one of the reachable values or extends one via a candidate APPEND. */
    private boolean reaches(String w) {
      for (String r : reachable) {
        if (Objects.equals(r, w) || grows(r, w)) {
          return true;
        }
      }
      return false;
    }

    /** Whether appending to {@code base} may produce {@code w} (absent counts as ""). */
    private boolean grows(String base, String w) {
      if (w == null) {
        return false;
      }
      String b = base == null ? "" : base;
      if (w.length() <= b.length() || !w.startsWith(b)) {
        return false;
      }
      for (String suffix : appends) {
        if (w.startsWith(suffix, b.length())) {
          return true;
        }
      }
      return false;
    }

    private static void lift(Node call) {
      unlink(call);
      if (call.match != null) {
        unlink(call.match);
      }
    }

    private static void unlift(Node call) {
      if (call.match != null) {
        relink(call.match);
      }
      relink(call);
    }

    private static void unlink(Node n) {
      n.prev.next = n.next;
      if (n.next != null) {
        n.next.prev = n.prev;
      }
    }

    private static void relink(Node n) {
      n.prev.next = n;
      if (n.next != null) {
        n.next.prev = n;
      }
    }

    private void setBit(int i) {
      if (i < okCount) {
        okBits[i >>> 6] |= 1L << i;
        okHash ^= zobrist[i];
      } else {
        int j = i - okCount;
        unknownBits[j >>> 6] |= 1L << j;
      }
    }

    private void clearBit(int i) {
      if (i < okCount) {
        okBits[i >>> 6] &= ~(1L << i);
        okHash ^= zobrist[i];
      } else {
        int j = i - okCount;
        unknownBits[j >>> 6] &= ~(1L << j);
      }
    }

    /**
     * Records the current configuration as visited; returns false if it (or a configuration that
     * dominates it) was visited before, in which case it need not be explored.
     *
     * <p>Configuration A = (okSet, U, value, unobserved) dominates B = (okSet, U', value,
     * unobserved) when U is a subset of U': B's remaining ops are a subset of A's, and the extra
     * ones in A are indefinite writes, which can be left out and have no return event to order
     * anything. So every way to finish from B also finishes from A, and if A was (or is being)
     * explored, B adds nothing. Without indefinite writes this is the usual equality check.
     */
    private boolean visit() {
      long h = okHash ^ (Objects.hashCode(state) * 0x9E3779B97F4A7C15L) ^ unobserved.hash;
      probe.okBits = okBits;
      probe.state = state;
      probe.unobserved = unobserved;
      probe.hash = (int) (h ^ (h >>> 32));
      Config found = cache.get(probe);
      if (found == null) {
        Config c = new Config();
        c.okBits = okBits.clone();
        c.state = state;
        c.unobserved = unobserved;
        c.hash = probe.hash;
        c.unknownSets = unknownBits.clone();
        cache.put(c, c);
        return true;
      }
      if (found.unknownSets instanceof long[] single) {
        if (isSubset(single, unknownBits)) {
          return false;
        }
        if (isSubset(unknownBits, single)) {
          found.unknownSets = unknownBits.clone();
        } else {
          ArrayList<long[]> list = new ArrayList<>(2);
          list.add(single);
          list.add(unknownBits.clone());
          found.unknownSets = list;
        }
        return true;
      }
      @SuppressWarnings("unchecked")
      ArrayList<long[]> list = (ArrayList<long[]>) found.unknownSets;
      for (long[] s : list) {
        if (isSubset(s, unknownBits)) {
          return false;
        }
      }
      list.removeIf(s -> isSubset(unknownBits, s));
      list.add(unknownBits.clone());
      return true;
    }

    private static boolean isSubset(long[] a, long[] b) {
      for (int w = 0; w < a.length; w++) {
        if ((a[w] & ~b[w]) != 0) {
          return false;
        }
      }
      return true;
    }

    /** Records the ops on the stack, then {@code extra} if not null, as the longest prefix. */
    private void recordBest(Node extra) {
      bestOk = linearizedOk + (extra == null ? 0 : 1);
      bestPrefix = new int[depth + (extra == null ? 0 : 1)];
      for (int d = 0; d < depth; d++) {
        bestPrefix[d] = stackNode[d].op;
      }
      if (extra != null) {
        bestPrefix[depth] = extra.op;
      }
    }

    String explain(String headline) {
      StringBuilder sb = new StringBuilder();
      sb.append("key ").append(Operation.quote(key)).append(": ").append(headline);
      sb.append(" after ").append(steps).append(" search steps\n");
      sb.append("operations on this key (").append(keyOps.size()).append(", invocation order;");
      sb.append(" FAIL ops and indefinite GETs are ignored):\n");
      List<Operation> sorted = new ArrayList<>(keyOps);
      sorted.sort(Comparator.comparingLong(Operation::invokeTime).thenComparingLong(Operation::id));
      listOps(sb, sorted, MAX_LISTED_OPS);
      sb.append("longest linearizable prefix (")
          .append(Math.max(bestOk, 0))
          .append(" of ")
          .append(okCount)
          .append(" completed ops):\n");
      String s = null;
      boolean[] done = new boolean[ops.length];
      for (int i : bestPrefix) {
        s = apply(ops[i], s);
        done[i] = true;
        sb.append("  ").append(ops[i].describe()).append("   => ").append(Operation.quote(s));
        sb.append('\n');
      }
      if (bestPrefix.length == 0) {
        sb.append("  (empty)\n");
      }
      sb.append("value after the prefix: ").append(Operation.quote(s)).append('\n');
      List<Operation> rest = new ArrayList<>();
      for (int i = 0; i < okCount; i++) {
        if (!done[i]) {
          rest.add(ops[i]);
        }
      }
      rest.sort(
          Comparator.comparingLong(Operation::completeTime).thenComparingLong(Operation::id));
      sb.append("completed ops not linearized after it, by completion time:\n");
      listOps(sb, rest, MAX_LISTED_BLOCKERS);
      return sb.toString();
    }

    private static void listOps(StringBuilder sb, List<Operation> list, int max) {
      for (int i = 0; i < list.size() && i < max; i++) {
        sb.append("  ").append(list.get(i).describe()).append('\n');
      }
      if (list.size() > max) {
        sb.append("  ... (").append(list.size() - max).append(" more)\n");
      }
    }
  }

  private static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
