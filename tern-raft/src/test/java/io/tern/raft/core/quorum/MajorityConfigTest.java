package io.tern.raft.core.quorum;

import static io.tern.raft.core.quorum.QuorumFixtures.acked;
import static io.tern.raft.core.quorum.QuorumFixtures.indexer;
import static io.tern.raft.core.quorum.QuorumFixtures.majority;
import static io.tern.raft.core.quorum.QuorumFixtures.votes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MajorityConfigTest {

  @Test
  void idsAreSortedAndDeduplicated() {
    MajorityConfig config = new MajorityConfig(List.of(3L, 1L, 2L, 3L, -7L));

    assertThat(config.voters()).containsExactly(-7L, 1L, 2L, 3L);
    assertThat(config.voterArray()).containsExactly(-7, 1, 2, 3);
    assertThat(config.size()).isEqualTo(4);
    assertThat(config).hasToString("(-7 1 2 3)");
    assertThat(config)
        .isEqualTo(MajorityConfig.of(1, 2, 3, -7, 1))
        .hasSameHashCodeAs(MajorityConfig.of(2, 3, 1, -7));
  }

  @Test
  void rejectsTheNoMemberIdAndNulls() {
    List<Long> withNull = new ArrayList<>(List.of(1L, 2L));
    withNull.add(null);

    assertThatThrownBy(() -> MajorityConfig.of(1, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new MajorityConfig(List.of(0L)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new MajorityConfig(withNull)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> new MajorityConfig(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void exposesNoMutableState() {
    long[] ids = {2, 1};
    MajorityConfig config = MajorityConfig.of(ids);
    ids[0] = 9;
    config.voterArray()[0] = 9;

    assertThat(config).hasToString("(1 2)");
    assertThatThrownBy(() -> config.voters().add(9L))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void emptyConfig() {
    assertThat(MajorityConfig.of()).isEqualTo(MajorityConfig.EMPTY);
    assertThat(new MajorityConfig(List.of())).isEqualTo(MajorityConfig.EMPTY);
    assertThat(MajorityConfig.EMPTY.isEmpty()).isTrue();
    assertThat(MajorityConfig.EMPTY.size()).isZero();
    assertThat(MajorityConfig.EMPTY.quorum()).isZero();
    assertThat(MajorityConfig.EMPTY.voters()).isEmpty();
    assertThat(MajorityConfig.EMPTY).hasToString("()");
    // MAX_VALUE is the identity of min(), so an empty half never bounds a joint config.
    assertThat(MajorityConfig.EMPTY.committedIndex(id -> 5)).isEqualTo(Long.MAX_VALUE);
    assertThat(MajorityConfig.EMPTY.voteResult(Map.of())).isEqualTo(VoteResult.WON);
  }

  @Test
  void containsOnlyMembers() {
    MajorityConfig config = MajorityConfig.of(1, 3, 5);

    assertThat(config.contains(3)).isTrue();
    assertThat(config.contains(2)).isFalse();
    assertThat(config.contains(0)).isFalse();
    assertThat(config.voters().contains(5L)).isTrue();
    assertThat(config.voters().contains(4L)).isFalse();
  }

  @ParameterizedTest(name = "{0} -> quorum {1}")
  @CsvSource({"1, 1", "1 2, 2", "1 2 3, 2", "1 2 3 4, 3", "1 2 3 4 5, 3", "1 2 3 4 5 6 7, 4"})
  void quorumIsAStrictMajority(String voters, int quorum) {
    assertThat(majority(voters).quorum()).isEqualTo(quorum);
  }

  /** Raft paper section 5.3: an entry is committed once replicated on a majority of servers. */
  @ParameterizedTest(name = "({0}) acked [{1}] -> {2}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          # voters  | acked                   | committed
          1         |                         | 0
          1         | 1:7                     | 7
          1         | 2:7                     | 0
          1 2       | 1:5 2:3                 | 3
          1 2       | 1:5                     | 0
          1 2 3     | 1:5 2:3 3:9             | 5
          1 2 3     | 1:5 2:5 3:1             | 5
          1 2 3     | 1:2 2:2 3:2             | 2
          1 2 3     | 1:5                     | 0
          1 2 3     | 1:5 2:4                 | 4
          1 2 3     | 1:5 4:9 5:9             | 0
          1 2 3 4   | 1:4 2:3 3:2 4:1         | 2
          1 2 3 4   | 1:9 2:9                 | 0
          1 2 3 4   | 1:9 2:9 3:1             | 1
          1 2 3 4   | 1:9 2:9 3:9 4:1         | 9
          1 2 3 4 5 | 1:5 2:4 3:3 4:2 5:1     | 3
          1 2 3 4 5 | 1:5 2:5 3:1 4:1         | 1
          1 2 3 4 5 | 1:7 2:7 3:7             | 7
          1 2 3 4 5 | 1:7 2:7 6:7 7:7         | 0
          1 2 3 4 5 | 5:1 4:2 3:3 2:4 1:5     | 3
          """)
  void committedIndex(String voters, String acked, long committed) {
    assertThat(majority(voters).committedIndex(indexer(acked(acked)))).isEqualTo(committed);
  }

  @Test
  void committedIndexHandlesTheWholeLongRange() {
    MajorityConfig config = MajorityConfig.of(1, 2, 3);

    assertThat(config.committedIndex(id -> id == 3 ? 0 : Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
    assertThat(config.committedIndex(id -> id == 3 ? Long.MAX_VALUE : 0)).isZero();
  }

  @Test
  void committedIndexDoesNotCarryStateBetweenCalls() {
    MajorityConfig config = MajorityConfig.of(1, 2, 3, 4, 5);

    assertThat(config.committedIndex(id -> 100 + id)).isEqualTo(103);
    assertThat(config.committedIndex(id -> id == 1 ? 8 : 0)).isZero();
    assertThat(config.committedIndex(id -> 10 - id)).isEqualTo(7);
  }

  @Test
  void committedIndexDoesNotAllocate() {
    MajorityConfig config = MajorityConfig.of(5, 1, 4, 2, 3, 7, 6);
    long[] matchById = {0, 9, 3, 7, 7, 1, 12, 4};
    AckedIndexer acked = id -> matchById[(int) id];
    long[] sink = new long[1];

    long bytes =
        QuorumFixtures.allocatedBytes(
            () -> {
              long sum = 0;
              for (int i = 0; i < 100_000; i++) {
                sum += config.committedIndex(acked);
              }
              sink[0] = sum;
            });

    assertThat(sink[0]).isEqualTo(100_000L * 7);
    // Any per-call allocation would cost at least 16 bytes per call, i.e. over 1.6 MB here.
    assertThat(bytes).as("bytes allocated by 100,000 calls").isLessThan(4096);
  }

  /** Raft paper section 5.2: a candidate wins with votes from a majority of the servers. */
  @ParameterizedTest(name = "({0}) votes [{1}] -> {2}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          # voters  | votes                   | result
                    |                         | WON
                    | 1:n                     | WON
          1         |                         | PENDING
          1         | 1:y                     | WON
          1         | 1:n                     | LOST
          1         | 2:y                     | PENDING
          1 2       | 1:y                     | PENDING
          1 2       | 1:y 2:n                 | LOST
          1 2       | 1:y 2:y                 | WON
          1 2 3     | 1:y                     | PENDING
          1 2 3     | 1:y 2:y                 | WON
          1 2 3     | 1:y 2:n                 | PENDING
          1 2 3     | 1:n 2:n                 | LOST
          1 2 3     | 1:y 4:y 5:y             | PENDING
          1 2 3     | 1:n 2:y 4:n 5:n 6:n     | PENDING
          1 2 3 4   | 1:y 2:y                 | PENDING
          1 2 3 4   | 1:y 2:y 3:n 4:n         | LOST
          1 2 3 4   | 1:y 2:y 3:y             | WON
          1 2 3 4   | 1:n                     | PENDING
          1 2 3 4   | 1:n 2:n                 | LOST
          1 2 3 4 5 | 1:y 2:y 3:n 4:n         | PENDING
          1 2 3 4 5 | 1:y 2:y 3:y             | WON
          1 2 3 4 5 | 1:n 2:n 3:n             | LOST
          1 2 3 4 5 | 1:y 2:y 3:n 4:n 5:n     | LOST
          1 2 3 4 5 | 1:y 2:y 3:n 4:n 5:y     | WON
          """)
  void voteResult(String voters, String votes, VoteResult result) {
    assertThat(majority(voters).voteResult(votes(votes))).isEqualTo(result);
  }

  @Test
  void nullVoteMeansNotYetAnswered() {
    Map<Long, Boolean> votes = new HashMap<>();
    votes.put(1L, true);
    votes.put(2L, null);

    assertThat(MajorityConfig.of(1, 2, 3).voteResult(votes)).isEqualTo(VoteResult.PENDING);
  }

  @Test
  void equalityIsByVoterSet() {
    assertThat(MajorityConfig.of(1, 2)).isNotEqualTo(MajorityConfig.of(1, 2, 3));
    assertThat(MajorityConfig.of(1, 2)).isNotEqualTo(Arrays.asList(1L, 2L));
  }
}
