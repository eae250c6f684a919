package io.tern.raft.core.tracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class InflightsTest {

  @Test
  void fillsUpByCount() {
    Inflights in = new Inflights(3, Long.MAX_VALUE);
    in.add(1, 10);
    in.add(2, 10);
    assertThat(in.full()).isFalse();
    in.add(5, 10);
    assertThat(in.full()).isTrue();
    assertThat(in.count()).isEqualTo(3);
    assertThat(in.bytes()).isEqualTo(30);
    assertThatThrownBy(() -> in.add(6, 1)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void fillsUpByBytesAndAllowsOneOversizedMessage() {
    Inflights in = new Inflights(100, 1000);
    in.add(1, 999);
    assertThat(in.full()).isFalse();
    in.add(2, 5000);
    assertThat(in.full()).isTrue();
    assertThat(in.bytes()).isEqualTo(5999);

    in.freeLe(1);
    assertThat(in.full()).isTrue();
    in.freeLe(2);
    assertThat(in.full()).isFalse();
    assertThat(in.bytes()).isZero();
  }

  @Test
  void freeingReleasesEveryMessageEndingAtOrBelowTheIndex() {
    Inflights in = new Inflights(10, Long.MAX_VALUE);
    for (long i = 1; i <= 5; i++) {
      in.add(i * 10, i);
    }
    in.freeLe(9);
    assertThat(in.count()).isEqualTo(5);
    in.freeLe(30);
    assertThat(in.count()).isEqualTo(2);
    assertThat(in.bytes()).isEqualTo(4 + 5);
    in.freeLe(30);
    assertThat(in.count()).isEqualTo(2);
    in.freeLe(1000);
    assertThat(in.count()).isZero();
    assertThat(in.bytes()).isZero();
  }

  @Test
  void indexesMustIncrease() {
    Inflights in = new Inflights(10, Long.MAX_VALUE);
    in.add(5, 1);
    assertThatThrownBy(() -> in.add(5, 1)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> in.add(4, 1)).isInstanceOf(IllegalStateException.class);
  }

  /** The ring wraps around and grows without losing order, up to the count limit. */
  @Test
  void ringWrapsAndGrowsInOrder() {
    Inflights in = new Inflights(64, Long.MAX_VALUE);
    long next = 1;
    long oldest = 1;
    for (int round = 0; round < 200; round++) {
      int add = 1 + round % 7;
      for (int k = 0; k < add && !in.full(); k++) {
        in.add(next++, 1);
      }
      // Free about half of what is in flight.
      long upTo = oldest + in.count() / 2;
      in.freeLe(upTo);
      oldest = Math.max(oldest, upTo + 1);
      assertThat(in.count()).isEqualTo(next - oldest);
      assertThat(in.bytes()).isEqualTo(in.count());
    }
    // Fill completely, across the wrap point.
    while (!in.full()) {
      in.add(next++, 1);
    }
    assertThat(in.count()).isEqualTo(64);
    in.freeLe(next - 2);
    assertThat(in.count()).isEqualTo(1);
  }

  @Test
  void resetEmptiesTheWindow() {
    Inflights in = new Inflights(2, 100);
    in.add(1, 50);
    in.add(2, 50);
    in.reset();
    assertThat(in.count()).isZero();
    assertThat(in.bytes()).isZero();
    assertThat(in.full()).isFalse();
    in.add(1, 1);
    assertThat(in.count()).isEqualTo(1);
  }

  @Test
  void limitsMustBePositive() {
    assertThatThrownBy(() -> new Inflights(0, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Inflights(1, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
