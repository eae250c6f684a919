package io.tern.raft.core.confchange;

import static org.assertj.core.api.Assertions.assertThat;

import io.tern.raft.core.quorum.MajorityConfig;
import io.tern.raft.core.tracker.Membership;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Compares {@link Changer} with {@link NaiveMembership} on random configurations and batches, and
 * checks the invariants of every configuration it produces. Every case draws from its own
 * generator, seeded from the run seed; a failure names both seeds and the whole case. Rerun a run
 * with {@code -Dtern.confchange.seed=<seed>}.
 */
class ChangerPropertyTest {
  private static final long SEED = Long.getLong("tern.confchange.seed", 0xC0_4F1CL);
  private static final int CASES = 20_000;
  private static final int WALKS = 2_000;
  private static final int STEPS_PER_WALK = 40;

  /** Members are drawn from 1..MAX_ID; the last id is never a member of a random config. */
  private static final long MAX_ID = 8;

  @Test
  void enterJointMatchesReference() {
    SplittableRandom run = new SplittableRandom(SEED);
    int accepted = 0;
    for (int i = 0; i < CASES; i++) {
      long caseSeed = run.nextLong();
      SplittableRandom rnd = new SplittableRandom(caseSeed);
      Membership current = randomMembership(rnd, 5);
      List<ConfChange> batch = randomBatch(rnd, current);
      String where = where(i, caseSeed) + " current=" + current + " batch=" + batch;

      Optional<Membership> real = attempt(() -> Changer.enterJoint(current, batch));
      Optional<Membership> naive =
          NaiveMembership.of(current).enterJoint(batch).map(NaiveMembership::toMembership);
      assertThat(real).as(where).isEqualTo(naive);
      assertThat(attempt(() -> Changer.enterJoint(current, shuffled(rnd, batch))))
          .as(where + " (shuffled)")
          .isEqualTo(real);
      if (real.isPresent()) {
        accepted++;
        Membership joint = real.get();
        assertValid(joint, where);
        assertThat(joint.voters().isJoint()).as(where).isTrue();
        assertThat(joint.voters().outgoing()).as(where).isEqualTo(current.voters().incoming());
        assertThat(Changer.demoting(joint))
            .as(where)
            .isEqualTo(members(batch, ConfChange.Type.DEMOTE));

        Membership left = Changer.leaveJoint(joint);
        assertValid(left, where + " left=" + left);
        assertThat(left.voters().isJoint()).as(where).isFalse();
        assertThat(left.voters().incoming()).as(where).isEqualTo(joint.voters().incoming());
        assertThat(left.learners()).as(where).isEqualTo(joint.learners());
      }
    }
    assertThat(accepted).as("accepted enterJoint cases").isBetween(CASES / 10, CASES * 9 / 10);
  }

  @Test
  void simpleMatchesReferenceAndKeepsMajoritiesOverlapping() {
    SplittableRandom run = new SplittableRandom(SEED ^ 0x5_1A9L);
    int accepted = 0;
    for (int i = 0; i < CASES; i++) {
      long caseSeed = run.nextLong();
      SplittableRandom rnd = new SplittableRandom(caseSeed);
      Membership current = randomMembership(rnd, 5);
      List<ConfChange> batch = randomBatch(rnd, current);
      String where = where(i, caseSeed) + " current=" + current + " batch=" + batch;

      Optional<Membership> real = attempt(() -> Changer.simple(current, batch));
      Optional<Membership> naive =
          NaiveMembership.of(current).simple(batch).map(NaiveMembership::toMembership);
      assertThat(real).as(where).isEqualTo(naive);
      assertThat(attempt(() -> Changer.simple(current, shuffled(rnd, batch))))
          .as(where + " (shuffled)")
          .isEqualTo(real);
      if (real.isPresent()) {
        accepted++;
        Membership next = real.get();
        assertValid(next, where + " next=" + next);
        assertThat(next.voters().isJoint()).as(where).isFalse();
        assertSimpleStep(current.voters().incoming(), next.voters().incoming(), where);
      }
    }
    assertThat(accepted).as("accepted simple cases").isBetween(CASES / 10, CASES * 9 / 10);
  }

  @Test
  void leaveJointMatchesReference() {
    SplittableRandom run = new SplittableRandom(SEED ^ 0x1EA_7EL);
    for (int i = 0; i < CASES; i++) {
      long caseSeed = run.nextLong();
      SplittableRandom rnd = new SplittableRandom(caseSeed);
      Membership current = randomMembership(rnd, 2);
      String where = where(i, caseSeed) + " current=" + current;

      Optional<Membership> real = attempt(() -> Changer.leaveJoint(current));
      Optional<Membership> naive =
          NaiveMembership.of(current).leaveJoint().map(NaiveMembership::toMembership);
      assertThat(real).as(where).isEqualTo(naive);
      real.ifPresent(left -> assertValid(left, where + " left=" + left));
    }
  }

  /**
   * Random sequences of transitions, started from a valid configuration and driven in lockstep with
   * the reference, never reach an invalid configuration; a joint configuration's outgoing half is
   * always the configuration it was entered from.
   */
  @Test
  void randomWalksStayValid() {
    SplittableRandom run = new SplittableRandom(SEED ^ 0x3A1CL);
    int moves = 0;
    for (int walk = 0; walk < WALKS; walk++) {
      long walkSeed = run.nextLong();
      SplittableRandom rnd = new SplittableRandom(walkSeed);
      Membership state = randomMembership(rnd, 0);
      while (state.voters().incoming().isEmpty()) {
        state = randomMembership(rnd, 0);
      }
      NaiveMembership model = NaiveMembership.of(state);
      MajorityConfig enteredFrom = null;
      List<String> history = new ArrayList<>();
      history.add(state.toString());
      for (int step = 0; step < STEPS_PER_WALK; step++) {
        Membership from = state;
        String where = where(walk, walkSeed) + " step=" + step + " history=" + history;
        int kind = from.voters().isJoint() && rnd.nextInt(4) != 0 ? 2 : rnd.nextInt(2);
        List<ConfChange> batch = kind == 2 ? List.of() : randomBatch(rnd, from);
        Optional<Membership> real;
        Optional<NaiveMembership> naive;
        switch (kind) {
          case 0 -> {
            real = attempt(() -> Changer.enterJoint(from, batch));
            naive = model.enterJoint(batch);
          }
          case 1 -> {
            real = attempt(() -> Changer.simple(from, batch));
            naive = model.simple(batch);
          }
          default -> {
            real = attempt(() -> Changer.leaveJoint(from));
            naive = model.leaveJoint();
          }
        }
        String move = List.of("enterJoint", "simple", "leaveJoint").get(kind) + batch;
        assertThat(real).as(where + " " + move).isEqualTo(naive.map(NaiveMembership::toMembership));
        if (real.isEmpty()) {
          continue;
        }
        moves++;
        state = real.get();
        model = naive.get();
        history.add(move + " -> " + state);
        assertValid(state, where + " " + move);
        if (kind == 0) {
          enteredFrom = from.voters().incoming();
        }
        if (kind == 1) {
          assertSimpleStep(from.voters().incoming(), state.voters().incoming(), where + " " + move);
        }
        if (state.voters().isJoint()) {
          assertThat(state.voters().outgoing()).as(where + " " + move).isEqualTo(enteredFrom);
        }
      }
    }
    assertThat(moves).as("accepted moves").isGreaterThan(WALKS * STEPS_PER_WALK / 4);
  }

  /** Invariants of every configuration the changer may produce. */
  private static void assertValid(Membership m, String where) {
    Set<Long> incoming = m.voters().incoming().voters();
    assertThat(incoming).as(where + ": voters").isNotEmpty();
    for (long l : m.learners()) {
      assertThat(incoming).as(where + ": learner " + l + " is an incoming voter").doesNotContain(l);
    }
    if (!m.voters().isJoint()) {
      assertThat(Changer.demoting(m)).as(where + ": demoting outside joint").isEmpty();
    }
    assertThat(m.members())
        .as(where + ": ids")
        .allSatisfy(id -> assertThat(id).isBetween(1L, MAX_ID));
  }

  /**
   * Thesis section 4.1: the voter sets differ by at most one member, so a majority of the old and a
   * majority of the new set cannot be disjoint: their quorums add up to more than all voters of
   * both.
   */
  private static void assertSimpleStep(MajorityConfig before, MajorityConfig after, String where) {
    Set<Long> union = new TreeSet<>(before.voters());
    union.addAll(after.voters());
    Set<Long> common = new TreeSet<>(before.voters());
    common.retainAll(after.voters());
    assertThat(union.size() - common.size())
        .as(where + ": voters changed from " + before + " to " + after)
        .isLessThanOrEqualTo(1);
    if (!before.isEmpty()) {
      assertThat(before.quorum() + after.quorum())
          .as(where + ": quorums of " + before + " and " + after + " may be disjoint")
          .isGreaterThan(union.size());
    }
  }

  private static Optional<Membership> attempt(Supplier<Membership> change) {
    try {
      return Optional.of(change.get());
    } catch (ConfChangeException refused) {
      assertThat(refused.getMessage()).isNotBlank();
      return Optional.empty();
    }
  }

  /**
   * Ids 1..MAX_ID-1 each a voter, a learner or absent; joint with probability 1/{@code jointOdds}
   * when positive (never when 0), with a random outgoing half that may include learners (voters
   * being demoted). May have no incoming voters.
   */
  private static Membership randomMembership(SplittableRandom rnd, int jointOdds) {
    Set<Long> voters = new TreeSet<>();
    Set<Long> learners = new TreeSet<>();
    for (long id = 1; id < MAX_ID; id++) {
      int roll = rnd.nextInt(10);
      if (roll < 5) {
        voters.add(id);
      } else if (roll < 7) {
        learners.add(id);
      }
    }
    Set<Long> outgoing = new TreeSet<>();
    if (jointOdds > 0 && rnd.nextInt(jointOdds) == 0) {
      while (outgoing.isEmpty()) {
        for (long id = 1; id < MAX_ID; id++) {
          if (rnd.nextBoolean()) {
            outgoing.add(id);
          }
        }
      }
    }
    return ChangerTest.joint(voters, outgoing, learners);
  }

  /**
   * Up to four changes of members in 1..MAX_ID. Most changes fit the member's role, so that whole
   * batches are often valid; the rest are of any type.
   */
  private static List<ConfChange> randomBatch(SplittableRandom rnd, Membership m) {
    int roll = rnd.nextInt(20);
    int size = roll == 0 ? 0 : roll < 10 ? 1 : roll < 15 ? 2 : roll < 18 ? 3 : 4;
    ConfChange.Type[] types = ConfChange.Type.values();
    List<ConfChange> batch = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      long id = 1 + rnd.nextInt((int) MAX_ID);
      ConfChange.Type type;
      if (rnd.nextInt(5) == 0) {
        type = types[rnd.nextInt(types.length)];
      } else if (m.voters().incoming().contains(id)) {
        type = rnd.nextBoolean() ? ConfChange.Type.REMOVE : ConfChange.Type.DEMOTE;
      } else if (m.learners().contains(id)) {
        type = rnd.nextBoolean() ? ConfChange.Type.REMOVE : ConfChange.Type.PROMOTE;
      } else {
        type = rnd.nextBoolean() ? ConfChange.Type.ADD_VOTER : ConfChange.Type.ADD_LEARNER;
      }
      batch.add(new ConfChange(type, id));
    }
    return List.copyOf(batch);
  }

  private static List<ConfChange> shuffled(SplittableRandom rnd, List<ConfChange> batch) {
    List<ConfChange> copy = new ArrayList<>(batch);
    for (int i = copy.size() - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      copy.set(j, copy.set(i, copy.get(j)));
    }
    return copy;
  }

  private static Set<Long> members(List<ConfChange> batch, ConfChange.Type type) {
    Set<Long> ids = new TreeSet<>();
    for (ConfChange c : batch) {
      if (c.type() == type) {
        ids.add(c.member());
      }
    }
    return ids;
  }

  private static String where(int i, long caseSeed) {
    return "seed=" + SEED + " case=" + i + " caseSeed=" + caseSeed;
  }
}
