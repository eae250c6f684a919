package io.tern.sim.check;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Checks that a {@link History} of key-value operations is linearizable.
 *
 * <p>Linearizability is local, so the history is split by key (keys are checked in sorted order)
 * and each key's sub-history, a single register with PUT, GET, APPEND and CAS, is checked on its
 * own. Per key, the search is Wing & Gong's backtracking search with Lowe's improvements: the call
 * and return events of the OK operations sit in a time-ordered doubly-linked list; the candidates
 * for the next linearization point are the calls before the first return left; an operation is
 * linearized "just in time" by lifting its events out of the list (they are put back when the
 * search backtracks); and a cache of visited configurations (the linearized operations as a bit set
 * plus the register value) prunes configurations that were explored before.
 *
 * <p>Operation statuses:
 *
 * <ul>
 *   <li>{@link OpStatus#FAIL} operations had no effect and are ignored.
 *   <li>{@link OpStatus#UNKNOWN} and {@link OpStatus#PENDING} operations may take effect at any
 *       point after their invocation, or never, and their output is unconstrained. Reads among them
 *       are dropped. The writes ("indefinite writes") have a call event but no return event (it
 *       would be at +infinity); they sit in a separate time-ordered list and never constrain the
 *       order of other operations. The search succeeds as soon as every OK operation is linearized,
 *       so an indefinite write may be linearized anywhere after its invocation, or left out. At
 *       each configuration, indefinite writes are tried only after the OK candidates.
 * </ul>
 *
 * <p>Indefinite writes stay candidates forever, which is what makes checking expensive, so the
 * search also prunes with rules that keep it complete:
 *
 * <ul>
 *   <li>Dominance: a configuration is skipped if one with the same OK operations, value and
 *       unobserved writes (below) but a subset of its indefinite writes was visited: leaving
 *       indefinite writes out is always allowed, so the latter can finish whenever the former can.
 *   <li>Minimality: if the history is linearizable, some linearization uses a minimal set of
 *       indefinite writes, and in it each of them is observed (some later OK operation would be
 *       illegal without it) before its effect is lost. The search tracks, for each indefinite write
 *       not observed yet, the "shadow" value the register would have without it, and abandons a
 *       branch as soon as a shadow catches up with the real value, or when no operation that may
 *       come next could observe the write.
 *   <li>Feasibility: the value that a GET or successful CAS among the next few returns will see
 *       must be reachable using only operations invoked before its return.
 * </ul>
 *
 * <p>Real-time order: an operation must be linearized after every operation whose completion time
 * is strictly less than its invocation time. Operations whose completion and invocation times are
 * equal are treated as concurrent (the permissive choice: it can hide a violation, never invent
 * one).
 *
 * <p>The budget counts search steps: candidate linearizations tried, backtracks, and scans past
 * calls (indefinite writes dismissed by a cheap pre-check are not counted).
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
   * real run is illegal in the shadow run; the search therefore abandons such a branch as soon as a
   * shadow catches up, and forgets the shadow once the write has been observed.
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
   * A cache entry: the set of linearized OK ops, the register value and the unobserved writes, plus
   * the minimal sets of linearized indefinite ops visited with them. Also used as a mutable lookup
   * probe.
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

    /** How many upcoming returns with a target value {@link #feasible} checks at most. */
    private static final int MAX_TARGETS_CHECKED = 4;

    /** How many upcoming returns {@link #feasible} looks at at most. */
    private static final int MAX_RETURNS_CHECKED = 8;

    final String key;
    final List<Operation> keyOps; // every op of the key, for explanations
    final long budget;

    /** The ops to check: OK ops at [0, okCount), indefinite writes at [okCount, ops.length). */
    final Operation[] ops;

    final int okCount;

    /** Call and return events of the OK ops not linearized yet, by time. */
    final Node head = new Node(-1, false, Long.MIN_VALUE);

    /** Call events of the indefinite writes not linearized yet, by time (they have no return). */
    final Node indefiniteHead = new Node(-1, true, Long.MIN_VALUE);

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
    int depth;
    // Longest prefix found (by number of OK ops linearized).
    int bestOk = -1;
    int[] bestPrefix = new int[0];

    final HashMap<Config, Config> cache = new HashMap<>();
    final Config probe = new Config();
    // Scratch space of feasible().
    final String[] appends;
    int appendCount;
    final HashSet<String> appendSet = new HashSet<>();
    long appendLengths; // bit i set: some suffix of length i < 64 is in appendSet
    boolean longAppends; // some suffix is 64 chars or longer
    final int[] resets;
    int resetCount;
    final int[] pendingResets;
    final int[] observers;
    // Quick filter of the indefinite phase (see prepareIndefinitePhase()).
    boolean tryAllIndefinite;
    final String[] targets;
    int targetCount;
    final String[] bridges;
    int bridgeCount;
    boolean windowAppends;
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
      appends = new String[ops.length];
      resets = new int[ops.length];
      pendingResets = new int[ops.length];
      observers = new int[ops.length];
      targets = new String[ops.length];
      bridges = new String[ops.length];
      buildEventLists();
    }

    private void buildEventLists() {
      List<Node> events = new ArrayList<>(okCount * 2);
      List<Node> indefiniteCalls = new ArrayList<>(ops.length - okCount);
      for (int i = 0; i < ops.length; i++) {
        Node call = new Node(i, true, ops[i].invokeTime());
        if (i < okCount) {
          Node ret = new Node(i, false, ops[i].completeTime());
          call.match = ret;
          events.add(call);
          events.add(ret);
        } else {
          indefiniteCalls.add(call);
        }
      }
      // By time; at equal times calls come first, so that such ops count as concurrent.
      Comparator<Node> order =
          Comparator.comparingLong((Node n) -> n.time)
              .thenComparing(n -> !n.call)
              .thenComparingInt(n -> n.op);
      events.sort(order);
      indefiniteCalls.sort(order);
      link(head, events);
      link(indefiniteHead, indefiniteCalls);
    }

    private static void link(Node head, List<Node> nodes) {
      Node prev = head;
      for (Node n : nodes) {
        prev.next = n;
        n.prev = prev;
        prev = n;
      }
    }

    /**
     * The search. Candidates for the next linearization point are the OK calls before the first
     * return left, then the indefinite writes invoked no later than that return ("phase" two: they
     * are only tried once no OK candidate leads anywhere).
     */
    Verdict run() {
      if (okCount == 0) {
        return Verdict.OK;
      }
      recordBest(null);
      visit(); // the initial configuration
      Node entry = head.next;
      boolean indefinitePhase = false;
      long horizon = 0; // in phase two: the time of the first return left
      while (true) {
        if (++steps > budget) {
          if (linearizedOk > bestOk) {
            recordBest(null);
          }
          return Verdict.UNDECIDED;
        }
        if (!indefinitePhase) {
          if (entry != null && entry.call) {
            if (tryLinearize(entry, false)) {
              if (linearizedOk == okCount) {
                return Verdict.OK;
              }
              entry = head.next;
            } else {
              entry = entry.next;
            }
            continue;
          }
          if (indefiniteHead.next != null) {
            indefinitePhase = true;
            horizon = entry == null ? Long.MAX_VALUE : entry.time;
            prepareIndefinitePhase();
            entry = indefiniteHead.next;
            continue;
          }
        } else if (entry != null && entry.time <= horizon) {
          // Cheaply skip writes that cannot be observed (uncounted: at most one per pending op).
          while (entry != null && entry.time <= horizon && !worthTrying(ops[entry.op])) {
            entry = entry.next;
          }
          if (entry == null || entry.time > horizon) {
            continue;
          }
          if (tryLinearize(entry, true)) {
            indefinitePhase = false;
            entry = head.next;
          } else {
            entry = entry.next;
          }
          continue;
        }
        // No candidate left: backtrack.
        if (linearizedOk > bestOk) {
          recordBest(null);
        }
        if (depth == 0) {
          return Verdict.VIOLATION;
        }
        depth--;
        entry = stackNode[depth];
        state = stackState[depth];
        unobserved = stackUnobserved[depth];
        stackNode[depth] = null;
        stackState[depth] = null;
        stackUnobserved[depth] = null;
        unlift(entry);
        clearBit(entry.op);
        indefinitePhase = entry.op >= okCount;
        if (indefinitePhase) {
          horizon = firstReturnTime();
          prepareIndefinitePhase();
        } else {
          linearizedOk--;
        }
        entry = entry.next;
      }
    }

    private long firstReturnTime() {
      Node n = head.next;
      while (n != null && n.call) {
        n = n.next;
      }
      return n == null ? Long.MAX_VALUE : n.time;
    }

    /** Linearizes the op of {@code call} next if that can lead anywhere new; pushes it if so. */
    private boolean tryLinearize(Node call, boolean indefinite) {
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
      if (!indefinite) {
        linearizedOk++;
      }
      if (linearizedOk == okCount || (feasible() && observable() && visit())) {
        stackNode[depth] = call;
        stackState[depth] = before;
        stackUnobserved[depth] = unobservedBefore;
        depth++;
        return true;
      }
      if (!indefinite) {
        if (linearizedOk > bestOk) {
          recordBest(call); // a linearizable prefix, even if a dead end
        }
        linearizedOk--;
      }
      unlift(call);
      clearBit(i);
      state = before;
      unobserved = unobservedBefore;
      return false;
    }

    /**
     * A necessary condition for the current configuration to lead anywhere. An OK op must be
     * linearized before every op invoked after its return. So if it is a GET or a successful CAS,
     * the register must hold a given target value right before it, reachable from the current value
     * using only ops invoked before that return. Reachability is over-approximated: a value is
     * reachable if it extends the current value through some candidate APPEND, or equals or extends
     * the value of a candidate PUT, or of a candidate CAS whose expected value is itself reachable.
     * The first few upcoming returns with a target are checked.
     */
    private boolean feasible() {
      clearAppends();
      resetCount = 0;
      Node collected = head; // candidates are collected lazily, up to this node
      Node indefinite = indefiniteHead.next;
      int targets = 0;
      int returns = 0;
      for (Node n = head.next; n != null; n = n.next) {
        if (n.call) {
          continue;
        }
        Operation r = ops[n.op];
        if (r.kind() == OpKind.GET || (r.kind() == OpKind.CAS && (Boolean) r.output())) {
          String target = r.kind() == OpKind.GET ? (String) r.output() : r.expected();
          if (!Objects.equals(state, target)) {
            for (Node c = collected.next; c != n; c = c.next) {
              if (c.call) {
                collect(c.op);
              }
            }
            collected = n;
            while (indefinite != null && indefinite.time <= n.time) {
              collect(indefinite.op);
              indefinite = indefinite.next;
            }
            if (!reachable(target, n.op)) {
              return false;
            }
          }
          if (++targets >= MAX_TARGETS_CHECKED) {
            return true;
          }
        }
        if (++returns >= MAX_RETURNS_CHECKED) {
          return true;
        }
      }
      return true;
    }

    /**
     * A necessary condition for the unobserved indefinite writes to be observed in time. Until a
     * write is observed, only APPENDs, failed OK CASes that do not observe it and indefinite CASes
     * can follow it: a PUT (OK or indefinite) would make its shadow catch up, and a legal GET or
     * successful OK CAS observes it. So the real value and the shadow can only change by appends
     * and by indefinite CASes that succeed on them. The observer must be a GET or successful CAS
     * whose target is reachable that way from the current value, or a failed CAS whose expected
     * value is reachable that way from the write's shadow; and it must be invoked before the first
     * return of an OK PUT, GET or successful CAS (those end the window one way or the other).
     */
    private boolean observable() {
      if (unobserved.ops.length == 0) {
        return true;
      }
      int observerCount = scanObservationWindow();
      closure(state);
      int failedCases = 0;
      for (int k = 0; k < observerCount; k++) {
        Operation o = ops[observers[k]];
        if (o.kind() == OpKind.GET || (Boolean) o.output()) {
          if (reaches(o.kind() == OpKind.GET ? (String) o.output() : o.expected())) {
            return true; // may observe all of them
          }
        } else {
          observers[failedCases++] = observers[k];
        }
      }
      for (String shadow : unobserved.shadows) {
        closure(shadow);
        boolean observed = false;
        for (int k = 0; k < failedCases && !observed; k++) {
          observed = reaches(ops[observers[k]].expected());
        }
        if (!observed) {
          return false;
        }
      }
      return true;
    }

    /**
     * Collects what {@link #observable} needs about the ops that may come before an observer: the
     * candidate appends, the indefinite CASes (into {@link #resets}) and the possible observers (OK
     * GETs and CASes, into {@link #observers}, whose count is returned).
     */
    private int scanObservationWindow() {
      clearAppends();
      int observerCount = 0;
      long end = Long.MAX_VALUE;
      for (Node n = head.next; n != null; n = n.next) {
        Operation c = ops[n.op];
        if (n.call) {
          switch (c.kind()) {
            case APPEND -> addAppend(c.value());
            case GET, CAS -> observers[observerCount++] = n.op;
            case PUT -> {}
          }
        } else if (c.kind() == OpKind.PUT
            || c.kind() == OpKind.GET
            || (c.kind() == OpKind.CAS && (Boolean) c.output())) {
          end = n.time;
          break;
        }
      }
      resetCount = 0;
      for (Node n = indefiniteHead.next; n != null && n.time <= end; n = n.next) {
        Operation c = ops[n.op];
        switch (c.kind()) {
          case APPEND -> addAppend(c.value());
          case CAS -> resets[resetCount++] = n.op;
          case PUT, GET -> {}
        }
      }
      return observerCount;
    }

    /**
     * Prepares {@link #worthTrying} for the current configuration, before its indefinite writes are
     * tried. Without unobserved writes pending, a new one, u, would be the only one, with the
     * current value as its shadow; {@link #observable} rejects it unless a failed CAS may observe
     * that shadow (which does not depend on u: then all are worth trying) or a GET or successful
     * CAS may observe the value u produces. The window seen after u is a subset of the current one,
     * so checking against the current window is sound.
     */
    private void prepareIndefinitePhase() {
      tryAllIndefinite = true;
      if (unobserved.ops.length > 0) {
        return;
      }
      int observerCount = scanObservationWindow();
      closure(state);
      targetCount = 0;
      for (int k = 0; k < observerCount; k++) {
        Operation o = ops[observers[k]];
        if (o.kind() == OpKind.GET) {
          targets[targetCount++] = (String) o.output();
        } else if ((Boolean) o.output()) {
          targets[targetCount++] = o.expected();
        } else if (reaches(o.expected())) {
          return; // a failed CAS may observe any write
        }
      }
      bridgeCount = 0;
      for (int k = 0; k < resetCount; k++) {
        bridges[bridgeCount++] = ops[resets[k]].expected();
      }
      windowAppends = appendCount > 0;
      tryAllIndefinite = false;
    }

    /**
     * Whether indefinite write {@code op} may pass {@link #observable} if linearized now (see
     * {@link #prepareIndefinitePhase}); a cheap necessary condition.
     */
    private boolean worthTrying(Operation op) {
      if (tryAllIndefinite) {
        return true;
      }
      String next = apply(op, state);
      for (int k = 0; k < bridgeCount; k++) {
        if (mayBecome(next, bridges[k])) {
          return true; // an indefinite CAS may succeed after it: let observable() decide
        }
      }
      for (int k = 0; k < targetCount; k++) {
        if (mayBecome(next, targets[k])) {
          return true;
        }
      }
      return false;
    }

    private boolean mayBecome(String from, String to) {
      if (Objects.equals(from, to)) {
        return true;
      }
      if (!windowAppends || to == null) {
        return false;
      }
      return from == null ? !to.isEmpty() : to.length() > from.length() && to.startsWith(from);
    }

    /**
     * Sets {@link #reachable} to {@code start} plus the new values of the indefinite CASes in
     * {@link #resets} that may succeed from there (through appends and each other).
     */
    private void closure(String start) {
      reachable.clear();
      reachable.add(start);
      int pending = resetCount;
      System.arraycopy(resets, 0, pendingResets, 0, pending);
      boolean changed = true;
      while (changed && pending > 0) {
        changed = false;
        for (int k = pending - 1; k >= 0; k--) {
          Operation c = ops[pendingResets[k]];
          if (reaches(c.expected())) {
            reachable.add(c.value());
            pendingResets[k] = pendingResets[--pending];
            changed = true;
          }
        }
      }
    }

    private void collect(int i) {
      Operation c = ops[i];
      switch (c.kind()) {
        case APPEND -> addAppend(c.value());
        case PUT -> resets[resetCount++] = i;
        case CAS -> {
          if (i >= okCount || (Boolean) c.output()) {
            resets[resetCount++] = i; // a CAS that may have succeeded
          }
        }
        case GET -> {}
      }
    }

    /** Whether {@code target} may be reached from the current value, without op {@code self}. */
    private boolean reachable(String target, int self) {
      if (grows(state, target)) {
        return true;
      }
      boolean casMatches = false;
      for (int k = 0; k < resetCount; k++) {
        Operation c = ops[resets[k]];
        if (resets[k] != self && (Objects.equals(c.value(), target) || grows(c.value(), target))) {
          if (c.kind() == OpKind.PUT) {
            return true;
          }
          casMatches = true;
        }
      }
      if (!casMatches) {
        return false;
      }
      // Only CASes produce the target: find out which CASes may succeed, to a fixpoint.
      int pending = 0;
      for (int k = 0; k < resetCount; k++) {
        if (resets[k] != self) {
          pendingResets[pending++] = resets[k];
        }
      }
      reachable.clear();
      reachable.add(state);
      boolean changed = true;
      while (changed) {
        changed = false;
        for (int k = pending - 1; k >= 0; k--) {
          Operation c = ops[pendingResets[k]];
          if (c.kind() == OpKind.PUT || reaches(c.expected())) {
            if (Objects.equals(c.value(), target) || grows(c.value(), target)) {
              return true;
            }
            reachable.add(c.value());
            pendingResets[k] = pendingResets[--pending];
            changed = true;
          }
        }
      }
      return false;
    }

    /** Whether {@code w} is a reachable value or extends one through a candidate APPEND. */
    private boolean reaches(String w) {
      for (String r : reachable) {
        if (Objects.equals(r, w) || grows(r, w)) {
          return true;
        }
      }
      return false;
    }

    /** Whether appending candidate suffixes to {@code base} may produce {@code w} ("" if null). */
    private boolean grows(String base, String w) {
      if (w == null || appendCount == 0) {
        return false;
      }
      int off = base == null ? 0 : base.length();
      if (w.length() <= off || (base != null && !w.startsWith(base))) {
        return false;
      }
      // Does some candidate suffix start at `off`? Look the possible lengths up in the index.
      int rest = w.length() - off;
      long lengths = appendLengths & (rest >= 63 ? -1L : (1L << (rest + 1)) - 1);
      while (lengths != 0) {
        int len = Long.numberOfTrailingZeros(lengths);
        lengths &= lengths - 1;
        if (appendSet.contains(w.substring(off, off + len))) {
          return true;
        }
      }
      if (longAppends) {
        for (int k = 0; k < appendCount; k++) {
          if (appends[k].length() >= 64 && w.startsWith(appends[k], off)) {
            return true;
          }
        }
      }
      return false;
    }

    private void clearAppends() {
      if (appendCount > 0) {
        appendCount = 0;
        appendSet.clear();
        appendLengths = 0;
        longAppends = false;
      }
    }

    private void addAppend(String suffix) {
      appends[appendCount++] = suffix;
      if (suffix.length() < 64) {
        if (appendSet.add(suffix)) {
          appendLengths |= 1L << suffix.length();
        }
      } else {
        longAppends = true;
      }
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
      bestOk = linearizedOk;
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
      rest.sort(Comparator.comparingLong(Operation::completeTime).thenComparingLong(Operation::id));
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
