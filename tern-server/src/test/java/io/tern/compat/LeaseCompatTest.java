package io.tern.compat;

import static io.tern.compat.Await.assertFails;
import static io.tern.compat.Await.result;
import static io.tern.compat.CompatSession.bytes;
import static io.tern.compat.CompatSession.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.lease.LeaseTimeToLiveResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.support.CloseableClient;
import io.etcd.jetcd.watch.WatchEvent;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Lease service: Grant, Revoke, KeepAlive, TimeToLive, Leases, expiry. */
class LeaseCompatTest {
  @RegisterExtension static final SharedCluster CLUSTER = new SharedCluster();

  /**
   * The shortest TTL etcd grants with a 1 s election timeout (1.5 election timeouts, rounded up).
   */
  private static final long SHORT_TTL = 2;

  private CompatSession cluster;
  private KV kv;
  private Lease lease;

  private final List<Watch.Watcher> watchers = new ArrayList<>();

  @BeforeEach
  void setUp() {
    cluster = CLUSTER.get();
    kv = cluster.client().getKVClient();
    lease = cluster.client().getLeaseClient();
  }

  @AfterEach
  void closeWatchers() {
    watchers.forEach(Watch.Watcher::close);
  }

  private void open(Watch.Watcher watcher) {
    watchers.add(watcher);
  }

  @Test
  void grantAttachAndTimeToLiveWithKeys() {
    String prefix = unique("lease");
    io.etcd.jetcd.lease.LeaseGrantResponse grant = result(lease.grant(60));
    long id = grant.getID();
    assertThat(id).isPositive();
    assertThat(grant.getTTL()).isEqualTo(60);
    result(kv.put(bytes(prefix + "a"), bytes("1"), PutOption.builder().withLeaseId(id).build()));
    result(kv.put(bytes(prefix + "b"), bytes("2"), PutOption.builder().withLeaseId(id).build()));
    result(kv.put(bytes(prefix + "c"), bytes("3")));

    assertThat(result(kv.get(bytes(prefix + "a"))).getKvs().get(0).getLease()).isEqualTo(id);
    LeaseTimeToLiveResponse withKeys =
        result(lease.timeToLive(id, LeaseOption.builder().withAttachedKeys().build()));
    assertThat(withKeys.getID()).isEqualTo(id);
    assertThat(withKeys.getGrantedTTL()).isEqualTo(60);
    assertThat(withKeys.getTTL()).isBetween(55L, 60L);
    assertThat(withKeys.getKeys())
        .containsExactlyInAnyOrder(bytes(prefix + "a"), bytes(prefix + "b"));
    LeaseTimeToLiveResponse withoutKeys = result(lease.timeToLive(id, LeaseOption.DEFAULT));
    assertThat(withoutKeys.getKeys()).isEmpty();
    assertThat(withoutKeys.getGrantedTTL()).isEqualTo(60);

    // Re-putting a key without the lease detaches it.
    result(kv.put(bytes(prefix + "b"), bytes("2")));
    assertThat(
            result(lease.timeToLive(id, LeaseOption.builder().withAttachedKeys().build()))
                .getKeys())
        .containsExactly(bytes(prefix + "a"));
    result(lease.revoke(id));
  }

  @Test
  void revokeDeletesTheAttachedKeysInOneRevision() {
    String prefix = unique("lease-revoke");
    long id = result(lease.grant(60)).getID();
    for (String k : List.of("a", "b", "c")) {
      result(kv.put(bytes(prefix + k), bytes(k), PutOption.builder().withLeaseId(id).build()));
    }
    result(kv.put(bytes(prefix + "kept"), bytes("x")));
    WatchRecorder recorder = new WatchRecorder();
    open(
        cluster
            .client()
            .getWatchClient()
            .watch(
                bytes(prefix),
                WatchOption.builder().isPrefix(true).withCreateNotify(true).build(),
                recorder));
    recorder.awaitCreated();
    long before = result(kv.get(bytes(prefix + "kept"))).getHeader().getRevision();

    long revoked = result(lease.revoke(id)).getHeader().getRevision();

    assertThat(revoked).isEqualTo(before + 1);
    List<WatchEvent> deletes = recorder.awaitEvents(3);
    assertThat(deletes)
        .extracting(WatchEvent::getEventType, e -> e.getKeyValue().getModRevision())
        .containsOnly(tuple(WatchEvent.EventType.DELETE, revoked));
    assertThat(result(kv.get(bytes(prefix), GetOption.builder().isPrefix(true).build())).getKvs())
        .extracting(k -> CompatSession.string(k.getKey()))
        .containsExactly(prefix + "kept");
    assertThat(result(lease.timeToLive(id, LeaseOption.DEFAULT)).getTTL()).isEqualTo(-1);
    assertFails(lease.revoke(id), Status.Code.NOT_FOUND, "etcdserver: requested lease not found");
  }

  @Test
  void anExpiredLeaseDeletesItsKeysEverywhereWhileAKeptAliveLeaseLives() {
    String prefix = unique("lease-expiry");
    ByteSequence expiring = bytes(prefix + "expiring");
    ByteSequence kept = bytes(prefix + "kept");
    long expiringId = result(lease.grant(SHORT_TTL)).getID();
    io.etcd.jetcd.lease.LeaseGrantResponse keptGrant = result(lease.grant(SHORT_TTL));
    long keptId = keptGrant.getID();
    assertThat(keptGrant.getTTL()).isEqualTo(SHORT_TTL);
    result(kv.put(expiring, bytes("1"), PutOption.builder().withLeaseId(expiringId).build()));
    result(kv.put(kept, bytes("1"), PutOption.builder().withLeaseId(keptId).build()));
    long start = System.nanoTime();

    List<LeaseKeepAliveResponse> answers = new CopyOnWriteArrayList<>();
    List<Throwable> errors = new CopyOnWriteArrayList<>();
    CloseableClient keepAlive =
        lease.keepAlive(
            keptId,
            new StreamObserver<>() {
              @Override
              public void onNext(LeaseKeepAliveResponse value) {
                answers.add(value);
              }

              @Override
              public void onError(Throwable t) {
                errors.add(t);
              }

              @Override
              public void onCompleted() {}
            });
    try {
      Await.until(
          "the expiring lease's key to be deleted",
          Duration.ofSeconds(15),
          () -> result(kv.get(expiring)).getCount() == 0);
      // Stay past two TTLs so the kept lease lives only thanks to the keep-alive stream.
      Await.until(
          "two TTLs to pass with keep-alives answered",
          Duration.ofSeconds(15),
          () ->
              System.nanoTime() - start > Duration.ofSeconds(2 * SHORT_TTL).toNanos()
                  && answers.size() >= 2);

      assertThat(errors).isEmpty();
      assertThat(answers).allSatisfy(a -> assertThat(a.getID()).isEqualTo(keptId));
      assertThat(answers).allSatisfy(a -> assertThat(a.getTTL()).isEqualTo(SHORT_TTL));
      assertThat(result(kv.get(kept)).getCount()).isEqualTo(1);
      assertThat(result(lease.timeToLive(keptId, LeaseOption.DEFAULT)).getTTL()).isPositive();
    } finally {
      keepAlive.close();
    }
    assertThat(result(lease.timeToLive(expiringId, LeaseOption.DEFAULT)).getTTL()).isEqualTo(-1);
    for (int i = 0; i < cluster.fixture().clientUrls().size(); i++) {
      KV member = cluster.client(i).getKVClient();
      Await.until(
          "member " + i + " to delete the expired key",
          Duration.ofSeconds(10),
          () ->
              result(member.get(expiring, GetOption.builder().withSerializable(true).build()))
                      .getCount()
                  == 0);
    }
    result(lease.revoke(keptId));
  }

  @Test
  void keepAliveOnceAnswersWithTheGrantedTtl() {
    long id = result(lease.grant(30)).getID();

    LeaseKeepAliveResponse answer = result(lease.keepAliveOnce(id));

    assertThat(answer.getID()).isEqualTo(id);
    assertThat(answer.getTTL()).isEqualTo(30);
    assertThat(answer.getHeader().getRevision()).isPositive();
    result(lease.revoke(id));
  }

  @Test
  void leasesListsTheLiveLeasesOnEveryMember() {
    long a = result(lease.grant(60)).getID();
    long b = result(lease.grant(60)).getID();
    result(lease.revoke(b));

    for (int i = 0; i < cluster.fixture().clientUrls().size(); i++) {
      int member = i;
      List<Long> ids =
          Await.poll(
              "member " + i + " to list lease " + a + " and not " + b,
              Duration.ofSeconds(10),
              () -> WireExtras.leaseLeases(cluster.channel(member)),
              l -> l.contains(a) && !l.contains(b));
      assertThat(ids).doesNotHaveDuplicates();
    }
    result(lease.revoke(a));
  }

  @Test
  void aLeaseSurvivesALeaderChange() {
    ByteSequence key = bytes(unique("lease-leader") + "k");
    long id = result(lease.grant(60)).getID();
    result(kv.put(key, bytes("v"), PutOption.builder().withLeaseId(id).build()));
    int leader = cluster.leaderIndex();
    int next = (leader + 1) % cluster.fixture().clientUrls().size();
    long nextId = cluster.memberId(next);

    result(cluster.client(leader).getMaintenanceClient().moveLeader(nextId));
    Await.until(
        "member " + next + " to lead", Duration.ofSeconds(15), () -> cluster.leaderIndex() == next);

    LeaseTimeToLiveResponse ttl =
        result(lease.timeToLive(id, LeaseOption.builder().withAttachedKeys().build()));
    assertThat(ttl.getGrantedTTL()).isEqualTo(60);
    assertThat(ttl.getTTL()).isPositive();
    assertThat(ttl.getKeys()).containsExactly(key);
    assertThat(result(lease.keepAliveOnce(id)).getTTL()).isEqualTo(60);
    assertThat(result(kv.get(key)).getKvs().get(0).getLease()).isEqualTo(id);
    result(lease.revoke(id));
    assertThat(result(kv.get(key)).getCount()).isZero();
  }
}
