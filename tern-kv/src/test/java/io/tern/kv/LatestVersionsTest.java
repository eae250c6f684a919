package io.tern.kv;

import static io.tern.kv.KvHarness.bs;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

class LatestVersionsTest {
  private static MvccView.Version version(String key, long main, int valueBytes) {
    ByteString k = bs(key);
    return new MvccView.Version(
        k, main, Codec.putRecord(0, main, 1, 0, ByteString.copyFrom(new byte[valueBytes])));
  }

  @Test
  void remembersVersionsAndAbsenceAndForgetsTheLeastRecentlyUsedBeyondTheBudget() {
    LatestVersions cache = new LatestVersions(3 * (96 + 2 + 33 + 10));
    cache.remember(bs("k1"), version("k1", 5, 10));
    cache.remember(bs("k2"), null);
    cache.remember(bs("k3"), version("k3", 7, 10));
    assertThat(cache.lookup(bs("k1")).version().main()).isEqualTo(5);
    assertThat(cache.lookup(bs("k2"))).isSameAs(LatestVersions.Known.NOT_FOUND);
    assertThat(cache.lookup(bs("k9"))).isNull();

    // k3 is now the least recently used (k1 and k2 were looked up after it).
    cache.remember(bs("k4"), version("k4", 8, 10));
    assertThat(cache.lookup(bs("k3"))).isNull();
    assertThat(cache.lookup(bs("k4")).version().main()).isEqualTo(8);
    assertThat(cache.bytes()).isLessThanOrEqualTo(3 * (96 + 2 + 33 + 10));

    // Replacing an entry accounts for the size difference; one too large for the budget is dropped.
    cache.remember(bs("k1"), version("k1", 9, 10));
    assertThat(cache.lookup(bs("k1")).version().main()).isEqualTo(9);
    cache.remember(bs("big"), version("big", 10, 10_000));
    assertThat(cache.lookup(bs("big"))).isNull();
    assertThat(cache.bytes()).isLessThanOrEqualTo(3 * (96 + 2 + 33 + 10));
  }

  @Test
  void aZeroBudgetRemembersNothing() {
    LatestVersions cache = new LatestVersions(0);
    cache.remember(bs("k"), version("k", 2, 1));
    assertThat(cache.lookup(bs("k"))).isNull();
    assertThat(cache.size()).isZero();
  }
}
