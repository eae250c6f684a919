package io.tern.compat;

import static io.tern.compat.Await.assertFails;
import static io.tern.compat.Await.result;
import static io.tern.compat.CompatSession.bytes;
import static io.tern.compat.CompatSession.string;
import static io.tern.compat.CompatSession.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Response;
import io.etcd.jetcd.api.Compare;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.TxnResponse;
import io.etcd.jetcd.kv.DeleteResponse;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.PutResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.CompactOption;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.GetOption.SortOrder;
import io.etcd.jetcd.options.GetOption.SortTarget;
import io.etcd.jetcd.options.PutOption;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** KV service: Range, Put, DeleteRange, Txn and Compact as etcd answers them. */
class KvCompatTest {
  @RegisterExtension static final SharedCluster CLUSTER = new SharedCluster();

  private CompatSession cluster;
  private KV kv;

  @BeforeEach
  void setUp() {
    cluster = CLUSTER.get();
    kv = cluster.client().getKVClient();
  }

  @Test
  void putBumpsTheRevisionAndTracksCreateRevisionModRevisionAndVersion() {
    ByteSequence key = bytes(unique("put") + "k");

    PutResponse first = result(kv.put(key, bytes("v1"), PutOption.builder().withPrevKV().build()));
    long rev1 = first.getHeader().getRevision();
    assertThat(first.hasPrevKv()).isFalse();
    KeyValue created = single(result(kv.get(key)));
    assertThat(string(created.getValue())).isEqualTo("v1");
    assertThat(created.getCreateRevision()).isEqualTo(rev1);
    assertThat(created.getModRevision()).isEqualTo(rev1);
    assertThat(created.getVersion()).isEqualTo(1);
    assertThat(created.getLease()).isZero();

    PutResponse second = result(kv.put(key, bytes("v2"), PutOption.builder().withPrevKV().build()));
    long rev2 = second.getHeader().getRevision();
    assertThat(rev2).isEqualTo(rev1 + 1);
    assertThat(second.hasPrevKv()).isTrue();
    assertThat(string(second.getPrevKv().getValue())).isEqualTo("v1");
    assertThat(second.getPrevKv().getModRevision()).isEqualTo(rev1);
    assertThat(second.getPrevKv().getVersion()).isEqualTo(1);
    KeyValue updated = single(result(kv.get(key)));
    assertThat(updated.getCreateRevision()).isEqualTo(rev1);
    assertThat(updated.getModRevision()).isEqualTo(rev2);
    assertThat(updated.getVersion()).isEqualTo(2);

    DeleteResponse deleted = result(kv.delete(key));
    assertThat(deleted.getDeleted()).isEqualTo(1);
    assertThat(deleted.getHeader().getRevision()).isEqualTo(rev2 + 1);
    assertThat(result(kv.get(key)).getKvs()).isEmpty();

    long rev4 = result(kv.put(key, bytes("v3"))).getHeader().getRevision();
    KeyValue recreated = single(result(kv.get(key)));
    assertThat(rev4).isEqualTo(rev2 + 2);
    assertThat(recreated.getCreateRevision()).isEqualTo(rev4);
    assertThat(recreated.getVersion()).isEqualTo(1);
  }

  @Test
  void deleteOfAMissingKeyDoesNotBumpTheRevision() {
    String prefix = unique("delete-missing");
    long rev = result(kv.put(bytes(prefix + "a"), bytes("x"))).getHeader().getRevision();

    DeleteResponse none = result(kv.delete(bytes(prefix + "missing")));

    assertThat(none.getDeleted()).isZero();
    assertThat(none.getHeader().getRevision()).isEqualTo(rev);
  }

  @Test
  void rangeByPrefixByRangeAndFromKey() {
    String prefix = unique("range");
    for (String k : List.of("a/1", "a/2", "a/3", "b/1")) {
      result(kv.put(bytes(prefix + k), bytes(k)));
    }

    GetResponse byPrefix =
        result(kv.get(bytes(prefix + "a/"), GetOption.builder().isPrefix(true).build()));
    assertThat(keys(byPrefix)).containsExactly(prefix + "a/1", prefix + "a/2", prefix + "a/3");
    assertThat(byPrefix.getCount()).isEqualTo(3);
    assertThat(byPrefix.isMore()).isFalse();

    GetResponse byRange =
        result(
            kv.get(
                bytes(prefix + "a/2"),
                GetOption.builder().withRange(bytes(prefix + "b/")).build()));
    assertThat(keys(byRange)).containsExactly(prefix + "a/2", prefix + "a/3");

    // range_end "\0" means every key >= key. Keys starting with 0xFF sort after every test key.
    byte[] tail = unique("from-key").getBytes(StandardCharsets.UTF_8);
    ByteSequence high1 = ByteSequence.from(concat(new byte[] {(byte) 0xff}, tail, new byte[] {1}));
    ByteSequence high2 = ByteSequence.from(concat(new byte[] {(byte) 0xff}, tail, new byte[] {2}));
    result(kv.put(high2, bytes("2")));
    result(kv.put(high1, bytes("1")));
    GetResponse fromKey =
        result(
            kv.get(
                ByteSequence.from(concat(new byte[] {(byte) 0xff}, tail)),
                GetOption.builder().withRange(ByteSequence.from(new byte[] {0})).build()));
    assertThat(fromKey.getKvs()).extracting(KeyValue::getKey).containsExactly(high1, high2);
    result(kv.delete(high1));
    result(kv.delete(high2));
  }

  @Test
  void rangeLimitReturnsTheFirstKeysWithMoreAndTheTotalCount() {
    String prefix = unique("limit");
    for (String k : List.of("c", "a", "b")) {
      result(kv.put(bytes(prefix + k), bytes(k)));
    }

    GetResponse limited =
        result(kv.get(bytes(prefix), GetOption.builder().isPrefix(true).withLimit(2).build()));

    assertThat(keys(limited)).containsExactly(prefix + "a", prefix + "b");
    assertThat(limited.isMore()).isTrue();
    assertThat(limited.getCount()).isEqualTo(3);

    GetResponse exact =
        result(kv.get(bytes(prefix), GetOption.builder().isPrefix(true).withLimit(3).build()));
    assertThat(exact.isMore()).isFalse();
  }

  @Test
  void rangeSortsByEveryTarget() {
    String prefix = unique("sort");
    result(kv.put(bytes(prefix + "a"), bytes("3")));
    result(kv.put(bytes(prefix + "b"), bytes("1")));
    result(kv.put(bytes(prefix + "c"), bytes("2")));
    result(kv.put(bytes(prefix + "b"), bytes("4"))); // b: latest mod revision, version 2

    assertThat(sorted(prefix, SortTarget.KEY, SortOrder.DESCEND)).containsExactly("c", "b", "a");
    assertThat(sorted(prefix, SortTarget.CREATE, SortOrder.ASCEND)).containsExactly("a", "b", "c");
    assertThat(sorted(prefix, SortTarget.CREATE, SortOrder.DESCEND)).containsExactly("c", "b", "a");
    assertThat(sorted(prefix, SortTarget.MOD, SortOrder.ASCEND)).containsExactly("a", "c", "b");
    assertThat(sorted(prefix, SortTarget.VALUE, SortOrder.ASCEND)).containsExactly("c", "a", "b");
    assertThat(sorted(prefix, SortTarget.VERSION, SortOrder.DESCEND).get(0)).isEqualTo("b");
    // A target other than KEY with order NONE sorts ascending.
    assertThat(sorted(prefix, SortTarget.MOD, SortOrder.NONE)).containsExactly("a", "c", "b");

    // With a sort order the limit applies after sorting, over the whole range.
    GetResponse top =
        result(
            kv.get(
                bytes(prefix),
                GetOption.builder()
                    .isPrefix(true)
                    .withSortField(SortTarget.VALUE)
                    .withSortOrder(SortOrder.DESCEND)
                    .withLimit(1)
                    .build()));
    assertThat(keys(top)).containsExactly(prefix + "b");
    assertThat(top.isMore()).isTrue();
    assertThat(top.getCount()).isEqualTo(3);
  }

  @Test
  void rangeAtAHistoricalRevisionSeesTheStoreAsItWas() {
    String prefix = unique("history");
    ByteSequence key = bytes(prefix + "k");
    long rev1 = result(kv.put(key, bytes("v1"))).getHeader().getRevision();
    long rev2 = result(kv.put(key, bytes("v2"))).getHeader().getRevision();
    long rev3 = result(kv.delete(key)).getHeader().getRevision();

    KeyValue atRev1 = single(result(kv.get(key, GetOption.builder().withRevision(rev1).build())));
    assertThat(string(atRev1.getValue())).isEqualTo("v1");
    assertThat(atRev1.getVersion()).isEqualTo(1);
    KeyValue atRev2 = single(result(kv.get(key, GetOption.builder().withRevision(rev2).build())));
    assertThat(string(atRev2.getValue())).isEqualTo("v2");
    assertThat(atRev2.getVersion()).isEqualTo(2);
    assertThat(atRev2.getCreateRevision()).isEqualTo(rev1);
    GetResponse atRev3 = result(kv.get(key, GetOption.builder().withRevision(rev3).build()));
    assertThat(atRev3.getKvs()).isEmpty();
    assertThat(atRev3.getCount()).isZero();

    GetResponse prefixAtRev1 =
        result(
            kv.get(bytes(prefix), GetOption.builder().isPrefix(true).withRevision(rev1).build()));
    assertThat(keys(prefixAtRev1)).containsExactly(prefix + "k");
    // The header carries the store's current revision, not the one read.
    assertThat(prefixAtRev1.getHeader().getRevision()).isGreaterThanOrEqualTo(rev3);
  }

  @Test
  void keysOnlyOmitsValuesAndCountOnlyOmitsKeys() {
    String prefix = unique("keys-only");
    long rev = 0;
    for (String k : List.of("a", "b", "c")) {
      rev = result(kv.put(bytes(prefix + k), bytes("value-" + k))).getHeader().getRevision();
    }

    GetResponse keysOnly =
        result(
            kv.get(bytes(prefix), GetOption.builder().isPrefix(true).withKeysOnly(true).build()));
    assertThat(keys(keysOnly)).containsExactly(prefix + "a", prefix + "b", prefix + "c");
    assertThat(keysOnly.getKvs()).allSatisfy(k -> assertThat(k.getValue().isEmpty()).isTrue());
    assertThat(keysOnly.getKvs().get(2).getModRevision()).isEqualTo(rev);
    assertThat(keysOnly.getKvs().get(2).getVersion()).isEqualTo(1);

    GetResponse countOnly =
        result(
            kv.get(bytes(prefix), GetOption.builder().isPrefix(true).withCountOnly(true).build()));
    assertThat(countOnly.getKvs()).isEmpty();
    assertThat(countOnly.getCount()).isEqualTo(3);
  }

  @Test
  void linearizableReadsOnAnyMemberSeeAnAcknowledgedWriteAndSerializableReadsCatchUp() {
    ByteSequence key = bytes(unique("linearizable") + "k");
    long rev =
        result(cluster.client(0).getKVClient().put(key, bytes("v"))).getHeader().getRevision();

    for (int i = 0; i < cluster.fixture().clientUrls().size(); i++) {
      KeyValue linearizable = single(result(cluster.client(i).getKVClient().get(key)));
      assertThat(linearizable.getModRevision()).as("member %d", i).isEqualTo(rev);

      KV memberKv = cluster.client(i).getKVClient();
      GetResponse serializable =
          Await.poll(
              "serializable read on member " + i,
              Duration.ofSeconds(10),
              () -> result(memberKv.get(key, GetOption.builder().withSerializable(true).build())),
              r -> r.getCount() == 1);
      assertThat(string(serializable.getKvs().get(0).getValue())).isEqualTo("v");
    }
  }

  @Test
  void putWithIgnoreValueAndIgnoreLeaseKeepsTheOldValueAndLease() {
    KVGrpc.KVBlockingStub stub = KVGrpc.newBlockingStub(cluster.channel(1));
    ByteString key = ByteString.copyFromUtf8(unique("ignore") + "k");
    long lease = result(cluster.client().getLeaseClient().grant(60)).getID();
    long rev1 =
        stub.put(
                PutRequest.newBuilder()
                    .setKey(key)
                    .setValue(ByteString.copyFromUtf8("v1"))
                    .setLease(lease)
                    .build())
            .getHeader()
            .getRevision();

    io.etcd.jetcd.api.PutResponse keptValue =
        stub.put(PutRequest.newBuilder().setKey(key).setIgnoreValue(true).setPrevKv(true).build());
    assertThat(keptValue.getPrevKv().getValue().toStringUtf8()).isEqualTo("v1");
    io.etcd.jetcd.api.KeyValue afterIgnoreValue =
        stub.range(RangeRequest.newBuilder().setKey(key).build()).getKvs(0);
    assertThat(afterIgnoreValue.getValue().toStringUtf8()).isEqualTo("v1");
    assertThat(afterIgnoreValue.getVersion()).isEqualTo(2);
    assertThat(afterIgnoreValue.getModRevision()).isEqualTo(rev1 + 1);
    // Without ignore_lease a put detaches the key from its lease; ignore_value says nothing about
    // it.
    assertThat(afterIgnoreValue.getLease()).isZero();

    stub.put(
        PutRequest.newBuilder()
            .setKey(key)
            .setValue(ByteString.copyFromUtf8("v2"))
            .setLease(lease)
            .build());
    stub.put(
        PutRequest.newBuilder()
            .setKey(key)
            .setValue(ByteString.copyFromUtf8("v3"))
            .setIgnoreLease(true)
            .build());
    io.etcd.jetcd.api.KeyValue afterIgnoreLease =
        stub.range(RangeRequest.newBuilder().setKey(key).build()).getKvs(0);
    assertThat(afterIgnoreLease.getValue().toStringUtf8()).isEqualTo("v3");
    assertThat(afterIgnoreLease.getLease()).isEqualTo(lease);
    assertThat(afterIgnoreLease.getVersion()).isEqualTo(4);

    result(cluster.client().getLeaseClient().revoke(lease));
    assertThat(stub.range(RangeRequest.newBuilder().setKey(key).build()).getCount()).isZero();
  }

  @Test
  void deleteRangeReturnsTheDeletedKeysWhenAskedForPrevKv() {
    String prefix = unique("delete");
    long rev = 0;
    for (String k : List.of("a", "b", "c")) {
      rev = result(kv.put(bytes(prefix + k), bytes("v" + k))).getHeader().getRevision();
    }

    DeleteResponse plain = result(kv.delete(bytes(prefix + "c")));
    assertThat(plain.getDeleted()).isEqualTo(1);
    assertThat(plain.getPrevKvs()).isEmpty();

    DeleteResponse withPrev =
        result(
            kv.delete(
                bytes(prefix), DeleteOption.builder().isPrefix(true).withPrevKV(true).build()));
    assertThat(withPrev.getDeleted()).isEqualTo(2);
    assertThat(withPrev.getPrevKvs())
        .extracting(k -> string(k.getKey()), k -> string(k.getValue()))
        .containsExactly(tuple(prefix + "a", "va"), tuple(prefix + "b", "vb"));
    // One DeleteRange is one revision, however many keys it deletes.
    assertThat(withPrev.getHeader().getRevision()).isEqualTo(rev + 2);
    assertThat(result(kv.get(bytes(prefix), GetOption.builder().isPrefix(true).build())).getCount())
        .isZero();
  }

  @Test
  void txnComparesValueVersionCreateAndModRevision() {
    String prefix = unique("txn");
    ByteSequence key = bytes(prefix + "k");
    ByteSequence missing = bytes(prefix + "missing");
    long rev1 = result(kv.put(key, bytes("v1"))).getHeader().getRevision();

    io.etcd.jetcd.kv.TxnResponse ok =
        result(
            kv.txn()
                .If(
                    new Cmp(key, Cmp.Op.EQUAL, CmpTarget.value(bytes("v1"))),
                    new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(1)),
                    new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(rev1)),
                    new Cmp(key, Cmp.Op.LESS, CmpTarget.modRevision(rev1 + 1)),
                    new Cmp(key, Cmp.Op.GREATER, CmpTarget.version(0)),
                    new Cmp(key, Cmp.Op.NOT_EQUAL, CmpTarget.value(bytes("other"))),
                    new Cmp(missing, Cmp.Op.EQUAL, CmpTarget.version(0)),
                    new Cmp(missing, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                .Then(Op.put(key, bytes("v2"), PutOption.DEFAULT), Op.get(key, GetOption.DEFAULT))
                .Else(Op.get(key, GetOption.DEFAULT))
                .commit());
    assertThat(ok.isSucceeded()).isTrue();
    assertThat(ok.getHeader().getRevision()).isEqualTo(rev1 + 1);
    assertThat(ok.getPutResponses()).hasSize(1);
    // A range inside a txn sees the txn's own earlier writes.
    KeyValue inTxn = single(ok.getGetResponses().get(0));
    assertThat(string(inTxn.getValue())).isEqualTo("v2");
    assertThat(inTxn.getModRevision()).isEqualTo(rev1 + 1);

    io.etcd.jetcd.kv.TxnResponse failed =
        result(
            kv.txn()
                .If(
                    new Cmp(key, Cmp.Op.EQUAL, CmpTarget.value(bytes("v2"))),
                    new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(rev1)))
                .Then(Op.put(key, bytes("then"), PutOption.DEFAULT))
                .Else(Op.get(key, GetOption.DEFAULT))
                .commit());
    assertThat(failed.isSucceeded()).isFalse();
    assertThat(string(single(failed.getGetResponses().get(0)).getValue())).isEqualTo("v2");
    // A read-only branch does not bump the revision.
    assertThat(failed.getHeader().getRevision()).isEqualTo(rev1 + 1);

    // A value compare on a missing key always fails, even against the empty value.
    io.etcd.jetcd.kv.TxnResponse missingValue =
        result(
            kv.txn()
                .If(new Cmp(missing, Cmp.Op.EQUAL, CmpTarget.value(ByteSequence.EMPTY)))
                .Then(Op.put(missing, bytes("x"), PutOption.DEFAULT))
                .commit());
    assertThat(missingValue.isSucceeded()).isFalse();
    assertThat(result(kv.get(missing)).getCount()).isZero();
  }

  @Test
  void txnCompareOnLease() {
    KVGrpc.KVBlockingStub stub = KVGrpc.newBlockingStub(cluster.channel(2));
    ByteString key = ByteString.copyFromUtf8(unique("txn-lease") + "k");
    long lease = result(cluster.client().getLeaseClient().grant(60)).getID();
    stub.put(
        PutRequest.newBuilder()
            .setKey(key)
            .setValue(ByteString.copyFromUtf8("v"))
            .setLease(lease)
            .build());

    TxnResponse matches =
        stub.txn(
            TxnRequest.newBuilder()
                .addCompare(WireExtras.leaseCompare(key, Compare.CompareResult.EQUAL, lease))
                .addSuccess(
                    RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)))
                .build());
    assertThat(matches.getSucceeded()).isTrue();
    assertThat(matches.getResponses(0).getResponseRange().getKvs(0).getLease()).isEqualTo(lease);

    TxnResponse differs =
        stub.txn(
            TxnRequest.newBuilder()
                .addCompare(WireExtras.leaseCompare(key, Compare.CompareResult.EQUAL, 0))
                .build());
    assertThat(differs.getSucceeded()).isFalse();
    result(cluster.client().getLeaseClient().revoke(lease));
  }

  @Test
  void nestedTxnRunsItsOwnBranchAndSharesTheOuterRevision() {
    String prefix = unique("nested");
    ByteSequence a = bytes(prefix + "a");
    ByteSequence b = bytes(prefix + "b");
    ByteSequence c = bytes(prefix + "c");
    long rev = result(kv.put(a, bytes("1"))).getHeader().getRevision();

    io.etcd.jetcd.kv.TxnResponse outer =
        result(
            kv.txn()
                .If(new Cmp(a, Cmp.Op.EQUAL, CmpTarget.value(bytes("1"))))
                .Then(
                    Op.put(b, bytes("outer"), PutOption.DEFAULT),
                    Op.txn(
                        new Cmp[] {new Cmp(a, Cmp.Op.EQUAL, CmpTarget.value(bytes("nope")))},
                        new Op[] {Op.put(c, bytes("inner-then"), PutOption.DEFAULT)},
                        new Op[] {
                          Op.put(c, bytes("inner-else"), PutOption.DEFAULT),
                          Op.delete(a, DeleteOption.DEFAULT),
                          Op.get(bytes(prefix), GetOption.builder().isPrefix(true).build())
                        }))
                .commit());

    assertThat(outer.isSucceeded()).isTrue();
    assertThat(outer.getHeader().getRevision()).isEqualTo(rev + 1);
    io.etcd.jetcd.kv.TxnResponse inner = outer.getTxnResponses().get(0);
    assertThat(inner.isSucceeded()).isFalse();
    assertThat(inner.getDeleteResponses().get(0).getDeleted()).isEqualTo(1);
    assertThat(keys(inner.getGetResponses().get(0))).containsExactly(prefix + "b", prefix + "c");

    GetResponse after = result(kv.get(bytes(prefix), GetOption.builder().isPrefix(true).build()));
    assertThat(after.getKvs())
        .extracting(k -> string(k.getValue()), KeyValue::getModRevision)
        .containsExactly(tuple("outer", rev + 1), tuple("inner-else", rev + 1));
  }

  @Test
  void compactDiscardsOlderRevisionsAndKeepsTheLatest() {
    ByteSequence key = bytes(unique("compact") + "k");
    long rev1 = result(kv.put(key, bytes("v1"))).getHeader().getRevision();
    long rev2 = result(kv.put(key, bytes("v2"))).getHeader().getRevision();

    result(kv.compact(rev2, CompactOption.builder().withCompactPhysical(true).build()));

    assertFails(
        kv.get(key, GetOption.builder().withRevision(rev1).build()),
        Status.Code.OUT_OF_RANGE,
        "etcdserver: mvcc: required revision has been compacted");
    KeyValue atRev2 = single(result(kv.get(key, GetOption.builder().withRevision(rev2).build())));
    assertThat(string(atRev2.getValue())).isEqualTo("v2");
    assertThat(atRev2.getCreateRevision()).isEqualTo(rev1);
    assertThat(atRev2.getVersion()).isEqualTo(2);
    assertThat(single(result(kv.get(key))).getVersion()).isEqualTo(2);
  }

  @Test
  void everyResponseHeaderCarriesClusterIdMemberIdRevisionAndTerm() {
    ByteSequence key = bytes(unique("header") + "k");
    Set<Long> clusterIds = new HashSet<>();
    for (int i = 0; i < cluster.fixture().clientUrls().size(); i++) {
      long memberId = cluster.memberId(i);
      PutResponse put = result(cluster.client(i).getKVClient().put(key, bytes("v" + i)));
      long rev = put.getHeader().getRevision();
      List<Response.Header> headers = new ArrayList<>();
      headers.add(put.getHeader());
      headers.add(result(cluster.client(i).getKVClient().get(key)).getHeader());
      headers.add(
          result(cluster.client(i).getMaintenanceClient().statusMember(cluster.target(i)))
              .getHeader());
      io.etcd.jetcd.lease.LeaseGrantResponse grant =
          result(cluster.client(i).getLeaseClient().grant(30));
      headers.add(grant.getHeader());
      result(cluster.client(i).getLeaseClient().revoke(grant.getID()));

      for (Response.Header header : headers) {
        assertThat(header.getMemberId()).as("member id from member %d", i).isEqualTo(memberId);
        assertThat(header.getClusterId()).isNotZero();
        assertThat(header.getRaftTerm()).isPositive();
        assertThat(header.getRevision()).isGreaterThanOrEqualTo(rev);
        clusterIds.add(header.getClusterId());
      }
      // etcd leaves the revision out of Cluster service headers (3.4 and 3.5).
      Response.Header members =
          result(cluster.client(i).getClusterClient().listMember()).getHeader();
      assertThat(members.getMemberId()).isEqualTo(memberId);
      assertThat(members.getRaftTerm()).isPositive();
      clusterIds.add(members.getClusterId());
    }
    assertThat(clusterIds).hasSize(1);
  }

  private List<String> sorted(String prefix, SortTarget target, SortOrder order) {
    GetResponse response =
        result(
            kv.get(
                bytes(prefix),
                GetOption.builder()
                    .isPrefix(true)
                    .withSortField(target)
                    .withSortOrder(order)
                    .build()));
    return response.getKvs().stream()
        .map(k -> string(k.getKey()).substring(prefix.length()))
        .toList();
  }

  private static List<String> keys(GetResponse response) {
    return response.getKvs().stream().map(k -> string(k.getKey())).toList();
  }

  private static KeyValue single(GetResponse response) {
    assertThat(response.getKvs()).hasSize(1);
    assertThat(response.getCount()).isEqualTo(1);
    return response.getKvs().get(0);
  }

  private static byte[] concat(byte[]... parts) {
    int length = 0;
    for (byte[] part : parts) {
      length += part.length;
    }
    byte[] out = new byte[length];
    int at = 0;
    for (byte[] part : parts) {
      System.arraycopy(part, 0, out, at, part.length);
      at += part.length;
    }
    return out;
  }
}
