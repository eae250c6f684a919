package io.tern.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.tern.api.ClusterGrpc;
import io.tern.api.KVGrpc;
import io.tern.api.MaintenanceGrpc;
import io.tern.api.Member;
import io.tern.api.MemberAddRequest;
import io.tern.api.MemberAddResponse;
import io.tern.api.MemberListRequest;
import io.tern.api.MemberPromoteRequest;
import io.tern.api.MemberRemoveRequest;
import io.tern.api.MoveLeaderRequest;
import io.tern.api.PutRequest;
import io.tern.api.RangeRequest;
import io.tern.api.SnapshotRequest;
import io.tern.api.SnapshotResponse;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Membership changes, leader moves, snapshots and restarts, through the gRPC API. */
class MembershipTest {
  @TempDir Path dir;

  @Test
  void learnerJoinsIsPromotedAndRemovedThroughAFollower() throws Exception {
    try (TestCluster cluster = TestCluster.start(dir, 3, b -> {})) {
      int leader = cluster.awaitLeader(Duration.ofSeconds(20));
      int follower = cluster.other(leader);
      awaitPublished(cluster, follower, 3);
      kv(cluster, leader)
          .put(PutRequest.newBuilder().setKey(bs("before")).setValue(bs("1")).build());

      int clientPort = TestCluster.freePort();
      int peerPort = TestCluster.freePort();
      String peerUrl = "http://127.0.0.1:" + peerPort;
      MemberAddResponse added =
          cluster(cluster, follower)
              .memberAdd(
                  MemberAddRequest.newBuilder().addPeerURLs(peerUrl).setIsLearner(true).build());
      long newId = added.getMember().getID();
      assertThat(added.getMember().getIsLearner()).isTrue();
      assertThat(added.getMembersList()).hasSize(4).anyMatch(m -> m.getID() == newId);
      // The member that accepted the change (and forwarded it) already lists it from its own table.
      assertThat(localList(cluster, follower)).hasSize(4).anyMatch(m -> m.getID() == newId);

      StringBuilder initial = new StringBuilder();
      for (int i = 0; i < 3; i++) {
        initial
            .append(cluster.config(i).name())
            .append('=')
            .append(cluster.config(i).listenPeerUrl())
            .append(',');
      }
      initial.append("m3=").append(peerUrl);
      int joined =
          cluster.add(
              ServerConfig.builder()
                  .name("m3")
                  .dataDir(dir.resolve("m3"))
                  .listenClientUrls("http://127.0.0.1:" + clientPort)
                  .listenPeerUrls(peerUrl)
                  .initialCluster(initial.toString())
                  .initialClusterState("existing")
                  .initialClusterToken(cluster.config(0).initialClusterToken())
                  .heartbeatMillis(50)
                  .electionMillis(500)
                  .build());
      assertThat(cluster.server(joined).memberId()).isEqualTo(newId);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (kv(cluster, joined)
              .range(RangeRequest.newBuilder().setKey(bs("before")).setSerializable(true).build())
              .getKvsCount()
          == 0) {
        assertThat(System.nanoTime()).as("the learner caught up in time").isLessThan(deadline);
        Thread.sleep(50);
      }

      while (true) {
        try {
          cluster(cluster, follower)
              .memberPromote(MemberPromoteRequest.newBuilder().setID(newId).build());
          break;
        } catch (StatusRuntimeException e) {
          assertThat(System.nanoTime()).as("promoted in time: " + e).isLessThan(deadline);
          Thread.sleep(100);
        }
      }
      List<Member> members = list(cluster, leader);
      assertThat(members).hasSize(4).allMatch(m -> !m.getIsLearner());
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (cluster.server(joined).clusterId() != cluster.server(0).clusterId()) {
        assertThat(System.nanoTime())
            .as("the new member learned the cluster id")
            .isLessThan(deadline);
        Thread.sleep(50);
      }
      awaitPublished(cluster, leader, 4);

      cluster(cluster, follower)
          .memberRemove(MemberRemoveRequest.newBuilder().setID(newId).build());
      assertThat(list(cluster, leader)).hasSize(3).noneMatch(m -> m.getID() == newId);
      assertThat(localList(cluster, follower)).hasSize(3).noneMatch(m -> m.getID() == newId);
      kv(cluster, follower)
          .put(PutRequest.newBuilder().setKey(bs("after")).setValue(bs("2")).build());
    }
  }

  @Test
  void moveLeaderSnapshotAndRestartWithOtherInitialFlags() throws Exception {
    try (TestCluster cluster = TestCluster.start(dir, 3, b -> {})) {
      int leader = cluster.awaitLeader(Duration.ofSeconds(20));
      int follower = cluster.other(leader);
      int target = 3 - leader - follower;
      awaitPublished(cluster, follower, 3);
      kv(cluster, follower).put(PutRequest.newBuilder().setKey(bs("k")).setValue(bs("v")).build());

      MoveLeaderRequest toTarget =
          MoveLeaderRequest.newBuilder().setTargetID(cluster.server(target).memberId()).build();
      // Like etcd, a follower refuses rather than forwarding.
      assertThatThrownBy(
              () ->
                  MaintenanceGrpc.newBlockingStub(cluster.channel(follower))
                      .withDeadlineAfter(15, TimeUnit.SECONDS)
                      .moveLeader(toTarget))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                assertThat(e.getStatus().getDescription()).isEqualTo("etcdserver: not leader");
              });
      MaintenanceGrpc.newBlockingStub(cluster.channel(leader))
          .withDeadlineAfter(15, TimeUnit.SECONDS)
          .moveLeader(toTarget);
      assertThat(cluster.awaitLeader(Duration.ofSeconds(10))).isEqualTo(target);

      ByteArrayOutputStream snapshot = new ByteArrayOutputStream();
      Iterator<SnapshotResponse> chunks =
          MaintenanceGrpc.newBlockingStub(cluster.channel(follower))
              .withDeadlineAfter(15, TimeUnit.SECONDS)
              .snapshot(SnapshotRequest.getDefaultInstance());
      SnapshotResponse first = chunks.next();
      assertThat(first.getHeader().getRevision()).isPositive();
      long remaining = first.getRemainingBytes();
      first.getBlob().writeTo(snapshot);
      while (chunks.hasNext()) {
        SnapshotResponse r = chunks.next();
        assertThat(r.getRemainingBytes()).isLessThan(remaining);
        remaining = r.getRemainingBytes();
        r.getBlob().writeTo(snapshot);
      }
      assertThat(remaining).isZero();
      assertThat(snapshot.size()).isPositive();
      // etcd's layout, which etcdctl checks: a multiple of 512 bytes, then their SHA-256.
      byte[] bytes = snapshot.toByteArray();
      assertThat(bytes.length % 512).isEqualTo(32);
      byte[] body = Arrays.copyOf(bytes, bytes.length - 32);
      assertThat(Arrays.copyOfRange(bytes, body.length, bytes.length))
          .isEqualTo(MessageDigest.getInstance("SHA-256").digest(body));
      assertThat(new String(body, 0, 8, UTF_8)).isEqualTo("TERNKV01");

      long id = cluster.server(follower).memberId();
      // A restart ignores --initial-*: this cluster and state would make a different member.
      cluster.restart(
          follower,
          b ->
              b.initialCluster(cluster.config(follower).name() + "=http://127.0.0.1:1")
                  .initialAdvertisePeerUrls("http://127.0.0.1:1")
                  .initialClusterState("existing"));
      assertThat(cluster.server(follower).memberId()).isEqualTo(id);
      cluster.awaitLeader(Duration.ofSeconds(20));
      assertThat(
              kv(cluster, follower)
                  .range(RangeRequest.newBuilder().setKey(bs("k")).build())
                  .getKvs(0)
                  .getValue())
          .isEqualTo(bs("v"));
      kv(cluster, follower)
          .put(PutRequest.newBuilder().setKey(bs("k2")).setValue(bs("v2")).build());
    }
  }

  /** server-bugs CLI-1: like etcd, a learner that never caught up is not promoted. */
  @Test
  void promotingALearnerThatNeverStartedIsRefused() throws Exception {
    try (TestCluster cluster = TestCluster.start(dir, 3, b -> {})) {
      int leader = cluster.awaitLeader(Duration.ofSeconds(20));
      int follower = cluster.other(leader);
      awaitPublished(cluster, follower, 3);
      String peerUrl = "http://127.0.0.1:" + TestCluster.freePort();
      long newId =
          cluster(cluster, follower)
              .memberAdd(
                  MemberAddRequest.newBuilder().addPeerURLs(peerUrl).setIsLearner(true).build())
              .getMember()
              .getID();

      for (int member : List.of(follower, leader)) {
        assertThatThrownBy(
                () ->
                    cluster(cluster, member)
                        .memberPromote(MemberPromoteRequest.newBuilder().setID(newId).build()))
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> {
                  assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                  assertThat(e.getStatus().getDescription())
                      .isEqualTo(
                          "etcdserver: can only promote a learner member which is in sync with"
                              + " leader");
                });
      }
      assertThat(list(cluster, leader))
          .hasSize(4)
          .filteredOn(m -> m.getID() == newId)
          .singleElement()
          .satisfies(m -> assertThat(m.getIsLearner()).isTrue());

      // Still a 3-voter cluster: it keeps its quorum with one more member stopped.
      cluster(cluster, follower)
          .memberRemove(MemberRemoveRequest.newBuilder().setID(newId).build());
      cluster.stop(3 - leader - follower);
      kv(cluster, follower).put(PutRequest.newBuilder().setKey(bs("k")).setValue(bs("v")).build());
    }
  }

  @Test
  void withoutAQuorumWritesFailWithNoLeader() throws Exception {
    try (TestCluster cluster = TestCluster.start(dir, 3, b -> {})) {
      int leader = cluster.awaitLeader(Duration.ofSeconds(20));
      int survivor = cluster.other(leader);
      cluster.stop(leader);
      cluster.stop(3 - leader - survivor);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (cluster.server(survivor).raft().leader() != 0) {
        assertThat(System.nanoTime()).as("the leader is gone").isLessThan(deadline);
        Thread.sleep(50);
      }
      assertThatThrownBy(
              () ->
                  kv(cluster, survivor)
                      .put(PutRequest.newBuilder().setKey(bs("k")).setValue(bs("v")).build()))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(e.getStatus().getDescription()).isEqualTo("etcdserver: no leader");
              });
      // Serializable reads are still served locally.
      assertThat(
              kv(cluster, survivor)
                  .range(RangeRequest.newBuilder().setKey(bs("k")).setSerializable(true).build())
                  .getKvsCount())
          .isZero();
    }
  }

  private static void awaitPublished(TestCluster cluster, int member, int count)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      List<Member> members = list(cluster, member);
      if (members.size() == count && members.stream().allMatch(m -> m.getClientURLsCount() > 0)) {
        return;
      }
      assertThat(System.nanoTime()).as("members published: " + members).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  /** MemberList served from the member's own table, without a ReadIndex round. */
  private static List<Member> localList(TestCluster cluster, int member) {
    return cluster(cluster, member)
        .memberList(MemberListRequest.newBuilder().setLinearizable(false).build())
        .getMembersList();
  }

  private static List<Member> list(TestCluster cluster, int member) {
    return cluster(cluster, member)
        .memberList(MemberListRequest.newBuilder().setLinearizable(true).build())
        .getMembersList();
  }

  private static ClusterGrpc.ClusterBlockingStub cluster(TestCluster cluster, int i) {
    return ClusterGrpc.newBlockingStub(cluster.channel(i)).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private static KVGrpc.KVBlockingStub kv(TestCluster cluster, int i) {
    return KVGrpc.newBlockingStub(cluster.channel(i)).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static ByteString bs(String s) {
    return ByteString.copyFrom(s, UTF_8);
  }
}
