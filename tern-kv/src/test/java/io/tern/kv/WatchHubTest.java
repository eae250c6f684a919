package io.tern.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.tern.api.Event;
import io.tern.api.KeyValue;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * Deterministic tests of {@link WatchHub}: a {@link ManualExecutor} runs the hub's tasks on the
 * test thread when the test says so, and races with apply are staged by publishing from inside
 * history reads and listener calls.
 */
class WatchHubTest {
  private final ManualExecutor executor = new ManualExecutor();
  private final FakeStore store = new FakeStore();

  private WatchHub hub(int queueCapacity, int chunkRevisions) {
    WatchHub hub = new WatchHub(store, executor, queueCapacity, chunkRevisions);
    store.hub = hub;
    return hub;
  }

  private WatchHub hub() {
    return hub(WatchHub.DEFAULT_QUEUE_CAPACITY, WatchHub.DEFAULT_CHUNK_REVISIONS);
  }

  // ---- key ranges

  @Test
  void singleKeyWatchSeesOnlyThatKey() throws Exception {
    WatchHub hub = hub();
    Recorder r = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("b"), 0), r);

    store.put("a", "1");
    store.commit(Op.put("ba", "2"), Op.put("b", "3"), Op.put("c", "4"));
    store.delete("b");
    executor.runAll();

    assertThat(r.lines).containsExactly("2: PUT b=3", "3: DELETE b");
  }

  @Test
  void prefixWatchComparesBytesUnsigned() throws Exception {
    WatchHub hub = hub();
    Recorder r = new Recorder();
    // [0x10, 0xf0): 0x80 is inside when bytes compare unsigned, outside when they compare signed.
    hub.watch(WatchSpec.ofRange(bytes(0x10), bytes(0xf0), 0), r);

    store.commit(Op.put(bytes(0x80), "in"));
    store.commit(Op.put(bytes(0x0f, 0xff), "below"));
    store.commit(Op.put(bytes(0x10), "first"));
    store.commit(Op.put(bytes(0xef, 0xff, 0xff), "last"));
    store.commit(Op.put(bytes(0xf0), "end"));
    store.commit(Op.put(bytes(0xff), "above"));
    executor.runAll();

    assertThat(r.lines).containsExactly("1: PUT 80=in", "3: PUT 10=first", "4: PUT efffff=last");
  }

  @Test
  void prefixWatchMatchesTheKeysUnderThePrefix() throws Exception {
    WatchHub hub = hub();
    Recorder r = new Recorder();
    hub.watch(WatchSpec.ofRange(bs("dir/"), bs("dir0"), 0), r);

    store.commit(Op.put("dir", "x"), Op.put("dir/a", "1"), Op.put("dir/b/c", "2"));
    store.put("dir0", "y");
    store.delete("dir/a");
    executor.runAll();

    assertThat(r.lines).containsExactly("1: PUT dir/a=1, PUT dir/b/c=2", "3: DELETE dir/a");
  }

  @Test
  void fromKeyWatchSeesEveryKeyAtOrAfterTheKey() throws Exception {
    WatchHub hub = hub();
    Recorder r = new Recorder();
    hub.watch(WatchSpec.ofRange(bs("m"), bytes(0), 0), r);

    store.put("a", "1");
    store.put("m", "2");
    store.put("zz", "3");
    store.commit(Op.put(bytes(0xff, 0xff), "4"));
    executor.runAll();

    assertThat(r.lines).containsExactly("2: PUT m=2", "3: PUT zz=3", "4: PUT ffff=4");
  }

  @Test
  void rangeEndingAtOrBeforeItsKeySelectsNothing() throws Exception {
    WatchHub hub = hub();
    Recorder r = new Recorder();
    hub.watch(WatchSpec.ofRange(bs("m"), bs("m"), 0), r);
    hub.watch(WatchSpec.ofRange(bs("m"), bs("a"), 0), r);

    store.put("a", "1");
    store.put("m", "2");
    store.put("z", "3");
    executor.runAll();

    assertThat(r.lines).isEmpty();
  }

  // ---- start revisions

  @Test
  void startRevisionZeroBeginsWithTheNextRevision() throws Exception {
    WatchHub hub = hub();
    store.put("k", "old");
    Recorder r = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 0), r);
    store.put("k", "new");
    executor.runAll();

    assertThat(r.lines).containsExactly("2: PUT k=new");
    assertThat(store.reads).isEmpty();
  }

  @Test
  void startRevisionZeroBeginsAfterTheStoresRevisionEvenIfNotYetPublished() throws Exception {
    WatchHub hub = hub();
    long applied = store.appendUnpublished(Op.put("k", "being published"));
    Recorder r = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 0), r);
    hub.publish(applied, store.log.get(applied));
    store.put("k", "after");
    executor.runAll();

    assertThat(r.lines).containsExactly("2: PUT k=after");
  }

  @Test
  void watchFromNowSurvivesARestoreThatWasCompactedAndNotPublished() throws Exception {
    WatchHub hub = hub();
    Recorder old = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 0), old);
    for (int i = 1; i <= 5; i++) {
      store.appendUnpublished(Op.put("k", Integer.toString(i)));
    }
    store.compact(5); // a restored snapshot, compacted at its last revision
    Recorder fresh = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 0), fresh);
    store.put("k", "6");
    executor.runAll();

    assertThat(fresh.lines).containsExactly("6: PUT k=6");
    // The older watch missed revisions 1..5, which no longer exist.
    assertThat(old.lines).containsExactly("canceled 5 " + KvException.COMPACTED);
  }

  @Test
  void futureStartRevisionSkipsEarlierRevisions() throws Exception {
    WatchHub hub = hub();
    store.put("k", "1");
    Recorder r = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 4), r);
    for (int i = 2; i <= 5; i++) {
      store.put("k", Integer.toString(i));
    }
    executor.runAll();

    assertThat(r.lines).containsExactly("4: PUT k=4", "5: PUT k=5");
    assertThat(store.reads).isEmpty();
  }

  @Test
  void pastStartRevisionReplaysHistoryThenGoesLive() throws Exception {
    WatchHub hub = hub(1024, 3);
    for (int i = 1; i <= 10; i++) {
      store.put(i % 2 == 0 ? "k" : "other", Integer.toString(i));
    }
    Recorder r = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 3), r);
    assertThat(r.lines).as("no call before the executor runs").isEmpty();
    executor.runAll();
    store.put("k", "11");
    store.put("k", "12");
    executor.runAll();

    assertThat(r.revisions()).containsExactly(4L, 6L, 8L, 10L, 11L, 12L);
    assertThat(store.reads).containsExactly("3..5", "6..8", "9..10");
  }

  @Test
  void publishesDuringHistoryReadsAreNeitherLostNorRepeated() throws Exception {
    WatchHub hub = hub(1024, 2);
    for (int i = 1; i <= 6; i++) {
      store.put("k", "v" + i);
    }
    // Each of the first five reads races with one more write that is applied and published while
    // the read runs, so the replay keeps chasing the published revision.
    for (int i = 7; i <= 11; i++) {
      String value = "v" + i;
      store.onNextRead(() -> store.put("k", value));
    }
    Recorder r = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 2), r);
    executor.runAll();
    store.put("k", "v12");
    executor.runAll();

    assertThat(r.revisions()).containsExactlyElementsOf(range(2, 12));
    assertThat(r.lines).last().isEqualTo("12: PUT k=v12");
    // Replay reached revision 11 through history; 12 arrived live.
    assertThat(store.reads.get(store.reads.size() - 1)).endsWith("..11");
  }

  @Test
  void publishesDuringListenerCallsAreNeitherLostNorRepeated() throws Exception {
    WatchHub hub = hub(1024, 2);
    for (int i = 1; i <= 5; i++) {
      store.put("k", "v" + i);
    }
    // The apply thread keeps publishing while the watch delivers, first from history, then from
    // its queue: every delivery triggers one more write, up to revision 20.
    Recorder r = new Recorder();
    r.onEvents =
        rev -> {
          if (store.revision() < 20) {
            if (store.revision() % 3 == 0) {
              store.put("x", "w");
            }
            store.put("k", "w");
          }
        };
    hub.watch(WatchSpec.ofKey(bs("k"), 1), r);
    executor.runAll();

    List<Long> expected =
        store.log.values().stream()
            .flatMap(List::stream)
            .filter(e -> e.getKv().getKey().equals(bs("k")))
            .map(e -> e.getKv().getModRevision())
            .toList();
    assertThat(store.revision()).isGreaterThanOrEqualTo(20);
    assertThat(expected).hasSizeGreaterThan(12);
    assertThat(r.revisions()).containsExactlyElementsOf(expected);
  }

  // ---- compaction

  @Test
  void startBelowTheCompactRevisionIsCanceledAndAtItReplays() throws Exception {
    for (int i = 1; i <= 10; i++) {
      store.put("k", Integer.toString(i));
    }
    store.compact(5);
    WatchHub hub = hub();
    Recorder atCompact = new Recorder();
    Recorder below = new Recorder();
    Recorder above = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 5), atCompact);
    hub.watch(WatchSpec.ofKey(bs("k"), 2), below);
    hub.watch(WatchSpec.ofKey(bs("k"), 6), above);
    executor.runAll();

    // Like etcd: the compact revision itself is still readable, so a watch may start there.
    assertThat(atCompact.revisions()).containsExactlyElementsOf(range(5, 10));
    assertThat(below.lines).containsExactly("canceled 5 " + KvException.COMPACTED);
    assertThat(above.revisions()).containsExactlyElementsOf(range(6, 10));
    assertThat(hub.watchCount()).isEqualTo(2);
  }

  @Test
  void compactionAnnouncedBeforeTheReplayRunsCancelsWithoutReading() throws Exception {
    WatchHub hub = hub();
    for (int i = 1; i <= 10; i++) {
      store.put("k", Integer.toString(i));
    }
    Recorder r = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 3), r);
    hub.compacted(4); // the store tells the hub; its own compaction is not visible yet

    executor.runAll();

    assertThat(r.lines).containsExactly("canceled 4 " + KvException.COMPACTED);
    assertThat(store.reads).isEmpty();
  }

  @Test
  void compactionDuringReplayCancelsAndDropsTheIncompleteRead() throws Exception {
    WatchHub hub = hub(1024, 2);
    for (int i = 1; i <= 10; i++) {
      store.put("k", Integer.toString(i));
    }
    store.onNextRead(() -> {});
    // The second read (revisions 4..5) races with a compaction at 5 that removes revision 4 but
    // keeps 5: delivering what the read returned would skip 4.
    store.onNextRead(() -> store.compactHistoryOnly(5));
    Recorder r = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 2), r);
    executor.runAll();

    assertThat(r.lines)
        .containsExactly("2: PUT k=2", "3: PUT k=3", "canceled 5 " + KvException.COMPACTED);
    assertThat(hub.watchCount()).isZero();
  }

  @Test
  void historyReadFailingBecauseOfACompactionCancelsAsCompacted() throws Exception {
    WatchHub hub = hub();
    for (int i = 1; i <= 10; i++) {
      store.put("k", Integer.toString(i));
    }
    store.onNextRead(
        () -> {
          store.compactHistoryOnly(6);
          throw new IllegalStateException("required revision has been compacted");
        });
    Recorder r = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 2), r);
    executor.runAll();

    assertThat(r.lines).containsExactly("canceled 6 " + KvException.COMPACTED);
  }

  @Test
  void historyReadFailingForAnotherReasonEndsTheWatch() throws Exception {
    WatchHub hub = hub();
    store.put("k", "1");
    store.onNextRead(
        () -> {
          throw new IllegalStateException("disk on fire");
        });
    Recorder r = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 1), r);
    executor.runAll();

    assertThat(r.lines)
        .singleElement()
        .asString()
        .startsWith("canceled 0 watch failed")
        .contains("disk on fire");
    assertThat(hub.watchCount()).isZero();
  }

  @Test
  void overflowedWatchWhoseReplayWasCompactedIsCanceled() throws Exception {
    WatchHub hub = hub(2, 128);
    Recorder r = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 0), r);
    for (int i = 1; i <= 5; i++) {
      store.put("k", Integer.toString(i));
    }
    store.compact(4);
    executor.runAll();

    assertThat(r.lines)
        .containsExactly("1: PUT k=1", "2: PUT k=2", "canceled 4 " + KvException.COMPACTED);
  }

  // ---- filters and prevKv

  @Test
  void filtersDropPutsOrDeletesLiveAndInReplay() throws Exception {
    WatchHub hub = hub(1024, 2);
    store.put("k", "1");
    store.delete("k");
    Recorder noPut = new Recorder();
    Recorder noDelete = new Recorder();
    hub.watch(new WatchSpec(bs("k"), ByteString.EMPTY, 1, false, true, false), noPut);
    hub.watch(new WatchSpec(bs("k"), ByteString.EMPTY, 1, false, false, true), noDelete);
    executor.runAll();
    store.put("k", "3");
    store.delete("k");
    executor.runAll();

    assertThat(noPut.lines).containsExactly("2: DELETE k", "4: DELETE k");
    assertThat(noDelete.lines).containsExactly("1: PUT k=1", "3: PUT k=3");
  }

  @Test
  void aRevisionWhoseEventsAreAllFilteredOutIsNotDelivered() throws Exception {
    WatchHub hub = hub();
    Recorder r = new Recorder();
    hub.watch(new WatchSpec(bs("a"), bs("z"), 0, false, true, false), r);
    store.commit(Op.put("a", "1"), Op.put("b", "2"));
    store.commit(Op.put("c", "3"), Op.delete("a"));
    executor.runAll();

    assertThat(r.lines).containsExactly("2: DELETE a");
  }

  @Test
  void previousValuesGoOnlyToWatchesThatAskedForThem() throws Exception {
    WatchHub hub = hub();
    store.put("k", "1");
    store.put("k", "2");
    Recorder with = new Recorder();
    Recorder without = new Recorder();
    hub.watch(new WatchSpec(bs("k"), ByteString.EMPTY, 2, true, false, false), with);
    hub.watch(new WatchSpec(bs("k"), ByteString.EMPTY, 2, false, false, false), without);
    executor.runAll();
    store.put("k", "3");
    store.delete("k");
    executor.runAll();

    assertThat(with.lines)
        .containsExactly("2: PUT k=2 prev=1", "3: PUT k=3 prev=2", "4: DELETE k prev=3");
    assertThat(without.lines).containsExactly("2: PUT k=2", "3: PUT k=3", "4: DELETE k");
    assertThat(store.reads).containsExactlyInAnyOrder("2..2 prevKv", "2..2");
  }

  // ---- slow watches

  @Test
  void overflowingWatchReplaysFromHistoryAndMissesNothing() throws Exception {
    WatchHub hub = hub(4, 3);
    Recorder slow = new Recorder();
    Recorder other = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 0), slow);
    hub.watch(WatchSpec.ofKey(bs("o"), 0), other);
    for (int i = 1; i <= 20; i++) {
      store.put("k", "v" + i);
    }
    store.put("o", "x");
    assertThat(store.reads).as("publish never reads history").isEmpty();

    executor.runAll();

    assertThat(slow.revisions()).containsExactlyElementsOf(range(1, 20));
    assertThat(other.lines).containsExactly("21: PUT o=x");
    // Revisions 1..4 were queued; 5 overflowed, so 5..21 came from history, then it went live.
    assertThat(store.reads)
        .containsExactly("5..7", "8..10", "11..13", "14..16", "17..19", "20..21");
    store.put("k", "live");
    executor.runAll();
    assertThat(slow.lines).last().isEqualTo("22: PUT k=live");
    assertThat(store.reads).hasSize(6);
  }

  @Test
  void watchOverflowingWhileItsListenerRunsStillSeesEveryRevisionOnce() throws Exception {
    WatchHub hub = hub(3, 2);
    Recorder r = new Recorder();
    // Each call publishes three more revisions: the queue overflows again and again.
    r.onEvents =
        rev -> {
          for (int i = 0; i < 3 && store.revision() < 60; i++) {
            store.put("k", "v");
          }
        };
    hub.watch(WatchSpec.ofKey(bs("k"), 0), r);
    store.put("k", "first");
    executor.runAll();

    assertThat(store.revision()).isEqualTo(60);
    assertThat(r.revisions()).containsExactlyElementsOf(range(1, 60));
  }

  // ---- progress

  @Test
  void progressOfALiveWatchFollowsItsQueuedEventsAndReportsThePublishedRevision() throws Exception {
    WatchHub hub = hub();
    Recorder r = new Recorder();
    Watch watch = hub.watch(WatchSpec.ofKey(bs("k"), 0), r);
    store.put("k", "1");
    store.put("k", "2");
    store.put("other", "3");
    watch.requestProgress();
    store.put("k", "4");
    executor.runAll();

    assertThat(r.lines).containsExactly("1: PUT k=1", "2: PUT k=2", "progress 3", "4: PUT k=4");
  }

  @Test
  void repeatedProgressRequestsWithNothingBetweenAreAnsweredOnce() throws Exception {
    WatchHub hub = hub();
    Recorder r = new Recorder();
    Watch watch = hub.watch(WatchSpec.ofKey(bs("k"), 0), r);
    store.put("k", "1");
    watch.requestProgress();
    store.put("other", "2");
    watch.requestProgress();
    executor.runAll();

    assertThat(r.lines).containsExactly("1: PUT k=1", "progress 2");
  }

  @Test
  void progressDuringReplayReportsTheReplayedPosition() throws Exception {
    WatchHub hub = hub(1024, 2);
    for (int i = 1; i <= 8; i++) {
      store.put("k", Integer.toString(i));
    }
    Recorder r = new Recorder();
    Watch[] watch = new Watch[1];
    r.onEvents =
        rev -> {
          if (rev == 3) {
            watch[0].requestProgress();
          }
        };
    watch[0] = hub.watch(WatchSpec.ofKey(bs("k"), 2), r);
    executor.runAll();
    watch[0].requestProgress();
    executor.runAll();

    // Asked while delivering 3 from the chunk 2..3: answered once that chunk is out, with 3.
    assertThat(r.lines)
        .containsExactly(
            "2: PUT k=2",
            "3: PUT k=3",
            "progress 3",
            "4: PUT k=4",
            "5: PUT k=5",
            "6: PUT k=6",
            "7: PUT k=7",
            "8: PUT k=8",
            "progress 8");
  }

  @Test
  void progressRequestedWhenReplayReachesThePublishedRevisionReportsIt() throws Exception {
    WatchHub hub = hub(1024, 10);
    store.put("k", "1");
    store.put("x", "2");
    Recorder r = new Recorder();
    Watch watch = hub.watch(WatchSpec.ofKey(bs("k"), 1), r);
    r.onEvents = rev -> watch.requestProgress();
    executor.runAll();

    assertThat(r.lines).containsExactly("1: PUT k=1", "progress 2");
  }

  // ---- cancel

  @Test
  void canceledWatchReceivesNothingFurther() throws Exception {
    WatchHub hub = hub();
    Recorder r = new Recorder();
    Watch watch = hub.watch(WatchSpec.ofKey(bs("k"), 0), r);
    store.put("k", "1");
    watch.requestProgress();
    watch.cancel();
    store.put("k", "2");
    executor.runAll();

    assertThat(r.lines).isEmpty();
    assertThat(hub.watchCount()).isZero();
    watch.cancel(); // idempotent
    watch.requestProgress();
    executor.runAll();
    assertThat(r.lines).isEmpty();
  }

  @Test
  void watchCanceledByItsOwnListenerGetsNoFurtherCall() throws Exception {
    WatchHub hub = hub(1024, 100);
    for (int i = 1; i <= 6; i++) {
      store.put("k", Integer.toString(i));
    }
    Recorder replaying = new Recorder();
    Recorder live = new Recorder();
    Watch[] watches = new Watch[2];
    replaying.onEvents =
        rev -> {
          if (rev == 3) {
            watches[0].cancel();
          }
        };
    live.onEvents = rev -> watches[1].cancel();
    watches[0] = hub.watch(WatchSpec.ofKey(bs("k"), 1), replaying);
    watches[1] = hub.watch(WatchSpec.ofKey(bs("k"), 0), live);
    store.put("k", "7");
    store.put("k", "8");
    executor.runAll();

    assertThat(replaying.revisions()).containsExactly(1L, 2L, 3L);
    assertThat(live.revisions()).containsExactly(7L);
    assertThat(hub.watchCount()).isZero();
  }

  // ---- many watches

  @Test
  void manyWatchesOnOneKeyEachSeeEveryEventAndCancelIndependently() throws Exception {
    WatchHub hub = hub();
    List<Recorder> recorders = new ArrayList<>();
    List<Watch> watches = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      Recorder r = new Recorder();
      recorders.add(r);
      watches.add(
          hub.watch(new WatchSpec(bs("k"), ByteString.EMPTY, 0, i % 2 == 0, false, false), r));
    }
    store.put("k", "1");
    store.put("k", "2");
    executor.runAll();
    for (int i = 0; i < 200; i += 4) {
      watches.get(i).cancel();
    }
    store.put("k", "3");
    executor.runAll();

    for (int i = 0; i < 200; i++) {
      List<String> expected = new ArrayList<>(List.of("1: PUT k=1", "2: PUT k=2 prev=1"));
      if (i % 4 != 0) {
        expected.add("3: PUT k=3 prev=2");
      }
      if (i % 2 != 0) {
        expected.replaceAll(line -> line.replaceAll(" prev=\\d", ""));
      }
      assertThat(recorders.get(i).lines).as("watch %d", i).containsExactlyElementsOf(expected);
    }
    assertThat(hub.watchCount()).isEqualTo(150);
    watches.forEach(Watch::cancel);
    assertThat(hub.watchCount()).isZero();
  }

  // ---- close, restore gaps, misuse

  @Test
  void closeEndsEveryWatchAndRefusesNewOnes() throws Exception {
    WatchHub hub = hub(1024, 1);
    store.put("k", "1");
    store.put("k", "2");
    Recorder live = new Recorder();
    Recorder replaying = new Recorder();
    Recorder canceled = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 0), live);
    hub.watch(WatchSpec.ofKey(bs("k"), 1), replaying);
    Watch canceledWatch = hub.watch(WatchSpec.ofKey(bs("k"), 0), canceled);
    store.put("k", "3");
    hub.close();
    canceledWatch.cancel();
    executor.runAll();

    assertThat(live.lines).containsExactly("canceled 0 closed");
    assertThat(replaying.lines).containsExactly("canceled 0 closed");
    assertThat(canceled.lines).isEmpty();
    assertThatThrownBy(() -> hub.watch(WatchSpec.ofKey(bs("k"), 0), new Recorder()))
        .isInstanceOfSatisfying(
            KvException.class, e -> assertThat(e.code()).isEqualTo(KvException.Code.UNAVAILABLE));
    store.put("k", "4"); // publishing after close is harmless
    assertThat(hub.revision()).isEqualTo(4);
    executor.runAll();
    assertThat(live.lines).hasSize(1);
  }

  @Test
  void closeOfAHubWithItsOwnThreadDeliversTheCancelBeforeReturning() throws Exception {
    WatchHub hub = new WatchHub(store);
    store.hub = hub;
    Recorder r = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 0), r);
    CountDownLatch delivered = new CountDownLatch(1);
    r.onEvents = rev -> delivered.countDown();
    store.put("k", "1");
    assertThat(delivered.await(10, TimeUnit.SECONDS)).isTrue();

    hub.close();

    synchronized (r) {
      assertThat(r.lines).containsExactly("1: PUT k=1", "canceled 0 closed");
    }
  }

  @Test
  void revisionsSkippedByPublishAreReplayedFromHistory() throws Exception {
    WatchHub hub = hub();
    Recorder r = new Recorder();
    Recorder future = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 0), r);
    hub.watch(WatchSpec.ofKey(bs("k"), 3), future);
    store.put("k", "1");
    // A snapshot restore brings revisions 2..4 into the store without publishing them.
    store.appendUnpublished(Op.put("k", "2"));
    store.appendUnpublished(Op.put("k", "3"));
    store.appendUnpublished(Op.put("x", "4"));
    store.put("k", "5");
    executor.runAll();
    store.put("k", "6");
    executor.runAll();

    assertThat(r.revisions()).containsExactly(1L, 2L, 3L, 5L, 6L);
    assertThat(future.revisions()).containsExactly(3L, 5L, 6L);
  }

  @Test
  void publishRejectsRevisionsThatDoNotIncreaseOrDoNotMatchTheirEvents() {
    WatchHub hub = hub();
    store.put("k", "1");

    assertThatThrownBy(() -> hub.publish(1, List.of())).isInstanceOf(IllegalStateException.class);
    Event ofRevision3 = Event.newBuilder().setKv(kv("k", "v", 3)).build();
    assertThatThrownBy(() -> hub.publish(2, List.of(ofRevision3)))
        .isInstanceOf(IllegalStateException.class);
    assertThat(hub.revision()).isEqualTo(1);
  }

  @Test
  void negativeStartRevisionIsInvalid() {
    WatchHub hub = hub();

    assertThatThrownBy(() -> hub.watch(WatchSpec.ofKey(bs("k"), -1), new Recorder()))
        .isInstanceOfSatisfying(
            KvException.class,
            e -> assertThat(e.code()).isEqualTo(KvException.Code.INVALID_ARGUMENT));
  }

  @Test
  void failingListenerStopsOnlyItsOwnWatch() throws Exception {
    WatchHub hub = hub();
    Recorder failing = new Recorder();
    failing.onEvents =
        rev -> {
          throw new IllegalStateException("listener bug");
        };
    Recorder healthy = new Recorder();
    hub.watch(WatchSpec.ofKey(bs("k"), 0), failing);
    hub.watch(WatchSpec.ofKey(bs("k"), 0), healthy);
    store.put("k", "1");
    store.put("k", "2");
    executor.runAll();

    assertThat(failing.lines).containsExactly("1: PUT k=1");
    assertThat(healthy.revisions()).containsExactly(1L, 2L);
    assertThat(hub.watchCount()).isEqualTo(1);
  }

  @Test
  void executorRefusingTheTaskDuringCloseFinishesOnTheRunningThread() throws Exception {
    WatchHub hub = hub(1024, 1);
    for (int i = 1; i <= 200; i++) {
      store.put("k", Integer.toString(i));
    }
    Recorder r = new Recorder();
    // At the end of the task's turn the listener closes the hub and shuts the executor down: the
    // task cannot resubmit itself but must still deliver the close notice.
    long lastOfTurn = Watcher.CALLS_PER_TURN;
    r.onEvents =
        rev -> {
          if (rev == lastOfTurn) {
            hub.close();
            executor.shutdown = true;
          }
        };
    hub.watch(WatchSpec.ofKey(bs("k"), 1), r);
    executor.runAll();

    assertThat(r.revisions()).containsExactlyElementsOf(range(1, lastOfTurn));
    assertThat(r.lines).last().isEqualTo("canceled 0 closed");
  }

  // ---- fixtures

  static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  static ByteString bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return ByteString.copyFrom(b);
  }

  static List<Long> range(long from, long to) {
    return LongStream.rangeClosed(from, to).boxed().toList();
  }

  static KeyValue kv(String key, String value, long revision) {
    return KeyValue.newBuilder()
        .setKey(bs(key))
        .setValue(bs(value))
        .setModRevision(revision)
        .setCreateRevision(revision)
        .setVersion(1)
        .build();
  }

  /** A key shown as text when printable, else as hex. */
  static String show(ByteString key) {
    for (int i = 0; i < key.size(); i++) {
      int b = key.byteAt(i) & 0xff;
      if (b < 0x20 || b > 0x7e) {
        StringBuilder hex = new StringBuilder();
        for (int j = 0; j < key.size(); j++) {
          hex.append(String.format("%02x", key.byteAt(j) & 0xff));
        }
        return hex.toString();
      }
    }
    return key.toStringUtf8();
  }

  /** Runs submitted tasks only when told, on the calling thread. */
  static final class ManualExecutor implements Executor {
    private final Deque<Runnable> tasks = new ArrayDeque<>();
    boolean shutdown;

    @Override
    public void execute(Runnable task) {
      if (shutdown) {
        throw new RejectedExecutionException("shut down");
      }
      tasks.addLast(task);
    }

    int runAll() {
      int ran = 0;
      for (Runnable task; (task = tasks.pollFirst()) != null; ) {
        task.run();
        if (++ran > 1_000_000) {
          throw new AssertionError("tasks keep coming");
        }
      }
      return ran;
    }
  }

  /** A write of one key. */
  record Op(ByteString key, String value) {
    static Op put(String key, String value) {
      return new Op(bs(key), value);
    }

    static Op put(ByteString key, String value) {
      return new Op(key, value);
    }

    static Op delete(String key) {
      return new Op(bs(key), null);
    }
  }

  /**
   * An in-memory MVCC log: writes append a revision and publish it to the hub, like the real store
   * after its batch is durable. Thread-safe.
   */
  static final class FakeStore implements History {
    final NavigableMap<Long, List<Event>> log = new TreeMap<>();
    final List<String> reads = new ArrayList<>();
    private final Map<ByteString, KeyValue> current = new HashMap<>();
    private final Deque<Runnable> readHooks = new ArrayDeque<>();
    private long revision;
    private long compactRevision;
    volatile WatchHub hub;

    long put(String key, String value) {
      return commit(Op.put(key, value));
    }

    long delete(String key) {
      return commit(Op.delete(key));
    }

    /** Applies the ops as one revision and publishes it (once a hub is attached). */
    long commit(Op... ops) {
      long rev;
      List<Event> events;
      synchronized (this) {
        rev = appendUnpublished(ops);
        events = log.get(rev);
      }
      if (hub != null) {
        hub.publish(rev, events);
      }
      return rev;
    }

    synchronized long appendUnpublished(Op... ops) {
      long rev = ++revision;
      List<Event> events = new ArrayList<>();
      for (Op op : ops) {
        KeyValue prev = current.get(op.key());
        Event.Builder event = Event.newBuilder();
        if (prev != null) {
          event.setPrevKv(prev);
        }
        if (op.value() == null) {
          current.remove(op.key());
          event
              .setType(Event.EventType.DELETE)
              .setKv(KeyValue.newBuilder().setKey(op.key()).setModRevision(rev));
        } else {
          KeyValue kv =
              KeyValue.newBuilder()
                  .setKey(op.key())
                  .setValue(bs(op.value()))
                  .setCreateRevision(prev == null ? rev : prev.getCreateRevision())
                  .setModRevision(rev)
                  .setVersion(prev == null ? 1 : prev.getVersion() + 1)
                  .build();
          current.put(op.key(), kv);
          event.setType(Event.EventType.PUT).setKv(kv);
        }
        events.add(event.build());
      }
      log.put(rev, List.copyOf(events));
      return rev;
    }

    /** Compacts the history and tells the hub, like the store's apply of a compaction. */
    void compact(long rev) {
      compactHistoryOnly(rev);
      if (hub != null) {
        hub.compacted(rev);
      }
    }

    /** Compacts the history without telling the hub (a compaction still being applied). */
    synchronized void compactHistoryOnly(long rev) {
      compactRevision = rev;
      log.headMap(rev, false).clear();
    }

    /** Runs {@code hook} at the start of the next history read, before the log is read. */
    synchronized void onNextRead(Runnable hook) {
      readHooks.addLast(hook);
    }

    @Override
    public synchronized long compactRevision() {
      return compactRevision;
    }

    @Override
    public synchronized long revision() {
      return revision;
    }

    @Override
    public List<Event> events(
        long from, long to, ByteString key, ByteString rangeEnd, boolean prevKv) {
      Runnable hook;
      synchronized (this) {
        reads.add(from + ".." + to + (prevKv ? " prevKv" : ""));
        hook = readHooks.pollFirst();
      }
      if (hook != null) {
        hook.run();
      }
      synchronized (this) {
        assertThat(to).as("reads only published revisions").isLessThanOrEqualTo(hub.revision());
        List<Event> out = new ArrayList<>();
        for (List<Event> events : log.subMap(from, true, to, true).values()) {
          for (Event e : events) {
            if (naiveContains(key, rangeEnd, e.getKv().getKey())) {
              out.add(prevKv ? e : e.toBuilder().clearPrevKv().build());
            }
          }
        }
        return out;
      }
    }

    static boolean naiveContains(ByteString key, ByteString rangeEnd, ByteString k) {
      if (rangeEnd.isEmpty()) {
        return k.equals(key);
      }
      if (compareUnsigned(k, key) < 0) {
        return false;
      }
      return (rangeEnd.size() == 1 && rangeEnd.byteAt(0) == 0) || compareUnsigned(k, rangeEnd) < 0;
    }

    private static int compareUnsigned(ByteString a, ByteString b) {
      for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
        int c = Integer.compare(a.byteAt(i) & 0xff, b.byteAt(i) & 0xff);
        if (c != 0) {
          return c;
        }
      }
      return Integer.compare(a.size(), b.size());
    }
  }

  /** Records listener calls as readable lines, e.g. "3: PUT k=v prev=u" or "progress 5". */
  static class Recorder implements WatchListener {
    final List<String> lines = new ArrayList<>();
    final List<Long> eventRevisions = new ArrayList<>();
    volatile LongConsumer onEvents = rev -> {};

    @Override
    public void onEvents(long revision, List<Event> events) {
      assertThat(events).isNotEmpty();
      synchronized (this) {
        lines.add(
            revision
                + ": "
                + events.stream().map(Recorder::show).collect(Collectors.joining(", ")));
        eventRevisions.add(revision);
      }
      for (Event e : events) {
        assertThat(e.getKv().getModRevision()).isEqualTo(revision);
      }
      onEvents.accept(revision);
    }

    @Override
    public synchronized void onProgress(long revision) {
      lines.add("progress " + revision);
    }

    @Override
    public synchronized void onCanceled(long compactRevision, String reason) {
      lines.add("canceled " + compactRevision + " " + reason);
    }

    synchronized List<Long> revisions() {
      return List.copyOf(eventRevisions);
    }

    private static String show(Event e) {
      String kv =
          e.getType() == Event.EventType.PUT
              ? "PUT "
                  + WatchHubTest.show(e.getKv().getKey())
                  + "="
                  + e.getKv().getValue().toStringUtf8()
              : "DELETE " + WatchHubTest.show(e.getKv().getKey());
      return e.hasPrevKv() ? kv + " prev=" + e.getPrevKv().getValue().toStringUtf8() : kv;
    }
  }
}
