package io.tern.sim.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.tern.sim.check.LinearizabilityChecker.Result;
import io.tern.sim.check.LinearizabilityChecker.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Sanity checks that simulator-sized histories get a verdict well within the default budget. */
class LinearizabilityPerformanceTest {

  @Test
  void twoThousandOpsOverTwentyKeysWithEightClients() {
    for (int seed = 0; seed < 5; seed++) {
      List<Operation> ops = TestHistories.linearizable(new Random(seed), 2_000, 20, 8, 0.05, 0.02);
      Result r = check(ops);
      assertThat(r.verdict()).as("seed %d: %s", seed, r).isEqualTo(Verdict.OK);
    }
  }

  @Test
  void manyUnknownOpsOnFewKeys() {
    // Long partitions: many timed-out writes, each of which may or may not have taken effect.
    for (int seed = 0; seed < 5; seed++) {
      List<Operation> ops = TestHistories.linearizable(new Random(seed), 3_000, 10, 10, 0.2, 0.05);
      Result r = check(ops);
      assertThat(r.verdict()).as("seed %d: %s", seed, r).isEqualTo(Verdict.OK);
    }
  }

  @Test
  void violationInALargeHistoryIsFound() {
    for (int seed = 0; seed < 5; seed++) {
      List<Operation> ops =
          new ArrayList<>(TestHistories.linearizable(new Random(seed), 2_000, 20, 8, 0.1, 0.02));
      // The last OK read returns a value nobody wrote: the whole history before it has to be
      // explored before the checker can give up.
      int victim = -1;
      for (int i = ops.size() - 1; i >= 0 && victim < 0; i--) {
        Operation op = ops.get(i);
        if (op.kind() == OpKind.GET && op.status() == OpStatus.OK) {
          victim = i;
        }
      }
      Operation read = ops.get(victim);
      ops.set(victim, read.withOutput("never-written-" + seed));
      Result r = check(ops);
      assertThat(r.verdict()).as("seed %d: %s", seed, r).isEqualTo(Verdict.VIOLATION);
      assertThat(r.key()).isEqualTo(read.key());
    }
  }

  private static Result check(List<Operation> ops) {
    long start = System.nanoTime();
    Result r = LinearizabilityChecker.check(ops, LinearizabilityChecker.DEFAULT_MAX_STEPS_PER_KEY);
    long ms = (System.nanoTime() - start) / 1_000_000;
    System.out.printf("checked %d ops in %d ms: %s%n", ops.size(), ms, r.verdict());
    return r;
  }
}
