package io.tern.kv;

import com.google.protobuf.ByteString;
import io.tern.api.Event;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers the events of each published revision to the watches whose key range they touch, and
 * replays history for watches that start in the past.
 *
 * <p>Every watch sees every matching event with a revision at or above its start revision exactly
 * once, in revision order, one {@link WatchListener#onEvents} call per revision. A watch starting
 * at or below the published revision is "unsynced": its task replays history in chunks of revisions
 * on the hub's executor until it reaches the published revision, and then, under the hub's lock (so
 * no publish falls in between), joins the "synced" index that {@link #publish} serves. Publish only
 * appends to the per-watch queues of synced watches; their tasks make the listener calls. A watch
 * whose queue holds {@code queueCapacity} pending calls when another revision arrives leaves the
 * index and replays history from that revision after its queue drains, so a slow listener costs
 * memory for at most that many revisions and never slows publish or other watches. A watch that
 * needs a revision below the compact revision is ended with {@link WatchListener#onCanceled} and
 * {@link KvException#COMPACTED}; like etcd, a watch may start at the compact revision itself (it
 * sees the puts of that revision, whose records a compaction keeps).
 *
 * <p>Thread-safety: every public method may be called from any thread. {@link #publish} and {@link
 * #compacted} are meant for the store's apply thread, in revision order; they take the hub's lock
 * briefly and never call a listener or {@link History}. Listener calls run on the executor (the
 * hub's own single thread, or the one given to the constructor), serialized per watch by running at
 * most one task per watch at a time; different watches may run concurrently on a multi-threaded
 * executor. The lock is never held while calling a listener, the history or the executor's task.
 */
public final class WatchHub implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WatchHub.class);

  /** Pending listener calls per watch before it falls back to replaying history. */
  static final int DEFAULT_QUEUE_CAPACITY = 1024;

  /** Revisions read from history per replay step. */
  static final int DEFAULT_CHUNK_REVISIONS = 128;

  /** Guards the index, the watches' queues and positions, and {@link #published}. */
  final Object lock = new Object();

  private final History history;
  private final Executor executor;
  private final ExecutorService ownExecutor; // null when the executor was given
  private volatile Thread ownThread;
  private final int queueCapacity;
  private final int chunkRevisions;

  private final Map<ByteString, Set<Watcher>> singleKey = new HashMap<>(); // guarded; synced
  private final Set<Watcher> ranges = new LinkedHashSet<>(); // guarded; synced
  private final Set<Watcher> watchers = new LinkedHashSet<>(); // guarded; all not terminated
  private boolean closed; // guarded

  private volatile long published; // written under the lock
  private volatile long compactRevision; // written under the lock

  /** A hub running listener calls and history replay on its own daemon thread. */
  public WatchHub(History history) {
    this(history, null, DEFAULT_QUEUE_CAPACITY, DEFAULT_CHUNK_REVISIONS);
  }

  /**
   * A hub running listener calls and history replay as tasks on {@code executor}, which must run
   * them asynchronously (not on the submitting thread) and outlive the hub.
   */
  public WatchHub(History history, Executor executor) {
    this(
        history,
        Objects.requireNonNull(executor, "executor"),
        DEFAULT_QUEUE_CAPACITY,
        DEFAULT_CHUNK_REVISIONS);
  }

  WatchHub(History history, Executor executor, int queueCapacity, int chunkRevisions) {
    if (queueCapacity < 1 || chunkRevisions < 1) {
      throw new IllegalArgumentException(
          "queueCapacity " + queueCapacity + " and chunkRevisions " + chunkRevisions + " < 1");
    }
    this.history = Objects.requireNonNull(history, "history");
    this.queueCapacity = queueCapacity;
    this.chunkRevisions = chunkRevisions;
    if (executor == null) {
      this.ownExecutor =
          Executors.newSingleThreadExecutor(
              task -> {
                Thread thread = new Thread(task, "tern-watch");
                thread.setDaemon(true);
                ownThread = thread;
                return thread;
              });
      this.executor = ownExecutor;
    } else {
      this.ownExecutor = null;
      this.executor = executor;
    }
    this.published = history.revision();
    this.compactRevision = history.compactRevision();
  }

  /**
   * Registers a watch. Its listener is first called on the executor, never during this call; a
   * start revision below the compact revision yields {@link WatchListener#onCanceled} there.
   *
   * @throws KvException INVALID_ARGUMENT for a negative start revision; UNAVAILABLE once closed
   */
  public Watch watch(WatchSpec spec, WatchListener listener) throws KvException {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(listener, "listener");
    long start = spec.startRevision();
    if (start < 0) {
      throw KvException.invalid("etcdserver: watch start revision " + start + " is negative");
    }
    // "From now" means after the store's revision, which may be ahead of the published one (a
    // revision being published right now, or a restore that published nothing). Read before the
    // lock: the history is never called under it.
    long storeRevision = start == 0 ? history.revision() : 0;
    Watcher watcher;
    boolean submit = false;
    synchronized (lock) {
      if (closed) {
        throw new KvException(KvException.Code.UNAVAILABLE, "etcdserver: server stopped");
      }
      long current = published;
      if (start == 0 || (start > current && start > compactRevision)) {
        // Nothing to replay: live from the next revision (or the later start revision).
        long first = start == 0 ? Math.max(current, storeRevision) + 1 : start;
        watcher = new Watcher(this, spec, first, listener);
        watcher.synced = true;
        indexLocked(watcher);
      } else {
        watcher = new Watcher(this, spec, start, listener);
        submit = watcher.markScheduledLocked();
      }
      watchers.add(watcher);
    }
    if (submit) {
      submitOrWarn(watcher);
    }
    return watcher;
  }

  /**
   * Publishes the events of {@code revision}, which the history must already return. Revisions must
   * increase; each event's {@code kv.mod_revision} must be {@code revision}. A revision more than
   * one above the previous one (after the store was restored from a snapshot) sends every live
   * watch back to replay the missing revisions from history.
   *
   * @throws IllegalStateException if the revision does not increase or an event is of another
   *     revision
   */
  public void publish(long revision, List<Event> events) {
    for (Event event : events) {
      if (event.getKv().getModRevision() != revision) {
        throw new IllegalStateException(
            "event of revision " + event.getKv().getModRevision() + " published as " + revision);
      }
    }
    List<Watcher> toSubmit = new ArrayList<>();
    synchronized (lock) {
      long previous = published;
      if (revision <= previous) {
        throw new IllegalStateException(
            "published revision " + revision + " after revision " + previous);
      }
      published = revision;
      if (closed) {
        return;
      }
      if (revision != previous + 1) {
        log.info(
            "revisions {}..{} were not published (store restored?); watches replay them",
            previous + 1,
            revision);
        demoteAllLocked(previous + 1, toSubmit);
      } else if (!events.isEmpty()) {
        dispatchLocked(revision, events, toSubmit);
      }
    }
    for (Watcher watcher : toSubmit) {
      submitOrWarn(watcher);
    }
  }

  /**
   * Records a compaction: watches still needing a revision below {@code compactRevision} are ended
   * when their replay reaches that point.
   */
  public void compacted(long compactRevision) {
    synchronized (lock) {
      if (compactRevision > this.compactRevision) {
        this.compactRevision = compactRevision;
      }
    }
  }

  /** The last published revision. */
  public long revision() {
    return published;
  }

  /**
   * Ends every watch with {@code onCanceled(0, "closed")}, refuses new ones and, for the hub's own
   * thread, stops it after those calls (waiting up to 10 seconds unless called on that thread).
   * Idempotent.
   */
  @Override
  public void close() {
    List<Watcher> toSubmit = new ArrayList<>();
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      for (Watcher watcher : List.copyOf(watchers)) {
        if (watcher.closeLocked()) {
          toSubmit.add(watcher);
        }
      }
    }
    for (Watcher watcher : toSubmit) {
      submitOrWarn(watcher);
    }
    if (ownExecutor != null) {
      ownExecutor.shutdown();
      if (Thread.currentThread() != ownThread) {
        try {
          if (!ownExecutor.awaitTermination(10, TimeUnit.SECONDS)) {
            log.warn("watch listeners still running 10 s after close");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /** Number of registered watches, for tests and metrics. */
  int watchCount() {
    synchronized (lock) {
      return watchers.size();
    }
  }

  // ---- used by Watcher

  History history() {
    return history;
  }

  int chunkRevisions() {
    return chunkRevisions;
  }

  long publishedLocked() {
    return published;
  }

  long compactRevisionLocked() {
    return compactRevision;
  }

  /** The compact revision per this hub and the history (which may be ahead after a restore). */
  long compactRevision() {
    return Math.max(compactRevision, history.compactRevision());
  }

  /** Submits a watch's task; false if the executor refused it. */
  boolean submit(Watcher watcher) {
    try {
      executor.execute(watcher);
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  private void submitOrWarn(Watcher watcher) {
    if (!submit(watcher)) {
      log.warn("watch executor refused a task; it must outlive the watch hub");
    }
  }

  void indexLocked(Watcher watcher) {
    if (watcher.spec.isSingleKey()) {
      singleKey.computeIfAbsent(watcher.spec.key(), k -> new LinkedHashSet<>()).add(watcher);
    } else {
      ranges.add(watcher);
    }
  }

  private void unindexLocked(Watcher watcher) {
    if (watcher.spec.isSingleKey()) {
      Set<Watcher> set = singleKey.get(watcher.spec.key());
      if (set != null && set.remove(watcher) && set.isEmpty()) {
        singleKey.remove(watcher.spec.key());
      }
    } else {
      ranges.remove(watcher);
    }
  }

  /** Forgets a watch for good (cancel, compaction, close, failure). */
  void removeLocked(Watcher watcher) {
    unindexLocked(watcher);
    watchers.remove(watcher);
  }

  private void demoteAllLocked(long fromRevision, List<Watcher> toSubmit) {
    for (Watcher watcher : watchers) {
      if (watcher.synced) {
        unindexLocked(watcher);
        if (watcher.demoteLocked(fromRevision)) {
          toSubmit.add(watcher);
        }
      }
    }
  }

  private void dispatchLocked(long revision, List<Event> events, List<Watcher> toSubmit) {
    if (singleKey.isEmpty() && ranges.isEmpty()) {
      return;
    }
    Map<Watcher, List<Event>> matched = new LinkedHashMap<>();
    List<Watcher> targets = new ArrayList<>();
    for (Event event : events) {
      ByteString key = event.getKv().getKey();
      targets.clear();
      Set<Watcher> exact = singleKey.get(key);
      if (exact != null) {
        targets.addAll(exact);
      }
      for (Watcher watcher : ranges) {
        if (watcher.spec.contains(key)) {
          targets.add(watcher);
        }
      }
      Event withoutPrev = null;
      for (Watcher watcher : targets) {
        if (revision < watcher.minRevision || excluded(watcher.spec, event)) {
          continue;
        }
        Event delivered = event;
        if (!watcher.spec.prevKv() && event.hasPrevKv()) {
          if (withoutPrev == null) {
            withoutPrev = event.toBuilder().clearPrevKv().build();
          }
          delivered = withoutPrev;
        }
        matched.computeIfAbsent(watcher, w -> new ArrayList<>(1)).add(delivered);
      }
    }
    for (Map.Entry<Watcher, List<Event>> entry : matched.entrySet()) {
      Watcher watcher = entry.getKey();
      if (watcher.queue.size() >= queueCapacity) {
        // Too far behind: drop out of the index and replay from this revision once the queue is
        // delivered (the task is scheduled, as the queue is not empty).
        unindexLocked(watcher);
        watcher.demoteLocked(revision);
        continue;
      }
      watcher.queue.addLast(
          new Watcher.EventsCall(revision, Collections.unmodifiableList(entry.getValue())));
      if (watcher.markScheduledLocked()) {
        toSubmit.add(watcher);
      }
    }
  }

  /** The event as {@code spec} receives it, or null if its filters drop it. */
  static Event filter(WatchSpec spec, Event event) {
    if (excluded(spec, event)) {
      return null;
    }
    return !spec.prevKv() && event.hasPrevKv() ? event.toBuilder().clearPrevKv().build() : event;
  }

  private static boolean excluded(WatchSpec spec, Event event) {
    return switch (event.getType()) {
      case PUT -> spec.noPut();
      case DELETE -> spec.noDelete();
      default -> false;
    };
  }
}
