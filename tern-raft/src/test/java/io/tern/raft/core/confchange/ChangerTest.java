package io.tern.raft.core.confchange;

import static io.tern.raft.core.confchange.ConfChange.addLearner;
import static io.tern.raft.core.confchange.ConfChange.addVoter;
import static io.tern.raft.core.confchange.ConfChange.demote;
import static io.tern.raft.core.confchange.ConfChange.promote;
import static io.tern.raft.core.confchange.ConfChange.remove;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.core.quorum.JointConfig;
import io.tern.raft.core.quorum.MajorityConfig;
import io.tern.raft.core.tracker.Membership;
import java.util.List;
import java.util.Set;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** Reference: Raft thesis chapter 4 (4.1 single-server changes, 4.2.1 learners, 4.3 joint). */
class ChangerTest {

  // ---- enterJoint: thesis section 4.3 ----

  @Test
  void enterJointKeepsOldVotersAsOutgoingHalf() {
    Membership joint = Changer.enterJoint(plain(Set.of(1L, 2L, 3L)), List.of(addVoter(4)));

    assertThat(joint).isEqualTo(joint(Set.of(1L, 2L, 3L, 4L), Set.of(1L, 2L, 3L), Set.of()));
    assertThat(joint.voters().isJoint()).isTrue();
  }

  @Test
  void enterJointReplacesSeveralVotersAtOnce() {
    Membership joint =
        Changer.enterJoint(
            plain(Set.of(1L, 2L, 3L)), List.of(remove(2), remove(3), addVoter(4), addVoter(5)));

    assertThat(joint).isEqualTo(joint(Set.of(1L, 4L, 5L), Set.of(1L, 2L, 3L), Set.of()));
  }

  @Test
  void enterJointChangesLearnersAtOnce() {
    Membership current = plain(Set.of(1L, 2L, 3L), Set.of(5L));

    Membership joint = Changer.enterJoint(current, List.of(addLearner(4), remove(5)));

    assertThat(joint).isEqualTo(joint(Set.of(1L, 2L, 3L), Set.of(1L, 2L, 3L), Set.of(4L)));
  }

  @Test
  void promoteMovesLearnerIntoIncomingVoters() {
    Membership joint =
        Changer.enterJoint(plain(Set.of(1L, 2L, 3L), Set.of(4L)), List.of(promote(4)));

    assertThat(joint).isEqualTo(joint(Set.of(1L, 2L, 3L, 4L), Set.of(1L, 2L, 3L), Set.of()));
  }

  @Test
  void demotedVoterKeepsVotingInOutgoingHalfWhileAlreadyALearner() {
    Membership joint = Changer.enterJoint(plain(Set.of(1L, 2L, 3L)), List.of(demote(3)));

    assertThat(joint).isEqualTo(joint(Set.of(1L, 2L), Set.of(1L, 2L, 3L), Set.of(3L)));
    assertThat(joint.isVoter(3)).isTrue();
    assertThat(Changer.demoting(joint)).containsExactly(3L);
    assertThat(Changer.leaveJoint(joint)).isEqualTo(plain(Set.of(1L, 2L), Set.of(3L)));
  }

  @Test
  void removedVoterLeavesWithTheJointConfiguration() {
    Membership joint = Changer.enterJoint(plain(Set.of(1L, 2L, 3L)), List.of(remove(3)));

    assertThat(joint).isEqualTo(joint(Set.of(1L, 2L), Set.of(1L, 2L, 3L), Set.of()));
    assertThat(Changer.demoting(joint)).isEmpty();
    Membership left = Changer.leaveJoint(joint);
    assertThat(left).isEqualTo(plain(Set.of(1L, 2L)));
    assertThat(left.members()).doesNotContain(3L);
  }

  @Test
  void batchMeansTheSameInAnyOrder() {
    Membership current = plain(Set.of(1L, 2L, 3L), Set.of(4L));
    List<ConfChange> batch = List.of(promote(4), demote(1), remove(2), addLearner(6));

    assertThat(Changer.enterJoint(current, batch))
        .isEqualTo(
            Changer.enterJoint(
                current, List.of(batch.get(3), batch.get(1), batch.get(2), batch.get(0))))
        .isEqualTo(joint(Set.of(3L, 4L), Set.of(1L, 2L, 3L), Set.of(1L, 6L)));
  }

  @Test
  void enterJointRefusesWhenAlreadyJoint() {
    Membership joint = joint(Set.of(1L, 2L), Set.of(1L, 2L, 3L), Set.of());

    assertRefused(() -> Changer.enterJoint(joint, List.of(addVoter(4))))
        .hasMessageContaining("while in joint consensus")
        .hasMessageContaining("leave it first");
  }

  @Test
  void enterJointRefusesWithoutCurrentVoters() {
    Membership empty = new Membership(JointConfig.EMPTY, Set.of(4L));

    assertRefused(() -> Changer.enterJoint(empty, List.of(promote(4))))
        .hasMessageContaining("no voters");
  }

  @Test
  void refusesEmptyBatch() {
    assertRefused(() -> Changer.enterJoint(plain(Set.of(1L)), List.of()))
        .hasMessageContaining("empty batch");
    assertRefused(() -> Changer.simple(plain(Set.of(1L)), List.of()))
        .hasMessageContaining("empty batch");
  }

  @Test
  void refusesTheSameMemberTwiceEvenAsRemoveThenAddLearner() {
    assertRefused(
            () -> Changer.enterJoint(plain(Set.of(1L, 2L, 3L)), List.of(remove(3), addLearner(3))))
        .hasMessageContaining("member 3 appears more than once");
    assertRefused(
            () -> Changer.enterJoint(plain(Set.of(1L, 2L, 3L)), List.of(addVoter(4), addVoter(4))))
        .hasMessageContaining("member 4 appears more than once");
  }

  @Test
  void refusesToLeaveNoVoters() {
    assertRefused(() -> Changer.enterJoint(plain(Set.of(1L)), List.of(remove(1))))
        .hasMessageContaining("would leave no voters");
    assertRefused(
            () ->
                Changer.enterJoint(
                    plain(Set.of(1L, 2L), Set.of(3L)),
                    List.of(demote(1), remove(2), addLearner(4))))
        .hasMessageContaining("would leave no voters");
  }

  @Test
  void addVoterRequiresANonMember() {
    Membership current = plain(Set.of(1L, 2L, 3L), Set.of(4L));

    assertRefused(() -> Changer.enterJoint(current, List.of(addVoter(2))))
        .hasMessage("cannot ADD_VOTER 2: it is already a voter");
    assertRefused(() -> Changer.enterJoint(current, List.of(addVoter(4))))
        .hasMessage("cannot ADD_VOTER 4: it is a learner; PROMOTE it");
  }

  @Test
  void addLearnerRequiresANonMember() {
    Membership current = plain(Set.of(1L, 2L, 3L), Set.of(4L));

    assertRefused(() -> Changer.enterJoint(current, List.of(addLearner(4))))
        .hasMessage("cannot ADD_LEARNER 4: it is already a learner");
    assertRefused(() -> Changer.enterJoint(current, List.of(addLearner(3))))
        .hasMessage("cannot ADD_LEARNER 3: it is a voter; DEMOTE it");
  }

  @Test
  void removeRequiresAMember() {
    assertRefused(() -> Changer.enterJoint(plain(Set.of(1L, 2L)), List.of(remove(9))))
        .hasMessage("cannot REMOVE 9: it is not a member");
  }

  @Test
  void promoteRequiresALearner() {
    Membership current = plain(Set.of(1L, 2L, 3L), Set.of(4L));

    assertRefused(() -> Changer.enterJoint(current, List.of(promote(1))))
        .hasMessage("cannot PROMOTE 1: it is already a voter");
    assertRefused(() -> Changer.enterJoint(current, List.of(promote(9))))
        .hasMessage("cannot PROMOTE 9: it is not a member");
  }

  @Test
  void demoteRequiresAVoter() {
    Membership current = plain(Set.of(1L, 2L, 3L), Set.of(4L));

    assertRefused(() -> Changer.enterJoint(current, List.of(demote(4))))
        .hasMessage("cannot DEMOTE 4: it is already a learner");
    assertRefused(() -> Changer.enterJoint(current, List.of(demote(9))))
        .hasMessage("cannot DEMOTE 9: it is not a member");
  }

  @Test
  void oneBadChangeRefusesTheWholeBatch() {
    Membership current = plain(Set.of(1L, 2L, 3L));

    assertRefused(() -> Changer.enterJoint(current, List.of(addVoter(4), remove(9))))
        .hasMessage("cannot REMOVE 9: it is not a member");
    assertThat(current).isEqualTo(plain(Set.of(1L, 2L, 3L)));
  }

  // ---- leaveJoint: thesis section 4.3 ----

  @Test
  void leaveJointKeepsIncomingVotersAndAllLearners() {
    Membership joint = joint(Set.of(1L, 2L, 4L), Set.of(1L, 2L, 3L), Set.of(3L, 5L));

    Membership left = Changer.leaveJoint(joint);

    assertThat(left).isEqualTo(plain(Set.of(1L, 2L, 4L), Set.of(3L, 5L)));
    assertThat(left.voters().isJoint()).isFalse();
    assertThat(Changer.demoting(left)).isEmpty();
  }

  @Test
  void leaveJointRefusesWhenNotJoint() {
    assertRefused(() -> Changer.leaveJoint(plain(Set.of(1L, 2L, 3L))))
        .hasMessageContaining("not in joint consensus");
  }

  @Test
  void leaveJointRefusesAnIncomingHalfWithoutVoters() {
    Membership broken = joint(Set.of(), Set.of(1L, 2L), Set.of());

    assertRefused(() -> Changer.leaveJoint(broken)).hasMessageContaining("no voters");
  }

  // ---- simple: thesis section 4.1 ----

  @Test
  void simpleAddsOrRemovesOneVoterWithoutJointPhase() {
    Membership current = plain(Set.of(1L, 2L, 3L));

    assertThat(Changer.simple(current, List.of(addVoter(4))))
        .isEqualTo(plain(Set.of(1L, 2L, 3L, 4L)));
    assertThat(Changer.simple(current, List.of(remove(3)))).isEqualTo(plain(Set.of(1L, 2L)));
  }

  @Test
  void simplePromotesOrDemotesOneMember() {
    Membership current = plain(Set.of(1L, 2L, 3L), Set.of(4L));

    assertThat(Changer.simple(current, List.of(promote(4))))
        .isEqualTo(plain(Set.of(1L, 2L, 3L, 4L)));
    assertThat(Changer.simple(current, List.of(demote(3))))
        .isEqualTo(plain(Set.of(1L, 2L), Set.of(3L, 4L)));
  }

  @Test
  void simpleAllowsAnyNumberOfLearnerChangesBesideOneVoterChange() {
    Membership current = plain(Set.of(1L, 2L, 3L), Set.of(4L, 5L));

    Membership next =
        Changer.simple(
            current, List.of(remove(4), remove(5), addLearner(6), addLearner(7), addVoter(8)));

    assertThat(next).isEqualTo(plain(Set.of(1L, 2L, 3L, 8L), Set.of(6L, 7L)));
  }

  @Test
  void simpleAddsTheFirstVoter() {
    Membership empty = new Membership(JointConfig.EMPTY, Set.of());

    assertThat(Changer.simple(empty, List.of(addVoter(1)))).isEqualTo(plain(Set.of(1L)));
  }

  @Test
  void simpleRefusesToChangeTwoVoters() {
    Membership current = plain(Set.of(1L, 2L, 3L), Set.of(4L));

    assertRefused(() -> Changer.simple(current, List.of(addVoter(5), addVoter(6))))
        .hasMessageContaining("at most one voter")
        .hasMessageContaining("[5, 6]")
        .hasMessageContaining("use joint consensus");
    assertRefused(() -> Changer.simple(current, List.of(remove(3), promote(4))))
        .hasMessageContaining("changes voters [3, 4]");
    assertRefused(() -> Changer.simple(current, List.of(demote(1), demote(2))))
        .hasMessageContaining("changes voters [1, 2]");
  }

  @Test
  void simpleRefusesWhenJoint() {
    Membership joint = joint(Set.of(1L, 2L), Set.of(1L, 2L, 3L), Set.of());

    assertRefused(() -> Changer.simple(joint, List.of(addLearner(5))))
        .hasMessageContaining("cannot make a simple change while in joint consensus");
  }

  @Test
  void simpleAppliesTheSameRulesToEachChange() {
    assertRefused(() -> Changer.simple(plain(Set.of(1L, 2L)), List.of(addVoter(2))))
        .hasMessage("cannot ADD_VOTER 2: it is already a voter");
    assertRefused(() -> Changer.simple(plain(Set.of(1L)), List.of(remove(1))))
        .hasMessageContaining("would leave no voters");
    assertRefused(() -> Changer.simple(plain(Set.of(1L)), List.of(addLearner(2), remove(2))))
        .hasMessageContaining("member 2 appears more than once");
  }

  // ---- values ----

  @Test
  void refusalIsStacklessAndUnchecked() {
    assertRefused(() -> Changer.leaveJoint(plain(Set.of(1L))))
        .isInstanceOf(RuntimeException.class)
        .hasNoCause()
        .satisfies(e -> assertThat(e.getStackTrace()).isEmpty());
  }

  @Test
  void confChangeRejectsMemberZeroAndNullType() {
    assertThatThrownBy(() -> addVoter(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("reserved");
    assertThatThrownBy(() -> new ConfChange(null, 1)).isInstanceOf(NullPointerException.class);
    assertThat(demote(7))
        .hasToString("DEMOTE 7")
        .isEqualTo(new ConfChange(ConfChange.Type.DEMOTE, 7));
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> assertRefused(
      ThrowingCallable call) {
    return assertThatThrownBy(call).isInstanceOf(ConfChangeException.class);
  }

  static Membership plain(Set<Long> voters) {
    return plain(voters, Set.of());
  }

  static Membership plain(Set<Long> voters, Set<Long> learners) {
    return new Membership(
        new JointConfig(new MajorityConfig(voters), MajorityConfig.EMPTY), learners);
  }

  static Membership joint(Set<Long> incoming, Set<Long> outgoing, Set<Long> learners) {
    return new Membership(
        new JointConfig(new MajorityConfig(incoming), new MajorityConfig(outgoing)), learners);
  }
}
