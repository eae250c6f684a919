package io.tern.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.node.NodeOptions;
import io.tern.transport.TransportOptions;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class RaftServerOptionsTest {
  private static final InetSocketAddress A1 = new InetSocketAddress("127.0.0.1", 7001);
  private static final InetSocketAddress A2 = new InetSocketAddress("127.0.0.1", 7002);
  private static final InetSocketAddress A3 = new InetSocketAddress("127.0.0.1", 7003);

  private static RaftServerOptions.Builder valid() {
    return RaftServerOptions.builder(1)
        .dataDir(Path.of("data", "1"))
        .raftAddress(A1)
        .initialVoter(1, A1)
        .initialVoter(2, A2)
        .initialVoter(3, A3);
  }

  private static void rejected(UnaryOperator<RaftServerOptions.Builder> change, String message) {
    assertThatThrownBy(() -> change.apply(valid()).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  @Test
  void defaults() {
    RaftServerOptions o = valid().build();
    assertThat(o.memberId()).isEqualTo(1);
    assertThat(o.join()).isFalse();
    assertThat(o.tickMillis()).isEqualTo(100);
    assertThat(o.electionTicks()).isEqualTo(10);
    assertThat(o.heartbeatTicks()).isEqualTo(1);
    assertThat(o.preVote()).isTrue();
    assertThat(o.checkQuorum()).isTrue();
    assertThat(o.leaseRead()).isFalse();
    assertThat(o.snapshotEntries()).isEqualTo(10_000);
    assertThat(o.snapshotTrailingEntries()).isEqualTo(5_000);
    assertThat(o.snapshotChunkBytes()).isEqualTo(1 << 20);
    assertThat(o.requestTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(o.transport()).isEqualTo(TransportOptions.defaults());
    assertThat(o.initialVoters()).containsOnlyKeys(1L, 2L, 3L);
    assertThat(o.peerAddresses()).containsOnlyKeys(2L, 3L).containsEntry(2L, A2);
  }

  @Test
  void derivesTheDriverOptions() {
    RaftServerOptions o =
        valid()
            .tickMillis(20)
            .electionTicks(15)
            .heartbeatTicks(3)
            .preVote(false)
            .leaseRead(true)
            .snapshotEntries(50)
            .snapshotTrailingEntries(7)
            .snapshotChunkBytes(4096)
            .requestTimeout(Duration.ofMillis(1500))
            .build();
    NodeOptions n = o.toNodeOptions();
    assertThat(n.raft().id()).isEqualTo(1);
    assertThat(n.raft().electionTicks()).isEqualTo(15);
    assertThat(n.raft().heartbeatTicks()).isEqualTo(3);
    assertThat(n.raft().preVote()).isFalse();
    assertThat(n.raft().checkQuorum()).isTrue();
    assertThat(n.raft().leaseRead()).isTrue();
    assertThat(n.initialVoters()).containsExactlyInAnyOrder(1L, 2L, 3L);
    assertThat(n.tickNanos()).isEqualTo(20_000_000L);
    assertThat(n.requestTimeoutNanos()).isEqualTo(1_500_000_000L);
    assertThat(n.snapshotEntries()).isEqualTo(50);
    assertThat(n.snapshotTrailingEntries()).isEqualTo(7);
    assertThat(n.snapshotChunkBytes()).isEqualTo(4096);
  }

  @Test
  void isImmutable() {
    Map<Long, InetSocketAddress> voters = new HashMap<>(Map.of(1L, A1, 2L, A2));
    RaftServerOptions o = valid().initialVoters(voters).build();
    voters.put(3L, A3);
    assertThat(o.initialVoters()).containsOnlyKeys(1L, 2L);
    assertThatThrownBy(() -> o.initialVoters().put(4L, A3))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(o.toBuilder().build()).isEqualTo(o);
  }

  @Test
  void aJoiningMemberListsTheExistingMembersOnly() {
    RaftServerOptions o =
        RaftServerOptions.builder(4)
            .dataDir(Path.of("d4"))
            .raftAddress(new InetSocketAddress("127.0.0.1", 0))
            .initialVoters(Map.of(1L, A1, 2L, A2))
            .join(true)
            .build();
    assertThat(o.join()).isTrue();
    assertThat(o.peerAddresses()).containsOnlyKeys(1L, 2L);
    assertThat(o.toNodeOptions().initialVoters()).containsExactlyInAnyOrder(1L, 2L);

    rejected(b -> b.join(true), "joining member (1) starts outside the configuration");
  }

  @Test
  void aNewClusterMustIncludeThisMember() {
    rejected(b -> b.initialVoters(Map.of(2L, A2, 3L, A3)), "must include this member 1");
  }

  @Test
  void requiredFields() {
    rejected(b -> b.dataDir(null), "dataDir is required");
    rejected(b -> b.raftAddress(null), "raftAddress is required");
    rejected(b -> b.initialVoters(null), "initialVoters is required");
    rejected(b -> b.initialVoters(Map.of()), "initialVoters must not be empty");
    rejected(b -> b.requestTimeout(null), "requestTimeout is required");
    rejected(b -> b.transport(null), "transport is required");
  }

  @Test
  void memberIds() {
    assertThatThrownBy(() -> RaftServerOptions.builder(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("memberId must be positive");
    assertThatThrownBy(() -> RaftServerOptions.builder(-3).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("memberId must be positive");
    rejected(b -> b.initialVoter(0, A2), "member ids must be positive");
    rejected(b -> b.initialVoter(-2, A2), "member ids must be positive");
    rejected(b -> b.initialVoter(2, null), "member 2 has no address");
  }

  @Test
  void timing() {
    rejected(b -> b.tickMillis(0), "tickMillis must be >= 1");
    rejected(b -> b.tickMillis(Long.MAX_VALUE), "tickMillis is too large");
    rejected(b -> b.heartbeatTicks(0), "heartbeatTicks must be >= 1");
    rejected(b -> b.electionTicks(1), "must exceed heartbeatTicks");
    rejected(b -> b.electionTicks(5).heartbeatTicks(5), "must exceed heartbeatTicks");
    // The core keeps a lease drift margin of 2 ticks below the election timeout.
    rejected(b -> b.electionTicks(2), "electionTicks must be at least 3");
    assertThat(valid().electionTicks(3).build().electionTicks()).isEqualTo(3);
    rejected(b -> b.requestTimeout(Duration.ZERO), "requestTimeout must be positive");
    rejected(b -> b.requestTimeout(Duration.ofMillis(-1)), "requestTimeout must be positive");
    rejected(b -> b.requestTimeout(Duration.ofDays(2)), "requestTimeout must be at most");
  }

  @Test
  void reads() {
    rejected(b -> b.leaseRead(true).checkQuorum(false), "leaseRead requires checkQuorum");
    assertThat(valid().leaseRead(true).build().leaseRead()).isTrue();
  }

  @Test
  void snapshots() {
    rejected(b -> b.snapshotEntries(-1), "snapshotEntries must be >= 0");
    rejected(b -> b.snapshotTrailingEntries(-1), "snapshotTrailingEntries must be >= 0");
    rejected(b -> b.snapshotChunkBytes(0), "snapshotChunkBytes must be in");
    int max = TransportOptions.defaults().maxMessageBytes() - TransportOptions.MIN_MESSAGE_BYTES;
    assertThat(valid().snapshotChunkBytes(max).build().snapshotChunkBytes()).isEqualTo(max);
    rejected(b -> b.snapshotChunkBytes(max + 1), "snapshotChunkBytes must be in");
    TransportOptions small =
        TransportOptions.builder().maxMessageBytes(64 << 10).maxBatchBytes(64 << 10).build();
    rejected(b -> b.transport(small), "snapshotChunkBytes must be in [1, " + (60 << 10) + "]");
    assertThat(valid().snapshotEntries(0).build().snapshotEntries()).isZero();
  }
}
