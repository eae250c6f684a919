package io.tern.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.tern.api.AlarmRequest;
import io.tern.api.AlarmType;
import io.tern.api.CompactionRequest;
import io.tern.api.DefragmentRequest;
import io.tern.api.KVGrpc;
import io.tern.api.MaintenanceGrpc;
import io.tern.api.PutRequest;
import io.tern.api.RangeRequest;
import io.tern.api.StatusRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Past --quota-backend-bytes: NOSPACE alarm, writes refused, reads served, until space is freed.
 */
class QuotaTest {
  static final long QUOTA = 2 << 20;

  @TempDir Path dir;

  @Test
  void exceedingTheQuotaRaisesNoSpaceUntilCompactDefragAndDisarm() throws Exception {
    try (TestCluster cluster = TestCluster.start(dir, 1, b -> b.quotaBackendBytes(QUOTA))) {
      cluster.awaitLeader(Duration.ofSeconds(20));
      // Stubs without a deadline: each call below gets its own.
      KVGrpc.KVBlockingStub kvNoDeadline = KVGrpc.newBlockingStub(cluster.channel(0));
      MaintenanceGrpc.MaintenanceBlockingStub mNoDeadline =
          MaintenanceGrpc.newBlockingStub(cluster.channel(0));
      ByteString value = ByteString.copyFrom(new byte[60 << 10]);
      StatusRuntimeException refused = null;
      long lastRevision = 0;
      for (int i = 0; i < 400 && refused == null; i++) {
        try {
          lastRevision =
              kv(kvNoDeadline)
                  .put(PutRequest.newBuilder().setKey(bs("big")).setValue(value).build())
                  .getHeader()
                  .getRevision();
          if (i % 20 == 19) {
            m(mNoDeadline).defragment(DefragmentRequest.getDefaultInstance()); // flush to disk
          }
        } catch (StatusRuntimeException e) {
          refused = e;
        }
      }
      assertThat(refused).as("a write was refused before 400 puts of 60 KiB").isNotNull();
      assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(refused.getStatus().getDescription())
          .isEqualTo("etcdserver: mvcc: database space exceeded");
      awaitAlarm(mNoDeadline, true);
      assertThat(m(mNoDeadline).status(StatusRequest.getDefaultInstance()).getErrorsList())
          .anyMatch(e -> e.contains("NOSPACE"));
      // Reads are still served.
      assertThat(
              kv(kvNoDeadline)
                  .range(RangeRequest.newBuilder().setKey(bs("big")).build())
                  .getKvsCount())
          .isEqualTo(1);

      kv(kvNoDeadline).compact(CompactionRequest.newBuilder().setRevision(lastRevision).build());
      m(mNoDeadline).defragment(DefragmentRequest.getDefaultInstance());
      m(mNoDeadline)
          .alarm(
              AlarmRequest.newBuilder()
                  .setAction(AlarmRequest.AlarmAction.DEACTIVATE)
                  .setMemberID(cluster.server(0).memberId())
                  .setAlarm(AlarmType.NOSPACE)
                  .build());
      awaitAlarm(mNoDeadline, false);
      kv(kvNoDeadline).put(PutRequest.newBuilder().setKey(bs("small")).setValue(bs("ok")).build());
      assertThat(
              kv(kvNoDeadline)
                  .range(RangeRequest.newBuilder().setKey(bs("small")).build())
                  .getKvs(0)
                  .getValue())
          .isEqualTo(bs("ok"));
    }
  }

  /**
   * Like etcd, a write is refused with NOSPACE only once the alarm is raised, and the alarm list is
   * linearizable: right after the refusal, every member lists the alarm.
   */
  @Test
  void aWriteRefusedForSpaceFindsTheAlarmListedOnEveryMember() throws Exception {
    try (TestCluster cluster = TestCluster.start(dir, 3, b -> b.quotaBackendBytes(1 << 20))) {
      int leader = cluster.awaitLeader(Duration.ofSeconds(20));
      int writer = cluster.other(leader);
      KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(cluster.channel(writer));
      byte[] value = new byte[64 << 10];
      Random random = new Random(11);
      StatusRuntimeException refused = null;
      for (int i = 0; i < 256 && refused == null; i++) {
        random.nextBytes(value);
        try {
          kv(kv)
              .put(
                  PutRequest.newBuilder()
                      .setKey(bs("fill/" + i % 4))
                      .setValue(ByteString.copyFrom(value))
                      .build());
        } catch (StatusRuntimeException e) {
          refused = e;
        }
      }
      assertThat(refused).as("a write was refused past a quota of 1 MiB").isNotNull();
      assertThat(refused.getStatus().getDescription())
          .isEqualTo("etcdserver: mvcc: database space exceeded");
      for (int i = 0; i < cluster.size(); i++) {
        assertThat(
                m(MaintenanceGrpc.newBlockingStub(cluster.channel(i)))
                    .alarm(
                        AlarmRequest.newBuilder().setAction(AlarmRequest.AlarmAction.GET).build())
                    .getAlarmsList())
            .as("alarms listed by member %d", i)
            .anyMatch(
                a ->
                    a.getAlarm() == AlarmType.NOSPACE
                        && a.getMemberID() == cluster.server(writer).memberId());
      }
    }
  }

  private static void awaitAlarm(MaintenanceGrpc.MaintenanceBlockingStub m, boolean raised)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      boolean active =
          m(m)
              .alarm(AlarmRequest.newBuilder().setAction(AlarmRequest.AlarmAction.GET).build())
              .getAlarmsList()
              .stream()
              .anyMatch(a -> a.getAlarm() == AlarmType.NOSPACE);
      if (active == raised) {
        return;
      }
      assertThat(System.nanoTime()).as("alarm raised=" + raised + " in time").isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  private static KVGrpc.KVBlockingStub kv(KVGrpc.KVBlockingStub s) {
    return s.withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private static MaintenanceGrpc.MaintenanceBlockingStub m(
      MaintenanceGrpc.MaintenanceBlockingStub s) {
    return s.withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  static ByteString bs(String s) {
    return ByteString.copyFrom(s, UTF_8);
  }
}
