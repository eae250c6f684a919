package io.tern.kv;

import io.tern.api.Event;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One watch: its position in the revision sequence, its queue of pending listener calls, and the
 * task (run on the hub's executor) that replays history and makes the listener calls.
 *
 * <p>Fields marked "guarded" are read and written only under {@code hub.lock}. Invariants there,
 * while not {@code terminated}:
 *
 * <ul>
 *   <li>{@code synced}: the watcher is in the hub's index; every matching event with a revision in
 *       {@code [minRevision, hub.published]} has been delivered or is in {@code queue}, and {@link
 *       WatchHub#publish} appends the later ones.
 *   <li>not {@code synced}: the watcher is in no index; every matching event below {@code
 *       nextRevision} has been delivered or is in {@code queue}; the rest will be read from
 *       history, in chunks, until {@code nextRevision > hub.published}, when it becomes synced
 *       (under the lock, so no publish falls between).
 *   <li>{@code scheduled} is true whenever there is work (a non-empty queue, not synced, a pending
 *       progress request or notice); exactly one run of this task is then queued or running, which
 *       is what serializes the listener calls.
 * </ul>
 */
final class Watcher implements Watch, Runnable {
  private static final Logger log = LoggerFactory.getLogger(Watcher.class);

  /** Listener calls made per turn before the task yields the executor to other watches. */
  static final int CALLS_PER_TURN = 64;

  /** A listener call waiting in the queue. */
  sealed interface Call permits EventsCall, ProgressCall {}

  record EventsCall(long revision, List<Event> events) implements Call {}

  record ProgressCall(long revision) implements Call {}

  /** What the task does next, decided under the lock and carried out outside it. */
  private sealed interface Step permits Deliver, Replay, Compacted, Notice {}

  private record Deliver(List<Call> calls) implements Step {}

  private record Replay(long from, long to) implements Step {}

  private record Compacted(long compactRevision) implements Step {}

  private record Notice(long compactRevision, String reason) implements Step {}

  private final WatchHub hub;
  final WatchSpec spec;

  /** The first revision this watch wants: its start revision, or the next one for "from now". */
  final long minRevision;

  private final WatchListener listener;

  boolean synced; // guarded
  long nextRevision; // guarded; meaningful while not synced
  final ArrayDeque<Call> queue = new ArrayDeque<>(); // guarded
  private boolean scheduled; // guarded
  private boolean progressPending; // guarded; only while not synced
  private String notice; // guarded; a final onCanceled still to make (hub closed)
  private long noticeRevision; // guarded

  /** Out of service: in no index, nothing queued; written under the lock. */
  private volatile boolean terminated;

  /** Set by {@link #cancel()}: no listener call may start. */
  private volatile boolean silenced;

  Watcher(WatchHub hub, WatchSpec spec, long minRevision, WatchListener listener) {
    this.hub = hub;
    this.spec = spec;
    this.minRevision = minRevision;
    this.nextRevision = minRevision;
    this.listener = listener;
  }

  @Override
  public void cancel() {
    silenced = true;
    synchronized (hub.lock) {
      notice = null;
      if (!terminated) {
        terminateLocked();
      }
    }
  }

  @Override
  public void requestProgress() {
    boolean submit = false;
    synchronized (hub.lock) {
      if (terminated) {
        return;
      }
      if (synced) {
        // Everything up to the published revision is delivered or queued ahead of this call. An
        // unanswered request still at the tail is superseded by this one.
        if (queue.peekLast() instanceof ProgressCall) {
          queue.pollLast();
        }
        queue.addLast(new ProgressCall(hub.publishedLocked()));
        submit = markScheduledLocked();
      } else {
        progressPending = true; // answered by the running replay, see nextStepLocked
      }
    }
    if (submit) {
      hub.submit(this);
    }
  }

  /** Sets {@code scheduled}; true if the caller must submit the task (after leaving the lock). */
  boolean markScheduledLocked() {
    if (scheduled) {
      return false;
    }
    scheduled = true;
    return true;
  }

  /** Takes the watcher out of the live set because it fell behind; it replays from history. */
  boolean demoteLocked(long fromRevision) {
    synced = false;
    nextRevision = Math.max(fromRevision, minRevision);
    return markScheduledLocked();
  }

  /** Ends the watch for {@link WatchHub#close()}; true if the caller must submit the task. */
  boolean closeLocked() {
    if (terminated) {
      return false;
    }
    terminateLocked();
    notice = "closed";
    noticeRevision = 0;
    return markScheduledLocked();
  }

  private void terminateLocked() {
    terminated = true;
    queue.clear();
    progressPending = false;
    hub.removeLocked(this);
  }

  @Override
  public void run() {
    while (true) {
      int calls = 0;
      while (calls < CALLS_PER_TURN) {
        Step step;
        synchronized (hub.lock) {
          step = nextStepLocked();
        }
        if (step == null) {
          return;
        }
        calls += perform(step);
      }
      if (hub.submit(this)) {
        return;
      }
      // The executor refused (the hub is closing): finish on this thread.
    }
  }

  /** Decides the next step; null when there is nothing to do ({@code scheduled} cleared). */
  private Step nextStepLocked() {
    if (terminated) {
      if (notice != null) {
        Step step = new Notice(noticeRevision, notice);
        notice = null;
        return step;
      }
      scheduled = false;
      return null;
    }
    if (!queue.isEmpty()) {
      List<Call> batch = new ArrayList<>(Math.min(queue.size(), CALLS_PER_TURN));
      while (batch.size() < CALLS_PER_TURN && !queue.isEmpty()) {
        batch.add(queue.pollFirst());
      }
      return new Deliver(batch);
    }
    if (!synced) {
      long published = hub.publishedLocked();
      long compact = hub.compactRevisionLocked();
      if (nextRevision < compact) {
        return new Compacted(compact);
      }
      if (nextRevision > published) {
        // Caught up: from now on publish() queues this watch's events, starting at published + 1.
        synced = true;
        hub.indexLocked(this);
        if (progressPending) {
          progressPending = false;
          return new Deliver(List.of(new ProgressCall(published)));
        }
        scheduled = false;
        return null;
      }
      if (progressPending) {
        // Everything below nextRevision is delivered: report that rather than wait for the
        // replay to reach the published revision.
        progressPending = false;
        return new Deliver(List.of(new ProgressCall(nextRevision - 1)));
      }
      long to = nextRevision + Math.min(hub.chunkRevisions(), published - nextRevision + 1) - 1;
      return new Replay(nextRevision, to);
    }
    scheduled = false;
    return null;
  }

  /** Carries out a step outside the lock; returns the number of listener calls it made (>= 1). */
  private int perform(Step step) {
    try {
      if (step instanceof Deliver d) {
        return deliver(d.calls());
      } else if (step instanceof Replay r) {
        return replay(r.from(), r.to());
      } else if (step instanceof Compacted c) {
        return stopCompacted(c.compactRevision());
      } else {
        return notice((Notice) step);
      }
    } catch (ListenerFailure e) {
      log.error("watch listener failed; the watch on {} is stopped", describe(), e.getCause());
      stop();
      return 1;
    } catch (RuntimeException e) {
      log.error("watch on {} failed while replaying history; stopped", describe(), e);
      if (stop() && !silenced) {
        try {
          listener.onCanceled(0, "watch failed: " + e);
        } catch (RuntimeException listenerFailure) {
          log.error("watch listener failed", listenerFailure);
        }
      }
      return 1;
    }
  }

  private int deliver(List<Call> calls) {
    for (Call call : calls) {
      if (terminated || silenced) {
        break;
      }
      if (call instanceof EventsCall e) {
        callListener(() -> listener.onEvents(e.revision(), e.events()));
      } else {
        long revision = ((ProgressCall) call).revision();
        callListener(() -> listener.onProgress(revision));
      }
    }
    return calls.size();
  }

  /**
   * Replays {@code [from, to]} from history; {@code from >= compact} was checked under the lock.
   */
  private int replay(long from, long to) {
    long compact = hub.compactRevision();
    if (from < compact) {
      return stopCompacted(compact);
    }
    List<Event> events;
    try {
      events = hub.history().events(from, to, spec.key(), spec.rangeEnd(), spec.prevKv());
    } catch (RuntimeException e) {
      compact = hub.compactRevision();
      if (from < compact) {
        return stopCompacted(compact); // the read failed because a compaction overtook it
      }
      throw e;
    }
    // A compaction that ran during the read may have removed part of what it should return.
    compact = hub.compactRevision();
    if (from < compact) {
      return stopCompacted(compact);
    }
    List<EventsCall> calls = byRevision(events, from, to);
    for (EventsCall call : calls) {
      if (terminated || silenced) {
        return Math.max(1, calls.size());
      }
      callListener(() -> listener.onEvents(call.revision(), call.events()));
    }
    synchronized (hub.lock) {
      if (!terminated) {
        nextRevision = to + 1;
      }
    }
    return Math.max(1, calls.size());
  }

  /** Groups replayed events by revision, applying this watch's filters. */
  private List<EventsCall> byRevision(List<Event> events, long from, long to) {
    List<EventsCall> calls = new ArrayList<>();
    long last = from - 1;
    List<Event> current = null;
    for (Event event : events) {
      long revision = event.getKv().getModRevision();
      if (revision < last || revision > to) {
        throw new IllegalStateException(
            "history returned revision "
                + revision
                + " after "
                + last
                + " for the range ["
                + from
                + ", "
                + to
                + "]");
      }
      Event filtered = WatchHub.filter(spec, event);
      if (filtered == null || !spec.contains(event.getKv().getKey())) {
        last = revision;
        continue;
      }
      if (current == null || revision != last) {
        current = new ArrayList<>();
        calls.add(new EventsCall(revision, current));
      }
      current.add(filtered);
      last = revision;
    }
    return calls;
  }

  private int stopCompacted(long compactRevision) {
    if (stop() && !silenced) {
      callListener(() -> listener.onCanceled(compactRevision, KvException.COMPACTED));
    }
    return 1;
  }

  private int notice(Notice n) {
    if (!silenced) {
      callListener(() -> listener.onCanceled(n.compactRevision(), n.reason()));
    }
    return 1;
  }

  /** Terminates the watch; false if it was already terminated (by cancel or close). */
  private boolean stop() {
    synchronized (hub.lock) {
      if (terminated) {
        return false;
      }
      terminateLocked();
      return true;
    }
  }

  private static void callListener(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      throw new ListenerFailure(e);
    }
  }

  private String describe() {
    return spec.key().toStringUtf8()
        + (spec.rangeEnd().isEmpty() ? "" : ".." + spec.rangeEnd().toStringUtf8());
  }

  /** Marks an exception thrown by the listener, as opposed to one of the hub's own. */
  private static final class ListenerFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ListenerFailure(RuntimeException cause) {
      super(cause);
    }
  }
}
