package io.tern.compat;

import static io.tern.compat.Await.assertFails;
import static io.tern.compat.Await.result;
import static io.tern.compat.CompatSession.bytes;
import static io.tern.compat.CompatSession.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Maintenance;
import io.etcd.jetcd.api.AlarmRequest;
import io.etcd.jetcd.api.AlarmType;
import io.etcd.jetcd.api.MaintenanceGrpc;
import io.etcd.jetcd.api.SnapshotRequest;
import io.etcd.jetcd.api.SnapshotResponse;
import io.etcd.jetcd.maintenance.AlarmMember;
import io.etcd.jetcd.maintenance.HashKVResponse;
import io.etcd.jetcd.maintenance.StatusResponse;
import io.etcd.jetcd.options.CompactOption;
import io.etcd.jetcd.options.DeleteOption;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Maintenance service: Status, Snapshot, MoveLeader, HashKV, Defragment, Alarm. */
class MaintenanceCompatTest {
  @RegisterExtension static final SharedCluster CLUSTER = new SharedCluster();

  private CompatSession cluster;
  private KV kv;

  @BeforeEach
  void setUp() {
    cluster = CLUSTER.get();
    kv = cluster.client().getKVClient();
  }

  @Test
  void statusDescribesEachMember() {
    long rev = result(kv.put(bytes(unique("status") + "k"), bytes("v"))).getHeader().getRevision();
    Set<Long> ids = new HashSet<>();
    for (int i = 0; i < cluster.fixture().clientUrls().size(); i++) {
      long memberId = cluster.memberId(i);
      ids.add(memberId);
      Maintenance maintenance = cluster.client(i).getMaintenanceClient();
      String member = target(i);
      StatusResponse status =
          Await.poll(
              "member " + i + " to apply revision " + rev,
              Duration.ofSeconds(10),
              () -> result(maintenance.statusMember(member)),
              s -> s.getHeader().getRevision() >= rev);

      assertThat(status.getHeader().getMemberId()).isEqualTo(memberId);
      assertThat(status.getVersion()).isNotBlank();
      assertThat(status.getDbSize()).isPositive();
      assertThat(status.getDbSizeInUse()).isPositive().isLessThanOrEqualTo(status.getDbSize());
      assertThat(status.getRaftTerm()).isPositive().isEqualTo(status.getHeader().getRaftTerm());
      assertThat(status.getRaftIndex()).isPositive();
      assertThat(status.getRaftAppliedIndex()).isPositive();
      assertThat(status.isLearner()).isFalse();
      assertThat(status.getErrorList()).isEmpty();
    }
    // Members agree on the leader (once any election of an earlier test has settled).
    Await.until(
        "every member to name the same leader",
        Duration.ofSeconds(10),
        () -> {
          Set<Long> named = new HashSet<>();
          for (int i = 0; i < cluster.fixture().clientUrls().size(); i++) {
            named.add(
                result(cluster.client(i).getMaintenanceClient().statusMember(target(i)))
                    .getLeader());
          }
          return named.size() == 1 && ids.containsAll(named);
        });
  }

  @Test
  void snapshotStreamsAConsistentCopyOfTheStore() {
    byte[] marker = new byte[512];
    new Random(42).nextBytes(marker);
    result(kv.put(bytes(unique("snapshot") + "k"), ByteSequence.from(marker)));

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long size = result(cluster.client(0).getMaintenanceClient().snapshot(out));

    assertThat(size).isEqualTo(out.size()).isPositive();
    assertThat(indexOf(out.toByteArray(), marker))
        .as("snapshot holds the value written")
        .isNotNegative();

    // On the wire: chunks with remaining_bytes counting down to 0.
    Iterator<SnapshotResponse> chunks =
        MaintenanceGrpc.newBlockingStub(cluster.channel(1))
            .withDeadlineAfter(Await.RPC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
            .snapshot(SnapshotRequest.getDefaultInstance());
    List<Long> remaining = new ArrayList<>();
    long streamed = 0;
    while (chunks.hasNext()) {
      SnapshotResponse chunk = chunks.next();
      remaining.add(chunk.getRemainingBytes());
      streamed += chunk.getBlob().size();
    }
    assertThat(remaining).isNotEmpty().isSortedAccordingTo((a, b) -> Long.compare(b, a));
    assertThat(remaining.get(remaining.size() - 1)).isZero();
    assertThat(streamed).isPositive();
  }

  @Test
  void moveLeaderHandsLeadershipToTheChosenMember() {
    int leader = cluster.leaderIndex();
    int follower = (leader + 1) % cluster.fixture().clientUrls().size();
    int target = (leader + 2) % cluster.fixture().clientUrls().size();
    long targetId = cluster.memberId(target);
    long termBefore =
        result(cluster.client(leader).getMaintenanceClient().statusMember(target(leader)))
            .getRaftTerm();

    // Only the leader can hand over leadership.
    assertFails(
        cluster.client(follower).getMaintenanceClient().moveLeader(targetId),
        Status.Code.FAILED_PRECONDITION,
        "etcdserver: not leader");
    assertFails(
        cluster.client(leader).getMaintenanceClient().moveLeader(0x7e57),
        Status.Code.FAILED_PRECONDITION,
        "etcdserver: bad leader transferee");

    result(cluster.client(leader).getMaintenanceClient().moveLeader(targetId));

    for (int i = 0; i < cluster.fixture().clientUrls().size(); i++) {
      Maintenance maintenance = cluster.client(i).getMaintenanceClient();
      String member = target(i);
      StatusResponse status =
          Await.poll(
              "member " + i + " to see the new leader",
              Duration.ofSeconds(15),
              () -> result(maintenance.statusMember(member)),
              s -> s.getLeader() == targetId);
      assertThat(status.getRaftTerm()).isGreaterThan(termBefore);
    }
    // The cluster still takes writes.
    result(kv.put(bytes(unique("move-leader") + "k"), bytes("v")));
  }

  @Test
  void hashKvAgreesOnEveryMemberAndChangesWithTheData() {
    long rev = result(kv.put(bytes(unique("hashkv") + "a"), bytes("1"))).getHeader().getRevision();

    List<HashKVResponse> hashes = hashesAt(rev);
    Set<Integer> distinct = new HashSet<>();
    hashes.forEach(h -> distinct.add(h.getHash()));
    assertThat(distinct).as("HashKV at revision %d on every member", rev).hasSize(1);
    assertThat(hashes)
        .extracting(HashKVResponse::getCompacted)
        .containsOnly(hashes.get(0).getCompacted());
    assertThat(hashes)
        .allSatisfy(h -> assertThat(h.getHeader().getRevision()).isGreaterThanOrEqualTo(rev));

    long rev2 = result(kv.put(bytes(unique("hashkv") + "b"), bytes("2"))).getHeader().getRevision();
    int later = result(cluster.client(0).getMaintenanceClient().hashKV(target(0), rev2)).getHash();
    int again = result(cluster.client(0).getMaintenanceClient().hashKV(target(0), rev)).getHash();
    assertThat(later).isNotEqualTo(hashes.get(0).getHash());
    assertThat(again).isEqualTo(hashes.get(0).getHash());
    // Revision 0 means the current revision.
    assertThat(result(cluster.client(0).getMaintenanceClient().hashKV(target(0), 0)).getHash())
        .isEqualTo(later);
  }

  @Test
  void defragmentKeepsTheDataAndReturnsFreedSpace() {
    String prefix = unique("defrag");
    byte[] value = new byte[64 * 1024];
    new Random(7).nextBytes(value);
    for (int i = 0; i < 32; i++) {
      result(kv.put(bytes(prefix + "junk/" + i), ByteSequence.from(value)));
    }
    result(kv.put(bytes(prefix + "kept"), bytes("v")));
    result(kv.delete(bytes(prefix + "junk/"), DeleteOption.builder().isPrefix(true).build()));
    long rev = result(kv.get(bytes(prefix + "kept"))).getHeader().getRevision();
    result(kv.compact(rev, CompactOption.builder().withCompactPhysical(true).build()));

    for (int i = 0; i < cluster.fixture().clientUrls().size(); i++) {
      Maintenance maintenance = cluster.client(i).getMaintenanceClient();
      StatusResponse before = result(maintenance.statusMember(target(i)));

      result(maintenance.defragmentMember(target(i)));

      StatusResponse after = result(maintenance.statusMember(target(i)));
      assertThat(after.getDbSize())
          .as("member %d db size after defragment", i)
          .isLessThan(before.getDbSize());
      assertThat(after.getDbSizeInUse()).isLessThanOrEqualTo(after.getDbSize());
    }
    assertThat(
            CompatSession.string(result(kv.get(bytes(prefix + "kept"))).getKvs().get(0).getValue()))
        .isEqualTo("v");
  }

  @Test
  void anActivatedAlarmIsListedAndRefusesWritesUntilDisarmed() {
    Maintenance maintenance = cluster.client().getMaintenanceClient();
    assertThat(result(maintenance.listAlarms()).getAlarms()).isEmpty();
    long memberId = cluster.memberId(0);
    ByteSequence key = bytes(unique("alarm") + "k");
    result(kv.put(key, bytes("before")));

    MaintenanceGrpc.newBlockingStub(cluster.channel(0))
        .alarm(
            AlarmRequest.newBuilder()
                .setAction(AlarmRequest.AlarmAction.ACTIVATE)
                .setMemberID(memberId)
                .setAlarm(AlarmType.NOSPACE)
                .build());
    try {
      List<AlarmMember> alarms = result(maintenance.listAlarms()).getAlarms();
      assertThat(alarms)
          .extracting(AlarmMember::getMemberId, a -> a.getAlarmType().name())
          .containsExactly(tuple(memberId, "NOSPACE"));
      assertFails(
          kv.put(key, bytes("during")),
          Status.Code.RESOURCE_EXHAUSTED,
          "etcdserver: mvcc: database space exceeded");
      assertThat(CompatSession.string(result(kv.get(key)).getKvs().get(0).getValue()))
          .isEqualTo("before");
    } finally {
      result(
          maintenance.alarmDisarm(
              new AlarmMember(memberId, io.etcd.jetcd.maintenance.AlarmType.NOSPACE)));
    }
    assertThat(result(maintenance.listAlarms()).getAlarms()).isEmpty();
    result(kv.put(key, bytes("after")));
    assertThat(CompatSession.string(result(kv.get(key)).getKvs().get(0).getValue()))
        .isEqualTo("after");
  }

  /** HashKV at {@code rev} from every member, waiting for members that have not applied it yet. */
  private List<HashKVResponse> hashesAt(long rev) {
    List<HashKVResponse> hashes = new ArrayList<>();
    for (int i = 0; i < cluster.fixture().clientUrls().size(); i++) {
      Maintenance maintenance = cluster.client(i).getMaintenanceClient();
      String member = target(i);
      hashes.add(
          Await.poll(
              "HashKV on member " + i,
              Duration.ofSeconds(10),
              () -> result(maintenance.hashKV(member, rev)),
              h -> true));
    }
    return hashes;
  }

  private String target(int i) {
    return cluster.target(i);
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
