package io.tern.kv;

import static io.tern.kv.KvHarness.bs;
import static io.tern.kv.KvHarness.keys;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.api.DeleteRangeResponse;
import io.tern.api.KeyValue;
import io.tern.api.PutRequest;
import io.tern.api.PutResponse;
import io.tern.api.RangeRequest;
import io.tern.api.RangeRequest.SortOrder;
import io.tern.api.RangeRequest.SortTarget;
import io.tern.api.RangeResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Revisions, versions, put, delete and range with etcd's semantics. */
class KvStoreTest {
  @TempDir Path dir;
  KvHarness kv;

  @BeforeEach
  void open() {
    kv = new KvHarness(dir);
  }

  @AfterEach
  void close() {
    kv.close();
  }

  @Test
  void emptyStoreIsAtRevisionOneAndEachPutBumpsIt() throws Exception {
    assertThat(kv.sm.revision()).isEqualTo(1);
    PutResponse p1 = kv.put("a", "1");
    assertThat(p1.getHeader().getRevision()).isEqualTo(2);
    kv.put("a", "2");
    kv.put("b", "1");
    PutResponse same = kv.put("b", "1"); // an identical put is still a change
    assertThat(same.getHeader().getRevision()).isEqualTo(5);
    assertThat(kv.sm.revision()).isEqualTo(5);

    KeyValue a = kv.get("a");
    assertThat(a.getCreateRevision()).isEqualTo(2);
    assertThat(a.getModRevision()).isEqualTo(3);
    assertThat(a.getVersion()).isEqualTo(2);
    assertThat(a.getValue().toStringUtf8()).isEqualTo("2");
    KeyValue b = kv.get("b");
    assertThat(b.getCreateRevision()).isEqualTo(4);
    assertThat(b.getModRevision()).isEqualTo(5);
    assertThat(b.getVersion()).isEqualTo(2);
  }

  @Test
  void deleteResetsVersionAndRecreationStartsANewGeneration() throws Exception {
    kv.put("k", "1"); // 2
    kv.put("k", "2"); // 3
    DeleteRangeResponse d = kv.ok(KvHarness.deleteReq("k", "", true)); // 4
    assertThat(d.getDeleted()).isEqualTo(1);
    assertThat(d.getHeader().getRevision()).isEqualTo(4);
    assertThat(d.getPrevKvsList())
        .extracting(kv -> kv.getValue().toStringUtf8())
        .containsExactly("2");
    assertThat(kv.get("k")).isNull();
    kv.put("k", "3"); // 5
    KeyValue k = kv.get("k");
    assertThat(k.getCreateRevision()).isEqualTo(5);
    assertThat(k.getVersion()).isEqualTo(1);
  }

  @Test
  void deletingNothingDoesNotBumpTheRevision() {
    kv.put("a", "1");
    DeleteRangeResponse d = kv.delete("zzz", "");
    assertThat(d.getDeleted()).isZero();
    assertThat(d.getHeader().getRevision()).isEqualTo(2);
    assertThat(kv.sm.revision()).isEqualTo(2);
    assertThat(kv.delete("b", "c").getDeleted()).isZero();
    assertThat(kv.sm.revision()).isEqualTo(2);
  }

  @Test
  void deleteRangeDeletesEveryKeyInOneRevision() throws Exception {
    for (String k : new String[] {"a", "b1", "b2", "b3", "c"}) {
      kv.put(k, k);
    }
    DeleteRangeResponse d = kv.ok(KvHarness.deleteReq("b", "c", true));
    assertThat(d.getDeleted()).isEqualTo(3);
    assertThat(d.getPrevKvsList())
        .extracting(x -> x.getKey().toStringUtf8())
        .containsExactly("b1", "b2", "b3");
    assertThat(kv.sm.revision()).isEqualTo(7);
    assertThat(keys(kv.range("a", "\0"))).containsExactly("a", "c");
    // "\0" as range end: every key from the key on.
    assertThat(kv.delete("b", "\0").getDeleted()).isEqualTo(1);
    assertThat(keys(kv.range("a", "\0"))).containsExactly("a");
  }

  @Test
  void putWithPrevKvReturnsThePreviousValue() {
    PutResponse first =
        kv.ok(
            KvHarness.putReq(
                PutRequest.newBuilder()
                    .setKey(bs("k"))
                    .setValue(bs("v1"))
                    .setPrevKv(true)
                    .build()));
    assertThat(first.hasPrevKv()).isFalse();
    PutResponse second =
        kv.ok(
            KvHarness.putReq(
                PutRequest.newBuilder()
                    .setKey(bs("k"))
                    .setValue(bs("v2"))
                    .setPrevKv(true)
                    .build()));
    assertThat(second.getPrevKv().getValue().toStringUtf8()).isEqualTo("v1");
    assertThat(second.getPrevKv().getModRevision()).isEqualTo(2);
  }

  @Test
  void putRefusals() {
    KvException empty = kv.refused(KvHarness.putReq("", "v"));
    assertThat(empty.code()).isEqualTo(KvException.Code.INVALID_ARGUMENT);
    assertThat(empty.getMessage()).isEqualTo("etcdserver: key is not provided");

    KvException noLease = kv.refused(KvHarness.putReq("k", "v", 77));
    assertThat(noLease.code()).isEqualTo(KvException.Code.NOT_FOUND);
    assertThat(noLease.getMessage()).isEqualTo("etcdserver: requested lease not found");

    KvException missing =
        kv.refused(
            KvHarness.putReq(PutRequest.newBuilder().setKey(bs("k")).setIgnoreValue(true).build()));
    assertThat(missing.code()).isEqualTo(KvException.Code.INVALID_ARGUMENT);
    assertThat(missing.getMessage()).isEqualTo("etcdserver: key not found");
    KvException missing2 =
        kv.refused(
            KvHarness.putReq(PutRequest.newBuilder().setKey(bs("k")).setIgnoreLease(true).build()));
    assertThat(missing2.getMessage()).isEqualTo("etcdserver: key not found");

    assertThat(kv.sm.revision()).isEqualTo(1);
    assertThat(kv.sm.appliedIndex()).isEqualTo(4); // refused entries are still applied
  }

  @Test
  void ignoreValueAndIgnoreLeaseKeepTheCurrentOnes() throws Exception {
    kv.ok(KvHarness.grantReq(5, 100));
    kv.ok(KvHarness.putReq("k", "v1", 5));
    kv.ok(
        KvHarness.putReq(
            PutRequest.newBuilder().setKey(bs("k")).setIgnoreValue(true).setLease(0).build()));
    KeyValue k = kv.get("k");
    assertThat(k.getValue().toStringUtf8()).isEqualTo("v1");
    assertThat(k.getLease()).isZero(); // lease not ignored: detached
    assertThat(k.getVersion()).isEqualTo(2);
    assertThat(kv.sm.lease(5).orElseThrow().keys()).isEmpty();

    kv.ok(KvHarness.putReq("k", "v2", 5));
    kv.ok(
        KvHarness.putReq(
            PutRequest.newBuilder()
                .setKey(bs("k"))
                .setValue(bs("v3"))
                .setIgnoreLease(true)
                .build()));
    k = kv.get("k");
    assertThat(k.getValue().toStringUtf8()).isEqualTo("v3");
    assertThat(k.getLease()).isEqualTo(5);
    assertThat(kv.sm.lease(5).orElseThrow().keys()).containsExactly(bs("k"));
  }

  @Test
  void rangeSelectsSingleKeyIntervalAndFromKey() throws Exception {
    for (String k : new String[] {"a", "ab", "abc", "b", "ba", "c"}) {
      kv.put(k, "v" + k);
    }
    assertThat(keys(kv.range("ab", ""))).containsExactly("ab");
    assertThat(keys(kv.range("a", "b"))).containsExactly("a", "ab", "abc");
    assertThat(keys(kv.range("ab", "ac"))).containsExactly("ab", "abc"); // prefix "ab"
    assertThat(keys(kv.range("b", "\0"))).containsExactly("b", "ba", "c");
    assertThat(keys(kv.range("\0", "\0"))).containsExactly("a", "ab", "abc", "b", "ba", "c");
    assertThat(keys(kv.range("c", "a"))).isEmpty(); // end before key
    assertThat(kv.range("zz", "").getCount()).isZero();
    assertThatThrownBy(() -> kv.range("", ""))
        .isInstanceOf(KvException.class)
        .hasMessage("etcdserver: key is not provided");
  }

  @Test
  void keysWithZeroBytesSortBytewise() throws Exception {
    kv.put("a", "1");
    kv.ok(KvHarness.putReq(io.tern.api.PutRequest.newBuilder().setKey(bs("a\0")).build()));
    kv.ok(KvHarness.putReq(io.tern.api.PutRequest.newBuilder().setKey(bs("a\0\0")).build()));
    kv.ok(KvHarness.putReq(io.tern.api.PutRequest.newBuilder().setKey(bs("a\1")).build()));
    RangeResponse r = kv.range("a", "b");
    assertThat(r.getKvsList())
        .extracting(KeyValue::getKey)
        .containsExactly(bs("a"), bs("a\0"), bs("a\0\0"), bs("a\1"));
    assertThat(keys(kv.range("a\0", "a\1"))).hasSize(2);
    assertThat(kv.range("a\0", "").getKvs(0).getKey()).isEqualTo(bs("a\0"));
  }

  @Test
  void limitMoreAndCount() throws Exception {
    for (int i = 0; i < 10; i++) {
      kv.put("k" + i, "v" + i);
    }
    RangeResponse r =
        kv.range(
            RangeRequest.newBuilder().setKey(bs("k")).setRangeEnd(bs("l")).setLimit(3).build());
    assertThat(keys(r)).containsExactly("k0", "k1", "k2");
    assertThat(r.getMore()).isTrue();
    assertThat(r.getCount()).isEqualTo(10);

    RangeResponse exact =
        kv.range(
            RangeRequest.newBuilder().setKey(bs("k")).setRangeEnd(bs("l")).setLimit(10).build());
    assertThat(exact.getKvsCount()).isEqualTo(10);
    assertThat(exact.getMore()).isFalse();

    RangeResponse countOnly =
        kv.range(
            RangeRequest.newBuilder()
                .setKey(bs("k"))
                .setRangeEnd(bs("l"))
                .setCountOnly(true)
                .build());
    assertThat(countOnly.getKvsCount()).isZero();
    assertThat(countOnly.getCount()).isEqualTo(10);
    assertThat(countOnly.getMore()).isFalse();

    RangeResponse keysOnly =
        kv.range(
            RangeRequest.newBuilder()
                .setKey(bs("k"))
                .setRangeEnd(bs("l"))
                .setKeysOnly(true)
                .setLimit(2)
                .build());
    assertThat(keysOnly.getKvsList()).allSatisfy(kv -> assertThat(kv.getValue()).isEmpty());
    assertThat(keysOnly.getKvs(1).getModRevision()).isEqualTo(3);
  }

  @Test
  void sortByEachTargetAndOrder() throws Exception {
    kv.put("a", "3"); // 2
    kv.put("b", "1"); // 3
    kv.put("c", "2"); // 4
    kv.put("a", "3"); // 5: a version 2, mod 5
    kv.put("b", "1"); // 6
    kv.put("b", "1"); // 7: b version 3
    assertThat(keys(sorted(SortTarget.KEY, SortOrder.DESCEND, 0))).containsExactly("c", "b", "a");
    assertThat(keys(sorted(SortTarget.VALUE, SortOrder.ASCEND, 0))).containsExactly("b", "c", "a");
    assertThat(keys(sorted(SortTarget.VALUE, SortOrder.NONE, 0))) // target alone sorts ascending
        .containsExactly("b", "c", "a");
    assertThat(keys(sorted(SortTarget.VERSION, SortOrder.DESCEND, 0)))
        .containsExactly("b", "a", "c");
    assertThat(keys(sorted(SortTarget.CREATE, SortOrder.DESCEND, 0)))
        .containsExactly("c", "b", "a");
    assertThat(keys(sorted(SortTarget.MOD, SortOrder.ASCEND, 0))).containsExactly("c", "a", "b");
    RangeResponse limited = sorted(SortTarget.MOD, SortOrder.DESCEND, 2);
    assertThat(keys(limited)).containsExactly("b", "a");
    assertThat(limited.getMore()).isTrue();
    assertThat(limited.getCount()).isEqualTo(3);
  }

  private RangeResponse sorted(SortTarget target, SortOrder order, long limit) throws Exception {
    return kv.range(
        RangeRequest.newBuilder()
            .setKey(bs("a"))
            .setRangeEnd(bs("z"))
            .setSortTarget(target)
            .setSortOrder(order)
            .setLimit(limit)
            .build());
  }

  @Test
  void revisionFilters() throws Exception {
    kv.put("a", "1"); // 2
    kv.put("b", "1"); // 3
    kv.put("c", "1"); // 4
    kv.put("a", "2"); // 5
    RangeRequest.Builder base = RangeRequest.newBuilder().setKey(bs("a")).setRangeEnd(bs("z"));
    assertThat(keys(kv.range(base.clone().setMinModRevision(4).build()))).containsExactly("a", "c");
    assertThat(keys(kv.range(base.clone().setMaxModRevision(4).build()))).containsExactly("b", "c");
    assertThat(keys(kv.range(base.clone().setMinCreateRevision(3).build())))
        .containsExactly("b", "c");
    assertThat(keys(kv.range(base.clone().setMaxCreateRevision(3).build())))
        .containsExactly("a", "b");
    RangeResponse limited = kv.range(base.clone().setMinModRevision(3).setLimit(1).build());
    assertThat(keys(limited)).containsExactly("a");
    assertThat(limited.getMore()).isTrue();
  }

  @Test
  void historicalRangesSeeEachRevision() throws Exception {
    kv.put("a", "1"); // 2
    kv.put("b", "1"); // 3
    kv.put("a", "2"); // 4
    kv.delete("b", ""); // 5
    kv.put("c", "1"); // 6
    assertThat(values(at(1))).isEmpty();
    assertThat(values(at(2))).containsExactly("a=1");
    assertThat(values(at(3))).containsExactly("a=1", "b=1");
    assertThat(values(at(4))).containsExactly("a=2", "b=1");
    assertThat(values(at(5))).containsExactly("a=2");
    assertThat(values(at(6))).containsExactly("a=2", "c=1");
    assertThat(at(3).getHeader().getRevision()).isEqualTo(6); // the header names the current one
    assertThat(at(4).getCount()).isEqualTo(2);
    assertThatThrownBy(() -> at(7))
        .isInstanceOfSatisfying(
            KvException.class, e -> assertThat(e.code()).isEqualTo(KvException.Code.OUT_OF_RANGE))
        .hasMessage("mvcc: required revision is a future revision");
  }

  private RangeResponse at(long rev) throws KvException {
    return kv.range(
        RangeRequest.newBuilder().setKey(bs("a")).setRangeEnd(bs("z")).setRevision(rev).build());
  }

  static java.util.List<String> values(RangeResponse r) {
    return r.getKvsList().stream()
        .map(kv -> kv.getKey().toStringUtf8() + "=" + kv.getValue().toStringUtf8())
        .toList();
  }

  @Test
  void manyVersionsOfManyKeys() throws Exception {
    for (int round = 0; round < 5; round++) {
      for (int i = 0; i < 20; i++) {
        kv.put(String.format("key%02d", i), "r" + round);
      }
    }
    RangeResponse r = kv.range("key", "kez");
    assertThat(r.getCount()).isEqualTo(20);
    assertThat(r.getKvsList()).allSatisfy(x -> assertThat(x.getVersion()).isEqualTo(5));
    assertThat(r.getKvsList()).allSatisfy(x -> assertThat(x.getValue()).isEqualTo(bs("r4")));
    RangeResponse mid =
        kv.range(
            RangeRequest.newBuilder()
                .setKey(bs("key"))
                .setRangeEnd(bs("kez"))
                .setRevision(2 + 20 * 2 + 5)
                .build());
    assertThat(mid.getCount()).isEqualTo(20);
    assertThat(mid.getKvsList().subList(0, 6))
        .allSatisfy(x -> assertThat(x.getValue()).isEqualTo(bs("r2")));
    assertThat(mid.getKvsList().subList(6, 20))
        .allSatisfy(x -> assertThat(x.getValue()).isEqualTo(bs("r1")));
  }
}
