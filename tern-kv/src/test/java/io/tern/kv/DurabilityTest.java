package io.tern.kv;

import static io.tern.kv.KvHarness.bs;
import static io.tern.kv.KvHarness.opDelete;
import static io.tern.kv.KvHarness.opPut;
import static io.tern.kv.KvHarness.opRange;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.api.Compare;
import io.tern.api.InternalRequest;
import io.tern.api.MemberAttributes;
import io.tern.api.PutRequest;
import io.tern.api.RangeRequest;
import io.tern.api.RangeResponse;
import io.tern.api.RequestOp;
import io.tern.api.TxnRequest;
import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.tracker.Membership;
import io.tern.raft.node.StateMachine;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Restart, idempotent re-apply, snapshot and restore, determinism across instances. */
class DurabilityTest {
  @TempDir Path dir;

  /** A seeded mix of every kind of write, as log entries from index {@code first} on. */
  static List<Entry> workload(long seed, long first, int count) {
    Random rnd = new Random(seed);
    List<Entry> out = new ArrayList<>();
    long index = first;
    long revisionGuess = 1;
    for (int i = 0; i < count; i++) {
      String k = "k" + rnd.nextInt(12);
      InternalRequest req =
          switch (rnd.nextInt(10)) {
            case 0, 1, 2, 3 -> KvHarness.putReq(k, "v" + rnd.nextInt(1000));
            case 4 -> KvHarness.deleteReq(k, "k" + rnd.nextInt(12), true);
            case 5 ->
                KvHarness.txnReq(
                    TxnRequest.newBuilder()
                        .addCompare(
                            KvHarness.cmp(
                                    k, Compare.CompareTarget.VERSION, Compare.CompareResult.GREATER)
                                .toBuilder()
                                .setVersion(rnd.nextInt(3)))
                        .addSuccess(opPut(k, "t" + i))
                        .addSuccess(opRange("k", "l"))
                        .addFailure(opDelete("k", "k5"))
                        .build());
            case 6 -> KvHarness.grantReq(1 + rnd.nextInt(3), 30);
            case 7 -> KvHarness.putReq(k, "leased", 1 + rnd.nextInt(3));
            case 8 -> KvHarness.revokeReq(1 + rnd.nextInt(3));
            default -> KvHarness.compactReq(Math.max(1, revisionGuess / 2 - rnd.nextInt(5)));
          };
      revisionGuess += 1;
      if (rnd.nextInt(8) == 0) {
        out.add(new Entry(1, index++, EntryType.NORMAL, 0, new byte[0])); // leader no-op
      }
      out.add(KvHarness.entry(index++, req));
    }
    return out;
  }

  private static RangeResponse all(KvStateMachine sm) throws KvException {
    return sm.range(RangeRequest.newBuilder().setKey(bs("\0")).setRangeEnd(bs("\0")).build());
  }

  private static Object[] applyInBatches(KvStateMachine sm, List<Entry> entries, int batch) {
    List<Object> results = new ArrayList<>();
    for (int i = 0; i < entries.size(); i += batch) {
      results.addAll(
          java.util.Arrays.asList(
              sm.apply(entries.subList(i, Math.min(entries.size(), i + batch)))));
    }
    return results.toArray();
  }

  private static String describe(Object r) {
    return r instanceof KvException e ? e.code() + ":" + e.getMessage() : String.valueOf(r);
  }

  @Test
  void twoInstancesFedTheSameEntriesAgree() throws Exception {
    List<Entry> log = workload(42, 1, 400);
    try (KvStateMachine a = KvStateMachine.open(dir.resolve("a"), KvOptions.defaults());
        KvStateMachine b = KvStateMachine.open(dir.resolve("b"), KvOptions.defaults())) {
      Object[] ra = applyInBatches(a, log, 1);
      Object[] rb = applyInBatches(b, log, 37);
      for (int i = 0; i < ra.length; i++) {
        assertThat(describe(rb[i])).as("entry %d", i).isEqualTo(describe(ra[i]));
      }
      // The workload exercises every kind of result, refusals included.
      assertThat(
              java.util.Arrays.stream(ra)
                  .map(r -> r == null ? "null" : r.getClass().getSimpleName()))
          .contains(
              "PutResponse",
              "DeleteRangeResponse",
              "TxnResponse",
              "CompactionResponse",
              "LeaseGrantResponse",
              "LeaseRevokeResponse",
              "KvException");
      assertThat(a.revision()).isGreaterThan(100);
      assertThat(a.compactRevision()).isPositive();
      assertThat(b.revision()).isEqualTo(a.revision());
      assertThat(b.appliedIndex()).isEqualTo(a.appliedIndex()).isEqualTo(log.size());
      assertThat(b.hashKv(0)).isEqualTo(a.hashKv(0));
      assertThat(b.hashKv(a.revision() - 3)).isEqualTo(a.hashKv(a.revision() - 3));
      assertThat(all(b)).isEqualTo(all(a));
      assertThat(b.leaseIds()).isEqualTo(a.leaseIds());

      // A different history hashes differently.
      a.apply(List.of(KvHarness.entry(log.size() + 1, KvHarness.putReq("k1", "diverge"))));
      b.apply(List.of(KvHarness.entry(log.size() + 1, KvHarness.putReq("k1", "other"))));
      assertThat(b.hashKv(0).hash()).isNotEqualTo(a.hashKv(0).hash());
    }
  }

  /**
   * Key-value writes only, so consecutive entries share one database batch: puts with and without
   * prev_kv, ignore_value (refused while the key is absent), unknown leases (refused), single-key
   * and range deletes, and transactions that write one key and are then refused on another.
   */
  static List<Entry> keyValueWorkload(long seed, int count) {
    Random rnd = new Random(seed);
    List<Entry> out = new ArrayList<>();
    out.add(KvHarness.entry(1, KvHarness.grantReq(5, 60)));
    long index = 2;
    for (int i = 0; i < count; i++) {
      String k = "k" + rnd.nextInt(6);
      InternalRequest req =
          switch (rnd.nextInt(9)) {
            case 0, 1 -> KvHarness.putReq(k, "v" + i);
            case 2 ->
                KvHarness.putReq(
                    PutRequest.newBuilder()
                        .setKey(bs(k))
                        .setValue(bs("p" + i))
                        .setPrevKv(true)
                        .build());
            case 3 ->
                KvHarness.putReq(
                    PutRequest.newBuilder().setKey(bs(k)).setIgnoreValue(true).setLease(5).build());
            case 4 -> KvHarness.putReq(k, "leased" + i, rnd.nextBoolean() ? 5 : 77);
            case 5 -> KvHarness.deleteReq(k, "", true);
            case 6 -> KvHarness.deleteReq("k" + rnd.nextInt(3), "k" + (3 + rnd.nextInt(4)), false);
            default ->
                KvHarness.txnReq(
                    TxnRequest.newBuilder()
                        .addCompare(
                            KvHarness.cmp(
                                    k, Compare.CompareTarget.VERSION, Compare.CompareResult.GREATER)
                                .toBuilder()
                                .setVersion(rnd.nextInt(3)))
                        .addSuccess(opPut(k + "/t", "t" + i))
                        .addSuccess(
                            RequestOp.newBuilder()
                                .setRequestPut(
                                    PutRequest.newBuilder()
                                        .setKey(bs(k))
                                        .setValue(bs("tl" + i))
                                        .setLease(rnd.nextInt(3) == 0 ? 77 : 0)
                                        .setPrevKv(true)))
                        .addFailure(opDelete(k, ""))
                        .addFailure(opPut(k + "/f", "f" + i))
                        .build());
          };
      if (rnd.nextInt(20) == 0) {
        out.add(new Entry(1, index++, EntryType.NORMAL, 0, new byte[0])); // leader no-op
      }
      out.add(KvHarness.entry(index++, req));
    }
    return out;
  }

  @Test
  void batchedApplyWithTheKeyCacheAgreesWithOneEntryAtATimeWithoutIt() throws Exception {
    List<Entry> log = keyValueWorkload(3, 800);
    KvOptions uncached = KvOptions.builder().keyCacheBytes(0).build();
    KvOptions tinyCache = KvOptions.builder().keyCacheBytes(600).build();
    try (KvStateMachine a = KvStateMachine.open(dir.resolve("a"), uncached);
        KvStateMachine b = KvStateMachine.open(dir.resolve("b"), KvOptions.defaults());
        KvStateMachine c = KvStateMachine.open(dir.resolve("c"), tinyCache);
        KvStateMachine e = KvStateMachine.open(dir.resolve("d"), uncached)) {
      Object[] ra = applyInBatches(a, log, 1);
      List<Object> rb = new ArrayList<>();
      Random sizes = new Random(11);
      for (int i = 0; i < log.size(); ) {
        int n = 1 + sizes.nextInt(60);
        rb.addAll(java.util.Arrays.asList(b.apply(log.subList(i, Math.min(log.size(), i + n)))));
        i += n;
      }
      Object[] rc = applyInBatches(c, log, 17);
      // Without the key cache, a put finds a key an earlier put of its batch wrote in the batch.
      Object[] rd = applyInBatches(e, log, 23);
      for (int i = 0; i < ra.length; i++) {
        assertThat(describe(rb.get(i))).as("entry %d, batched", i).isEqualTo(describe(ra[i]));
        assertThat(describe(rc[i])).as("entry %d, tiny cache", i).isEqualTo(describe(ra[i]));
        assertThat(describe(rd[i])).as("entry %d, batched uncached", i).isEqualTo(describe(ra[i]));
      }
      // Both kinds of refusal happened, also inside transactions that had written a key first.
      assertThat(java.util.Arrays.stream(ra).map(DurabilityTest::describe))
          .anyMatch(d -> d.contains("requested lease not found"))
          .anyMatch(d -> d.contains("key not found"));
      for (KvStateMachine other : List.of(b, c, e)) {
        assertThat(other.revision()).isEqualTo(a.revision()).isGreaterThan(300);
        assertThat(other.appliedIndex()).isEqualTo(a.appliedIndex()).isEqualTo(log.size());
        assertThat(other.hashKv(0)).isEqualTo(a.hashKv(0));
        assertThat(all(other)).isEqualTo(all(a));
        assertThat(other.history().events(1, a.revision(), bs("\0"), bs("\0"), true))
            .isEqualTo(a.history().events(1, a.revision(), bs("\0"), bs("\0"), true));
      }
    }
  }

  /**
   * What a crash leaves on disk (here, a copy of the files of the open store, taken while it
   * applies nothing) is the state after some entry of the Raft log, consistent across all column
   * families, and applying the log after it again reaches exactly the live store's state.
   */
  @Test
  void aCrashImageIsTheStateAtAnEarlierEntryAndTheLogCatchesItUp() throws Exception {
    List<Entry> log = workload(11, 1, 300);
    Path live = dir.resolve("live");
    Path image = dir.resolve("image");
    try (KvStateMachine sm = KvStateMachine.open(live, KvOptions.defaults())) {
      applyInBatches(sm, log.subList(0, 120), 10);
      sm.snapshot().writeTo(java.io.OutputStream.nullOutputStream()); // a checkpoint flushes
      applyInBatches(sm, log.subList(120, 300), 10);
      copyTree(live, image); // as a crash would find the files now
      try (KvStateMachine crashed = KvStateMachine.open(image, KvOptions.defaults())) {
        long at = crashed.appliedIndex();
        assertThat(at).as("applied index of the crash image").isBetween(120L, 300L);
        try (KvStateMachine reference =
            KvStateMachine.open(dir.resolve("ref"), KvOptions.defaults())) {
          applyInBatches(reference, log.subList(0, (int) at), 7);
          assertThat(crashed.revision()).isEqualTo(reference.revision());
          assertThat(crashed.hashKv(0)).isEqualTo(reference.hashKv(0));
          assertThat(all(crashed)).isEqualTo(all(reference));
          assertThat(crashed.leaseIds()).isEqualTo(reference.leaseIds());
        }
        applyInBatches(crashed, log.subList((int) at, 300), 13);
        assertThat(crashed.appliedIndex()).isEqualTo(300);
        assertThat(crashed.revision()).isEqualTo(sm.revision());
        assertThat(crashed.hashKv(0)).isEqualTo(sm.hashKv(0));
        assertThat(all(crashed)).isEqualTo(all(sm));
        assertThat(crashed.leaseIds()).isEqualTo(sm.leaseIds());
      }
    }
  }

  @Test
  void memtablesFilledManyTimesAreFlushedWholeAndACrashLosesOnlyWhatTheLogStillHolds()
      throws Exception {
    // The store writes no WAL of its own: what reaches its files is what flushes wrote. With the
    // smallest memtables, 4 KiB values fill them many times over; every flush must write all
    // column families at once, so a crash image is always the state after one entry.
    KvOptions opts = KvOptions.builder().memtableBytes(KvOptions.MIN_MEMTABLE_BYTES).build();
    List<Entry> log = new ArrayList<>();
    Random rnd = new Random(5);
    String big = "x".repeat(4096);
    for (Entry e : workload(5, 1, 1800)) { // the last ~300 entries small: no flush among them
      boolean bigPut = e.data().length > 0 && log.size() < 1500 && rnd.nextInt(2) == 0;
      log.add(
          bigPut
              ? KvHarness.entry(
                  e.index(), KvHarness.putReq("big" + rnd.nextInt(40), big + e.index()))
              : e);
    }
    Path live = dir.resolve("live");
    Path image = dir.resolve("image");
    try (KvStateMachine sm = KvStateMachine.open(live, opts)) {
      applyInBatches(sm, log, 9);
      sm.database().db.pauseBackgroundWork(); // no flush or compaction half done in the copy
      try {
        copyTree(live, image); // as a crash (the process killed) would find the files now
      } finally {
        sm.database().db.continueBackgroundWork();
      }
      try (KvStateMachine crashed = KvStateMachine.open(image, opts)) {
        long at = crashed.appliedIndex();
        // Past the first flush (the second waits for it), short of what the memtables still held.
        assertThat(at).as("applied index of the crash image").isBetween(100L, log.size() - 1L);
        try (KvStateMachine reference = KvStateMachine.open(dir.resolve("ref"), opts)) {
          applyInBatches(reference, log.subList(0, (int) at), 11);
          assertThat(crashed.revision()).isEqualTo(reference.revision());
          assertThat(crashed.hashKv(0)).isEqualTo(reference.hashKv(0));
          assertThat(all(crashed)).isEqualTo(all(reference));
          assertThat(crashed.leaseIds()).isEqualTo(reference.leaseIds());
        }
        // The driver replays the whole log: the entries the image holds are skipped.
        applyInBatches(crashed, log, 13);
        assertThat(crashed.appliedIndex()).isEqualTo(log.size());
        assertThat(crashed.revision()).isEqualTo(sm.revision());
        assertThat(crashed.hashKv(0)).isEqualTo(sm.hashKv(0));
        assertThat(all(crashed)).isEqualTo(all(sm));
        assertThat(crashed.leaseIds()).isEqualTo(sm.leaseIds());
      }
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (var paths = Files.walk(from)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  @Test
  void restartRecoversAndReappliedEntriesHaveNoEffect() throws Exception {
    List<Entry> log = workload(7, 1, 150);
    KvOptions opts = KvOptions.defaults();
    HashKv hash;
    RangeResponse before;
    long revision;
    List<Long> leases;
    try (KvStateMachine sm = KvStateMachine.open(dir, opts)) {
      applyInBatches(sm, log, 10);
      sm.apply(
          List.of(
              KvHarness.entry(
                  log.size() + 1,
                  InternalRequest.newBuilder()
                      .setMemberPut(MemberAttributes.newBuilder().setId(1).setName("m1"))
                      .build()),
              new Entry(2, log.size() + 2, EntryType.CONFIG, 0, new byte[] {1, 2, 3})));
      hash = sm.hashKv(0);
      before = all(sm);
      revision = sm.revision();
      leases = sm.leaseIds();
      assertThat(sm.appliedIndex()).isEqualTo(log.size() + 2);
    }
    try (KvStateMachine sm = KvStateMachine.open(dir, opts)) {
      assertThat(sm.appliedIndex()).isEqualTo(log.size() + 2);
      assertThat(sm.revision()).isEqualTo(revision);
      assertThat(sm.hashKv(0)).isEqualTo(hash);
      assertThat(all(sm)).isEqualTo(before);
      assertThat(sm.leaseIds()).isEqualTo(leases);
      assertThat(sm.members()).extracting(MemberAttributes::getName).containsExactly("m1");

      // The driver replays the log from wherever it likes: already applied entries are skipped.
      Object[] results = applyInBatches(sm, log, 25);
      assertThat(results).containsOnlyNulls();
      assertThat(sm.revision()).isEqualTo(revision);
      assertThat(sm.hashKv(0)).isEqualTo(hash);
      // A fresh entry after them still applies.
      Object r =
          sm.apply(List.of(KvHarness.entry(log.size() + 3, KvHarness.putReq("new", "1"))))[0];
      assertThat(r).isInstanceOf(io.tern.api.PutResponse.class);
      assertThat(sm.revision()).isEqualTo(revision + 1);
    }
  }

  @Test
  void snapshotRestoresIntoAnotherInstance() throws Exception {
    List<Entry> log = workload(99, 1, 300);
    try (KvStateMachine source = KvStateMachine.open(dir.resolve("src"), KvOptions.defaults());
        KvStateMachine target = KvStateMachine.open(dir.resolve("dst"), KvOptions.defaults())) {
      applyInBatches(source, log.subList(0, 200), 20);
      applyInBatches(target, workload(5, 1, 30), 30); // some other state, to be replaced
      StateMachine.SnapshotWriter writer = source.snapshot();
      long index = source.appliedIndex();
      HashKv hashAtSnapshot = source.hashKv(0);
      RangeResponse rangeAtSnapshot = all(source);
      // Apply goes on while the writer streams the captured state.
      applyInBatches(source, log.subList(200, log.size()), 20);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      writer.writeTo(bytes);
      assertThat(Files.list(dir.resolve("src")).map(p -> p.getFileName().toString()))
          .noneMatch(n -> n.endsWith(".tmp"));

      target.restore(meta(index), new ByteArrayInputStream(bytes.toByteArray()));
      assertThat(target.appliedIndex()).isEqualTo(index);
      assertThat(target.hashKv(0)).isEqualTo(hashAtSnapshot);
      assertThat(all(target)).isEqualTo(rangeAtSnapshot);

      // Catching up from the log after the snapshot converges with the source.
      applyInBatches(target, log, 50);
      assertThat(target.hashKv(0)).isEqualTo(source.hashKv(0));
      assertThat(all(target)).isEqualTo(all(source));
      assertThat(target.leaseIds()).isEqualTo(source.leaseIds());
    }
    // The restored store survives a restart.
    try (KvStateMachine target = KvStateMachine.open(dir.resolve("dst"), KvOptions.defaults())) {
      assertThat(target.appliedIndex()).isEqualTo(log.size());
      assertThat(Files.list(dir.resolve("dst")).map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("CURRENT", "db-2");
    }
  }

  @Test
  void backupIsARestorableSnapshot() throws Exception {
    List<Entry> log = workload(3, 1, 80);
    try (KvStateMachine source = KvStateMachine.open(dir.resolve("src"), KvOptions.defaults());
        KvStateMachine target = KvStateMachine.open(dir.resolve("dst"), KvOptions.defaults())) {
      applyInBatches(source, log, 80);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      source.writeBackup(bytes);
      target.restore(meta(log.size()), new ByteArrayInputStream(bytes.toByteArray()));
      assertThat(target.hashKv(0)).isEqualTo(source.hashKv(0));
      assertThat(all(target)).isEqualTo(all(source));
    }
  }

  @Test
  void aBadSnapshotLeavesTheStoreAsItWas() throws Exception {
    List<Entry> sourceLog = workload(1, 1, 50);
    List<Entry> targetLog = workload(2, 1, 20);
    try (KvStateMachine source = KvStateMachine.open(dir.resolve("src"), KvOptions.defaults());
        KvStateMachine target = KvStateMachine.open(dir.resolve("dst"), KvOptions.defaults())) {
      applyInBatches(source, sourceLog, 50);
      applyInBatches(target, targetLog, 20);
      HashKv targetHash = target.hashKv(0);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      source.snapshot().writeTo(bytes);
      byte[] good = bytes.toByteArray();
      SnapshotMeta meta = meta(sourceLog.size());

      byte[] corrupt = good.clone();
      corrupt[corrupt.length / 2] ^= 1;
      assertThatThrownBy(() -> target.restore(meta, new ByteArrayInputStream(corrupt)))
          .isInstanceOf(IOException.class);
      byte[] truncated = java.util.Arrays.copyOf(good, good.length - 10);
      assertThatThrownBy(() -> target.restore(meta, new ByteArrayInputStream(truncated)))
          .isInstanceOf(IOException.class);
      SnapshotMeta wrongIndex = meta(sourceLog.size() - 1);
      assertThatThrownBy(() -> target.restore(wrongIndex, new ByteArrayInputStream(good)))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("applied index");

      assertThat(target.hashKv(0)).isEqualTo(targetHash);
      assertThat(target.appliedIndex()).isEqualTo(targetLog.size());
      assertThat(Files.list(dir.resolve("dst")).map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("CURRENT", "db-1");
      // The good stream still restores.
      target.restore(meta, new ByteArrayInputStream(good));
      assertThat(target.hashKv(0)).isEqualTo(source.hashKv(0));
    }
  }

  static SnapshotMeta meta(long index) {
    return new SnapshotMeta(index, 1, Membership.ofVoters(1));
  }
}
