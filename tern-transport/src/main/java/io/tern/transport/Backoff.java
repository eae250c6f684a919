package io.tern.transport;

/** Reconnection delays: exponential from a minimum to a maximum, jittered. */
final class Backoff {
  private Backoff() {}

  /**
   * The delay before the next attempt after {@code failures} consecutive failures (at least 1):
   * {@code min * 2^(failures-1)} capped at {@code max}, then drawn uniformly from its upper half so
   * that peers which lost each other at the same moment do not retry in lockstep; never below
   * {@code min}.
   *
   * @param random01 a uniform random number in [0, 1)
   */
  static long delayNanos(int failures, long minNanos, long maxNanos, double random01) {
    if (failures < 1 || minNanos < 1 || maxNanos < minNanos || random01 < 0 || random01 >= 1) {
      throw new IllegalArgumentException(
          "bad backoff input " + failures + " " + minNanos + " " + maxNanos + " " + random01);
    }
    long base = minNanos;
    for (int i = 1; i < failures && base < maxNanos; i++) {
      base = base > maxNanos / 2 ? maxNanos : base * 2;
    }
    base = Math.min(base, maxNanos);
    long half = base / 2;
    long delay = half + (long) (random01 * (base - half));
    return Math.max(minNanos, Math.min(maxNanos, delay));
  }
}
