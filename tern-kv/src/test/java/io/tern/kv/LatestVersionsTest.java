package io.tern.kv;

import static io.tern.kv.KvHarness.bs;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LatestVersionsTest {
  private static MvccView.Version version(String key, long main, int valueBytes) {
    ByteString k = bs(key);
    return new MvccView.Version(
        k, main, Codec.putRecord(0, main, 1, 0, ByteString.copyFrom(new byte[valueBytes])));
  }

  @Test
  void remembersVersionsAndAbsenceAndForgetsTheLeastRecentlyUsedBeyondTheBudget() {
    LatestVersions cache = new LatestVersions(3 * (200 + 2 + 33 + 10));
    cache.remember(bs("k1"), version("k1", 5, 10), 1);
    cache.remember(bs("k2"), null, 1);
    cache.remember(bs("k3"), version("k3", 7, 10), 1);
    assertThat(cache.lookup(bs("k1")).version().main()).isEqualTo(5);
    assertThat(cache.lookup(bs("k2"))).isNotNull();
    assertThat(cache.lookup(bs("k2")).version()).isNull();
    assertThat(cache.lookup(bs("k9"))).isNull();

    // k3 is now the least recently used (k1 and k2 were looked up after it).
    cache.remember(bs("k4"), version("k4", 8, 10), 1);
    assertThat(cache.lookup(bs("k3"))).isNull();
    assertThat(cache.lookup(bs("k4")).version().main()).isEqualTo(8);
    assertThat(cache.bytes()).isLessThanOrEqualTo(3 * (200 + 2 + 33 + 10));

    // Replacing an entry accounts for the size difference; one too large for the budget is dropped.
    cache.remember(bs("k1"), version("k1", 9, 10), 1);
    assertThat(cache.lookup(bs("k1")).version().main()).isEqualTo(9);
    cache.remember(bs("big"), version("big", 10, 10_000), 1);
    assertThat(cache.lookup(bs("big"))).isNull();
    assertThat(cache.bytes()).isLessThanOrEqualTo(3 * (200 + 2 + 33 + 10));
  }

  @Test
  void readersSeeEachEntryWithTheRevisionItHoldsFromUntilItIsForgotten() {
    LatestVersions cache = new LatestVersions(1 << 20);
    cache.remember(bs("a"), version("a", 5, 10), 7);
    cache.remember(bs("gone"), null, 9);
    assertThat(cache.newest(bs("a")).since()).isEqualTo(5);
    assertThat(cache.newest(bs("a")).version().main()).isEqualTo(5);
    assertThat(cache.newest(bs("gone")).since()).isEqualTo(9);
    assertThat(cache.newest(bs("gone")).version()).isNull();
    assertThat(cache.newest(bs("other"))).isNull();
    cache.clear();
    assertThat(cache.newest(bs("a"))).isNull();

    // What the budget forgets, readers no longer see.
    LatestVersions small = new LatestVersions(2 * (200 + 1 + 33 + 10));
    small.remember(bs("x"), version("x", 1, 10), 1);
    small.remember(bs("y"), version("y", 2, 10), 2);
    small.remember(bs("z"), version("z", 3, 10), 3);
    assertThat(small.newest(bs("x"))).isNull();
    assertThat(small.newest(bs("z")).since()).isEqualTo(3);
  }

  @Test
  void keysDifferingOnlyInTheirLastBytesSpreadOverTheHashTable() {
    // 8-byte keys holding a big-endian counter, as tern bench and many applications write them.
    int n = 10_000;
    Set<Integer> plain = new HashSet<>();
    Map<Integer, Integer> perBucket = new HashMap<>();
    for (int i = 0; i < n; i++) {
      byte[] k = new byte[8];
      k[6] = (byte) (i >>> 8);
      k[7] = (byte) i;
      ByteString key = ByteString.copyFrom(k);
      plain.add(key.hashCode());
      int h = LatestVersions.HashedKey.mix(key);
      // The bucket a HashMap of 16384 buckets picks (it folds the high half into the low).
      perBucket.merge((h ^ (h >>> 16)) & 16383, 1, Integer::sum);
    }
    // ByteString's own hash: fewer than 1,500 distinct values for 10,000 keys.
    assertThat(plain).hasSizeLessThan(1_500);
    // The mixed hash: about as even as random placement (10,000 keys in 16,384 buckets rarely put
    // more than 7 in one).
    assertThat(perBucket.values().stream().mapToInt(Integer::intValue).max().orElseThrow())
        .isLessThanOrEqualTo(7);
    assertThat(perBucket).hasSizeGreaterThan(7_000);
  }

  @Test
  void aZeroBudgetRemembersNothing() {
    LatestVersions cache = new LatestVersions(0);
    cache.remember(bs("k"), version("k", 2, 1), 1);
    assertThat(cache.lookup(bs("k"))).isNull();
    assertThat(cache.size()).isZero();
  }
}
