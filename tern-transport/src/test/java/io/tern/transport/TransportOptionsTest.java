package io.tern.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TransportOptionsTest {
  @Test
  void defaultsAreValidAndRoundTripThroughTheBuilder() {
    TransportOptions d = TransportOptions.defaults();

    assertThat(d.maxMessageBytes()).isEqualTo(16 << 20);
    assertThat(d.minBackoff()).isEqualTo(Duration.ofMillis(50));
    assertThat(d.maxBackoff()).isEqualTo(Duration.ofSeconds(2));
    assertThat(d.toBuilder().build()).isEqualTo(d);
  }

  @Test
  void rejectsInconsistentSettings() {
    assertThatThrownBy(() -> TransportOptions.builder().maxQueuedMessages(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxQueuedMessages");
    assertThatThrownBy(() -> TransportOptions.builder().maxMessageBytes(100).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxMessageBytes");
    assertThatThrownBy(
            () ->
                TransportOptions.builder().maxMessageBytes(1 << 20).maxBatchBytes(2 << 20).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxBatchBytes");
    assertThatThrownBy(
            () ->
                TransportOptions.builder()
                    .minBackoff(Duration.ofSeconds(3))
                    .maxBackoff(Duration.ofSeconds(2))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxBackoff");
    assertThatThrownBy(() -> TransportOptions.builder().minBackoff(Duration.ZERO).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> TransportOptions.builder().keepAliveTime(Duration.ofSeconds(1)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("keepAliveTime");
    assertThatThrownBy(() -> TransportOptions.builder().callbackThreads(0).build())
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void backoffDoublesWithinBoundsAndJitters() {
    long min = TimeUnit.MILLISECONDS.toNanos(50);
    long max = TimeUnit.SECONDS.toNanos(2);

    assertThat(Backoff.delayNanos(1, min, max, 0.0)).isEqualTo(min);
    assertThat(Backoff.delayNanos(1, min, max, 0.999)).isEqualTo(min);
    assertThat(Backoff.delayNanos(3, min, max, 0.0)).isEqualTo(min * 2);
    assertThat(Backoff.delayNanos(3, min, max, 0.999)).isBetween(min * 3, min * 4);
    for (int failures = 1; failures < 100; failures++) {
      for (double r : new double[] {0, 0.3, 0.7, 0.9999}) {
        assertThat(Backoff.delayNanos(failures, min, max, r)).isBetween(min, max);
      }
    }
    assertThat(Backoff.delayNanos(40, min, max, 0.0)).isEqualTo(max / 2);
    assertThat(Backoff.delayNanos(Integer.MAX_VALUE, min, max, 0.9999)).isGreaterThan(max * 9 / 10);
    assertThatThrownBy(() -> Backoff.delayNanos(0, min, max, 0.5))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
