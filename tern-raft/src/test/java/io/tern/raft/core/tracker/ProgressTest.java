package io.tern.raft.core.tracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProgressTest {

  private static Progress probe(long match, long next) {
    return new Progress(match, next, false, 4, 1000);
  }

  private static Progress replicate(long match) {
    Progress p = probe(match, match + 1);
    p.becomeReplicate();
    return p;
  }

  @Test
  void invariantMatchBelowNext() {
    assertThatThrownBy(() -> probe(5, 5)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> probe(-1, 1)).isInstanceOf(IllegalStateException.class);
    Progress p = probe(0, 1);
    assertThat(p.state()).isEqualTo(Progress.State.PROBE);
  }

  @Test
  void acknowledgementsMoveMatchForwardOnly() {
    Progress p = probe(2, 5);
    assertThat(p.maybeUpdate(3)).isTrue();
    assertThat(p.match()).isEqualTo(3);
    assertThat(p.next()).isEqualTo(5);
    assertThat(p.maybeUpdate(2)).isFalse();
    assertThat(p.match()).isEqualTo(3);
    assertThat(p.maybeUpdate(7)).isTrue();
    assertThat(p.next()).isEqualTo(8);
  }

  @Test
  void probeSendsOneAppendThenWaits() {
    Progress p = probe(0, 4);
    assertThat(p.isPaused()).isFalse();
    p.sentEntries(3, 30, 2);
    assertThat(p.isPaused()).isTrue();
    assertThat(p.next()).isEqualTo(4);
    assertThat(p.sentCommit()).isEqualTo(2);

    p.unpauseProbe();
    assertThat(p.isPaused()).isFalse();
    p.sentEntries(3, 30, 2);
    assertThat(p.maybeUpdate(6)).isTrue();
    assertThat(p.isPaused()).isFalse();
  }

  @Test
  void probeBacksOffToTheHintButNeverBelowMatch() {
    Progress p = probe(2, 10);
    p.sentEntries(1, 10, 0);
    // A rejection for another previous index answers an older probe.
    assertThat(p.maybeDecrTo(5, 3)).isFalse();
    assertThat(p.next()).isEqualTo(10);
    assertThat(p.isPaused()).isTrue();

    assertThat(p.maybeDecrTo(9, 6)).isTrue();
    assertThat(p.next()).isEqualTo(7);
    assertThat(p.isPaused()).isFalse();

    // A hint beyond the rejected index cannot move next forward.
    assertThat(p.maybeDecrTo(6, 20)).isTrue();
    assertThat(p.next()).isEqualTo(6);

    assertThat(p.maybeDecrTo(5, 0)).isTrue();
    assertThat(p.next()).isEqualTo(3);
  }

  @Test
  void replicateStreamsWithinTheWindow() {
    Progress p = replicate(3);
    assertThat(p.next()).isEqualTo(4);
    p.sentEntries(2, 100, 3);
    p.sentEntries(1, 100, 3);
    assertThat(p.next()).isEqualTo(7);
    assertThat(p.inflights().count()).isEqualTo(2);
    // An empty append (commit only) takes no slot.
    p.sentEntries(0, 0, 5);
    assertThat(p.inflights().count()).isEqualTo(2);
    assertThat(p.sentCommit()).isEqualTo(5);

    p.sentEntries(1, 100, 5);
    p.sentEntries(1, 100, 5);
    assertThat(p.isPaused()).isTrue();
    p.maybeUpdate(6);
    p.inflights().freeLe(6);
    assertThat(p.isPaused()).isFalse();
    assertThat(p.inflights().count()).isEqualTo(2);
  }

  @Test
  void rejectionInReplicateRestartsFromMatch() {
    Progress p = replicate(3);
    p.sentEntries(4, 10, 0);
    assertThat(p.maybeDecrTo(3, 0)).isFalse();
    assertThat(p.maybeDecrTo(5, 1)).isTrue();
    assertThat(p.next()).isEqualTo(4);

    p.becomeProbe();
    assertThat(p.state()).isEqualTo(Progress.State.PROBE);
    assertThat(p.next()).isEqualTo(4);
    assertThat(p.inflights().count()).isZero();
    assertThat(p.isPaused()).isFalse();
  }

  @Test
  void snapshotPausesEverythingAndProbesAfterIt() {
    Progress p = replicate(3);
    p.becomeSnapshot(50);
    assertThat(p.isPaused()).isTrue();
    assertThat(p.pendingSnapshot()).isEqualTo(50);
    assertThatThrownBy(() -> p.sentEntries(1, 1, 0)).isInstanceOf(IllegalStateException.class);
    p.becomeProbe();
    assertThat(p.next()).isEqualTo(51);
    assertThat(p.pendingSnapshot()).isZero();
  }

  @Test
  void sentCommitAndAckedRoundOnlyGrow() {
    Progress p = probe(0, 1);
    p.sentCommit(5);
    p.sentCommit(3);
    assertThat(p.sentCommit()).isEqualTo(5);
    p.ackRound(4);
    p.ackRound(2);
    assertThat(p.ackedRound()).isEqualTo(4);
  }
}
