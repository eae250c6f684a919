package io.tern.kv;

import static io.tern.kv.KvHarness.bs;
import static io.tern.kv.KvHarness.cmp;
import static io.tern.kv.KvHarness.compactReq;
import static io.tern.kv.KvHarness.deleteReq;
import static io.tern.kv.KvHarness.entry;
import static io.tern.kv.KvHarness.grantReq;
import static io.tern.kv.KvHarness.opDelete;
import static io.tern.kv.KvHarness.opPut;
import static io.tern.kv.KvHarness.putReq;
import static io.tern.kv.KvHarness.revokeReq;
import static io.tern.kv.KvHarness.txnReq;
import static org.assertj.core.api.Assertions.assertThat;

import io.tern.api.Compare;
import io.tern.api.InternalRequest;
import io.tern.api.RangeRequest;
import io.tern.api.RangeResponse;
import io.tern.api.TxnRequest;
import io.tern.raft.core.Entry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Single-key gets at the current revision are answered from apply's memory of keys' newest versions
 * ({@link KvStateMachine#rangeFromNewest}); these tests hold those answers to what the store itself
 * answers, and check that the memory never answers for a revision older than its entry.
 */
class NewestReadTest {
  private static final int KEYS = 24;

  private static String key(int i) {
    return "k" + (char) ('a' + i);
  }

  /** A request the memory never answers (a filter that keeps everything) for the store's answer. */
  private static RangeRequest fromStore(RangeRequest r) {
    return r.toBuilder().setMinModRevision(1).build();
  }

  @ParameterizedTest
  @ValueSource(longs = {KvOptions.DEFAULT_KEY_CACHE_BYTES, 2_000, 0})
  void answersAsTheStoreDoesThroughPutsDeletesTxnsLeasesCompactionsAndRestarts(
      long keyCacheBytes, @TempDir Path dir) throws KvException {
    Random random = new Random(20261202L + keyCacheBytes);
    long answered = 0;
    try (KvHarness h =
        new KvHarness(dir, KvOptions.builder().keyCacheBytes(keyCacheBytes).build())) {
      for (int step = 0; step < 400; step++) {
        // One to five requests per applied batch, so later entries read what earlier ones wrote
        // before the batch reaches RocksDB.
        int n = 1 + random.nextInt(5);
        List<Entry> batch = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          InternalRequest req = randomRequest(random, h.sm.revision());
          Entry e = entry(h.nextIndex++, req);
          h.log.add(e);
          batch.add(e);
        }
        h.sm.apply(batch);
        if (random.nextInt(60) == 0) {
          h.restart();
        }
        for (int k = 0; k < KEYS; k++) {
          for (RangeRequest r : gets(key(k))) {
            RangeResponse fast = h.sm.range(r);
            assertThat(fast).as("step %d, %s", step, r).isEqualTo(h.sm.range(fromStore(r)));
            if (h.sm.rangeFromNewest(r, h.sm.revision()) != null) {
              answered++;
            }
          }
        }
      }
    }
    if (keyCacheBytes == 0) {
      assertThat(answered).isZero();
    } else {
      // The memory really answers (most gets with the default budget, some with a tiny one).
      assertThat(answered).isGreaterThan(keyCacheBytes > 10_000 ? 20_000 : 2_000);
    }
  }

  private static List<RangeRequest> gets(String key) {
    RangeRequest plain = RangeRequest.newBuilder().setKey(bs(key)).build();
    return List.of(
        plain,
        plain.toBuilder().setKeysOnly(true).build(),
        plain.toBuilder().setCountOnly(true).build(),
        plain.toBuilder().setLimit(1).build());
  }

  private static InternalRequest randomRequest(Random random, long revision) {
    String k = key(random.nextInt(KEYS));
    String v = "v" + random.nextInt(1000);
    long lease = 100 + random.nextInt(3);
    return switch (random.nextInt(12)) {
      case 0, 1, 2, 3 -> putReq(k, v);
      case 4 -> putReq(k, v, lease);
      case 5 -> grantReq(lease, 60);
      case 6 -> revokeReq(lease);
      case 7 -> deleteReq(k, "", false);
      case 8 -> deleteReq(k, key(Math.min(KEYS - 1, random.nextInt(KEYS) + 1)), true);
      case 9 ->
          txnReq(
              TxnRequest.newBuilder()
                  .addCompare(
                      cmp(k, Compare.CompareTarget.VERSION, Compare.CompareResult.GREATER)
                          .toBuilder()
                          .setVersion(1))
                  .addSuccess(opDelete(k, ""))
                  .addSuccess(opPut(key(random.nextInt(KEYS)) + "x", v))
                  .addFailure(opPut(k, v))
                  .build());
      case 10 -> compactReq(Math.max(1, revision - random.nextInt(5)));
      default -> putReq(k, v + v);
    };
  }

  @org.junit.jupiter.api.Test
  void neverAnswersForARevisionBeforeItsEntryHolds(@TempDir Path dir) throws KvException {
    try (KvHarness h = new KvHarness(dir)) {
      h.put("a", "1");
      long before = h.sm.revision();
      h.put("a", "2");
      h.put("b", "1");
      h.delete("b", "");
      RangeRequest getA = RangeRequest.newBuilder().setKey(bs("a")).build();
      RangeRequest getB = RangeRequest.newBuilder().setKey(bs("b")).build();
      // A reader that took the store's revision before the second put must read the store.
      assertThat(h.sm.rangeFromNewest(getA, before)).isNull();
      RangeResponse now = h.sm.rangeFromNewest(getA, h.sm.revision());
      assertThat(now).isNotNull();
      assertThat(now.getKvs(0).getValue().toStringUtf8()).isEqualTo("2");
      assertThat(now.getKvs(0).getModRevision()).isEqualTo(before + 1);
      assertThat(now.getHeader().getRevision()).isEqualTo(h.sm.revision());
      // "b" is known to be absent from its deletion on.
      assertThat(h.sm.rangeFromNewest(getB, h.sm.revision() - 1)).isNull();
      RangeResponse noB = h.sm.rangeFromNewest(getB, h.sm.revision());
      assertThat(noB).isNotNull();
      assertThat(noB.getCount()).isZero();
      assertThat(noB.getKvsList()).isEmpty();
      // Anything but a plain single-key get at the current revision goes to the store.
      assertThat(h.sm.rangeFromNewest(getA.toBuilder().setRevision(before).build(), before + 1))
          .isNull();
      assertThat(h.sm.rangeFromNewest(getA.toBuilder().setRangeEnd(bs("b")).build(), before + 1))
          .isNull();
    }
  }
}
