package io.tern.raft.core.quorum;

import static io.tern.raft.core.quorum.QuorumFixtures.acked;
import static io.tern.raft.core.quorum.QuorumFixtures.indexer;
import static io.tern.raft.core.quorum.QuorumFixtures.joint;
import static io.tern.raft.core.quorum.QuorumFixtures.votes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Reference: Raft thesis section 4.3, joint consensus. */
class JointConfigTest {

  @Test
  void nonJointConfig() {
    JointConfig config = JointConfig.of(3, 1, 2);

    assertThat(config.isJoint()).isFalse();
    assertThat(config.incoming()).isEqualTo(MajorityConfig.of(1, 2, 3));
    assertThat(config.outgoing()).isEqualTo(MajorityConfig.EMPTY);
    assertThat(config.ids()).containsExactly(1L, 2L, 3L);
    assertThat(config).hasToString("(1 2 3)");
    assertThat(config)
        .isEqualTo(new JointConfig(MajorityConfig.of(1, 2, 3), MajorityConfig.EMPTY))
        .hasSameHashCodeAs(new JointConfig(MajorityConfig.of(1, 2, 3), MajorityConfig.EMPTY));
  }

  @Test
  void jointConfigUnitesBothHalves() {
    JointConfig config = new JointConfig(MajorityConfig.of(1, 2, 3), MajorityConfig.of(4, 2, 1));

    assertThat(config.isJoint()).isTrue();
    assertThat(config.ids()).containsExactly(1L, 2L, 3L, 4L);
    assertThat(config.contains(3)).isTrue();
    assertThat(config.contains(4)).isTrue();
    assertThat(config.contains(5)).isFalse();
    assertThat(config).hasToString("(1 2 3)&&(1 2 4)");
    assertThatThrownBy(() -> config.ids().remove(1L))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void halvesAreOrdered() {
    JointConfig forward = joint("1 2 3 && 1 2 4");
    JointConfig backward = joint("1 2 4 && 1 2 3");

    assertThat(forward).isNotEqualTo(backward);
    assertThat(forward).isEqualTo(joint("3 2 1 && 4 2 1")).hasSameHashCodeAs(joint("1 2 3&&1 2 4"));
  }

  @Test
  void emptyIncomingIsStillJoint() {
    JointConfig config = joint("&& 1 2");

    assertThat(config.isJoint()).isTrue();
    assertThat(config).hasToString("()&&(1 2)");
  }

  @Test
  void emptyConfigCommitsNothing() {
    assertThat(JointConfig.of()).isEqualTo(JointConfig.EMPTY);
    assertThat(JointConfig.EMPTY.isJoint()).isFalse();
    assertThat(JointConfig.EMPTY.ids()).isEmpty();
    assertThat(JointConfig.EMPTY).hasToString("()");
    // Unlike an empty MajorityConfig (MAX_VALUE, the identity of min), no voters commit nothing.
    assertThat(JointConfig.EMPTY.committedIndex(id -> 5)).isZero();
    assertThat(JointConfig.EMPTY.voteResult(Map.of())).isEqualTo(VoteResult.WON);
  }

  @Test
  void rejectsNullHalves() {
    assertThatThrownBy(() -> new JointConfig(null, MajorityConfig.EMPTY))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> new JointConfig(MajorityConfig.EMPTY, null))
        .isInstanceOf(NullPointerException.class);
  }

  @ParameterizedTest(name = "{0} acked [{1}] -> {2}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          # config              | acked                       | committed
                                | 1:5                         | 0
          1 2 3                 | 1:5 2:4 3:3                 | 4
          1 2 3 && 1 2 3        | 1:5 2:4 3:3                 | 4
          1 2 3 && 1 2 4        | 1:5 2:4 3:3 4:2             | 4
          # The old majority lags behind the new one and bounds the commit.
          1 2 3 && 1 2 4        | 1:5 2:1 3:5 4:1             | 1
          1 2 3 && 4 5 6        | 1:9 2:9 3:9 4:2 5:3 6:1     | 2
          1 2 3 && 4 5 6        | 1:1 2:2 3:3 4:9 5:9 6:9     | 2
          1 && 2                | 1:5 2:7                     | 5
          && 1 2 3              | 1:5 2:6 3:7                 | 6
          1 2 3 4 5 && 1 2 3    | 1:9 4:9 5:9                 | 0
          1 2 3 4 5 && 1 2 3    | 1:9 2:9 4:9 5:9             | 9
          1 2 3 && 1            | 2:9 3:9                     | 0
          1 2 3 && 1            | 1:4 2:9 3:9                 | 4
          """)
  void committedIndex(String config, String acked, long committed) {
    assertThat(joint(config).committedIndex(indexer(acked(acked)))).isEqualTo(committed);
  }

  @Test
  void committedIndexDoesNotAllocate() {
    JointConfig config = joint("1 2 3 4 5 && 3 4 5 6 7");
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
    assertThat(bytes).as("bytes allocated by 100,000 calls").isLessThan(4096);
  }

  @ParameterizedTest(name = "{0} votes [{1}] -> {2}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          # config              | votes                       | result
                                |                             | WON
          1 2 3                 | 1:y 2:y                     | WON
          1 2 3 && 1 2 3        | 1:y 2:y                     | WON
          # A voter in both halves casts one vote that counts in each.
          1 2 3 && 1 2 4        | 1:y 2:y                     | WON
          1 2 3 && 1 2 4        | 1:y 3:y                     | PENDING
          1 2 3 && 1 2 4        | 1:y 3:y 4:y                 | WON
          1 2 3 && 1 2 4        | 1:y 3:y 2:n 4:n             | LOST
          1 2 3 && 4 5 6        | 1:y 2:y 3:y                 | PENDING
          1 2 3 && 4 5 6        | 1:y 2:y 4:y 5:y             | WON
          1 2 3 && 4 5 6        | 1:y 2:y 4:n 5:n             | LOST
          1 2 3 && 4 5 6        | 1:n 2:n 4:y 5:y 6:y         | LOST
          1 2 3 && 4 5 6        | 1:y 4:y 7:y 8:y 9:y         | PENDING
          && 1 2                | 1:y 2:y                     | WON
          && 1 2                | 1:y                         | PENDING
          1 && 2                | 1:y 2:n                     | LOST
          1 && 2                | 1:y                         | PENDING
          1 2 3 4 && 1 2 3      | 1:y 2:y 4:y                 | WON
          1 2 3 4 && 1 2 3      | 1:y 4:y 5:y                 | PENDING
          """)
  void voteResult(String config, String votes, VoteResult result) {
    assertThat(joint(config).voteResult(votes(votes))).isEqualTo(result);
  }
}
