package io.tern.transport;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** Lets a recurring warning through at most once per interval; the rest go to debug. */
final class LogLimiter {
  private final long intervalNanos;
  private final AtomicLong nextAllowed = new AtomicLong();
  private volatile boolean used;

  LogLimiter(long interval, TimeUnit unit) {
    this.intervalNanos = unit.toNanos(interval);
  }

  /** Whether the caller should log at its full level now. */
  boolean allow() {
    long now = System.nanoTime();
    long next = nextAllowed.get();
    if (used && now - next < 0) {
      return false;
    }
    if (nextAllowed.compareAndSet(next, now + intervalNanos)) {
      used = true;
      return true;
    }
    return false;
  }
}
