package io.tern.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.tern.api.ClusterGrpc;
import io.tern.api.InternalRequest;
import io.tern.api.KVGrpc;
import io.tern.api.MaintenanceGrpc;
import io.tern.api.Member;
import io.tern.api.MemberAddRequest;
import io.tern.api.MemberAttributes;
import io.tern.api.MemberListRequest;
import io.tern.api.MemberPromoteRequest;
import io.tern.api.MemberRemove;
import io.tern.api.MemberRemoveRequest;
import io.tern.api.PutRequest;
import io.tern.api.RangeRequest;
import io.tern.api.StatusRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The member table and the Raft configuration are changed by separate log entries; when they part,
 * the leader makes the table follow Raft (MemberReconciler), and the Cluster calls that would
 * otherwise be refused forever (promote a learner Raft already made a voter, remove a member Raft
 * does not have) complete.
 */
class MemberTableRepairTest {
  @TempDir Path dir;

  /**
   * Chaos run seed 1 (twice): a new learner published its name and client URLs with a {@code
   * member_put} of its whole entry, read while it was still a learner and applied after its
   * promotion, so the table named a Raft voter a learner for good: the harness's promotions were
   * then refused as "not in sync" (Raft: already a voter) until it gave up waiting for every member
   * as a voter. The stale write is replayed here as the learner's publisher sent it.
   */
  @Test
  void aPromotionUndoneByAStaleTableWriteIsRepaired() throws Exception {
    try (TestCluster cluster = TestCluster.start(dir, 3, b -> {})) {
      int leader = cluster.awaitLeader(Duration.ofSeconds(20));
      int joined = joinLearner(cluster, leader);
      long id = cluster.server(joined).memberId();
      MemberAttributes beforePromotion =
          awaitEntry(cluster, leader, id, m -> m.getClientUrlsCount() > 0);
      assertThat(beforePromotion.getIsLearner()).isTrue();
      promote(cluster, leader, id);
      awaitEntry(cluster, leader, id, m -> !m.getIsLearner());

      cluster
          .server(joined)
          .writeRaw(InternalRequest.newBuilder().setMemberPut(beforePromotion))
          .get(10, TimeUnit.SECONDS);

      // A promotion asked now either records the voter Raft already has, or finds it recorded;
      // never "not in sync" (Raft refusing to promote a voter), which is what it answered forever.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (true) {
        try {
          cluster(cluster, leader)
              .memberPromote(MemberPromoteRequest.newBuilder().setID(id).build());
          break;
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) { // UNAVAILABLE: leader moved
            assertThat(e.getStatus().getDescription()).isEqualTo(GrpcErrors.NOT_LEARNER);
            break;
          }
          assertThat(System.nanoTime()).as("promote answered in time: " + e).isLessThan(deadline);
          Thread.sleep(100);
        }
      }
      for (int i = 0; i < cluster.size(); i++) {
        awaitList(
            cluster,
            i,
            l -> l.size() == 4 && l.stream().noneMatch(Member::getIsLearner),
            "every member a voter");
      }
      assertThat(status(cluster, joined).getIsLearner()).isFalse();
    }
  }

  /** Raft's learner flag is what Status reports, whatever the table says. */
  @Test
  void statusReportsTheRaftConfigurationsLearnerFlag() throws Exception {
    try (TestCluster cluster = TestCluster.start(dir, 3, b -> {})) {
      int leader = cluster.awaitLeader(Duration.ofSeconds(20));
      int joined = joinLearner(cluster, leader);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!status(cluster, joined).getIsLearner()) {
        assertThat(System.nanoTime()).as("the learner knows it is one").isLessThan(deadline);
        Thread.sleep(50);
      }
      assertThat(status(cluster, leader).getIsLearner()).isFalse();
    }
  }

  /** A table entry without a Raft member (an add whose Raft step failed, a stale write). */
  @Test
  void aTableEntryRaftDoesNotKnowCanBeRemovedAndIsDroppedOtherwise() throws Exception {
    try (TestCluster cluster = TestCluster.start(dir, 3, b -> {})) {
      int leader = cluster.awaitLeader(Duration.ofSeconds(20));
      awaitList(cluster, leader, l -> l.size() == 3, "the initial members recorded");
      long removable = 0x1234_5678L;
      long stale = 0x2345_6789L;
      for (long id : List.of(removable, stale)) {
        cluster
            .server(leader)
            .writeRaw(
                InternalRequest.newBuilder()
                    .setMemberPut(
                        MemberAttributes.newBuilder()
                            .setId(id)
                            .setName("ghost")
                            .addPeerUrls("http://127.0.0.1:" + TestCluster.freePort())))
            .get(10, TimeUnit.SECONDS);
      }
      int follower = cluster.other(leader);
      cluster(cluster, follower)
          .memberRemove(MemberRemoveRequest.newBuilder().setID(removable).build());
      awaitList(
          cluster,
          follower,
          l -> l.stream().noneMatch(m -> m.getID() == removable),
          "the removed entry gone");
      awaitList(cluster, follower, l -> l.size() == 3, "the stale entry dropped");
      kv(cluster, follower).put(PutRequest.newBuilder().setKey(bs("k")).setValue(bs("v")).build());
    }
  }

  /** A Raft member whose table entry was lost (a removal whose Raft step never happened). */
  @Test
  void aRaftMemberMissingFromTheTableGetsItsEntryBack() throws Exception {
    try (TestCluster cluster = TestCluster.start(dir, 3, b -> {})) {
      int leader = cluster.awaitLeader(Duration.ofSeconds(20));
      awaitList(
          cluster,
          leader,
          l -> l.size() == 3 && l.stream().allMatch(m -> m.getClientURLsCount() > 0),
          "the members published");
      int follower = cluster.other(leader);
      long id = cluster.server(follower).memberId();
      cluster
          .server(leader)
          .writeRaw(
              InternalRequest.newBuilder().setMemberRemove(MemberRemove.newBuilder().setId(id)))
          .get(10, TimeUnit.SECONDS);
      List<Member> back =
          awaitList(
              cluster,
              leader,
              l -> l.stream().anyMatch(m -> m.getID() == id && m.getClientURLsCount() > 0),
              "the member listed again");
      assertThat(back)
          .filteredOn(m -> m.getID() == id)
          .singleElement()
          .satisfies(
              m -> {
                assertThat(m.getName()).isEqualTo(cluster.config(follower).name());
                assertThat(m.getPeerURLsList())
                    .containsExactly(cluster.config(follower).listenPeerUrl().toString());
                assertThat(m.getIsLearner()).isFalse();
              });
    }
  }

  // ---------------------------------------------------------------- helpers

  /** Adds a learner through the leader and starts it; returns it once it holds the data. */
  private int joinLearner(TestCluster cluster, int leader) throws Exception {
    awaitList(
        cluster,
        leader,
        l -> l.size() == 3 && l.stream().allMatch(m -> m.getClientURLsCount() > 0),
        "the members published");
    kv(cluster, leader).put(PutRequest.newBuilder().setKey(bs("before")).setValue(bs("1")).build());
    String peerUrl = "http://127.0.0.1:" + TestCluster.freePort();
    cluster(cluster, leader)
        .memberAdd(MemberAddRequest.newBuilder().addPeerURLs(peerUrl).setIsLearner(true).build());
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
                .listenClientUrls("http://127.0.0.1:" + TestCluster.freePort())
                .listenPeerUrls(peerUrl)
                .initialCluster(initial.toString())
                .initialClusterState("existing")
                .initialClusterToken(cluster.config(0).initialClusterToken())
                .heartbeatMillis(50)
                .electionMillis(500)
                .build());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (kv(cluster, joined)
            .range(RangeRequest.newBuilder().setKey(bs("before")).setSerializable(true).build())
            .getKvsCount()
        == 0) {
      assertThat(System.nanoTime()).as("the learner caught up in time").isLessThan(deadline);
      Thread.sleep(50);
    }
    return joined;
  }

  private static void promote(TestCluster cluster, int via, long id) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      try {
        cluster(cluster, via).memberPromote(MemberPromoteRequest.newBuilder().setID(id).build());
        return;
      } catch (StatusRuntimeException e) {
        assertThat(System.nanoTime()).as("promoted in time: " + e).isLessThan(deadline);
        Thread.sleep(100);
      }
    }
  }

  private static MemberAttributes awaitEntry(
      TestCluster cluster, int member, long id, Predicate<MemberAttributes> done)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      MemberAttributes m = cluster.server(member).member(id).orElse(null);
      if (m != null && done.test(m)) {
        return m;
      }
      assertThat(System.nanoTime()).as("member entry " + m).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  private static List<Member> awaitList(
      TestCluster cluster, int member, Predicate<List<Member>> done, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      List<Member> members =
          cluster(cluster, member)
              .memberList(MemberListRequest.newBuilder().setLinearizable(true).build())
              .getMembersList();
      if (done.test(members)) {
        return members;
      }
      assertThat(System.nanoTime()).as(what + ": " + members).isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  private static io.tern.api.StatusResponse status(TestCluster cluster, int i) {
    return MaintenanceGrpc.newBlockingStub(cluster.channel(i))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .status(StatusRequest.getDefaultInstance());
  }

  private static ClusterGrpc.ClusterBlockingStub cluster(TestCluster cluster, int i) {
    return ClusterGrpc.newBlockingStub(cluster.channel(i)).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private static KVGrpc.KVBlockingStub kv(TestCluster cluster, int i) {
    return KVGrpc.newBlockingStub(cluster.channel(i)).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private static ByteString bs(String s) {
    return ByteString.copyFrom(s, UTF_8);
  }
}
