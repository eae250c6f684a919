package io.tern.kv;

import static io.tern.kv.KvHarness.bs;
import static org.assertj.core.api.Assertions.assertThat;

import io.tern.api.Event;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store's events reach its watch hub: live, replayed from history, and across a restore. */
class StoreWatchTest {
  @TempDir Path dir;

  /** Records every listener call as text. */
  static final class Recorder implements WatchListener {
    final BlockingQueue<String> calls = new LinkedBlockingQueue<>();

    @Override
    public void onEvents(long revision, List<Event> events) {
      StringBuilder sb = new StringBuilder().append(revision).append(':');
      for (Event e : events) {
        sb.append(' ').append(e.getType()).append(' ').append(e.getKv().getKey().toStringUtf8());
        if (e.getType() == Event.EventType.PUT) {
          sb.append('=').append(e.getKv().getValue().toStringUtf8());
        }
        if (e.hasPrevKv()) {
          sb.append(" prev=").append(e.getPrevKv().getValue().toStringUtf8());
        }
      }
      calls.add(sb.toString());
    }

    @Override
    public void onProgress(long revision) {}

    @Override
    public void onCanceled(long compactRevision, String reason) {
      calls.add("canceled " + compactRevision + " " + reason);
    }

    String next() throws InterruptedException {
      String s = calls.poll(10, TimeUnit.SECONDS);
      assertThat(s).as("a listener call within 10 s").isNotNull();
      return s;
    }
  }

  @Test
  void liveAndHistoricalEventsWithPrevKv() throws Exception {
    try (KvHarness kv = new KvHarness(dir)) {
      kv.put("a", "1"); // 2
      kv.put("a", "2"); // 3
      Recorder fromPast = new Recorder();
      kv.sm.watchHub().watch(new WatchSpec(bs("a"), bs("b"), 2, true, false, false), fromPast);
      assertThat(fromPast.next()).isEqualTo("2: PUT a=1");
      assertThat(fromPast.next()).isEqualTo("3: PUT a=2 prev=1");

      Recorder live = new Recorder();
      kv.sm.watchHub().watch(new WatchSpec(bs("a"), bs("\0"), 0, false, false, false), live);
      kv.ok(
          KvHarness.txnReq(
              io.tern.api.TxnRequest.newBuilder()
                  .addSuccess(KvHarness.opPut("b", "1"))
                  .addSuccess(KvHarness.opDelete("a", ""))
                  .build())); // 4
      assertThat(live.next()).isEqualTo("4: PUT b=1 DELETE a");
      assertThat(fromPast.next()).isEqualTo("4: DELETE a prev=2");
    }
  }

  /**
   * Like etcd: the compact revision is still readable, so a watch may start there but not below.
   */
  @Test
  void aWatchMayStartAtTheCompactRevisionButNotBelow() throws Exception {
    try (KvHarness kv = new KvHarness(dir)) {
      kv.put("k", "1"); // 2
      kv.put("k", "2"); // 3
      kv.put("j", "x"); // 4
      kv.ok(KvHarness.compactReq(3));

      Recorder atCompact = new Recorder();
      kv.sm.watchHub().watch(new WatchSpec(bs("k"), bs(""), 3, false, false, false), atCompact);
      assertThat(atCompact.next()).isEqualTo("3: PUT k=2");

      Recorder below = new Recorder();
      kv.sm.watchHub().watch(new WatchSpec(bs("k"), bs(""), 2, false, false, false), below);
      assertThat(below.next()).isEqualTo("canceled 3 " + KvException.COMPACTED);

      kv.put("k", "3"); // 5
      assertThat(atCompact.next()).isEqualTo("5: PUT k=3");
      assertThat(below.calls).isEmpty();
    }
  }

  @Test
  void watchesBehindARestoreReplayOrEnd() throws Exception {
    try (KvHarness source = new KvHarness(dir.resolve("src"));
        KvHarness target = new KvHarness(dir.resolve("dst"))) {
      source.put("k", "1"); // 2
      target.put("k", "1"); // 2: the target has the same start
      Recorder w = new Recorder();
      target.sm.watchHub().watch(new WatchSpec(bs("k"), bs(""), 3, false, false, false), w);
      source.put("k", "2"); // 3
      source.put("k", "3"); // 4
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      source.sm.snapshot().writeTo(bytes);
      target.sm.restore(
          DurabilityTest.meta(source.sm.appliedIndex()),
          new ByteArrayInputStream(bytes.toByteArray()));
      assertThat(w.next()).isEqualTo("3: PUT k=2");
      assertThat(w.next()).isEqualTo("4: PUT k=3");

      // After a compaction on the source, a restored target cannot replay: the watch ends.
      Recorder behind = new Recorder();
      try (KvHarness other = new KvHarness(dir.resolve("other"))) {
        other.put("k", "0"); // 2
        other.sm.watchHub().watch(new WatchSpec(bs("k"), bs(""), 3, false, false, false), behind);
        source.put("k", "4"); // 5
        source.ok(KvHarness.compactReq(5));
        bytes.reset();
        source.sm.snapshot().writeTo(bytes);
        other.sm.restore(
            DurabilityTest.meta(source.sm.appliedIndex()),
            new ByteArrayInputStream(bytes.toByteArray()));
        other.sm.apply(
            List.of(KvHarness.entry(source.sm.appliedIndex() + 1, KvHarness.putReq("k", "after"))));
        assertThat(behind.next()).startsWith("canceled 5");
        assertThat(other.get("k").getValue()).isEqualTo(bs("after"));
      }
    }
  }
}
