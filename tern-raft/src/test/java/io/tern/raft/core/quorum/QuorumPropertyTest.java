package io.tern.raft.core.quorum;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Compares the quorum classes with {@link NaiveQuorum} on random configurations. Every case draws
 * from its own generator, seeded from the run seed; a failure message names both seeds and the
 * whole case. Rerun a run with {@code -Dtern.quorum.seed=<seed>}.
 */
class QuorumPropertyTest {
  private static final long SEED = Long.getLong("tern.quorum.seed", 0x7E2D_5EEDL);
  private static final int CONFIGS = 20_000;

  /** Several inputs per config, so that state left over from a previous call would show. */
  private static final int INPUTS_PER_CONFIG = 4;

  @Test
  void majorityMatchesReference() {
    SplittableRandom run = new SplittableRandom(SEED);
    for (int i = 0; i < CONFIGS; i++) {
      long caseSeed = run.nextLong();
      SplittableRandom rnd = new SplittableRandom(caseSeed);
      List<Long> drawn = randomVoters(rnd);
      Set<Long> voters = new TreeSet<>(drawn);
      MajorityConfig config = new MajorityConfig(drawn);
      String where = "seed=" + SEED + " case=" + i + " caseSeed=" + caseSeed + " voters=" + drawn;

      assertThat(config.voters()).as(where).containsExactlyElementsOf(voters);
      assertThat(config).as(where).isEqualTo(MajorityConfig.of(toArray(drawn)));
      assertThat(config.size()).as(where).isEqualTo(voters.size());
      for (int input = 0; input < INPUTS_PER_CONFIG; input++) {
        Map<Long, Long> acked = randomAcked(rnd, voters);
        Map<Long, Boolean> votes = randomVotes(rnd, voters);
        String inputs = where + " input=" + input + " acked=" + acked + " votes=" + votes;

        assertThat(config.committedIndex(id -> acked.getOrDefault(id, 0L)))
            .as(inputs)
            .isEqualTo(
                NaiveQuorum.committedIndex(
                    List.of(voters), id -> acked.getOrDefault(id, 0L), Long.MAX_VALUE));
        assertThat(config.voteResult(votes))
            .as(inputs)
            .isEqualTo(NaiveQuorum.voteResult(List.of(voters), votes));
      }
    }
  }

  @Test
  void jointMatchesReference() {
    SplittableRandom run = new SplittableRandom(SEED ^ 0x4A01_4E75L);
    for (int i = 0; i < CONFIGS; i++) {
      long caseSeed = run.nextLong();
      SplittableRandom rnd = new SplittableRandom(caseSeed);
      Set<Long> incoming = new TreeSet<>(randomVoters(rnd));
      Set<Long> outgoing = rnd.nextInt(3) == 0 ? Set.of() : new TreeSet<>(randomVoters(rnd));
      JointConfig config =
          new JointConfig(new MajorityConfig(incoming), new MajorityConfig(outgoing));
      List<Set<Long>> halves = List.of(incoming, outgoing);
      Set<Long> everyone = new TreeSet<>(incoming);
      everyone.addAll(outgoing);
      String where = "seed=" + SEED + " case=" + i + " caseSeed=" + caseSeed + " config=" + config;

      assertThat(config.ids()).as(where).containsExactlyElementsOf(everyone);
      assertThat(config.isJoint()).as(where).isEqualTo(!outgoing.isEmpty());
      for (long id = -1; id <= 15; id++) {
        assertThat(config.contains(id)).as(where + " id=" + id).isEqualTo(everyone.contains(id));
      }
      for (int input = 0; input < INPUTS_PER_CONFIG; input++) {
        Map<Long, Long> acked = randomAcked(rnd, everyone);
        Map<Long, Boolean> votes = randomVotes(rnd, everyone);
        String inputs = where + " input=" + input + " acked=" + acked + " votes=" + votes;

        assertThat(config.committedIndex(id -> acked.getOrDefault(id, 0L)))
            .as(inputs)
            .isEqualTo(NaiveQuorum.committedIndex(halves, id -> acked.getOrDefault(id, 0L), 0));
        assertThat(config.voteResult(votes))
            .as(inputs)
            .isEqualTo(NaiveQuorum.voteResult(halves, votes));
      }
    }
  }

  /**
   * 0 to 7 distinct non-zero ids in random order, mostly from 1..9 so that joint halves overlap,
   * now and then any long; sometimes with a duplicate, which the config must collapse.
   */
  private static List<Long> randomVoters(SplittableRandom rnd) {
    int n = rnd.nextInt(8);
    Set<Long> ids = new LinkedHashSet<>();
    while (ids.size() < n) {
      long id = rnd.nextInt(10) == 0 ? rnd.nextLong() : 1 + rnd.nextInt(9);
      if (id != 0) {
        ids.add(id);
      }
    }
    List<Long> drawn = new ArrayList<>(ids);
    if (n > 0 && rnd.nextInt(4) == 0) {
      drawn.add(drawn.get(rnd.nextInt(n)));
    }
    return drawn;
  }

  /** Acks from most voters, some non-members too; many ties, sometimes huge indexes. */
  private static Map<Long, Long> randomAcked(SplittableRandom rnd, Set<Long> voters) {
    Map<Long, Long> acked = new HashMap<>();
    for (long id : voters) {
      if (rnd.nextInt(4) != 0) {
        acked.put(id, randomIndex(rnd));
      }
    }
    for (long id : strangers(rnd, voters)) {
      acked.put(id, randomIndex(rnd));
    }
    return acked;
  }

  private static long randomIndex(SplittableRandom rnd) {
    return switch (rnd.nextInt(10)) {
      case 0 -> rnd.nextLong(Long.MAX_VALUE);
      case 1 -> Long.MAX_VALUE - rnd.nextInt(2);
      default -> rnd.nextInt(6);
    };
  }

  /** Each voter granted, rejected or has not answered; non-members vote too. */
  private static Map<Long, Boolean> randomVotes(SplittableRandom rnd, Set<Long> voters) {
    Map<Long, Boolean> votes = new HashMap<>();
    for (long id : voters) {
      switch (rnd.nextInt(3)) {
        case 0 -> votes.put(id, true);
        case 1 -> votes.put(id, false);
        default -> {}
      }
    }
    for (long id : strangers(rnd, voters)) {
      votes.put(id, rnd.nextBoolean());
    }
    return votes;
  }

  private static Set<Long> strangers(SplittableRandom rnd, Set<Long> voters) {
    Set<Long> strangers = new TreeSet<>();
    int count = rnd.nextInt(4);
    for (int i = 0; i < count; i++) {
      long id = 1 + rnd.nextInt(14);
      if (!voters.contains(id)) {
        strangers.add(id);
      }
    }
    return strangers;
  }

  private static long[] toArray(List<Long> ids) {
    return ids.stream().mapToLong(Long::longValue).toArray();
  }
}
