package io.tern.kv;

import static io.tern.kv.KvHarness.bs;
import static org.assertj.core.api.Assertions.assertThat;

import io.tern.api.KeyValue;
import io.tern.api.RangeRequest;
import io.tern.api.RangeResponse;
import io.tern.api.TxnRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads on other threads each see one whole revision while apply and compaction go on. */
class ConcurrentReadTest {
  @TempDir Path dir;

  @Test
  void readsSeeWholeRevisionsDuringApplyAndCompaction() throws Exception {
    ExecutorService readers = Executors.newFixedThreadPool(2);
    AtomicBoolean done = new AtomicBoolean();
    try (KvHarness kv = new KvHarness(dir)) {
      kv.ok(
          KvHarness.txnReq(
              TxnRequest.newBuilder()
                  .addSuccess(KvHarness.opPut("x", "0"))
                  .addSuccess(KvHarness.opPut("y", "0"))
                  .build()));
      List<Future<Integer>> checks = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        checks.add(
            readers.submit(
                () -> {
                  int reads = 0;
                  while (!done.get() || reads == 0) {
                    RangeResponse r =
                        kv.sm.range(
                            RangeRequest.newBuilder().setKey(bs("x")).setRangeEnd(bs("z")).build());
                    assertThat(r.getKvsCount()).isEqualTo(2);
                    KeyValue x = r.getKvs(0);
                    KeyValue y = r.getKvs(1);
                    // Both keys are written by one transaction per revision.
                    assertThat(x.getValue()).isEqualTo(y.getValue());
                    assertThat(x.getModRevision()).isEqualTo(y.getModRevision());
                    assertThat(r.getHeader().getRevision())
                        .isGreaterThanOrEqualTo(x.getModRevision());
                    // A historical read of the revision just seen agrees with it.
                    try {
                      RangeResponse again =
                          kv.sm.range(
                              RangeRequest.newBuilder()
                                  .setKey(bs("x"))
                                  .setRangeEnd(bs("z"))
                                  .setRevision(x.getModRevision())
                                  .build());
                      assertThat(again.getKvsList()).isEqualTo(r.getKvsList());
                    } catch (KvException e) {
                      // Compacted meanwhile; the store must say so rather than answer wrongly.
                      assertThat(e.getMessage()).isEqualTo(KvException.COMPACTED);
                    }
                    reads++;
                  }
                  return reads;
                }));
      }
      for (int i = 1; i <= 300; i++) {
        kv.ok(
            KvHarness.txnReq(
                TxnRequest.newBuilder()
                    .addSuccess(KvHarness.opPut("x", "" + i))
                    .addSuccess(KvHarness.opPut("y", "" + i))
                    .build()));
        if (i % 20 == 0) {
          // Keep only the current revision: readers at older ones would see "compacted".
          kv.ok(KvHarness.compactReq(kv.sm.revision() - 1));
        }
      }
      done.set(true);
      for (Future<Integer> f : checks) {
        assertThat(f.get()).isPositive();
      }
    } finally {
      done.set(true);
      readers.shutdownNow();
    }
  }
}
