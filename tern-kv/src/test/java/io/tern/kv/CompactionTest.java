package io.tern.kv;

import static io.tern.kv.KvHarness.bs;
import static io.tern.kv.KvHarness.compactReq;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.tern.api.CompactionResponse;
import io.tern.api.Event;
import io.tern.api.RangeRequest;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompactionTest {
  @TempDir Path dir;
  KvHarness kv;

  @BeforeEach
  void open() {
    kv = new KvHarness(dir);
  }

  @AfterEach
  void close() {
    kv.close();
  }

  private List<String> valuesAt(long rev) throws KvException {
    return KvStoreTest.values(
        kv.range(
            RangeRequest.newBuilder()
                .setKey(bs("a"))
                .setRangeEnd(bs("z"))
                .setRevision(rev)
                .build()));
  }

  @Test
  void compactionKeepsTheLatestOfEachKeyAndRefusesOlderReads() throws Exception {
    kv.put("a", "1"); // 2
    kv.put("a", "2"); // 3
    kv.put("b", "1"); // 4
    kv.delete("b", ""); // 5
    kv.put("c", "1"); // 6
    kv.put("a", "3"); // 7
    CompactionResponse r = kv.ok(compactReq(5));
    assertThat(r.getHeader().getRevision()).isEqualTo(7);
    assertThat(kv.sm.compactRevision()).isEqualTo(5);
    assertThat(kv.sm.revision()).isEqualTo(7); // compaction is not a change

    assertThat(valuesAt(5)).containsExactly("a=2"); // reading at the compact revision works
    assertThat(valuesAt(6)).containsExactly("a=2", "c=1");
    assertThat(valuesAt(7)).containsExactly("a=3", "c=1");
    assertThatThrownBy(() -> valuesAt(4))
        .isInstanceOfSatisfying(
            KvException.class, e -> assertThat(e.code()).isEqualTo(KvException.Code.OUT_OF_RANGE))
        .hasMessage("mvcc: required revision has been compacted");

    // History after the compact revision is complete; before it, only what is still live.
    List<Event> events = historyEvents(6, 7, "a", "\0", true);
    assertThat(events).hasSize(2);
    assertThat(events.get(1).getPrevKv().getValue()).isEqualTo(bs("2"));
  }

  private List<Event> historyEvents(long from, long to, String key, String end, boolean prev) {
    return kv.sm.history().events(from, to, bs(key), bs(end), prev);
  }

  @Test
  void compactionRequestErrors() {
    kv.put("a", "1");
    kv.put("a", "2"); // 3
    assertThat(kv.refused(compactReq(4)).getMessage())
        .isEqualTo("mvcc: required revision is a future revision");
    kv.ok(compactReq(2));
    KvException again = kv.refused(compactReq(2));
    assertThat(again.getMessage()).isEqualTo("mvcc: required revision has been compacted");
    assertThat(again.code()).isEqualTo(KvException.Code.OUT_OF_RANGE);
    assertThat(kv.refused(compactReq(1)).getMessage())
        .isEqualTo("mvcc: required revision has been compacted");
    kv.ok(compactReq(3));
    assertThat(kv.sm.compactRevision()).isEqualTo(3);
  }

  @Test
  void repeatedCompactionsRemoveOnlySupersededRevisions() throws Exception {
    for (int i = 0; i < 10; i++) {
      kv.put("k", "v" + i); // 2..11
    }
    kv.put("other", "x"); // 12
    kv.ok(compactReq(5));
    kv.ok(compactReq(11));
    assertThat(valuesAt(11)).containsExactly("k=v9");
    assertThat(valuesAt(12)).containsExactly("k=v9", "other=x");
    assertThat(kv.get("k").getVersion()).isEqualTo(10);
    assertThat(kv.get("k").getCreateRevision()).isEqualTo(2);
    // A later put continues the same generation.
    kv.put("k", "v10");
    assertThat(kv.get("k").getVersion()).isEqualTo(11);
    assertThat(historyEvents(12, 13, "k", "", true))
        .singleElement()
        .satisfies(e -> assertThat(e.getPrevKv().getValue()).isEqualTo(bs("v9")));
  }

  @Test
  void deletedKeysVanishEntirelyAtCompaction() throws Exception {
    kv.put("gone", "1"); // 2
    kv.delete("gone", ""); // 3
    kv.put("kept", "1"); // 4
    long before = kv.sm.hashKv(0).hash();
    kv.ok(compactReq(4));
    assertThat(kv.range("gone", "").getCount()).isZero();
    assertThat(historyEvents(4, 4, "a", "\0", false))
        .extracting(e -> e.getKv().getKey())
        .containsExactly(ByteString.copyFromUtf8("kept"));
    HashKv h = kv.sm.hashKv(0);
    assertThat(h.compactRevision()).isEqualTo(4);
    assertThat(h.hash()).isNotEqualTo(before);
    assertThatThrownBy(() -> kv.sm.hashKv(3))
        .hasMessage("mvcc: required revision has been compacted");
    assertThatThrownBy(() -> kv.sm.hashKv(5))
        .hasMessage("mvcc: required revision is a future revision");
  }
}
