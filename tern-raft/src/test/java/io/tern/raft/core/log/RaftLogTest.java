package io.tern.raft.core.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RaftLogTest {

  private static Entry e(long index, long term) {
    return new Entry(
        term,
        index,
        EntryType.NORMAL,
        0,
        ("e" + index + "t" + term).getBytes(StandardCharsets.UTF_8));
  }

  /** Entries 1..n of the given terms. */
  private static List<Entry> terms(long... terms) {
    List<Entry> out = new ArrayList<>();
    for (int i = 0; i < terms.length; i++) {
      out.add(e(i + 1, terms[i]));
    }
    return out;
  }

  private static RaftLog log(long committed, long... terms) {
    return new RaftLog(0, 0, terms(terms), committed, 0);
  }

  private static List<Entry> all(RaftLog log) {
    List<Entry> out = new ArrayList<>();
    for (long i = log.firstIndex(); i <= log.lastIndex(); i++) {
      out.add(log.entry(i));
    }
    return out;
  }

  // ---------------------------------------------------------------- construction and lookup

  @Test
  void restoredLogIsDurableThroughItsEnd() {
    RaftLog log = log(2, 1, 1, 2);
    assertThat(log.firstIndex()).isEqualTo(1);
    assertThat(log.lastIndex()).isEqualTo(3);
    assertThat(log.lastTerm()).isEqualTo(2);
    assertThat(log.committed()).isEqualTo(2);
    assertThat(log.stable()).isEqualTo(3);
    assertThat(log.persisting()).isEqualTo(3);
    assertThat(log.applied()).isZero();
    assertThat(log.unpersisted()).isEmpty();
  }

  @Test
  void restoreRejectsGapsAndACommitBeyondTheLog() {
    assertThatThrownBy(() -> new RaftLog(0, 0, List.of(e(1, 1), e(3, 1)), 0, 0))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> new RaftLog(0, 0, terms(1, 1), 3, 0))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> new RaftLog(0, 0, terms(1, 1), 1, 2))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void termLookupOutsideTheLogIsMinusOne() {
    RaftLog log = new RaftLog(5, 3, List.of(e(6, 3), e(7, 4)), 6, 5);
    assertThat(log.term(5)).isEqualTo(3);
    assertThat(log.term(7)).isEqualTo(4);
    assertThat(log.term(4)).isEqualTo(-1);
    assertThat(log.term(8)).isEqualTo(-1);
    assertThat(log.matchTerm(8, -1)).isFalse();
    assertThat(log.firstIndex()).isEqualTo(6);
    assertThatThrownBy(() -> log.entry(5)).isInstanceOf(IllegalStateException.class);
  }

  /** Raft paper 5.4.1: later last term wins; with equal last terms, the longer log. */
  @ParameterizedTest(name = "{0}@{1} up to date with 3@2: {2}")
  @CsvSource({"3, 2, true", "4, 2, true", "2, 2, false", "1, 3, true", "9, 1, false"})
  void upToDateComparesLastTermThenLength(long lastIndex, long lastTerm, boolean upToDate) {
    assertThat(log(0, 1, 1, 2).isUpToDate(lastIndex, lastTerm)).isEqualTo(upToDate);
  }

  // ---------------------------------------------------------------- maybeAppend

  @Test
  void maybeAppendRefusesAMismatchedPrevious() {
    RaftLog log = log(0, 1, 2);
    assertThat(log.maybeAppend(2, 1, 5, List.of(e(3, 3)))).isEqualTo(-1);
    assertThat(log.maybeAppend(3, 2, 5, List.of(e(4, 3)))).isEqualTo(-1);
    assertThat(log.lastIndex()).isEqualTo(2);
    assertThat(log.committed()).isZero();
  }

  @Test
  void maybeAppendAddsNewEntriesAndCommitsUpToTheLastNewOne() {
    RaftLog log = log(0, 1, 2);
    assertThat(log.maybeAppend(2, 2, 9, List.of(e(3, 2), e(4, 3)))).isEqualTo(4);
    assertThat(all(log)).containsExactly(e(1, 1), e(2, 2), e(3, 2), e(4, 3));
    assertThat(log.committed()).isEqualTo(4);
    assertThat(log.unpersisted()).containsExactly(e(3, 2), e(4, 3));
  }

  @Test
  void maybeAppendNeverCommitsBeyondWhatTheLeaderSent() {
    // Entry 3 may be stale: an append ending at 2 commits at most 2, whatever leaderCommit says.
    RaftLog log = log(0, 1, 1, 1);
    assertThat(log.maybeAppend(1, 1, 3, List.of(e(2, 1)))).isEqualTo(2);
    assertThat(log.committed()).isEqualTo(2);
    assertThat(log.lastIndex()).isEqualTo(3);
    // And a lower leaderCommit never moves the commit index back.
    assertThat(log.maybeAppend(1, 1, 1, List.of())).isEqualTo(1);
    assertThat(log.committed()).isEqualTo(2);
  }

  @Test
  void maybeAppendKeepsEntriesItAlreadyHas() {
    RaftLog log = log(0, 1, 1, 1, 1);
    assertThat(log.maybeAppend(0, 0, 0, List.of(e(1, 1), e(2, 1)))).isEqualTo(2);
    assertThat(all(log)).isEqualTo(terms(1, 1, 1, 1));
    assertThat(log.unpersisted()).isEmpty();
  }

  @Test
  void maybeAppendTruncatesFromTheFirstConflict() {
    RaftLog log = log(1, 1, 1, 2, 2, 2);
    assertThat(log.maybeAppend(1, 1, 0, List.of(e(2, 1), e(3, 3), e(4, 3)))).isEqualTo(4);
    assertThat(all(log)).containsExactly(e(1, 1), e(2, 1), e(3, 3), e(4, 3));
    assertThat(log.stable()).isEqualTo(2);
    assertThat(log.persisting()).isEqualTo(2);
    assertThat(log.unpersisted()).containsExactly(e(3, 3), e(4, 3));
  }

  /** Raft paper 5.3 and 5.4: a committed entry is never replaced; trying is a broken invariant. */
  @Test
  void truncatingACommittedEntryThrows() {
    RaftLog log = log(2, 1, 1, 1);
    assertThatThrownBy(() -> log.maybeAppend(1, 1, 0, List.of(e(2, 2))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("committed");
    assertThat(all(log)).isEqualTo(terms(1, 1, 1));
    // The entry after the commit index may go.
    assertThat(log.maybeAppend(2, 1, 0, List.of(e(3, 2)))).isEqualTo(3);
  }

  @Test
  void commitNeverGoesBeyondTheLogNorBackwards() {
    RaftLog log = log(1, 1, 1);
    assertThatThrownBy(() -> log.commitTo(3)).isInstanceOf(IllegalStateException.class);
    log.commitTo(2);
    log.commitTo(1);
    assertThat(log.committed()).isEqualTo(2);
  }

  @Test
  void appendPlacedMustContinueTheLog() {
    RaftLog log = log(0, 1);
    assertThat(log.appendPlaced(List.of(e(2, 1), e(3, 1)))).isEqualTo(3);
    assertThatThrownBy(() -> log.appendPlaced(List.of(e(5, 1))))
        .isInstanceOf(IllegalStateException.class);
  }

  // ---------------------------------------------------------------- findConflictByTerm

  @ParameterizedTest(name = "({0}, {1}) -> {2}")
  @CsvSource({
    // log terms: 1 1 2 2 4 4 5
    "7, 5, 7",
    "7, 6, 7",
    "7, 4, 6",
    "7, 3, 4",
    "6, 2, 4",
    "4, 1, 2",
    "7, 0, 0",
    "12, 3, 4",
    "0, 5, 0"
  })
  void findConflictByTermReturnsLastIndexWithTermAtMost(long index, long term, long expected) {
    assertThat(log(0, 1, 1, 2, 2, 4, 4, 5).findConflictByTerm(index, term)).isEqualTo(expected);
  }

  @Test
  void findConflictByTermStopsAtTheCompactionPoint() {
    RaftLog log = new RaftLog(5, 3, List.of(e(6, 4), e(7, 5)), 5, 5);
    assertThat(log.findConflictByTerm(7, 2)).isEqualTo(5);
    assertThat(log.findConflictByTerm(7, 4)).isEqualTo(6);
  }

  // ---------------------------------------------------------------- persistence marks

  @Test
  void entriesAreHandedOutOnceThenBecomeStable() {
    RaftLog log = log(0, 1);
    log.appendPlaced(List.of(e(2, 1), e(3, 1)));
    assertThat(log.unpersisted()).containsExactly(e(2, 1), e(3, 1));
    log.persistingTo(3);
    assertThat(log.unpersisted()).isEmpty();
    assertThat(log.stable()).isEqualTo(1);

    assertThat(log.stableTo(2, 1)).isTrue();
    assertThat(log.stable()).isEqualTo(2);
    assertThat(log.stableTo(2, 1)).isFalse();
    assertThat(log.stableTo(3, 2)).isFalse();
    assertThat(log.stableTo(3, 1)).isTrue();
    assertThat(log.stable()).isEqualTo(3);
    assertThatThrownBy(() -> log.persistingTo(4)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void entriesNotHandedOutCannotBeReportedStable() {
    RaftLog log = log(0, 1);
    log.appendPlaced(List.of(e(2, 1)));
    assertThat(log.stableTo(2, 1)).isFalse();
    assertThat(log.stable()).isEqualTo(1);
  }

  /**
   * A write in flight whose entries get replaced: its durability report must not mark the new
   * entries stable; only the report of the write that carried them may.
   */
  @Test
  void truncationPullsMarksBackAndOldReportsAreIgnored() {
    RaftLog log = log(1, 1, 1);
    log.appendPlaced(List.of(e(3, 1), e(4, 1)));
    log.persistingTo(4);

    assertThat(log.maybeAppend(2, 1, 0, List.of(e(3, 2)))).isEqualTo(3);
    assertThat(log.persisting()).isEqualTo(2);
    assertThat(log.stable()).isEqualTo(2);
    assertThat(log.unpersisted()).containsExactly(e(3, 2));

    // The old write completes: entry 4 is gone and entry 3 has another term now.
    assertThat(log.stableTo(4, 1)).isFalse();
    assertThat(log.stableTo(3, 1)).isFalse();
    assertThat(log.stable()).isEqualTo(2);

    log.persistingTo(3);
    assertThat(log.stableTo(3, 2)).isTrue();
    assertThat(log.stable()).isEqualTo(3);
  }

  @Test
  void truncationBelowTheStableMarkPullsItBack() {
    RaftLog log = log(0, 1, 1, 1, 1);
    assertThat(log.stable()).isEqualTo(4);
    log.maybeAppend(1, 1, 0, List.of(e(2, 3)));
    assertThat(log.stable()).isEqualTo(1);
    assertThat(log.persisting()).isEqualTo(1);
    assertThat(log.lastIndex()).isEqualTo(2);
  }

  // ---------------------------------------------------------------- applying

  @Test
  void onlyCommittedAndDurableEntriesAreHandedToTheStateMachine() {
    RaftLog log = log(0, 1);
    log.appendPlaced(List.of(e(2, 1), e(3, 1)));
    log.persistingTo(3);
    log.commitTo(3);
    assertThat(log.nextCommitted(Long.MAX_VALUE)).containsExactly(e(1, 1));

    log.stableTo(3, 1);
    assertThat(log.hasNextCommitted()).isTrue();
    assertThat(log.nextCommitted(Long.MAX_VALUE)).containsExactly(e(1, 1), e(2, 1), e(3, 1));
    log.applyingTo(2);
    assertThat(log.nextCommitted(Long.MAX_VALUE)).containsExactly(e(3, 1));
    assertThatThrownBy(() -> log.applyingTo(4)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> log.applyingTo(1)).isInstanceOf(IllegalStateException.class);

    log.appliedTo(2);
    assertThat(log.applied()).isEqualTo(2);
    assertThatThrownBy(() -> log.appliedTo(3)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> log.appliedTo(1)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void nextCommittedIsBoundedByBytesButReturnsAtLeastOneEntry() {
    RaftLog log = log(5, 1, 1, 1, 1, 1);
    long one = e(1, 1).sizeBytes();
    assertThat(log.nextCommitted(2 * one)).hasSize(2);
    assertThat(log.nextCommitted(1)).hasSize(1);
  }

  // ---------------------------------------------------------------- slice

  @Test
  void sliceHonoursCountAndBytesAndIsACopy() {
    RaftLog log = log(0, 1, 1, 1, 1, 1);
    long one = e(1, 1).sizeBytes();
    assertThat(log.slice(2, 10, Long.MAX_VALUE))
        .extracting(Entry::index)
        .containsExactly(2L, 3L, 4L, 5L);
    assertThat(log.slice(2, 2, Long.MAX_VALUE)).extracting(Entry::index).containsExactly(2L, 3L);
    assertThat(log.slice(1, 10, 3 * one)).hasSize(3);
    assertThat(log.slice(1, 10, 3 * one - 1)).hasSize(2);
    assertThat(log.slice(1, 10, 1)).hasSize(1);
    assertThat(log.slice(6, 10, 100)).isEmpty();

    List<Entry> s = log.slice(4, 10, Long.MAX_VALUE);
    log.maybeAppend(3, 1, 0, List.of(e(4, 2)));
    assertThat(s).containsExactly(e(4, 1), e(5, 1));

    RaftLog compacted = new RaftLog(5, 3, List.of(e(6, 3)), 5, 5);
    assertThatThrownBy(() -> compacted.slice(5, 1, 100)).isInstanceOf(IllegalStateException.class);
  }
}
