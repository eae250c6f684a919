package io.tern.compat;

import static io.tern.compat.Await.result;
import static io.tern.compat.CompatSession.bytes;
import static io.tern.compat.CompatSession.string;
import static io.tern.compat.CompatSession.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchEvent.EventType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Watch service: jetcd's high-level watches, and raw streams for what jetcd hides. */
class WatchCompatTest {
  @RegisterExtension static final SharedCluster CLUSTER = new SharedCluster();

  private CompatSession cluster;
  private KV kv;
  private Watch watch;

  private final List<Watch.Watcher> watchers = new ArrayList<>();

  @BeforeEach
  void setUp() {
    cluster = CLUSTER.get();
    kv = cluster.client().getKVClient();
    watch = cluster.client().getWatchClient();
  }

  @AfterEach
  void closeWatchers() {
    watchers.forEach(Watch.Watcher::close);
  }

  private void open(Watch.Watcher watcher) {
    watchers.add(watcher);
  }

  @Test
  void aWatchDeliversPutsAndDeletesInRevisionOrder() {
    ByteSequence key = bytes(unique("watch") + "k");
    WatchRecorder recorder = new WatchRecorder();
    open(watch.watch(key, WatchOption.builder().withCreateNotify(true).build(), recorder));
    recorder.awaitCreated();
    long rev1 = result(kv.put(key, bytes("v1"))).getHeader().getRevision();
    long rev2 = result(kv.put(key, bytes("v2"))).getHeader().getRevision();
    long rev3 = result(kv.delete(key)).getHeader().getRevision();

    List<WatchEvent> events = recorder.awaitEvents(3);

    assertThat(events)
        .extracting(
            WatchEvent::getEventType,
            e -> string(e.getKeyValue().getValue()),
            e -> e.getKeyValue().getModRevision(),
            e -> e.getKeyValue().getVersion())
        .containsExactly(
            tuple(EventType.PUT, "v1", rev1, 1L),
            tuple(EventType.PUT, "v2", rev2, 2L),
            tuple(EventType.DELETE, "", rev3, 0L));
    assertThat(events).allSatisfy(e -> assertThat(e.getKeyValue().getKey()).isEqualTo(key));
    assertThat(events.get(1).getKeyValue().getCreateRevision()).isEqualTo(rev1);
    // Without prev_kv no previous value is sent.
    assertThat(events.get(1).getPrevKV().getKey().isEmpty()).isTrue();
  }

  @Test
  void aWatchFromAStartRevisionReplaysHistoryThenFollowsLiveWrites() {
    String prefix = unique("watch-history");
    ByteSequence key = bytes(prefix + "k");
    long rev1 = result(kv.put(key, bytes("v1"))).getHeader().getRevision();
    result(kv.put(key, bytes("v2")));
    result(kv.put(bytes(prefix + "other"), bytes("x")));
    result(kv.delete(key));

    WatchRecorder recorder = new WatchRecorder();
    open(watch.watch(key, WatchOption.builder().withRevision(rev1 + 1).build(), recorder));
    recorder.awaitEvents(2);
    long live = result(kv.put(key, bytes("v3"))).getHeader().getRevision();

    assertThat(recorder.awaitEvents(3))
        .extracting(WatchEvent::getEventType, e -> string(e.getKeyValue().getValue()))
        .containsExactly(
            tuple(EventType.PUT, "v2"), tuple(EventType.DELETE, ""), tuple(EventType.PUT, "v3"));
    assertThat(recorder.events().get(2).getKeyValue().getModRevision()).isEqualTo(live);
    assertThat(recorder.events().get(2).getKeyValue().getCreateRevision()).isEqualTo(live);
  }

  @Test
  void aWatchFromAFutureRevisionStartsThere() {
    ByteSequence key = bytes(unique("watch-future") + "k");
    long now = result(kv.put(key, bytes("v0"))).getHeader().getRevision();

    WatchRecorder recorder = new WatchRecorder();
    open(watch.watch(key, WatchOption.builder().withRevision(now + 2).build(), recorder));
    result(kv.put(key, bytes("v1"))); // now + 1: before the start revision
    result(kv.put(key, bytes("v2"))); // now + 2

    assertThat(recorder.awaitEvents(1))
        .extracting(e -> string(e.getKeyValue().getValue()), e -> e.getKeyValue().getModRevision())
        .containsExactly(tuple("v2", now + 2));
  }

  @Test
  void prefixAndRangeWatchesSeeOnlyTheirKeys() {
    String prefix = unique("watch-range");
    WatchRecorder byPrefix = new WatchRecorder();
    WatchRecorder byRange = new WatchRecorder();
    open(
        watch.watch(
            bytes(prefix + "a/"),
            WatchOption.builder().isPrefix(true).withCreateNotify(true).build(),
            byPrefix));
    open(
        watch.watch(
            bytes(prefix + "a/2"),
            WatchOption.builder().withRange(bytes(prefix + "b/2")).withCreateNotify(true).build(),
            byRange));
    byPrefix.awaitCreated();
    byRange.awaitCreated();
    for (String k : List.of("a/1", "a/2", "b/1", "b/2", "c", "a/3")) {
      result(kv.put(bytes(prefix + k), bytes(k)));
    }

    assertThat(keys(byPrefix.awaitEvents(3)))
        .containsExactly(prefix + "a/1", prefix + "a/2", prefix + "a/3");
    assertThat(keys(byRange.awaitEvents(3)))
        .containsExactly(prefix + "a/2", prefix + "b/1", prefix + "a/3");
  }

  @Test
  void prevKvCarriesThePreviousValueOfPutsAndDeletes() {
    ByteSequence key = bytes(unique("watch-prev") + "k");
    long rev1 = result(kv.put(key, bytes("v1"))).getHeader().getRevision();
    WatchRecorder recorder = new WatchRecorder();
    open(
        watch.watch(
            key, WatchOption.builder().withPrevKV(true).withCreateNotify(true).build(), recorder));
    recorder.awaitCreated();
    long rev2 = result(kv.put(key, bytes("v2"))).getHeader().getRevision();
    result(kv.delete(key));

    List<WatchEvent> events = recorder.awaitEvents(2);

    assertThat(string(events.get(0).getPrevKV().getValue())).isEqualTo("v1");
    assertThat(events.get(0).getPrevKV().getModRevision()).isEqualTo(rev1);
    assertThat(events.get(1).getEventType()).isEqualTo(EventType.DELETE);
    assertThat(string(events.get(1).getPrevKV().getValue())).isEqualTo("v2");
    assertThat(events.get(1).getPrevKV().getModRevision()).isEqualTo(rev2);
    assertThat(events.get(1).getPrevKV().getVersion()).isEqualTo(2);
  }

  @Test
  void filtersDropPutsOrDeletes() {
    String prefix = unique("watch-filter");
    WatchRecorder noPut = new WatchRecorder();
    WatchRecorder noDelete = new WatchRecorder();
    open(
        watch.watch(
            bytes(prefix),
            WatchOption.builder().isPrefix(true).withNoPut(true).withCreateNotify(true).build(),
            noPut));
    open(
        watch.watch(
            bytes(prefix),
            WatchOption.builder().isPrefix(true).withNoDelete(true).withCreateNotify(true).build(),
            noDelete));
    noPut.awaitCreated();
    noDelete.awaitCreated();
    result(kv.put(bytes(prefix + "x"), bytes("1")));
    result(kv.put(bytes(prefix + "y"), bytes("1")));
    result(kv.delete(bytes(prefix + "x")));
    // Fences: the last event each watch can see; everything before it has been delivered.
    result(kv.put(bytes(prefix + "fence"), bytes("1")));
    result(kv.delete(bytes(prefix + "fence")));

    assertThat(noPut.awaitEvents(2))
        .extracting(WatchEvent::getEventType, e -> string(e.getKeyValue().getKey()))
        .containsExactly(
            tuple(EventType.DELETE, prefix + "x"), tuple(EventType.DELETE, prefix + "fence"));
    assertThat(noDelete.awaitEvents(3))
        .extracting(WatchEvent::getEventType, e -> string(e.getKeyValue().getKey()))
        .containsExactly(
            tuple(EventType.PUT, prefix + "x"),
            tuple(EventType.PUT, prefix + "y"),
            tuple(EventType.PUT, prefix + "fence"));
  }

  @Test
  void progressNotifyReachesAnIdleWatch() {
    ByteSequence key = bytes(unique("watch-progress") + "k");
    long rev =
        result(kv.put(bytes(unique("watch-progress") + "other"), bytes("x")))
            .getHeader()
            .getRevision();
    WatchRecorder recorder = new WatchRecorder();
    open(watch.watch(key, WatchOption.builder().withProgressNotify(true).build(), recorder));
    io.etcd.jetcd.watch.WatchResponse progress =
        recorder.awaitResponse("a progress notification", r -> r.isProgressNotify());

    assertThat(progress.getEvents()).isEmpty();
    assertThat(progress.getHeader().getRevision()).isGreaterThanOrEqualTo(rev);
    assertThat(recorder.events()).isEmpty();
  }

  @Test
  void aProgressRequestIsAnsweredWithTheCurrentRevision() {
    ByteString key = ByteString.copyFromUtf8(unique("watch-progress-request") + "k");
    try (RawWatchStream stream = new RawWatchStream(cluster.channel(1))) {
      stream.create(WatchCreateRequest.newBuilder().setKey(key).build());
      long rev =
          result(kv.put(bytes(unique("watch-progress-request") + "other"), bytes("x")))
              .getHeader()
              .getRevision();
      // Member 1 may not have applied the write yet when it answers, so ask until it has.
      WatchResponse progress =
          Await.poll(
              "progress at revision " + rev,
              Await.RPC_TIMEOUT,
              () -> {
                stream.requestProgress();
                return stream.next();
              },
              r -> r.getHeader().getRevision() >= rev);

      assertThat(progress.getEventsCount()).isZero();
      assertThat(progress.getCreated()).isFalse();
      assertThat(progress.getCanceled()).isFalse();
      // Not tied to one watch: etcd answers with watch id -1.
      assertThat(progress.getWatchId()).isEqualTo(-1);
      assertThat(progress.getHeader().getMemberId()).isEqualTo(cluster.memberId(1));
    }
  }

  @Test
  void manyWatchesShareOneStreamAndAreToldApartByWatchId() {
    String prefix = unique("watch-many");
    int n = 8;
    try (RawWatchStream stream = new RawWatchStream(cluster.channel(2))) {
      Map<Long, String> keyOfWatch = new HashMap<>();
      for (int i = 0; i < n; i++) {
        long id =
            stream.create(
                WatchCreateRequest.newBuilder()
                    .setKey(ByteString.copyFromUtf8(prefix + i))
                    .build());
        assertThat(keyOfWatch).doesNotContainKey(id);
        keyOfWatch.put(id, prefix + i);
      }
      long prefixWatch =
          stream.create(
              WatchCreateRequest.newBuilder()
                  .setKey(ByteString.copyFromUtf8(prefix))
                  .setRangeEnd(
                      ByteString.copyFromUtf8(prefix.substring(0, prefix.length() - 1) + "0"))
                  .build());

      List<Long> revisions = new ArrayList<>();
      for (int i = n - 1; i >= 0; i--) {
        revisions.add(result(kv.put(bytes(prefix + i), bytes("v" + i))).getHeader().getRevision());
      }

      Map<Long, List<Event>> byWatch = new HashMap<>();
      int expected = 2 * n; // each put reaches its own watch and the prefix watch
      int seen = 0;
      while (seen < expected) {
        WatchResponse response = stream.next();
        assertThat(response.getEventsCount()).isPositive();
        byWatch
            .computeIfAbsent(response.getWatchId(), id -> new ArrayList<>())
            .addAll(response.getEventsList());
        seen += response.getEventsCount();
      }
      for (Map.Entry<Long, String> entry : keyOfWatch.entrySet()) {
        assertThat(byWatch.get(entry.getKey()))
            .extracting(e -> e.getKv().getKey().toStringUtf8())
            .containsExactly(entry.getValue());
      }
      assertThat(byWatch.get(prefixWatch))
          .extracting(e -> e.getKv().getModRevision())
          .containsExactlyElementsOf(revisions);
    }
  }

  @Test
  void cancelStopsOneWatchAndLeavesTheOthersOnTheStream() {
    String prefix = unique("watch-cancel");
    ByteString first = ByteString.copyFromUtf8(prefix + "first");
    ByteString second = ByteString.copyFromUtf8(prefix + "second");
    try (RawWatchStream stream = new RawWatchStream(cluster.channel(0))) {
      long firstId = stream.create(WatchCreateRequest.newBuilder().setKey(first).build());
      long secondId = stream.create(WatchCreateRequest.newBuilder().setKey(second).build());

      stream.cancel(firstId);
      WatchResponse canceled = stream.next();
      assertThat(canceled.getCanceled()).isTrue();
      assertThat(canceled.getWatchId()).isEqualTo(firstId);
      assertThat(canceled.getCompactRevision()).isZero();

      result(kv.put(ByteSequence.from(first), bytes("1")));
      long rev = result(kv.put(ByteSequence.from(second), bytes("2"))).getHeader().getRevision();
      // Events of one stream arrive in revision order: had the first watch survived, its event
      // (one revision earlier) would come before this one.
      WatchResponse next = stream.next();
      assertThat(next.getWatchId()).isEqualTo(secondId);
      assertThat(next.getEventsList())
          .extracting(e -> e.getKv().getKey(), e -> e.getKv().getModRevision())
          .containsExactly(tuple(second, rev));
    }
  }

  @Test
  void aWatchFromACompactedRevisionIsCanceledWithTheCompactRevision() {
    ByteSequence key = bytes(unique("watch-compacted") + "k");
    long rev1 = result(kv.put(key, bytes("v1"))).getHeader().getRevision();
    long rev2 = result(kv.put(key, bytes("v2"))).getHeader().getRevision();
    result(kv.compact(rev2));

    try (RawWatchStream stream = new RawWatchStream(cluster.channel(1))) {
      long id =
          stream.create(
              WatchCreateRequest.newBuilder()
                  .setKey(ByteString.copyFrom(key.getBytes()))
                  .setStartRevision(rev1)
                  .build());
      WatchResponse canceled = stream.next();
      assertThat(canceled.getWatchId()).isEqualTo(id);
      assertThat(canceled.getCanceled()).isTrue();
      assertThat(canceled.getCompactRevision()).isEqualTo(rev2);
      assertThat(canceled.getEventsCount()).isZero();
    }

    // jetcd surfaces the same answer as a CompactedException.
    WatchRecorder recorder = new WatchRecorder();
    open(watch.watch(key, WatchOption.builder().withRevision(rev1).build(), recorder));
    Throwable error = recorder.awaitError();
    assertThat(error).isInstanceOf(CompactedException.class);
    assertThat(((CompactedException) error).getCompactedRevision()).isEqualTo(rev2);
    assertThat(recorder.events()).isEmpty();

    // Watching from the compact revision itself still works.
    WatchRecorder fromCompact = new WatchRecorder();
    open(watch.watch(key, WatchOption.builder().withRevision(rev2).build(), fromCompact));
    assertThat(fromCompact.awaitEvents(1))
        .extracting(e -> string(e.getKeyValue().getValue()))
        .containsExactly("v2");
  }

  @Test
  void aWatchOnOneMemberSeesWritesMadeThroughAnother() {
    ByteSequence key = bytes(unique("watch-member") + "k");
    WatchRecorder recorder = new WatchRecorder();
    open(
        cluster
            .client(2)
            .getWatchClient()
            .watch(key, WatchOption.builder().withCreateNotify(true).build(), recorder));
    recorder.awaitCreated();
    long rev =
        result(cluster.client(0).getKVClient().put(key, bytes("v"))).getHeader().getRevision();

    assertThat(recorder.awaitEvents(1))
        .extracting(e -> e.getKeyValue().getModRevision())
        .containsExactly(rev);
  }

  private static List<String> keys(List<WatchEvent> events) {
    return events.stream().map(e -> string(e.getKeyValue().getKey())).toList();
  }
}
