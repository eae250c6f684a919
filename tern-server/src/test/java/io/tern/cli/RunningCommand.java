package io.tern.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringWriter;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/** A command running in a thread of its own until interrupted. */
final class RunningCommand {
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();
  private final AtomicInteger exit = new AtomicInteger(-1);
  private final Thread thread;

  RunningCommand(Cli cli, String... args) {
    String[] full = cli.withEndpoints(args);
    thread = new Thread(() -> exit.set(Cli.execute("", out, err, full)), "running-command");
    thread.start();
  }

  /** Polls the output until it satisfies the condition, failing after a deadline. */
  String awaitOutput(Predicate<String> done) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!done.test(out.toString())) {
      assertThat(System.nanoTime() - deadline).as("output so far: %s / %s", out, err).isNegative();
      assertThat(thread.isAlive()).as("ended early: %s", err).isTrue();
      TimeUnit.MILLISECONDS.sleep(20);
    }
    return out.toString();
  }

  /** Waits for the command to end by itself; returns its exit code. */
  int awaitExit() throws InterruptedException {
    thread.join(Duration.ofSeconds(30).toMillis());
    assertThat(thread.isAlive()).as("still running: %s / %s", out, err).isFalse();
    return exit.get();
  }

  /** Interrupts the command (as Ctrl-C would); returns its exit code. */
  int interrupt() throws InterruptedException {
    thread.interrupt();
    return awaitExit();
  }
}
