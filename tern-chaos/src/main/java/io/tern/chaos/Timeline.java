package io.tern.chaos;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The faults of a run: windows (start, end) and instant actions, in nanoseconds since start. */
final class Timeline {
  private static final Logger LOG = LoggerFactory.getLogger(Timeline.class);

  /** A fault window; {@code end} is -1 while it is open. */
  static final class Window {
    final long start;
    final String kind;
    final String detail;
    volatile long end = -1;

    Window(long start, String kind, String detail) {
      this.start = start;
      this.kind = kind;
      this.detail = detail;
    }
  }

  /** An action at one moment (a SIGKILL, a member added, a heal). */
  record Instant(long time, String action, String detail) {}

  private final long start;
  private final List<Window> windows = new ArrayList<>();
  private final List<Instant> instants = new ArrayList<>();

  Timeline(long startNanos) {
    this.start = startNanos;
  }

  private long now() {
    return System.nanoTime() - start;
  }

  synchronized Window open(String kind, String detail) {
    Window w = new Window(now(), kind, detail);
    windows.add(w);
    LOG.info("fault {} {}", kind, detail);
    return w;
  }

  synchronized void close(Window w) {
    w.end = now();
  }

  synchronized void instant(String action, String detail) {
    instants.add(new Instant(now(), action, detail));
    LOG.info("{} {}", action, detail);
  }

  synchronized List<Window> windows() {
    return List.copyOf(windows);
  }

  synchronized List<Instant> instants() {
    return List.copyOf(instants);
  }
}
