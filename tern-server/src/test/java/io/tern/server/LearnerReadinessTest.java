package io.tern.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.tern.embed.ServerStatus;
import io.tern.raft.core.Role;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The leader's check before promoting a learner: at least 90% of the leader's log, like etcd. */
class LearnerReadinessTest {
  private static final long LEADER = 1;
  private static final long LEARNER = 4;

  private static ServerStatus leaderWith(Map<Long, Long> match) {
    return new ServerStatus(
        LEADER,
        Role.LEADER,
        3,
        LEADER,
        1000,
        1000,
        1000,
        0,
        match,
        Set.of(LEADER, 2L, 3L),
        Set.of(LEARNER),
        false);
  }

  @Test
  void aLearnerWithNinetyPercentOfTheLeadersLogIsReady() {
    assertThatCode(
            () ->
                ClusterService.requireInSync(
                    leaderWith(Map.of(LEADER, 1000L, 2L, 1000L, LEARNER, 900L)), LEARNER))
        .doesNotThrowAnyException();
  }

  @Test
  void aLearnerBehindOrUnknownIsNotReady() {
    for (Map<Long, Long> match :
        List.of(
            Map.of(LEADER, 1000L, LEARNER, 899L),
            Map.of(LEADER, 20L, LEARNER, 0L),
            Map.of(LEADER, 1000L))) {
      assertThatThrownBy(() -> ClusterService.requireInSync(leaderWith(match), LEARNER))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION));
    }
  }

  @Test
  void aMemberThatLostLeadershipSaysSo() {
    ServerStatus follower =
        new ServerStatus(
            LEADER,
            Role.FOLLOWER,
            3,
            2,
            1000,
            1000,
            1000,
            0,
            Map.of(),
            Set.of(LEADER, 2L, 3L),
            Set.of(LEARNER),
            false);
    assertThatThrownBy(() -> ClusterService.requireInSync(follower, LEARNER))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }
}
