package io.tern.sim.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.tern.sim.check.LinearizabilityChecker.Result;
import io.tern.sim.check.LinearizabilityChecker.Verdict;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LinearizabilityRandomizedTest {

  @Test
  void sequentialHistoriesFromARealMapAreLinearizable() {
    for (int seed = 0; seed < 200; seed++) {
      Random rnd = new Random(seed);
      List<Operation> ops = TestHistories.linearizable(rnd, 150, 3, 1, 0.0, 0.0);
      Result r = LinearizabilityChecker.check(ops, 1_000_000);
      assertThat(r.verdict()).as("seed %d: %s", seed, r).isEqualTo(Verdict.OK);
    }
  }

  @Test
  void concurrentHistoriesWithUnknownAndFailedOpsAreLinearizable() {
    for (int seed = 0; seed < 300; seed++) {
      Random rnd = new Random(seed);
      int clients = 2 + rnd.nextInt(8);
      List<Operation> ops =
          TestHistories.linearizable(rnd, 200, 1 + rnd.nextInt(5), clients, 0.1, 0.05);
      Result r = LinearizabilityChecker.check(ops, 1_000_000);
      assertThat(r.verdict()).as("seed %d: %s", seed, r).isEqualTo(Verdict.OK);
    }
  }

  @Test
  void readOfNeverWrittenValueIsCaught() {
    int mutated = 0;
    for (int seed = 0; seed < 300; seed++) {
      Random rnd = new Random(seed);
      int clients = 1 + rnd.nextInt(8);
      List<Operation> ops =
          new ArrayList<>(
              TestHistories.linearizable(rnd, 120, 1 + rnd.nextInt(4), clients, 0.1, 0.05));
      List<Integer> reads = new ArrayList<>();
      for (int i = 0; i < ops.size(); i++) {
        if (ops.get(i).kind() == OpKind.GET && ops.get(i).status() == OpStatus.OK) {
          reads.add(i);
        }
      }
      if (reads.isEmpty()) {
        continue;
      }
      int victim = reads.get(rnd.nextInt(reads.size()));
      ops.set(victim, ops.get(victim).withOutput("never-written-" + seed));
      Result r = LinearizabilityChecker.check(ops, 1_000_000);
      assertThat(r.verdict()).as("seed %d: %s", seed, r).isEqualTo(Verdict.VIOLATION);
      assertThat(r.key()).isEqualTo(ops.get(victim).key());
      assertThat(r.explanation()).contains("never-written-" + seed);
      mutated++;
    }
    assertThat(mutated).isGreaterThan(250);
  }

  /**
   * Compares the checker with a brute-force search straight from the definition on small random
   * histories (half derived from linearizable ones and perturbed, half fully random), including
   * unknown and failed ops and coinciding timestamps.
   */
  @Test
  void agreesWithBruteForceOnSmallHistories() {
    int linearizable = 0;
    int violations = 0;
    for (int seed = 0; seed < 10_000; seed++) {
      Random rnd = new Random(seed);
      List<Operation> ops = seed % 2 == 0 ? perturbed(rnd) : fullyRandom(rnd);
      boolean expected = BruteForce.linearizable(ops);
      Result r = LinearizabilityChecker.check(ops, 1_000_000);
      assertThat(r.verdict())
          .as("seed %d, brute force says %s, history:%n%s", seed, expected, dump(ops))
          .isEqualTo(expected ? Verdict.OK : Verdict.VIOLATION);
      if (expected) {
        linearizable++;
      } else {
        violations++;
      }
    }
    // Both outcomes must be well represented for the comparison to mean anything.
    assertThat(linearizable).isGreaterThan(2_000);
    assertThat(violations).isGreaterThan(2_000);
  }

  private static List<Operation> perturbed(Random rnd) {
    List<Operation> ops =
        new ArrayList<>(
            TestHistories.linearizable(rnd, 4 + rnd.nextInt(5), 1 + rnd.nextInt(2), 3, 0.25, 0.1));
    int changes = rnd.nextInt(3);
    for (int c = 0; c < changes; c++) {
      int i = rnd.nextInt(ops.size());
      Operation op = ops.get(i);
      if (op.status() != OpStatus.OK) {
        continue;
      }
      if (rnd.nextBoolean()) {
        switch (op.kind()) {
          case GET -> ops.set(i, op.withOutput(pickWritten(rnd, ops)));
          case CAS -> ops.set(i, op.withOutput(!(Boolean) op.output()));
          default -> {}
        }
      } else {
        long inv = Math.max(0, op.invokeTime() + rnd.nextInt(41) - 20);
        long end = Math.max(inv, op.completeTime() + rnd.nextInt(41) - 20);
        ops.set(
            i,
            new Operation(
                op.id(),
                op.client(),
                op.kind(),
                op.key(),
                op.value(),
                op.expected(),
                op.output(),
                op.status(),
                inv,
                end));
      }
    }
    return ops;
  }

  private static String pickWritten(Random rnd, List<Operation> ops) {
    List<String> values = new ArrayList<>();
    values.add(null);
    for (Operation op : ops) {
      if (op.kind() == OpKind.PUT || op.kind() == OpKind.CAS) {
        values.add(op.value());
      }
    }
    return values.get(rnd.nextInt(values.size()));
  }

  private static List<Operation> fullyRandom(Random rnd) {
    int n = 3 + rnd.nextInt(5);
    String[] domain = {null, "a", "b", "ab", "ba"};
    List<Operation> ops = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      OpKind kind = OpKind.values()[rnd.nextInt(4)];
      String key = rnd.nextInt(4) == 0 ? "j" : "k";
      String value =
          switch (kind) {
            case PUT, CAS -> domain[1 + rnd.nextInt(2)];
            case APPEND -> rnd.nextBoolean() ? "a" : "b";
            case GET -> null;
          };
      String expected = kind == OpKind.CAS ? domain[rnd.nextInt(domain.length)] : null;
      int s = rnd.nextInt(10);
      OpStatus status = s < 7 ? OpStatus.OK : s < 9 ? OpStatus.UNKNOWN : OpStatus.FAIL;
      Object output =
          switch (kind) {
            case GET -> domain[rnd.nextInt(domain.length)];
            case CAS -> rnd.nextBoolean();
            default -> null;
          };
      long inv = rnd.nextInt(10);
      long end = status == OpStatus.UNKNOWN ? Operation.NEVER : inv + rnd.nextInt(5);
      ops.add(
          new Operation(
              i,
              i,
              kind,
              key,
              value,
              expected,
              status == OpStatus.OK ? output : null,
              status,
              inv,
              end));
    }
    return ops;
  }

  private static String dump(List<Operation> ops) {
    StringBuilder sb = new StringBuilder();
    for (Operation op : ops) {
      sb.append(op.describe()).append('\n');
    }
    return sb.toString();
  }

  /**
   * Exhaustive search over all orders of the whole multi-key history, written directly from the
   * definition: every OK operation is placed exactly once, UNKNOWN writes are placed at most once,
   * an operation can only be placed if no unplaced OK operation completed strictly before it was
   * invoked, and each placed operation must be legal for a map.
   */
  static final class BruteForce {
    static boolean linearizable(List<Operation> all) {
      List<Operation> ops = new ArrayList<>();
      for (Operation op : all) {
        boolean indefinite = op.status() == OpStatus.UNKNOWN || op.status() == OpStatus.PENDING;
        if (op.status() == OpStatus.OK || (indefinite && op.kind() != OpKind.GET)) {
          ops.add(op);
        }
      }
      return search(ops, new boolean[ops.size()], new HashMap<>());
    }

    private static boolean search(List<Operation> ops, boolean[] placed, Map<String, String> map) {
      boolean allOkPlaced = true;
      for (int i = 0; i < ops.size(); i++) {
        if (!placed[i] && ops.get(i).status() == OpStatus.OK) {
          allOkPlaced = false;
        }
      }
      if (allOkPlaced) {
        return true;
      }
      for (int i = 0; i < ops.size(); i++) {
        if (placed[i] || !minimal(ops, placed, i)) {
          continue;
        }
        Operation op = ops.get(i);
        boolean known = op.status() == OpStatus.OK;
        String cur = map.get(op.key());
        String next = cur;
        boolean legal = true;
        switch (op.kind()) {
          case PUT -> next = op.value();
          case APPEND -> next = (cur == null ? "" : cur) + op.value();
          case GET -> legal = Objects.equals(cur, op.output());
          case CAS -> {
            boolean match = Objects.equals(cur, op.expected());
            legal = !known || match == (Boolean) op.output();
            next = match ? op.value() : cur;
          }
        }
        if (!legal) {
          continue;
        }
        placed[i] = true;
        Map<String, String> copy = new HashMap<>(map);
        copy.put(op.key(), next);
        if (next == null) {
          copy.remove(op.key());
        }
        boolean found = search(ops, placed, copy);
        placed[i] = false;
        if (found) {
          return true;
        }
      }
      return false;
    }

    private static boolean minimal(List<Operation> ops, boolean[] placed, int i) {
      for (int j = 0; j < ops.size(); j++) {
        Operation other = ops.get(j);
        if (j != i
            && !placed[j]
            && other.status() == OpStatus.OK
            && other.completeTime() < ops.get(i).invokeTime()) {
          return false;
        }
      }
      return true;
    }
  }
}
