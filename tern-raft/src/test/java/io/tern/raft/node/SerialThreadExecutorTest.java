package io.tern.raft.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The production loop and apply executors: every producer's tasks run in its order, one at a time,
 * on the executor's own thread, and a task that throws does not stop the ones after it. Real
 * threads, synchronized by latches and futures (no sleeps).
 */
class SerialThreadExecutorTest {

  @Test
  void eachProducersTasksRunInItsOrderOneAtATimeOnTheExecutorsThread() throws Exception {
    try (SerialThreadExecutor ex = new SerialThreadExecutor("serial")) {
      int producers = 4;
      int perProducer = 20_000;
      // Only touched by tasks: plain lists, so an overlap or a missing happens-before edge between
      // tasks would lose entries or break the order.
      List<List<Integer>> seen = new ArrayList<>();
      for (int p = 0; p < producers; p++) {
        seen.add(new ArrayList<>());
      }
      List<String> threads = new ArrayList<>();
      CountDownLatch start = new CountDownLatch(1);
      List<Thread> feeders = new ArrayList<>();
      for (int p = 0; p < producers; p++) {
        int producer = p;
        Thread t =
            new Thread(
                () -> {
                  awaitQuietly(start);
                  for (int i = 0; i < perProducer; i++) {
                    int n = i;
                    ex.execute(
                        () -> {
                          seen.get(producer).add(n);
                          if (n % 1000 == 0) {
                            threads.add(Thread.currentThread().getName());
                          }
                        });
                  }
                });
        t.start();
        feeders.add(t);
      }
      start.countDown();
      for (Thread t : feeders) {
        t.join();
      }
      CompletableFuture<List<List<Integer>>> copy = new CompletableFuture<>();
      ex.execute(
          () -> {
            List<List<Integer>> c = new ArrayList<>();
            seen.forEach(l -> c.add(new ArrayList<>(l)));
            copy.complete(c);
          });
      List<List<Integer>> got = copy.get(30, TimeUnit.SECONDS);
      for (List<Integer> one : got) {
        assertThat(one).hasSize(perProducer);
        for (int i = 0; i < perProducer; i++) {
          assertThat(one.get(i)).isEqualTo(i);
        }
      }
      assertThat(threads).hasSize(producers * perProducer / 1000).containsOnly("serial");
    }
  }

  @Test
  void aTaskThatThrowsDoesNotStopTheOnesAfterIt() throws Exception {
    try (SerialThreadExecutor ex = new SerialThreadExecutor("throws")) {
      ex.execute(
          () -> {
            throw new IllegalStateException("boom (expected by the test)");
          });
      CompletableFuture<String> after = new CompletableFuture<>();
      ex.execute(() -> after.complete(Thread.currentThread().getName()));
      assertThat(after.get(30, TimeUnit.SECONDS)).isEqualTo("throws");
    }
  }

  @Test
  void aClosedExecutorRefusesTasks() {
    SerialThreadExecutor ex = new SerialThreadExecutor("closed");
    ex.close();
    assertThatThrownBy(() -> ex.execute(() -> {}))
        .isInstanceOf(RejectedExecutionException.class)
        .hasMessageContaining("closed");
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
