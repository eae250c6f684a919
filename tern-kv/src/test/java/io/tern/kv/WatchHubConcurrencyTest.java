package io.tern.kv;

import static io.tern.kv.WatchHubTest.bs;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.tern.api.Event;
import io.tern.kv.WatchHubTest.FakeStore;
import io.tern.kv.WatchHubTest.Op;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Real threads: a writer publishes revisions while watches start at random revisions (most of them
 * in the past), some listeners are slow enough to overflow their queues, and progress is requested
 * at random. Every watch must end with exactly the events a sequential replay of the log gives.
 */
class WatchHubConcurrencyTest {
  private static final int REVISIONS = 3000;
  private static final int WATCHES = 24;
  private static final int KEYS = 8;

  @Test
  void watchesSeeEveryEventOnceInOrderOnTheHubsOwnThread() throws Exception {
    run(null, 1);
  }

  @Test
  void watchesSeeEveryEventOnceInOrderOnAMultiThreadedExecutor() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      run(pool, 2);
    } finally {
      pool.shutdownNow();
    }
  }

  private void run(ExecutorService executor, long seed) throws Exception {
    FakeStore store = new FakeStore();
    WatchHub hub = new WatchHub(store, executor, 4, 16);
    store.hub = hub;
    Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
    long finalRevision = REVISIONS + 1;
    CountDownLatch done = new CountDownLatch(WATCHES);
    // Watch i is created once revision i * REVISIONS / WATCHES is published; for even i the writer
    // waits for it, for odd i it races on. The final revision waits for every watch.
    CountDownLatch[] reached = new CountDownLatch[WATCHES];
    CountDownLatch[] created = new CountDownLatch[WATCHES];
    for (int i = 0; i < WATCHES; i++) {
      reached[i] = new CountDownLatch(1);
      created[i] = new CountDownLatch(1);
    }

    Thread writer =
        new Thread(
            () -> {
              Random random = new Random(seed);
              try {
                for (int rev = 1; rev <= REVISIONS; rev++) {
                  int ops = 1 + random.nextInt(3);
                  List<Op> batch = new ArrayList<>();
                  for (int j = 0; j < ops; j++) {
                    String key = "k" + random.nextInt(KEYS) + (j == 0 ? "" : "/" + j);
                    batch.add(random.nextInt(4) == 0 ? Op.delete(key) : Op.put(key, "v" + rev));
                  }
                  store.commit(batch.toArray(Op[]::new));
                  if (rev % (REVISIONS / WATCHES) == 0) {
                    int watch = rev / (REVISIONS / WATCHES) - 1;
                    reached[watch].countDown();
                    if (watch % 2 == 0) {
                      await(created[watch]);
                    }
                  }
                }
                await(created[WATCHES - 1]);
                List<Op> last = new ArrayList<>();
                for (int k = 0; k < KEYS; k++) {
                  last.add(Op.put("k" + k, "fin"));
                }
                store.commit(last.toArray(Op[]::new));
              } catch (Throwable t) {
                errors.add(t);
              }
            },
            "writer");
    writer.start();

    Random random = new Random(seed + 100);
    List<Checker> checkers = new ArrayList<>();
    List<Watch> watches = new ArrayList<>();
    for (int i = 0; i < WATCHES; i++) {
      await(reached[i]);
      WatchSpec spec = randomSpec(random, hub.revision());
      long before = hub.revision();
      Checker checker =
          new Checker(store, spec, random.nextInt(3) == 0, errors, done, finalRevision);
      Watch watch = hub.watch(spec, checker);
      // A watch from "now" starts after the store's revision, which may be one ahead of the
      // published one while the writer is between its commit and its publish.
      checker.setStartBounds(before + 1, store.revision() + 1);
      checkers.add(checker);
      watches.add(watch);
      if (random.nextBoolean()) {
        watches.get(random.nextInt(watches.size())).requestProgress();
      }
      created[i].countDown();
    }
    writer.join(TimeUnit.SECONDS.toMillis(60));

    boolean finished = done.await(60, TimeUnit.SECONDS);
    watches.forEach(Watch::requestProgress);
    hub.close();
    assertThat(errors).isEmpty();
    assertThat(finished)
        .as("every watch received the final revision; unfinished: %s", unfinished(checkers))
        .isTrue();
    for (Checker checker : checkers) {
      checker.verifyComplete();
    }
  }

  private static void await(CountDownLatch latch) throws InterruptedException {
    if (!latch.await(30, TimeUnit.SECONDS)) {
      throw new AssertionError("timed out");
    }
  }

  private static List<String> unfinished(List<Checker> checkers) {
    List<String> out = new ArrayList<>();
    for (Checker checker : checkers) {
      if (checker.lastEvent != REVISIONS + 1) {
        out.add(checker.spec + " at " + checker.lastEvent);
      }
    }
    return out;
  }

  private static WatchSpec randomSpec(Random random, long current) {
    long start =
        switch (random.nextInt(4)) {
          case 0 -> 0;
          case 1 -> Math.min(current + 1 + random.nextInt(3), REVISIONS + 1);
          default -> 1 + random.nextInt((int) Math.max(1, current));
        };
    boolean prevKv = random.nextBoolean();
    boolean noDelete = random.nextInt(4) == 0;
    int k = random.nextInt(KEYS);
    return switch (random.nextInt(4)) {
      case 0 -> new WatchSpec(bs("k" + k), ByteString.EMPTY, start, prevKv, false, noDelete);
      case 1 -> new WatchSpec(bs("k"), bs("l"), start, prevKv, false, noDelete);
      case 2 -> new WatchSpec(bs("k" + k), bs("k" + k + "0"), start, prevKv, false, noDelete);
      default -> new WatchSpec(bs("k" + k), WatchHubTest.bytes(0), start, prevKv, false, noDelete);
    };
  }

  /** Checks each call against the log as it arrives, and the whole stream at the end. */
  private static final class Checker implements WatchListener {
    private final FakeStore store;
    private final WatchSpec spec;
    private final boolean slow;
    private final Queue<Throwable> errors;
    private final CountDownLatch done;
    private final long finalRevision;
    private final AtomicBoolean inCall = new AtomicBoolean();
    private final List<Event> received = new ArrayList<>(); // guarded by this
    private volatile long lowestStart;
    private volatile long highestStart;
    private volatile long lastEvent; // written only inside listener calls, which never overlap
    private long lastProgress;
    private long spin;

    Checker(
        FakeStore store,
        WatchSpec spec,
        boolean slow,
        Queue<Throwable> errors,
        CountDownLatch done,
        long finalRevision) {
      this.store = store;
      this.spec = spec;
      this.slow = slow;
      this.errors = errors;
      this.done = done;
      this.finalRevision = finalRevision;
      this.lowestStart = spec.startRevision();
      this.highestStart = spec.startRevision();
    }

    /** For start revision 0 the first revision lies between the published ones around watch(). */
    void setStartBounds(long lowest, long highest) {
      if (spec.startRevision() == 0) {
        lowestStart = lowest;
        highestStart = highest;
      }
    }

    @Override
    public void onEvents(long revision, List<Event> events) {
      enter();
      try {
        check(revision > lastEvent && revision > lastProgress, "revision " + revision + " late");
        check(revision >= lowestStart, "revision " + revision + " before the start");
        synchronized (this) {
          received.addAll(events);
        }
        lastEvent = revision;
        if (slow) {
          for (int i = 0; i < 20_000; i++) {
            spin = spin * 31 + i;
          }
        }
        if (revision == finalRevision) {
          done.countDown();
        }
      } finally {
        exit();
      }
    }

    @Override
    public void onProgress(long revision) {
      enter();
      try {
        check(revision >= lastEvent && revision >= lastProgress, "progress " + revision + " late");
        lastProgress = revision;
        if (lowestStart == highestStart) {
          List<Event> expected = expected(lowestStart, revision);
          synchronized (this) {
            check(received.equals(expected), "events up to progress " + revision + " differ");
          }
        }
      } finally {
        exit();
      }
    }

    @Override
    public void onCanceled(long compactRevision, String reason) {
      if (!reason.equals("closed")) {
        errors.add(new AssertionError("canceled: " + reason));
      }
    }

    void verifyComplete() {
      List<Event> actual;
      synchronized (this) {
        actual = List.copyOf(received);
      }
      for (long start = lowestStart; start <= highestStart; start++) {
        if (actual.equals(expected(start, finalRevision))) {
          return;
        }
      }
      assertThat(actual)
          .as("events of %s", spec)
          .containsExactlyElementsOf(expected(lowestStart, finalRevision));
    }

    private List<Event> expected(long from, long to) {
      List<Event> out = new ArrayList<>();
      if (from > to) {
        return out;
      }
      synchronized (store) {
        for (List<Event> events : store.log.subMap(from, true, to, true).values()) {
          for (Event e : events) {
            if (!FakeStore.naiveContains(spec.key(), spec.rangeEnd(), e.getKv().getKey())
                || (spec.noDelete() && e.getType() == Event.EventType.DELETE)) {
              continue;
            }
            out.add(spec.prevKv() ? e : e.toBuilder().clearPrevKv().build());
          }
        }
      }
      return out;
    }

    private void enter() {
      check(inCall.compareAndSet(false, true), "overlapping listener calls");
    }

    private void exit() {
      inCall.set(false);
    }

    private void check(boolean condition, String what) {
      if (!condition) {
        AssertionError error = new AssertionError(what + " for " + spec);
        errors.add(error);
        throw error;
      }
    }
  }
}
