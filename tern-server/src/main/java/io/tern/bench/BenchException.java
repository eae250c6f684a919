package io.tern.bench;

/** A run that cannot start or go on: an endpoint unreachable, no leader, a failed prefill. */
public final class BenchException extends Exception {
  public BenchException(String message) {
    super(message);
  }
}
