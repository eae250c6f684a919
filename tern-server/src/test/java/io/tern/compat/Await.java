package io.tern.compat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.etcd.jetcd.common.exception.EtcdException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/** Waiting on futures and polling asynchronous behaviour with deadlines, never fixed sleeps. */
final class Await {
  /** Upper bound for one RPC; a healthy loopback cluster answers in milliseconds. */
  static final Duration RPC_TIMEOUT = Duration.ofSeconds(15);

  private static final long POLL_INTERVAL_MILLIS = 20;

  private Await() {}

  @FunctionalInterface
  interface Probe<T> {
    T get() throws Exception;
  }

  /** The value of a future that must succeed. */
  static <T> T result(CompletableFuture<T> future) {
    try {
      return future.get(RPC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("request failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("no answer within " + RPC_TIMEOUT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** A gRPC status as a client sees it: code and etcd's message. */
  record Failure(Status.Code code, String message) {}

  /**
   * The error of a future that must fail. jetcd completes futures with either its EtcdException or
   * grpc's StatusRuntimeException; both carry the server's status code and description.
   */
  static Failure failure(CompletableFuture<?> future) {
    try {
      Object value = future.get(RPC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return fail("expected an error, got " + value);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof EtcdException etcd) {
        return new Failure(Status.Code.valueOf(etcd.getErrorCode().name()), etcd.getMessage());
      }
      Status status = Status.fromThrowable(cause);
      assertThat(status.getCode()).as("status of %s", cause).isNotEqualTo(Status.Code.UNKNOWN);
      return new Failure(status.getCode(), status.getDescription());
    } catch (TimeoutException e) {
      throw new AssertionError("no answer within " + RPC_TIMEOUT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Asserts that the future fails with exactly this gRPC code and etcd message. */
  static void assertFails(CompletableFuture<?> future, Status.Code code, String message) {
    Failure failure = failure(future);
    assertThat(failure.code()).as("status code of %s", failure).isEqualTo(code);
    assertThat(failure.message()).isEqualTo(message);
  }

  /** Asserts that a raw stub call fails with exactly this gRPC code and etcd message. */
  static void assertFails(Probe<?> call, Status.Code code, String message) {
    try {
      Object value = call.get();
      fail("expected " + code + " " + message + ", got " + value);
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).as("status code of %s", e).isEqualTo(code);
      assertThat(e.getStatus().getDescription()).isEqualTo(message);
    } catch (Exception e) {
      throw new AssertionError("unexpected error", e);
    }
  }

  /** Polls until the condition holds. */
  static void until(String what, Duration timeout, Probe<Boolean> condition) {
    poll(what, timeout, condition, Boolean::booleanValue);
  }

  /**
   * Polls {@code probe} until its value satisfies {@code done} and returns that value. A probe that
   * throws counts as "not yet"; the last value or error is reported on timeout.
   */
  static <T> T poll(String what, Duration timeout, Probe<T> probe, Predicate<? super T> done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Object last = null;
    while (true) {
      try {
        T value = probe.get();
        if (done.test(value)) {
          return value;
        }
        last = value;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + what, e);
      } catch (Exception e) {
        last = e;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            "timed out after " + timeout + " waiting for " + what + "; last: " + last);
      }
      try {
        Thread.sleep(POLL_INTERVAL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + what, e);
      }
    }
  }
}
