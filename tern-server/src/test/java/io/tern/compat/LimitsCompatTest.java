package io.tern.compat;

import static io.tern.compat.Await.assertFails;
import static io.tern.compat.Await.result;
import static io.tern.compat.CompatSession.bytes;
import static io.tern.compat.CompatSession.string;
import static io.tern.compat.CompatSession.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.LeaseKeepAliveRequest;
import io.etcd.jetcd.api.LeaseKeepAliveResponse;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Bad input and limits: etcd's status codes and messages, and nothing of a refused request applied.
 * (No leader / "etcdserver: no leader" is covered by the server's own tests.)
 */
class LimitsCompatTest {
  @RegisterExtension static final SharedCluster CLUSTER = new SharedCluster();

  private static final int MAX_REQUEST_BYTES = 1536 * 1024;
  private static final int MAX_TXN_OPS = 128;

  private CompatSession cluster;
  private KV kv;

  @BeforeEach
  void setUp() {
    cluster = CLUSTER.get();
    kv = cluster.client().getKVClient();
  }

  @Test
  void aRequestOverMaxRequestBytesIsRefused() {
    ByteSequence key = bytes(unique("too-large") + "k");
    long before = currentRevision();

    assertFails(
        kv.put(key, ByteSequence.from(new byte[MAX_REQUEST_BYTES + 1024])),
        Status.Code.INVALID_ARGUMENT,
        "etcdserver: request is too large");

    assertThat(result(kv.get(key)).getCount()).isZero();
    assertThat(currentRevision()).isEqualTo(before);
    // A large request below the limit is fine.
    result(kv.put(key, ByteSequence.from(new byte[1024 * 1024])));
    assertThat(result(kv.get(key)).getKvs().get(0).getValue().size()).isEqualTo(1024 * 1024);
    result(kv.delete(key));
  }

  @Test
  void anEmptyKeyIsRefusedByEveryKvCall() {
    long before = currentRevision();
    String message = "etcdserver: key is not provided";

    assertFails(kv.put(ByteSequence.EMPTY, bytes("v")), Status.Code.INVALID_ARGUMENT, message);
    assertFails(kv.get(ByteSequence.EMPTY), Status.Code.INVALID_ARGUMENT, message);
    assertFails(kv.delete(ByteSequence.EMPTY), Status.Code.INVALID_ARGUMENT, message);
    ByteSequence other = bytes(unique("empty-key") + "other");
    assertFails(
        kv.txn()
            .Then(
                Op.put(other, bytes("v"), PutOption.DEFAULT),
                Op.put(ByteSequence.EMPTY, bytes("v"), PutOption.DEFAULT))
            .commit(),
        Status.Code.INVALID_ARGUMENT,
        message);

    assertThat(result(kv.get(other)).getCount()).isZero();
    assertThat(currentRevision()).isEqualTo(before);
  }

  @Test
  void aTxnWithMoreThanMaxTxnOpsIsRefusedAndOneAtTheLimitIsApplied() {
    String prefix = unique("txn-ops");
    long before = currentRevision();

    assertFails(
        kv.txn().Then(puts(prefix, MAX_TXN_OPS + 1)).commit(),
        Status.Code.INVALID_ARGUMENT,
        "etcdserver: too many operations in txn request");
    Cmp[] compares = new Cmp[MAX_TXN_OPS + 1];
    Arrays.fill(compares, new Cmp(bytes(prefix + "x"), Cmp.Op.EQUAL, CmpTarget.version(0)));
    assertFails(
        kv.txn().If(compares).commit(),
        Status.Code.INVALID_ARGUMENT,
        "etcdserver: too many operations in txn request");
    assertThat(countPrefix(prefix)).isZero();
    assertThat(currentRevision()).isEqualTo(before);

    io.etcd.jetcd.kv.TxnResponse atLimit =
        result(kv.txn().Then(puts(prefix, MAX_TXN_OPS)).commit());
    assertThat(atLimit.isSucceeded()).isTrue();
    assertThat(atLimit.getHeader().getRevision()).isEqualTo(before + 1);
    assertThat(countPrefix(prefix)).isEqualTo(MAX_TXN_OPS);
    result(kv.delete(bytes(prefix), DeleteOption.builder().isPrefix(true).build()));
  }

  @Test
  void aTxnWritingTheSameKeyTwiceIsRefused() {
    String prefix = unique("txn-dup");
    ByteSequence a = bytes(prefix + "a");
    ByteSequence b = bytes(prefix + "b");
    long before = currentRevision();
    String message = "etcdserver: duplicate key given in txn request";

    assertFails(
        kv.txn()
            .Then(
                Op.put(b, bytes("1"), PutOption.DEFAULT),
                Op.put(a, bytes("1"), PutOption.DEFAULT),
                Op.put(a, bytes("2"), PutOption.DEFAULT))
            .commit(),
        Status.Code.INVALID_ARGUMENT,
        message);
    // A delete whose range covers a put's key counts as a duplicate.
    assertFails(
        kv.txn()
            .Then(
                Op.put(a, bytes("1"), PutOption.DEFAULT),
                Op.delete(bytes(prefix), DeleteOption.builder().isPrefix(true).build()))
            .commit(),
        Status.Code.INVALID_ARGUMENT,
        message);
    // So does a put in a nested txn of a key the outer txn puts.
    assertFails(
        kv.txn()
            .Then(
                Op.put(a, bytes("1"), PutOption.DEFAULT),
                Op.txn(new Cmp[0], new Op[] {Op.put(a, bytes("2"), PutOption.DEFAULT)}, new Op[0]))
            .commit(),
        Status.Code.INVALID_ARGUMENT,
        message);
    assertThat(countPrefix(prefix)).isZero();
    assertThat(currentRevision()).isEqualTo(before);

    // The same key in both branches is fine (only one branch runs), as are reads of a written key.
    io.etcd.jetcd.kv.TxnResponse branches =
        result(
            kv.txn()
                .If(new Cmp(a, Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(Op.put(a, bytes("then"), PutOption.DEFAULT), Op.get(a, GetOption.DEFAULT))
                .Else(Op.put(a, bytes("else"), PutOption.DEFAULT))
                .commit());
    assertThat(branches.isSucceeded()).isTrue();
    assertThat(string(result(kv.get(a)).getKvs().get(0).getValue())).isEqualTo("then");
  }

  @Test
  void compactedAndFutureRevisionsAreRefused() {
    ByteSequence key = bytes(unique("revisions") + "k");
    long rev1 = result(kv.put(key, bytes("v1"))).getHeader().getRevision();
    long rev2 = result(kv.put(key, bytes("v2"))).getHeader().getRevision();
    result(kv.compact(rev2));
    String compacted = "etcdserver: mvcc: required revision has been compacted";
    String future = "etcdserver: mvcc: required revision is a future revision";

    assertFails(
        kv.get(key, GetOption.builder().withRevision(rev1).build()),
        Status.Code.OUT_OF_RANGE,
        compacted);
    assertFails(kv.compact(rev2), Status.Code.OUT_OF_RANGE, compacted);
    assertFails(kv.compact(rev1), Status.Code.OUT_OF_RANGE, compacted);

    long current = currentRevision();
    assertFails(
        kv.get(key, GetOption.builder().withRevision(current + 1000).build()),
        Status.Code.OUT_OF_RANGE,
        future);
    assertFails(kv.compact(current + 1000), Status.Code.OUT_OF_RANGE, future);
    assertThat(currentRevision()).isEqualTo(current);
  }

  /**
   * A txn whose range reads a compacted or future revision is refused as a whole, on every member.
   * etcd (3.4.23 here; fixed upstream only in 2026) drops the ranges from the txn on members the
   * client is not connected to, so those members apply the txn's writes and the cluster diverges
   * (etcd-io/etcd#18667).
   */
  @Test
  void aTxnReadingABadRevisionIsRefusedOnEveryMember() {
    assumeThat(cluster.fixture().knownBugs()).doesNotContain(ClusterFixture.ETCD_18667);
    ByteSequence key = bytes(unique("txn-revisions") + "k");
    long rev1 = result(kv.put(key, bytes("v1"))).getHeader().getRevision();
    long rev2 = result(kv.put(key, bytes("v2"))).getHeader().getRevision();
    result(kv.compact(rev2));
    ByteSequence other = bytes(unique("txn-revisions") + "other");

    assertFails(
        kv.txn()
            .Then(
                Op.put(other, bytes("x"), PutOption.DEFAULT),
                Op.get(key, GetOption.builder().withRevision(rev1).build()))
            .commit(),
        Status.Code.OUT_OF_RANGE,
        "etcdserver: mvcc: required revision has been compacted");
    assertFails(
        kv.txn()
            .Then(
                Op.put(other, bytes("x"), PutOption.DEFAULT),
                Op.get(key, GetOption.builder().withRevision(rev2 + 1000).build()))
            .commit(),
        Status.Code.OUT_OF_RANGE,
        "etcdserver: mvcc: required revision is a future revision");

    // A later write is applied everywhere at the same revision: no member applied the refused put.
    long marker =
        result(kv.put(bytes(unique("txn-revisions") + "marker"), bytes("m")))
            .getHeader()
            .getRevision();
    assertThat(marker).isEqualTo(rev2 + 1);
    for (int i = 0; i < cluster.fixture().clientUrls().size(); i++) {
      KV member = cluster.client(i).getKVClient();
      GetResponse seen =
          Await.poll(
              "member " + i + " applied revision " + marker,
              Duration.ofSeconds(10),
              () -> result(member.get(other, GetOption.builder().withSerializable(true).build())),
              r -> r.getHeader().getRevision() >= marker);
      assertThat(seen.getCount()).as("refused put applied on member %d", i).isZero();
      assertThat(seen.getHeader().getRevision()).as("member %d", i).isEqualTo(marker);
    }
  }

  @Test
  void anUnknownLeaseIsRefused() {
    Lease lease = cluster.client().getLeaseClient();
    long unknown = 0x7e57_1ea5eL;
    ByteSequence key = bytes(unique("unknown-lease") + "k");
    long before = currentRevision();
    String notFound = "etcdserver: requested lease not found";

    assertFails(
        kv.put(key, bytes("v"), PutOption.builder().withLeaseId(unknown).build()),
        Status.Code.NOT_FOUND,
        notFound);
    assertFails(lease.revoke(unknown), Status.Code.NOT_FOUND, notFound);
    assertFails(
        kv.txn()
            .Then(Op.put(key, bytes("v"), PutOption.builder().withLeaseId(unknown).build()))
            .commit(),
        Status.Code.NOT_FOUND,
        notFound);
    assertThat(result(kv.get(key)).getCount()).isZero();
    assertThat(currentRevision()).isEqualTo(before);

    // TimeToLive answers TTL -1 rather than an error.
    io.etcd.jetcd.lease.LeaseTimeToLiveResponse ttl =
        result(lease.timeToLive(unknown, LeaseOption.builder().withAttachedKeys().build()));
    assertThat(ttl.getID()).isEqualTo(unknown);
    assertThat(ttl.getTTL()).isEqualTo(-1);
    assertThat(ttl.getKeys()).isEmpty();

    // KeepAlive answers on the stream with TTL 0 (jetcd turns that into NOT_FOUND).
    assertThat(keepAliveOnceRaw(unknown).getTTL()).isZero();
    assertFails(lease.keepAliveOnce(unknown), Status.Code.NOT_FOUND, notFound);
  }

  @Test
  void grantingAnExistingLeaseIdIsRefused() {
    LeaseGrpc.LeaseBlockingStub stub = LeaseGrpc.newBlockingStub(cluster.channel(0));
    long id = result(cluster.client().getLeaseClient().grant(60)).getID();

    Await.assertFails(
        () -> stub.leaseGrant(LeaseGrantRequest.newBuilder().setID(id).setTTL(60).build()),
        Status.Code.FAILED_PRECONDITION,
        "etcdserver: lease already exists");

    // A client-chosen id that is free is granted as asked.
    long chosen = id + 1;
    assertThat(
            stub.leaseGrant(LeaseGrantRequest.newBuilder().setID(chosen).setTTL(60).build())
                .getID())
        .isEqualTo(chosen);
    result(cluster.client().getLeaseClient().revoke(id));
    result(cluster.client().getLeaseClient().revoke(chosen));
  }

  @Test
  void inconsistentPutOptionsAreRefused() {
    KVGrpc.KVBlockingStub stub = KVGrpc.newBlockingStub(cluster.channel(0));
    ByteString key = ByteString.copyFromUtf8(unique("put-options") + "k");
    long lease = result(cluster.client().getLeaseClient().grant(60)).getID();
    long before = currentRevision();

    Await.assertFails(
        () -> stub.put(PutRequest.newBuilder().setKey(key).setIgnoreValue(true).build()),
        Status.Code.INVALID_ARGUMENT,
        "etcdserver: key not found");
    Await.assertFails(
        () -> stub.put(PutRequest.newBuilder().setKey(key).setIgnoreLease(true).build()),
        Status.Code.INVALID_ARGUMENT,
        "etcdserver: key not found");
    stub.put(PutRequest.newBuilder().setKey(key).setValue(ByteString.copyFromUtf8("v")).build());
    Await.assertFails(
        () ->
            stub.put(
                PutRequest.newBuilder()
                    .setKey(key)
                    .setValue(ByteString.copyFromUtf8("x"))
                    .setIgnoreValue(true)
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        "etcdserver: value is provided");
    Await.assertFails(
        () ->
            stub.put(
                PutRequest.newBuilder()
                    .setKey(key)
                    .setValue(ByteString.copyFromUtf8("x"))
                    .setLease(lease)
                    .setIgnoreLease(true)
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        "etcdserver: lease is provided");

    assertThat(
            stub.range(RangeRequest.newBuilder().setKey(key).build())
                .getKvs(0)
                .getValue()
                .toStringUtf8())
        .isEqualTo("v");
    assertThat(currentRevision()).isEqualTo(before + 1);
    result(cluster.client().getLeaseClient().revoke(lease));
  }

  private LeaseKeepAliveResponse keepAliveOnceRaw(long id) {
    CompletableFuture<LeaseKeepAliveResponse> first = new CompletableFuture<>();
    StreamObserver<LeaseKeepAliveRequest> requests =
        LeaseGrpc.newStub(cluster.channel(1))
            .leaseKeepAlive(
                new StreamObserver<>() {
                  @Override
                  public void onNext(LeaseKeepAliveResponse value) {
                    first.complete(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    first.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    first.completeExceptionally(new AssertionError("stream ended without answer"));
                  }
                });
    requests.onNext(LeaseKeepAliveRequest.newBuilder().setID(id).build());
    try {
      return first.get(Await.RPC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("keep-alive of " + id, e);
    } finally {
      requests.onCompleted();
    }
  }

  private long currentRevision() {
    return result(kv.get(bytes("/compat/revision-probe"))).getHeader().getRevision();
  }

  private long countPrefix(String prefix) {
    return result(
            kv.get(bytes(prefix), GetOption.builder().isPrefix(true).withCountOnly(true).build()))
        .getCount();
  }

  private static Op[] puts(String prefix, int n) {
    List<Op> ops = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ops.add(Op.put(bytes(prefix + i), bytes("v" + i), PutOption.DEFAULT));
    }
    return ops.toArray(new Op[0]);
  }
}
