package io.tern.kv;

import static io.tern.kv.KvHarness.bs;
import static io.tern.kv.KvHarness.grantReq;
import static io.tern.kv.KvHarness.opDelete;
import static io.tern.kv.KvHarness.opPut;
import static io.tern.kv.KvHarness.putReq;
import static io.tern.kv.KvHarness.revokeReq;
import static io.tern.kv.KvHarness.txnReq;
import static org.assertj.core.api.Assertions.assertThat;

import io.tern.api.AlarmMember;
import io.tern.api.AlarmRequest;
import io.tern.api.AlarmRequest.AlarmAction;
import io.tern.api.AlarmResponse;
import io.tern.api.AlarmType;
import io.tern.api.InternalRequest;
import io.tern.api.LeaseGrantResponse;
import io.tern.api.LeaseKeepAliveRequest;
import io.tern.api.LeaseKeepAliveResponse;
import io.tern.api.LeaseRevokeResponse;
import io.tern.api.MemberAttributes;
import io.tern.api.MemberPublish;
import io.tern.api.MemberRemove;
import io.tern.api.TxnRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeaseAlarmMemberTest {
  private static final long SECOND = 1_000_000_000L;

  @TempDir Path dir;
  final AtomicLong clock = new AtomicLong(1_000 * SECOND);
  KvHarness kv;

  @BeforeEach
  void open() {
    kv = new KvHarness(dir, KvHarness.withClock(clock::get));
  }

  @AfterEach
  void close() {
    kv.close();
  }

  static InternalRequest keepAliveReq(long id) {
    return InternalRequest.newBuilder()
        .setLeaseKeepAlive(LeaseKeepAliveRequest.newBuilder().setID(id))
        .build();
  }

  static InternalRequest alarmReq(AlarmAction action, long member, AlarmType type) {
    return InternalRequest.newBuilder()
        .setAlarm(
            AlarmRequest.newBuilder().setAction(action).setMemberID(member).setAlarm(type).build())
        .build();
  }

  static InternalRequest expireReq(long id, long renewedIndex) {
    return InternalRequest.newBuilder()
        .setLeaseExpire(
            io.tern.api.LeaseExpire.newBuilder().setId(id).setRenewedIndex(renewedIndex))
        .build();
  }

  /**
   * Regression (chaos run seed-1-20261202-015557): the leader's expiry of a lease is proposed, a
   * keep-alive of that lease is applied before it and acknowledged with a TTL; the expiry must then
   * not delete the lease's keys.
   */
  @Test
  void anExpiryProposedBeforeAKeepAliveThatAppliedFirstHasNoEffect() throws Exception {
    long grantedAt = kv.nextIndex;
    kv.ok(grantReq(9, 5));
    assertThat(kv.sm.leaseRenewedIndex(9)).isEqualTo(grantedAt);
    kv.ok(putReq("leased", "1", 9));
    long seenByLeader = kv.sm.leaseRenewedIndex(9); // the leader decides the lease expired...

    long keptAliveAt = kv.nextIndex;
    LeaseKeepAliveResponse ka = kv.ok(keepAliveReq(9)); // ...but a keep-alive is applied first
    assertThat(ka.getTTL()).isEqualTo(5);
    assertThat(kv.sm.leaseRenewedIndex(9)).isEqualTo(keptAliveAt);
    long revision = kv.sm.revision();

    KvException stale = kv.refused(expireReq(9, seenByLeader));
    assertThat(stale.code()).isEqualTo(KvException.Code.FAILED_PRECONDITION);
    assertThat(kv.get("leased")).isNotNull();
    assertThat(kv.sm.revision()).isEqualTo(revision);
    assertThat(kv.sm.lease(9)).isPresent();

    // An expiry naming the latest renewal revokes it, deleting the keys in one revision.
    kv.ok(expireReq(9, keptAliveAt));
    assertThat(kv.get("leased")).isNull();
    assertThat(kv.sm.revision()).isEqualTo(revision + 1);
    assertThat(kv.sm.lease(9)).isEmpty();
    assertThat(kv.refused(expireReq(9, keptAliveAt)).code()).isEqualTo(KvException.Code.NOT_FOUND);
  }

  @Test
  void grantAttachAndRevokeDeletesKeysInOneRevision() throws Exception {
    LeaseGrantResponse g = kv.ok(grantReq(7, 10));
    assertThat(g.getID()).isEqualTo(7);
    assertThat(g.getTTL()).isEqualTo(10);
    assertThat(g.getHeader().getRevision()).isEqualTo(1); // granting changes no key
    assertThat(kv.refused(grantReq(7, 5)).getMessage())
        .isEqualTo("etcdserver: lease already exists");
    assertThat(kv.refused(grantReq(0, 5)).code()).isEqualTo(KvException.Code.NOT_FOUND);

    kv.ok(putReq("a", "1", 7)); // 2
    kv.ok(putReq("b", "1", 7)); // 3
    kv.ok(putReq("c", "1", 7)); // 4
    kv.put("c", "2"); // 5: detached by a put without the lease
    assertThat(kv.get("a").getLease()).isEqualTo(7);
    LeaseInfo info = kv.sm.lease(7).orElseThrow();
    assertThat(info.grantedTtl()).isEqualTo(10);
    assertThat(info.remainingTtl()).isEqualTo(10);
    assertThat(info.keys()).containsExactly(bs("a"), bs("b"));
    assertThat(kv.sm.leaseIds()).containsExactly(7L);

    LeaseRevokeResponse r = kv.ok(revokeReq(7));
    assertThat(r.getHeader().getRevision()).isEqualTo(6);
    assertThat(kv.sm.revision()).isEqualTo(6);
    assertThat(kv.get("a")).isNull();
    assertThat(kv.get("b")).isNull();
    assertThat(kv.get("c").getValue()).isEqualTo(bs("2"));
    assertThat(kv.sm.lease(7)).isEmpty();
    assertThat(kv.sm.leaseIds()).isEmpty();
    assertThat(kv.sm.history().events(6, 6, bs("a"), bs("\0"), false))
        .extracting(e -> e.getKv().getKey().toStringUtf8())
        .containsExactly("a", "b");

    KvException again = kv.refused(revokeReq(7));
    assertThat(again.code()).isEqualTo(KvException.Code.NOT_FOUND);
    assertThat(again.getMessage()).isEqualTo("etcdserver: requested lease not found");
    assertThat(kv.refused(putReq("d", "1", 7)).code()).isEqualTo(KvException.Code.NOT_FOUND);
  }

  @Test
  void revokingALeaseWithoutKeysDoesNotBump() {
    kv.ok(grantReq(1, 10));
    kv.ok(revokeReq(1));
    assertThat(kv.sm.revision()).isEqualTo(1);
  }

  @Test
  void expiryFollowsTheLocalClockAndKeepAlive() {
    kv.ok(grantReq(1, 10));
    clock.addAndGet(5 * SECOND);
    kv.ok(grantReq(2, 10));
    assertThat(kv.sm.expiredLeases(clock.get(), 10)).isEmpty();
    clock.addAndGet(5 * SECOND);
    assertThat(kv.sm.expiredLeases(clock.get(), 10)).containsExactly(1L);
    assertThat(kv.sm.lease(1).orElseThrow().remainingTtl()).isZero();

    LeaseKeepAliveResponse k = kv.ok(keepAliveReq(1));
    assertThat(k.getTTL()).isEqualTo(10);
    assertThat(kv.sm.expiredLeases(clock.get(), 10)).isEmpty();
    clock.addAndGet(6 * SECOND);
    assertThat(kv.sm.expiredLeases(clock.get(), 10)).containsExactly(2L);
    clock.addAndGet(4 * SECOND);
    assertThat(kv.sm.expiredLeases(clock.get(), 10)).containsExactly(2L, 1L); // longest first
    assertThat(kv.sm.expiredLeases(clock.get(), 1)).containsExactly(2L);

    kv.sm.extendAllLeases(clock.get());
    assertThat(kv.sm.expiredLeases(clock.get() + 9 * SECOND, 10)).isEmpty();
    assertThat(kv.sm.expiredLeases(clock.get() + 10 * SECOND, 10)).containsExactly(1L, 2L);

    assertThat(kv.refused(keepAliveReq(3)).getMessage())
        .isEqualTo("etcdserver: requested lease not found");
  }

  @Test
  void alarmsActivateDeactivateAndGet() {
    AlarmResponse a = kv.ok(alarmReq(AlarmAction.ACTIVATE, 2, AlarmType.NOSPACE));
    assertThat(a.getAlarmsList())
        .containsExactly(
            AlarmMember.newBuilder().setMemberID(2).setAlarm(AlarmType.NOSPACE).build());
    kv.ok(alarmReq(AlarmAction.ACTIVATE, 1, AlarmType.CORRUPT));
    kv.ok(alarmReq(AlarmAction.ACTIVATE, 1, AlarmType.CORRUPT)); // idempotent
    assertThat(kv.sm.alarms()).extracting(AlarmMember::getMemberID).containsExactly(1L, 2L);
    AlarmResponse all = kv.ok(alarmReq(AlarmAction.GET, 0, AlarmType.NONE));
    assertThat(all.getAlarmsCount()).isEqualTo(2);
    AlarmResponse corrupt = kv.ok(alarmReq(AlarmAction.GET, 0, AlarmType.CORRUPT));
    assertThat(corrupt.getAlarmsList()).extracting(AlarmMember::getMemberID).containsExactly(1L);

    AlarmResponse off = kv.ok(alarmReq(AlarmAction.DEACTIVATE, 1, AlarmType.CORRUPT));
    assertThat(off.getAlarmsCount()).isEqualTo(1);
    AlarmResponse offAgain = kv.ok(alarmReq(AlarmAction.DEACTIVATE, 1, AlarmType.CORRUPT));
    assertThat(offAgain.getAlarmsCount()).isZero();
    assertThat(kv.sm.alarms()).extracting(AlarmMember::getMemberID).containsExactly(2L);
    kv.restart();
    assertThat(kv.sm.alarms())
        .containsExactly(
            AlarmMember.newBuilder().setMemberID(2).setAlarm(AlarmType.NOSPACE).build());
  }

  @Test
  void noSpaceRefusesPutsButAllowsDeletes() throws Exception {
    kv.put("a", "1");
    kv.put("b", "1");
    kv.ok(grantReq(3, 10));
    kv.ok(putReq("c", "1", 3)); // 4
    kv.ok(alarmReq(AlarmAction.ACTIVATE, 9, AlarmType.NOSPACE));

    KvException put = kv.refused(putReq("a", "2"));
    assertThat(put.code()).isEqualTo(KvException.Code.RESOURCE_EXHAUSTED);
    assertThat(put.getMessage()).isEqualTo("etcdserver: mvcc: database space exceeded");
    assertThat(
            kv.refused(
                    txnReq(
                        TxnRequest.newBuilder()
                            .addFailure(opPut("x", "1"))
                            .addSuccess(opDelete("a", ""))
                            .build()))
                .code())
        .isEqualTo(KvException.Code.RESOURCE_EXHAUSTED);
    assertThat(kv.refused(grantReq(4, 10)).code()).isEqualTo(KvException.Code.RESOURCE_EXHAUSTED);
    assertThat(kv.sm.revision()).isEqualTo(4);

    assertThat(kv.delete("a", "").getDeleted()).isEqualTo(1); // 5
    kv.ok(txnReq(TxnRequest.newBuilder().addSuccess(opDelete("b", "")).build())); // 6
    kv.ok(KvHarness.compactReq(5));
    kv.ok(revokeReq(3)); // 7
    assertThat(kv.sm.revision()).isEqualTo(7);
    assertThat(kv.range("\0", "\0").getCount()).isZero();

    kv.ok(alarmReq(AlarmAction.DEACTIVATE, 9, AlarmType.NOSPACE));
    assertThat(kv.put("a", "3").getHeader().getRevision()).isEqualTo(8);
  }

  @Test
  void quota() {
    try (KvHarness small =
        new KvHarness(dir.resolve("small"), KvOptions.builder().quotaBackendBytes(1).build())) {
      small.put("k", "v".repeat(100));
      assertThat(small.sm.dbSize()).isGreaterThan(1);
      assertThat(small.sm.overQuota()).isTrue();
      small.sm.defragment();
      assertThat(small.sm.dbSizeInUse()).isPositive();
    }
    assertThat(kv.sm.overQuota()).isFalse();
  }

  /**
   * Regression (CI, QuotaTest): the size behind {@code overQuota} is read at most every 50 ms, and
   * a put right after compact and defragment was refused with the size read before them.
   */
  @Test
  void spaceFreedByDefragmentCountsAtOnce() {
    try (KvHarness small =
        new KvHarness(
            dir.resolve("small"),
            KvOptions.builder().quotaBackendBytes(256 << 10).nanoClock(clock::get).build())) {
      java.util.Random random = new java.util.Random(5);
      for (int i = 0; i < 12; i++) {
        // Random letters: a repeated one would compress to nothing.
        StringBuilder value = new StringBuilder();
        random.ints(64 << 10, 'a', 'z' + 1).forEach(c -> value.append((char) c));
        small.put("big", value.toString());
      }
      small.sm.defragment();
      assertThat(small.sm.overQuota()).isTrue();
      small.ok(KvHarness.compactReq(small.sm.revision()));
      // The clock stands still: without a fresh read the answer above would be reused.
      assertThat(small.sm.overQuota()).as("before defragment, cached").isTrue();
      small.sm.defragment();
      assertThat(small.sm.dbSize()).isLessThan(256 << 10);
      assertThat(small.sm.overQuota()).isFalse();
    }
  }

  @Test
  void memberTableAndListener() {
    List<List<MemberAttributes>> seen = new ArrayList<>();
    kv.sm.setMemberListener(seen::add);
    assertThat(seen).containsExactly(List.of());
    MemberAttributes m1 =
        MemberAttributes.newBuilder().setId(5).setName("one").addPeerUrls("http://a:2380").build();
    MemberAttributes m2 = MemberAttributes.newBuilder().setId(3).setName("two").build();
    assertThat((Object) kv.ok(InternalRequest.newBuilder().setMemberPut(m1).build())).isEqualTo(m1);
    kv.ok(InternalRequest.newBuilder().setMemberPut(m2).build());
    MemberAttributes m1b = m1.toBuilder().addClientUrls("http://a:2379").build();
    kv.ok(InternalRequest.newBuilder().setMemberPut(m1b).build());
    assertThat(kv.sm.members()).containsExactly(m2, m1b);
    assertThat((Object) kv.ok(remove(3))).isEqualTo(Boolean.TRUE);
    assertThat((Object) kv.ok(remove(3))).isEqualTo(Boolean.FALSE);
    assertThat(seen).hasSize(5);
    assertThat(seen.get(4)).containsExactly(m1b);
    kv.restart();
    assertThat(kv.sm.members()).containsExactly(m1b);
    assertThat(kv.sm.revision()).isEqualTo(1);
  }

  @Test
  void aMemberPublishSetsOnlyNameAndClientUrlsOfAnExistingMember() {
    MemberAttributes learner =
        MemberAttributes.newBuilder()
            .setId(7)
            .addPeerUrls("http://b:2380")
            .setIsLearner(true)
            .build();
    kv.ok(InternalRequest.newBuilder().setMemberPut(learner).build());
    // The promotion is recorded; then a publish the member computed before it arrives.
    MemberAttributes voter = learner.toBuilder().setIsLearner(false).build();
    kv.ok(InternalRequest.newBuilder().setMemberPut(voter).build());
    Object r =
        kv.ok(
            InternalRequest.newBuilder()
                .setMemberPublish(
                    MemberPublish.newBuilder()
                        .setId(7)
                        .setName("seven")
                        .addClientUrls("http://b:2379"))
                .build());
    assertThat(r).isEqualTo(Boolean.TRUE);
    assertThat(kv.sm.members())
        .containsExactly(voter.toBuilder().setName("seven").addClientUrls("http://b:2379").build());

    // A removed member's late publish does not bring it back.
    kv.ok(remove(7));
    r =
        kv.ok(
            InternalRequest.newBuilder()
                .setMemberPublish(MemberPublish.newBuilder().setId(7).setName("seven"))
                .build());
    assertThat(r).isEqualTo(Boolean.FALSE);
    assertThat(kv.sm.members()).isEmpty();
  }

  private static InternalRequest remove(long id) {
    return InternalRequest.newBuilder()
        .setMemberRemove(MemberRemove.newBuilder().setId(id))
        .build();
  }
}
