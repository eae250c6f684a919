package io.tern.compat;

import static io.tern.compat.Await.assertFails;
import static io.tern.compat.Await.result;
import static io.tern.compat.CompatSession.bytes;
import static io.tern.compat.CompatSession.string;
import static org.assertj.core.api.Assertions.assertThat;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Maintenance;
import io.etcd.jetcd.kv.PutResponse;
import io.etcd.jetcd.maintenance.AlarmMember;
import io.etcd.jetcd.maintenance.AlarmType;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.CompactOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.grpc.Status;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Past --quota-backend-bytes: a NOSPACE alarm, writes refused, reads served, until space is freed
 * (compact, defragment) and the alarm disarmed. Runs on its own cluster with a small quota.
 */
class NoSpaceCompatTest {
  private static final long QUOTA_BYTES = 1 << 20;
  private static final String NO_SPACE = "etcdserver: mvcc: database space exceeded";

  private static CompatSession cluster;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = CompatSession.start(new ClusterFixture.Options(QUOTA_BYTES));
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void pastTheQuotaWritesAreRefusedAndReadsServedUntilSpaceIsFreedAndTheAlarmDisarmed()
      throws Exception {
    KV kv = cluster.client().getKVClient();
    Maintenance maintenance = cluster.client().getMaintenanceClient();
    ByteSequence probe = bytes("/compat/nospace/probe");
    result(kv.put(probe, bytes("before")));

    // Rewrite a few keys with incompressible values: every revision is kept until compacted.
    byte[] value = new byte[64 * 1024];
    Random random = new Random(5);
    int maxWrites = (int) (16 * QUOTA_BYTES / value.length);
    Await.Failure refused = null;
    int written = 0;
    while (refused == null) {
      assertThat(written)
          .as("writes accepted past a quota of %d bytes", QUOTA_BYTES)
          .isLessThan(maxWrites);
      random.nextBytes(value);
      CompletableFuture<PutResponse> put =
          kv.put(bytes("/compat/nospace/fill/" + written % 4), ByteSequence.from(value));
      try {
        put.get(Await.RPC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        written++;
      } catch (ExecutionException e) {
        refused = Await.failure(put);
      }
    }
    assertThat(refused).isEqualTo(new Await.Failure(Status.Code.RESOURCE_EXHAUSTED, NO_SPACE));
    assertThat(written).isPositive();

    List<AlarmMember> alarms = result(maintenance.listAlarms()).getAlarms();
    Set<Long> memberIds = new HashSet<>();
    for (int i = 0; i < cluster.fixture().clientUrls().size(); i++) {
      memberIds.add(cluster.memberId(i));
    }
    assertThat(alarms).isNotEmpty();
    assertThat(alarms).allSatisfy(a -> assertThat(a.getAlarmType()).isEqualTo(AlarmType.NOSPACE));
    assertThat(alarms).allSatisfy(a -> assertThat(memberIds).contains(a.getMemberId()));

    // Every member refuses writes and serves reads.
    long revision = result(kv.get(probe)).getHeader().getRevision();
    for (int i = 0; i < cluster.fixture().clientUrls().size(); i++) {
      KV member = cluster.client(i).getKVClient();
      assertFails(member.put(probe, bytes("during")), Status.Code.RESOURCE_EXHAUSTED, NO_SPACE);
      assertFails(
          member.txn().Then(Op.put(probe, bytes("during"), PutOption.DEFAULT)).commit(),
          Status.Code.RESOURCE_EXHAUSTED,
          NO_SPACE);
      assertFails(
          cluster.client(i).getLeaseClient().grant(60), Status.Code.RESOURCE_EXHAUSTED, NO_SPACE);
      assertThat(string(result(member.get(probe)).getKvs().get(0).getValue())).isEqualTo("before");
      assertThat(
              string(
                  result(member.get(probe, GetOption.builder().withSerializable(true).build()))
                      .getKvs()
                      .get(0)
                      .getValue()))
          .isEqualTo("before");
    }
    assertThat(result(kv.get(probe)).getHeader().getRevision()).isEqualTo(revision);

    // Compacting and defragmenting frees the space; disarming lets writes in again.
    result(kv.compact(revision, CompactOption.builder().withCompactPhysical(true).build()));
    for (int i = 0; i < cluster.fixture().clientUrls().size(); i++) {
      result(cluster.client(i).getMaintenanceClient().defragmentMember(cluster.target(i)));
      assertThat(
              result(cluster.client(i).getMaintenanceClient().statusMember(cluster.target(i)))
                  .getDbSize())
          .as("member %d db size after defragment", i)
          .isLessThan(QUOTA_BYTES);
    }
    assertFails(kv.put(probe, bytes("still armed")), Status.Code.RESOURCE_EXHAUSTED, NO_SPACE);
    // Members that refused a write since may have raised their own alarms: disarm all of them.
    for (AlarmMember alarm : result(maintenance.listAlarms()).getAlarms()) {
      result(maintenance.alarmDisarm(alarm));
    }
    assertThat(result(maintenance.listAlarms()).getAlarms()).isEmpty();

    result(kv.put(probe, bytes("after")));
    assertThat(string(result(kv.get(probe)).getKvs().get(0).getValue())).isEqualTo("after");
    assertThat(result(cluster.client(2).getLeaseClient().grant(60)).getID()).isPositive();
  }
}
