package io.tern.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.tern.api.ClusterGrpc;
import io.tern.api.CompactionRequest;
import io.tern.api.Compare;
import io.tern.api.DeleteRangeRequest;
import io.tern.api.Event;
import io.tern.api.KVGrpc;
import io.tern.api.LeaseGrantRequest;
import io.tern.api.LeaseGrantResponse;
import io.tern.api.LeaseGrpc;
import io.tern.api.LeaseKeepAliveRequest;
import io.tern.api.LeaseKeepAliveResponse;
import io.tern.api.LeaseLeasesRequest;
import io.tern.api.LeaseRevokeRequest;
import io.tern.api.LeaseTimeToLiveRequest;
import io.tern.api.LeaseTimeToLiveResponse;
import io.tern.api.MaintenanceGrpc;
import io.tern.api.Member;
import io.tern.api.MemberListRequest;
import io.tern.api.PutRequest;
import io.tern.api.PutResponse;
import io.tern.api.RangeRequest;
import io.tern.api.RangeResponse;
import io.tern.api.RequestOp;
import io.tern.api.StatusRequest;
import io.tern.api.StatusResponse;
import io.tern.api.TxnRequest;
import io.tern.api.TxnResponse;
import io.tern.api.WatchCancelRequest;
import io.tern.api.WatchCreateRequest;
import io.tern.api.WatchGrpc;
import io.tern.api.WatchProgressRequest;
import io.tern.api.WatchRequest;
import io.tern.api.WatchResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A 3-member cluster in this JVM, driven through the etcd gRPC API on every member. */
class EtcdClusterTest {
  static final int MAX_REQUEST_BYTES = 64 << 10;

  @TempDir static Path dir;
  static TestCluster cluster;
  static int leader;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster =
        TestCluster.start(
            dir,
            3,
            b ->
                b.maxRequestBytes(MAX_REQUEST_BYTES)
                    .maxTxnOps(8)
                    .progressNotifyInterval(Duration.ofMillis(300)));
    leader = cluster.awaitLeader(Duration.ofSeconds(20));
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  static KVGrpc.KVBlockingStub kv(int i) {
    return KVGrpc.newBlockingStub(cluster.channel(i)).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  static LeaseGrpc.LeaseBlockingStub lease(int i) {
    return LeaseGrpc.newBlockingStub(cluster.channel(i)).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  static ByteString bs(String s) {
    return ByteString.copyFrom(s, UTF_8);
  }

  static PutResponse put(int member, String key, String value) {
    return kv(member).put(PutRequest.newBuilder().setKey(bs(key)).setValue(bs(value)).build());
  }

  static RangeResponse get(int member, String key) {
    return kv(member).range(RangeRequest.newBuilder().setKey(bs(key)).build());
  }

  static int follower() {
    return cluster.other(leader);
  }

  @Test
  void putOnAFollowerIsReadLinearizablyOnAnotherFollower() {
    int f1 = follower();
    int f2 = 3 - leader - f1; // the third member
    for (int i = 0; i < 20; i++) {
      PutResponse p = put(f1, "lin/" + i, "v" + i);
      RangeResponse r = get(f2, "lin/" + i);
      assertThat(r.getKvsList()).hasSize(1);
      assertThat(r.getKvs(0).getValue().toStringUtf8()).isEqualTo("v" + i);
      assertThat(r.getKvs(0).getModRevision()).isEqualTo(p.getHeader().getRevision());
      assertThat(r.getHeader().getRevision()).isGreaterThanOrEqualTo(p.getHeader().getRevision());
    }
  }

  @Test
  void putOnTheLeaderIsVisibleEverywhereAndSerializableReadsAreLocal() throws Exception {
    PutResponse p = put(leader, "everywhere", "x");
    for (int i = 0; i < cluster.size(); i++) {
      assertThat(get(i, "everywhere").getKvs(0).getValue().toStringUtf8()).isEqualTo("x");
    }
    int f = follower();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    RangeResponse r;
    do {
      r =
          kv(f)
              .range(
                  RangeRequest.newBuilder().setKey(bs("everywhere")).setSerializable(true).build());
    } while (r.getHeader().getRevision() < p.getHeader().getRevision()
        && System.nanoTime() < deadline);
    assertThat(r.getKvs(0).getValue().toStringUtf8()).isEqualTo("x");
  }

  @Test
  void txnTakesTheBranchItsComparesSelect() {
    put(follower(), "txn/a", "1");
    Compare isOne =
        Compare.newBuilder()
            .setKey(bs("txn/a"))
            .setTarget(Compare.CompareTarget.VALUE)
            .setResult(Compare.CompareResult.EQUAL)
            .setValue(bs("1"))
            .build();
    TxnRequest txn =
        TxnRequest.newBuilder()
            .addCompare(isOne)
            .addSuccess(
                RequestOp.newBuilder()
                    .setRequestPut(PutRequest.newBuilder().setKey(bs("txn/a")).setValue(bs("2"))))
            .addFailure(
                RequestOp.newBuilder()
                    .setRequestRange(RangeRequest.newBuilder().setKey(bs("txn/a"))))
            .build();
    TxnResponse first = kv(follower()).txn(txn);
    assertThat(first.getSucceeded()).isTrue();
    assertThat(first.getResponses(0).hasResponsePut()).isTrue();
    TxnResponse second = kv(leader).txn(txn);
    assertThat(second.getSucceeded()).isFalse();
    assertThat(second.getResponses(0).getResponseRange().getKvs(0).getValue().toStringUtf8())
        .isEqualTo("2");
    assertThat(second.getHeader().getRevision()).isEqualTo(first.getHeader().getRevision());
  }

  @Test
  void watchReceivesEventsInOrder() throws Exception {
    BlockingQueue<WatchResponse> got = new LinkedBlockingQueue<>();
    StreamObserver<WatchRequest> requests =
        WatchGrpc.newStub(cluster.channel(follower())).watch(collect(got));
    requests.onNext(
        WatchRequest.newBuilder()
            .setCreateRequest(
                WatchCreateRequest.newBuilder()
                    .setKey(bs("w/"))
                    .setRangeEnd(bs("w0"))
                    .setPrevKv(true))
            .build());
    WatchResponse created = poll(got);
    assertThat(created.getCreated()).isTrue();
    long watchId = created.getWatchId();
    assertThat(created.getHeader().getMemberId()).isEqualTo(cluster.server(follower()).memberId());

    List<Long> revisions = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      revisions.add(put(leader, "w/" + i, "v" + i).getHeader().getRevision());
    }
    put(leader, "elsewhere", "ignored");
    long deleted =
        kv(leader)
            .deleteRange(DeleteRangeRequest.newBuilder().setKey(bs("w/0")).build())
            .getHeader()
            .getRevision();
    revisions.add(deleted);

    List<Event> events = new ArrayList<>();
    List<Long> seen = new ArrayList<>();
    while (events.size() < 6) {
      WatchResponse r = poll(got);
      if (r.getEventsCount() == 0) {
        continue; // a progress notification
      }
      assertThat(r.getWatchId()).isEqualTo(watchId);
      events.addAll(r.getEventsList());
      for (Event e : r.getEventsList()) {
        seen.add(e.getKv().getModRevision());
      }
    }
    assertThat(seen.subList(0, 5)).isEqualTo(revisions.subList(0, 5));
    assertThat(events.get(0).getKv().getKey().toStringUtf8()).isEqualTo("w/0");
    Event del = events.get(5);
    assertThat(del.getType()).isEqualTo(Event.EventType.DELETE);
    assertThat(del.getPrevKv().getValue().toStringUtf8()).isEqualTo("v0");
    assertThat(del.getKv().getModRevision()).isEqualTo(deleted);

    requests.onNext(
        WatchRequest.newBuilder()
            .setProgressRequest(WatchProgressRequest.getDefaultInstance())
            .build());
    WatchResponse progress = poll(got);
    while (progress.getWatchId() != WatchService.ALL_WATCHES) {
      progress = poll(got);
    }
    assertThat(progress.getHeader().getRevision()).isGreaterThanOrEqualTo(deleted);

    requests.onNext(
        WatchRequest.newBuilder()
            .setCancelRequest(WatchCancelRequest.newBuilder().setWatchId(watchId))
            .build());
    WatchResponse canceled = poll(got);
    while (!canceled.getCanceled()) {
      canceled = poll(got);
    }
    assertThat(canceled.getWatchId()).isEqualTo(watchId);
    requests.onCompleted();
  }

  @Test
  void watchWithProgressNotifyGetsPeriodicProgress() throws Exception {
    BlockingQueue<WatchResponse> got = new LinkedBlockingQueue<>();
    StreamObserver<WatchRequest> requests =
        WatchGrpc.newStub(cluster.channel(leader)).watch(collect(got));
    requests.onNext(
        WatchRequest.newBuilder()
            .setCreateRequest(
                WatchCreateRequest.newBuilder().setKey(bs("quiet")).setProgressNotify(true))
            .build());
    WatchResponse created = poll(got);
    assertThat(created.getCreated()).isTrue();
    WatchResponse progress = poll(got);
    assertThat(progress.getWatchId()).isEqualTo(created.getWatchId());
    assertThat(progress.getEventsCount()).isZero();
    assertThat(progress.getHeader().getRevision()).isPositive();
    requests.onCompleted();
  }

  @Test
  void leaseKeepsKeysAliveAndItsExpiryDeletesThem() throws Exception {
    int f = follower();
    LeaseGrantResponse granted =
        lease(f).leaseGrant(LeaseGrantRequest.newBuilder().setTTL(1).build());
    long id = granted.getID();
    assertThat(id).isPositive();
    assertThat(granted.getTTL()).isGreaterThanOrEqualTo(1);
    kv(leader)
        .put(PutRequest.newBuilder().setKey(bs("leased")).setValue(bs("v")).setLease(id).build());
    assertThat(lease(leader).leaseLeases(LeaseLeasesRequest.getDefaultInstance()).getLeasesList())
        .anyMatch(l -> l.getID() == id);

    BlockingQueue<LeaseKeepAliveResponse> alive = new LinkedBlockingQueue<>();
    StreamObserver<LeaseKeepAliveRequest> keepAlive =
        LeaseGrpc.newStub(cluster.channel(f)).leaseKeepAlive(collect(alive));
    keepAlive.onNext(LeaseKeepAliveRequest.newBuilder().setID(id).build());
    LeaseKeepAliveResponse ka = alive.poll(10, TimeUnit.SECONDS);
    assertThat(ka).isNotNull();
    assertThat(ka.getID()).isEqualTo(id);
    assertThat(ka.getTTL()).isEqualTo(granted.getTTL());
    keepAlive.onNext(LeaseKeepAliveRequest.newBuilder().setID(424242).build());
    LeaseKeepAliveResponse unknown = alive.poll(10, TimeUnit.SECONDS);
    assertThat(unknown.getID()).isEqualTo(424242);
    assertThat(unknown.getTTL()).isZero();
    keepAlive.onCompleted();

    LeaseTimeToLiveResponse ttl =
        lease(f)
            .leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(id).setKeys(true).build());
    assertThat(ttl.getGrantedTTL()).isEqualTo(granted.getTTL());
    assertThat(ttl.getKeysList()).containsExactly(bs("leased"));

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (get(f, "leased").getKvsCount() > 0) {
      assertThat(System.nanoTime()).as("lease expiry deleted the key in time").isLessThan(deadline);
      Thread.sleep(100);
    }
    assertThat(
            lease(leader)
                .leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(id).build())
                .getTTL())
        .isEqualTo(-1);
  }

  @Test
  void revokeDeletesTheLeasesKeys() {
    long id = lease(leader).leaseGrant(LeaseGrantRequest.newBuilder().setTTL(60).build()).getID();
    kv(follower())
        .put(PutRequest.newBuilder().setKey(bs("revoked")).setValue(bs("v")).setLease(id).build());
    lease(follower()).leaseRevoke(LeaseRevokeRequest.newBuilder().setID(id).build());
    assertThat(get(leader, "revoked").getKvsCount()).isZero();
    assertThatThrownBy(
            () -> lease(leader).leaseRevoke(LeaseRevokeRequest.newBuilder().setID(id).build()))
        .satisfies(
            e -> assertStatus(e, Status.Code.NOT_FOUND, "etcdserver: requested lease not found"));
  }

  @Test
  void memberListNamesEveryMemberWithItsUrls() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    List<Member> members;
    while (true) {
      members =
          ClusterGrpc.newBlockingStub(cluster.channel(follower()))
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .memberList(MemberListRequest.newBuilder().setLinearizable(true).build())
              .getMembersList();
      if (members.size() == 3 && members.stream().allMatch(m -> m.getClientURLsCount() == 1)) {
        break;
      }
      assertThat(System.nanoTime())
          .as("members published in time: " + members)
          .isLessThan(deadline);
      Thread.sleep(100);
    }
    for (int i = 0; i < 3; i++) {
      long id = cluster.server(i).memberId();
      ServerConfig c = cluster.config(i);
      assertThat(members)
          .anySatisfy(
              m -> {
                assertThat(m.getID()).isEqualTo(id);
                assertThat(m.getName()).isEqualTo(c.name());
                assertThat(m.getPeerURLsList()).containsExactly(c.listenPeerUrl().toString());
                assertThat(m.getClientURLsList())
                    .containsExactly(c.listenClientUrls().get(0).toString());
                assertThat(m.getIsLearner()).isFalse();
              });
    }
  }

  @Test
  void statusAndHeadersIdentifyClusterMemberTermAndRevision() {
    long clusterId = cluster.server(0).clusterId();
    assertThat(clusterId).isPositive();
    long revision = put(leader, "status", "s").getHeader().getRevision();
    for (int i = 0; i < 3; i++) {
      StatusResponse s =
          MaintenanceGrpc.newBlockingStub(cluster.channel(i))
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .status(StatusRequest.getDefaultInstance());
      assertThat(s.getHeader().getClusterId()).isEqualTo(clusterId);
      assertThat(s.getHeader().getMemberId()).isEqualTo(cluster.server(i).memberId());
      assertThat(s.getHeader().getRaftTerm()).isPositive();
      assertThat(s.getLeader()).isEqualTo(cluster.server(leader).memberId());
      assertThat(s.getRaftTerm()).isEqualTo(s.getHeader().getRaftTerm());
      assertThat(s.getVersion()).isEqualTo("3.5.0");
      assertThat(s.getDbSize()).isPositive();
      RangeResponse r = get(i, "status");
      assertThat(r.getHeader().getClusterId()).isEqualTo(clusterId);
      assertThat(r.getHeader().getMemberId()).isEqualTo(cluster.server(i).memberId());
      assertThat(r.getHeader().getRevision()).isGreaterThanOrEqualTo(revision);
      assertThat(r.getHeader().getRaftTerm()).isPositive();
    }
  }

  @Test
  void badInputGetsEtcdsStatusAndMessage() {
    int f = follower();
    String big = "x".repeat(MAX_REQUEST_BYTES + 1);
    assertThatThrownBy(() -> put(f, "big", big))
        .satisfies(
            e -> assertStatus(e, Status.Code.INVALID_ARGUMENT, "etcdserver: request is too large"));
    assertThatThrownBy(() -> put(f, "", "v"))
        .satisfies(
            e -> assertStatus(e, Status.Code.INVALID_ARGUMENT, "etcdserver: key is not provided"));
    assertThatThrownBy(() -> get(f, ""))
        .satisfies(
            e -> assertStatus(e, Status.Code.INVALID_ARGUMENT, "etcdserver: key is not provided"));

    TxnRequest.Builder many = TxnRequest.newBuilder();
    for (int i = 0; i < 9; i++) {
      many.addSuccess(
          RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(bs("many/" + i))));
    }
    assertThatThrownBy(() -> kv(f).txn(many.build()))
        .satisfies(
            e ->
                assertStatus(
                    e,
                    Status.Code.INVALID_ARGUMENT,
                    "etcdserver: too many operations in txn request"));
    RequestOp dup =
        RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(bs("dup"))).build();
    assertThatThrownBy(
            () -> kv(f).txn(TxnRequest.newBuilder().addSuccess(dup).addSuccess(dup).build()))
        .satisfies(
            e ->
                assertStatus(
                    e,
                    Status.Code.INVALID_ARGUMENT,
                    "etcdserver: duplicate key given in txn request"));

    assertThatThrownBy(
            () -> kv(f).put(PutRequest.newBuilder().setKey(bs("k")).setLease(777_777).build()))
        .satisfies(
            e -> assertStatus(e, Status.Code.NOT_FOUND, "etcdserver: requested lease not found"));

    long now = put(f, "rev", "1").getHeader().getRevision();
    assertThatThrownBy(
            () ->
                kv(f)
                    .range(
                        RangeRequest.newBuilder()
                            .setKey(bs("rev"))
                            .setRevision(now + 1000)
                            .build()))
        .satisfies(
            e ->
                assertStatus(
                    e,
                    Status.Code.OUT_OF_RANGE,
                    "etcdserver: mvcc: required revision is a future revision"));
    // Nothing of a refused request was applied.
    assertThat(get(leader, "big").getKvsCount()).isZero();
    assertThat(get(leader, "many/0").getKvsCount()).isZero();
    assertThat(get(leader, "k").getKvsCount()).isZero();
  }

  @Test
  void compactedRevisionsAreRefusedAndWatchesFromThemCanceled() throws Exception {
    long first = put(leader, "compact/k", "1").getHeader().getRevision();
    long second = put(leader, "compact/k", "2").getHeader().getRevision();
    kv(follower()).compact(CompactionRequest.newBuilder().setRevision(second).build());
    assertThatThrownBy(
            () ->
                kv(follower())
                    .range(
                        RangeRequest.newBuilder()
                            .setKey(bs("compact/k"))
                            .setRevision(first)
                            .build()))
        .satisfies(
            e ->
                assertStatus(
                    e,
                    Status.Code.OUT_OF_RANGE,
                    "etcdserver: mvcc: required revision has been compacted"));

    BlockingQueue<WatchResponse> got = new LinkedBlockingQueue<>();
    StreamObserver<WatchRequest> requests =
        WatchGrpc.newStub(cluster.channel(leader)).watch(collect(got));
    requests.onNext(
        WatchRequest.newBuilder()
            .setCreateRequest(
                WatchCreateRequest.newBuilder().setKey(bs("compact/k")).setStartRevision(first))
            .build());
    WatchResponse created = poll(got);
    assertThat(created.getCreated()).isTrue();
    WatchResponse canceled = poll(got);
    assertThat(canceled.getCanceled()).isTrue();
    assertThat(canceled.getWatchId()).isEqualTo(created.getWatchId());
    assertThat(canceled.getCompactRevision()).isGreaterThanOrEqualTo(second);
    // Like etcd, the cancel reason carries the MVCC error without the "etcdserver: " prefix.
    assertThat(canceled.getCancelReason()).isEqualTo("mvcc: required revision has been compacted");
    requests.onCompleted();
  }

  static void assertStatus(Throwable e, Status.Code code, String message) {
    assertThat(e).isInstanceOf(StatusRuntimeException.class);
    Status s = ((StatusRuntimeException) e).getStatus();
    assertThat(s.getCode()).isEqualTo(code);
    assertThat(s.getDescription()).isEqualTo(message);
  }

  static <T> T poll(BlockingQueue<T> q) throws InterruptedException {
    T v = q.poll(10, TimeUnit.SECONDS);
    assertThat(v).as("a response within 10 s").isNotNull();
    return v;
  }

  static <T> StreamObserver<T> collect(BlockingQueue<T> into) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        into.add(value);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }
}
