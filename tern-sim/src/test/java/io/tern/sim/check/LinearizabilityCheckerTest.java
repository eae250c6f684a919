package io.tern.sim.check;

import static io.tern.sim.check.TestHistories.history;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.sim.check.LinearizabilityChecker.Result;
import io.tern.sim.check.LinearizabilityChecker.Verdict;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class LinearizabilityCheckerTest {

  private static void assertLinearizable(Result r) {
    assertThat(r.verdict()).as("%s", r).isEqualTo(Verdict.OK);
    assertThat(r.ok()).isTrue();
  }

  private static void assertViolation(Result r, String key) {
    assertThat(r.verdict()).as("%s", r).isEqualTo(Verdict.VIOLATION);
    assertThat(r.ok()).isFalse();
    assertThat(r.key()).isEqualTo(key);
  }

  @Nested
  class Linearizable {
    @Test
    void emptyHistory() {
      assertLinearizable(history().check());
    }

    @Test
    void sequentialOperationsOfEveryKind() {
      assertLinearizable(
          history()
              .get(0, "k", null, 0, 1)
              .put(0, "k", "a", 2, 3)
              .get(1, "k", "a", 4, 5)
              .append(0, "k", "b", 6, 7)
              .get(1, "k", "ab", 8, 9)
              .cas(2, "k", "ab", "c", true, 10, 11)
              .cas(2, "k", "ab", "d", false, 12, 13)
              .get(0, "k", "c", 14, 15)
              .check());
    }

    @Test
    void concurrentGetMaySeeTheOldValue() {
      assertLinearizable(
          history()
              .put(0, "k", "a", 0, 10)
              .put(0, "k", "b", 20, 40)
              .get(1, "k", "a", 25, 30)
              .check());
    }

    @Test
    void concurrentGetMaySeeTheNewValue() {
      assertLinearizable(
          history()
              .put(0, "k", "a", 0, 10)
              .put(0, "k", "b", 20, 40)
              .get(1, "k", "b", 25, 30)
              .check());
    }

    @Test
    void getOverlappingFirstPutMaySeeAbsent() {
      assertLinearizable(history().put(0, "k", "a", 0, 10).get(1, "k", null, 5, 15).check());
    }

    @Test
    void concurrentPutsThenReadsAgreeOnEitherOrder() {
      assertLinearizable(
          history()
              .put(0, "k", "a", 0, 10)
              .put(1, "k", "b", 0, 10)
              .get(2, "k", "a", 20, 30)
              .get(2, "k", "a", 40, 50)
              .check());
      assertLinearizable(
          history()
              .put(0, "k", "a", 0, 10)
              .put(1, "k", "b", 0, 10)
              .get(2, "k", "b", 20, 30)
              .check());
    }

    @Test
    void readsOrderedOnlyByTheirIntervals() {
      // A read may see the new value while an overlapping later-invoked read still sees the old
      // one.
      assertLinearizable(
          history()
              .put(0, "k", "a", 0, 5)
              .put(1, "k", "b", 10, 100)
              .get(2, "k", "b", 20, 30)
              .get(3, "k", "a", 15, 40)
              .check());
    }

    @Test
    void casChainOfSuccessesAndFailures() {
      assertLinearizable(
          history()
              .cas(0, "k", null, "1", true, 0, 1) // create if absent
              .cas(1, "k", null, "x", false, 2, 3)
              .cas(0, "k", "1", "2", true, 4, 5)
              .cas(1, "k", "1", "3", false, 6, 7)
              .cas(2, "k", "2", "3", true, 8, 9)
              .get(0, "k", "3", 10, 11)
              .check());
    }

    @Test
    void concurrentCasOneWinsOneLoses() {
      assertLinearizable(
          history()
              .put(0, "k", "0", 0, 1)
              .cas(1, "k", "0", "a", false, 10, 20)
              .cas(2, "k", "0", "b", true, 10, 20)
              .get(0, "k", "b", 30, 31)
              .check());
    }

    @Test
    void concurrentAppendsInEitherOrder() {
      assertLinearizable(
          history()
              .append(0, "k", "x", 0, 10)
              .append(1, "k", "y", 0, 10)
              .get(2, "k", "yx", 20, 30)
              .append(0, "k", "z", 40, 50)
              .get(1, "k", "yxz", 60, 70)
              .check());
    }

    @Test
    void getSeesValueOfUnknownPut() {
      assertLinearizable(
          history()
              .put(0, "k", "a", 0, 10)
              .putUnknown(1, "k", "b", 20)
              .get(2, "k", "a", 30, 40)
              .get(2, "k", "b", 500, 510) // took effect long after its invocation
              .get(0, "k", "b", 600, 610)
              .check());
    }

    @Test
    void unknownOpsThatNeverTookEffect() {
      assertLinearizable(
          history()
              .put(0, "k", "a", 0, 10)
              .putUnknown(1, "k", "b", 20)
              .appendUnknown(2, "k", "c", 20)
              .casUnknown(3, "k", "a", "d", 20)
              .get(0, "k", "a", 30, 40)
              .get(0, "k", "a", 100, 110)
              .check());
    }

    @Test
    void unknownAppendAndCasTakingEffect() {
      assertLinearizable(
          history()
              .put(0, "k", "a", 0, 10)
              .appendUnknown(1, "k", "b", 20)
              .casUnknown(2, "k", "ab", "z", 25)
              .get(0, "k", "ab", 30, 40)
              .get(0, "k", "z", 50, 60)
              .check());
    }

    @Test
    void unknownWriteObservedOnlyAfterLaterAppends() {
      assertLinearizable(
          history()
              .put(0, "k", "a", 0, 10)
              .appendUnknown(1, "k", "x", 20)
              .append(2, "k", "y", 30, 40)
              .append(2, "k", "z", 45, 48)
              .get(0, "k", "axyz", 50, 60)
              .check());
    }

    @Test
    void chainOfUnknownWritesObservedTogether() {
      // The unknown CAS only succeeds after the unknown PUT; only the OK CAS observes both.
      assertLinearizable(
          history()
              .put(0, "k", "a", 0, 10)
              .putUnknown(1, "k", "b", 20)
              .casUnknown(2, "k", "b", "c", 25)
              .cas(0, "k", "c", "d", true, 40, 50)
              .check());
    }

    @Test
    void failedCasExplainedOnlyByUnknownWrite() {
      assertLinearizable(
          history()
              .put(0, "k", "a", 0, 10)
              .appendUnknown(1, "k", "x", 20)
              .cas(0, "k", "a", "z", false, 30, 40)
              .get(0, "k", "ax", 50, 60)
              .check());
    }

    @Test
    void manyUnknownWritesThatNobodyObserved() {
      TestHistories.Builder b = history();
      for (int i = 0; i < 60; i++) {
        long t = i * 100L;
        b.put(0, "k", "v" + i, t, t + 10);
        b.putUnknown(1, "k", "lost" + i, t + 20);
        b.appendUnknown(2, "k", "+" + i, t + 25);
        b.casUnknown(3, "k", "v" + i, "cas" + i, t + 27);
        b.get(0, "k", "v" + i, t + 30, t + 40);
      }
      assertLinearizable(b.check());
    }

    @Test
    void pendingOpsAreTreatedAsUnknown() {
      assertLinearizable(
          history()
              .put(0, "k", "a", 0, 10)
              .putPending(1, "k", "b", 20)
              .get(0, "k", "b", 30, 40)
              .check());
      assertLinearizable(
          history()
              .put(0, "k", "a", 0, 10)
              .putPending(1, "k", "b", 20)
              .get(0, "k", "a", 30, 40)
              .check());
    }

    @Test
    void unknownAndFailedReadsAreIgnored() {
      History h = new History();
      h.ok(h.invoke(0, OpKind.PUT, "k", "a", null, 0), null, 1);
      h.unknown(h.invoke(1, OpKind.GET, "k", null, null, 2));
      h.fail(h.invoke(2, OpKind.GET, "k", null, null, 2), 3);
      List<Operation> ops = new java.util.ArrayList<>(h.operations());
      // Give the ignored reads absurd outputs: they must not matter.
      ops.set(1, ops.get(1).withOutput("never"));
      ops.set(2, ops.get(2).withOutput("written"));
      assertLinearizable(LinearizabilityChecker.check(ops, 1000));
    }

    @Test
    void failedWriteIsIgnored() {
      assertLinearizable(
          history()
              .put(0, "k", "a", 0, 10)
              .putFail(1, "k", "b", 20, 30)
              .get(0, "k", "a", 40, 50)
              .check());
    }

    @Test
    void operationsTouchingAtOneInstantCountAsConcurrent() {
      // Completion and invocation at the same simulated instant: the order is ambiguous, so the
      // checker lets the read be linearized before the write.
      assertLinearizable(history().put(0, "k", "a", 0, 10).get(1, "k", null, 10, 20).check());
    }

    @Test
    void manyKeysAreCheckedIndependently() {
      TestHistories.Builder b = history();
      for (int k = 0; k < 50; k++) {
        String key = "key" + k;
        b.put(k % 7, key, "v" + k, k, k + 100).get((k + 1) % 7, key, "v" + k, k + 200, k + 300);
        b.append(k % 7, key, "+", k + 400, k + 500)
            .get(k % 7, key, "v" + k + "+", k + 600, k + 700);
      }
      Result r = b.check();
      assertLinearizable(r);
      assertThat(r.key()).isNull();
    }
  }

  @Nested
  class NotLinearizable {
    @Test
    void staleReadAfterCompletedWrite() {
      Result r =
          history()
              .put(0, "k", "a", 0, 10)
              .put(0, "k", "b", 20, 30)
              .get(1, "k", "a", 40, 50)
              .check();
      assertViolation(r, "k");
    }

    @Test
    void readOfAbsentAfterCompletedWrite() {
      assertViolation(history().put(0, "k", "a", 0, 10).get(1, "k", null, 11, 20).check(), "k");
    }

    @Test
    void readOfValueNeverWritten() {
      assertViolation(history().put(0, "k", "a", 0, 10).get(1, "k", "zzz", 5, 20).check(), "k");
    }

    @Test
    void twoCasSucceedFromTheSameExpectedValue() {
      assertViolation(
          history()
              .put(0, "k", "0", 0, 1)
              .cas(1, "k", "0", "a", true, 10, 20)
              .cas(2, "k", "0", "b", true, 10, 20)
              .check(),
          "k");
    }

    @Test
    void casFailsAlthoughTheValueMatched() {
      assertViolation(
          history().put(0, "k", "0", 0, 1).cas(1, "k", "0", "a", false, 10, 20).check(), "k");
    }

    @Test
    void lostAppend() {
      assertViolation(
          history()
              .append(0, "k", "x", 0, 10)
              .append(1, "k", "y", 0, 10)
              .get(2, "k", "x", 20, 30)
              .check(),
          "k");
    }

    @Test
    void readsDisagreeOnOrderOfConcurrentPuts() {
      assertViolation(
          history()
              .put(0, "k", "a", 0, 10)
              .put(1, "k", "b", 0, 10)
              .get(2, "k", "a", 20, 30)
              .get(2, "k", "b", 40, 50)
              .check(),
          "k");
    }

    @Test
    void unknownPutObservedThenOlderValueReadLater() {
      assertViolation(
          history()
              .put(0, "k", "a", 0, 10)
              .putUnknown(1, "k", "b", 20)
              .get(2, "k", "b", 30, 40)
              .get(3, "k", "a", 50, 60)
              .check(),
          "k");
    }

    @Test
    void failedCasWithoutAnythingToExplainIt() {
      assertViolation(
          history()
              .put(0, "k", "a", 0, 10)
              .cas(0, "k", "a", "z", false, 30, 40)
              .get(0, "k", "a", 50, 60)
              .check(),
          "k");
    }

    @Test
    void unknownWriteTakesEffectAtMostOnce() {
      assertViolation(
          history()
              .put(0, "k", "a", 0, 10)
              .appendUnknown(1, "k", "x", 20)
              .get(0, "k", "axx", 30, 40)
              .check(),
          "k");
    }

    @Test
    void unknownCasOnlySucceedsOnItsExpectedValue() {
      assertViolation(
          history()
              .put(0, "k", "a", 0, 10)
              .casUnknown(1, "k", "b", "c", 20)
              .get(0, "k", "c", 30, 40)
              .check(),
          "k");
    }

    @Test
    void readOfFailedPut() {
      assertViolation(
          history()
              .put(0, "k", "a", 0, 10)
              .putFail(1, "k", "b", 20, 30)
              .get(2, "k", "b", 25, 40)
              .check(),
          "k");
    }

    @Test
    void unknownWriteCannotTakeEffectBeforeItsInvocation() {
      assertViolation(
          history()
              .put(0, "k", "a", 0, 10)
              .get(1, "k", "b", 20, 30)
              .putUnknown(2, "k", "b", 31)
              .check(),
          "k");
    }

    @Test
    void violationOnOneKeyAmongManyReportsThatKey() {
      TestHistories.Builder b = history();
      for (int k = 0; k < 20; k++) {
        b.put(0, "key" + k, "v", k * 10, k * 10 + 5).get(1, "key" + k, "v", k * 10 + 6, k * 10 + 9);
      }
      b.put(0, "key13", "w", 1000, 1010).get(1, "key13", "v", 1020, 1030);
      Result r = b.check();
      assertViolation(r, "key13");
      assertThat(r.explanation())
          .contains("\"key13\"")
          .contains("longest linearizable prefix (3 of 4 completed ops)")
          .contains("GET key13 -> \"v\" [1020, 1030]")
          .doesNotContain("key12");
    }

    @Test
    void explanationShowsOpsAndPrefix() {
      Result r =
          history()
              .put(0, "k", "a", 0, 10)
              .put(0, "k", "b", 20, 30)
              .putUnknown(2, "k", "c", 32)
              .get(1, "k", "a", 40, 50)
              .check();
      assertViolation(r, "k");
      String[] lines = r.explanation().split("\n");
      assertThat(r.explanation())
          .contains("#0 c0 PUT k \"a\" -> ok [0, 10]")
          .contains("#2 c2 PUT k \"c\" -> UNKNOWN [32, inf)")
          .contains("longest linearizable prefix (2 of 3 completed ops)")
          .contains("value after the prefix: \"b\"");
      assertThat(lines).anyMatch(l -> l.contains("PUT k \"b\"") && l.contains("=> \"b\""));
    }
  }

  @Nested
  class BudgetAndValidation {
    @Test
    void exhaustedBudgetIsUndecided() {
      TestHistories.Builder b = history();
      for (int i = 0; i < 10; i++) {
        b.put(i, "k", "v" + i, 0, 100);
      }
      b.get(0, "k", "v3", 200, 300);
      Result r = LinearizabilityChecker.check(b.h.operations(), 5);
      assertThat(r.verdict()).isEqualTo(Verdict.UNDECIDED);
      assertThat(r.ok()).isFalse();
      assertThat(r.key()).isEqualTo("k");
      assertThat(r.explanation()).contains("step budget of 5 exhausted");
      assertThat(LinearizabilityChecker.check(b.h.operations(), 1_000_000).ok()).isTrue();
    }

    @Test
    void violationWinsOverUndecided() {
      TestHistories.Builder b = history();
      for (int i = 0; i < 10; i++) {
        b.put(i, "a", "v" + i, 0, 100);
      }
      b.get(0, "a", "v3", 200, 300);
      b.get(0, "b", "ghost", 0, 1);
      Result r = LinearizabilityChecker.check(b.h.operations(), 5);
      assertViolation(r, "b");
    }

    @Test
    void rejectsMalformedOperations() {
      Operation badCas = new Operation(0, 0, OpKind.CAS, "k", "b", "a", "yes", OpStatus.OK, 0, 1);
      assertThatThrownBy(() -> LinearizabilityChecker.check(List.of(badCas), 100))
          .isInstanceOf(IllegalArgumentException.class);
      Operation backwards =
          new Operation(0, 0, OpKind.GET, "k", null, null, null, OpStatus.OK, 5, 1);
      assertThatThrownBy(() -> LinearizabilityChecker.check(List.of(backwards), 100))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> LinearizabilityChecker.check(List.of(), 0))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
