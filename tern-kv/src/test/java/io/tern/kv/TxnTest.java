package io.tern.kv;

import static io.tern.kv.KvHarness.bs;
import static io.tern.kv.KvHarness.cmp;
import static io.tern.kv.KvHarness.keys;
import static io.tern.kv.KvHarness.opDelete;
import static io.tern.kv.KvHarness.opPut;
import static io.tern.kv.KvHarness.opRange;
import static io.tern.kv.KvHarness.opTxn;
import static io.tern.kv.KvHarness.txnReq;
import static org.assertj.core.api.Assertions.assertThat;

import io.tern.api.Compare;
import io.tern.api.Compare.CompareResult;
import io.tern.api.Compare.CompareTarget;
import io.tern.api.PutRequest;
import io.tern.api.RequestOp;
import io.tern.api.ResponseOp;
import io.tern.api.TxnRequest;
import io.tern.api.TxnResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Transactions: compares, branches, nesting, refusals that leave nothing applied. */
class TxnTest {
  @TempDir Path dir;
  KvHarness kv;

  @BeforeEach
  void open() {
    kv = new KvHarness(dir, KvOptions.builder().maxTxnOps(4).build());
  }

  @AfterEach
  void close() {
    kv.close();
  }

  private boolean holds(Compare c) {
    TxnResponse r = kv.ok(txnReq(TxnRequest.newBuilder().addCompare(c).build()));
    return r.getSucceeded();
  }

  @Test
  void compareEachTargetAndResult() {
    kv.ok(KvHarness.grantReq(9, 60));
    kv.put("k", "m"); // 2 (granting a lease changes no key)
    kv.ok(KvHarness.putReq("k", "m", 9)); // 3: version 2, create 2, mod 3, lease 9

    Compare.Builder value = cmp("k", CompareTarget.VALUE, CompareResult.EQUAL).toBuilder();
    assertThat(holds(value.setValue(bs("m")).build())).isTrue();
    assertThat(holds(value.setValue(bs("n")).build())).isFalse();
    assertThat(holds(value.setResult(CompareResult.LESS).setValue(bs("n")).build())).isTrue();
    assertThat(holds(value.setResult(CompareResult.GREATER).setValue(bs("l")).build())).isTrue();
    assertThat(holds(value.setResult(CompareResult.NOT_EQUAL).setValue(bs("m")).build())).isFalse();

    Compare.Builder version = cmp("k", CompareTarget.VERSION, CompareResult.EQUAL).toBuilder();
    assertThat(holds(version.setVersion(2).build())).isTrue();
    assertThat(holds(version.setResult(CompareResult.GREATER).setVersion(1).build())).isTrue();
    assertThat(holds(version.setResult(CompareResult.LESS).setVersion(2).build())).isFalse();

    Compare.Builder create = cmp("k", CompareTarget.CREATE, CompareResult.EQUAL).toBuilder();
    assertThat(holds(create.setCreateRevision(2).build())).isTrue();
    assertThat(holds(create.setResult(CompareResult.NOT_EQUAL).setCreateRevision(2).build()))
        .isFalse();

    Compare.Builder mod = cmp("k", CompareTarget.MOD, CompareResult.EQUAL).toBuilder();
    assertThat(holds(mod.setModRevision(3).build())).isTrue();
    assertThat(holds(mod.setResult(CompareResult.LESS).setModRevision(3).build())).isFalse();
    assertThat(holds(mod.setResult(CompareResult.LESS).setModRevision(4).build())).isTrue();

    Compare.Builder lease = cmp("k", CompareTarget.LEASE, CompareResult.EQUAL).toBuilder();
    assertThat(holds(lease.setLease(9).build())).isTrue();
    assertThat(holds(lease.setLease(0).build())).isFalse();

    assertThat(kv.sm.revision()).isEqualTo(3); // compare-only transactions change nothing
  }

  @Test
  void missingKeyComparesAsZeroButNeverByValue() {
    assertThat(holds(cmp("nope", CompareTarget.VERSION, CompareResult.EQUAL))).isTrue();
    assertThat(holds(cmp("nope", CompareTarget.CREATE, CompareResult.EQUAL))).isTrue();
    assertThat(holds(cmp("nope", CompareTarget.MOD, CompareResult.EQUAL))).isTrue();
    assertThat(holds(cmp("nope", CompareTarget.LEASE, CompareResult.EQUAL))).isTrue();
    assertThat(holds(cmp("nope", CompareTarget.VALUE, CompareResult.EQUAL))).isFalse();
    assertThat(holds(cmp("nope", CompareTarget.VALUE, CompareResult.NOT_EQUAL))).isFalse();
  }

  @Test
  void compareOverARangeMustHoldForEveryKey() {
    kv.put("p/a", "1");
    kv.put("p/b", "1");
    kv.put("p/c", "2");
    Compare all =
        cmp("p/", CompareTarget.VALUE, CompareResult.EQUAL).toBuilder()
            .setValue(bs("1"))
            .setRangeEnd(bs("p0"))
            .build();
    assertThat(holds(all)).isFalse();
    assertThat(holds(all.toBuilder().setRangeEnd(bs("p/c")).build())).isTrue();
    Compare versions =
        cmp("p/", CompareTarget.VERSION, CompareResult.GREATER).toBuilder()
            .setVersion(0)
            .setRangeEnd(bs("\0"))
            .build();
    assertThat(holds(versions)).isTrue();
  }

  @Test
  void branchesRunInOneRevisionWithAlignedResponses() throws Exception {
    kv.put("a", "1"); // 2
    TxnRequest t =
        TxnRequest.newBuilder()
            .addCompare(
                cmp("a", CompareTarget.VERSION, CompareResult.EQUAL).toBuilder().setVersion(1))
            .addSuccess(opPut("b", "2"))
            .addSuccess(opRange("a", "\0"))
            .addSuccess(opDelete("a", ""))
            .addFailure(opPut("f", "x"))
            .build();
    TxnResponse r = kv.ok(txnReq(t));
    assertThat(r.getSucceeded()).isTrue();
    assertThat(r.getHeader().getRevision()).isEqualTo(3);
    assertThat(r.getResponsesList())
        .extracting(ResponseOp::getResponseCase)
        .containsExactly(
            ResponseOp.ResponseCase.RESPONSE_PUT,
            ResponseOp.ResponseCase.RESPONSE_RANGE,
            ResponseOp.ResponseCase.RESPONSE_DELETE_RANGE);
    // The range sees the transaction's own put.
    assertThat(keys(r.getResponses(1).getResponseRange())).containsExactly("a", "b");
    assertThat(r.getResponses(2).getResponseDeleteRange().getDeleted()).isEqualTo(1);
    assertThat(kv.sm.revision()).isEqualTo(3);
    assertThat(kv.get("b").getModRevision()).isEqualTo(3);
    assertThat(kv.get("a")).isNull();
    assertThat(kv.get("f")).isNull();

    TxnResponse again = kv.ok(txnReq(t)); // the compare now fails
    assertThat(again.getSucceeded()).isFalse();
    assertThat(again.getResponsesCount()).isEqualTo(1);
    assertThat(kv.get("f").getModRevision()).isEqualTo(4);
  }

  @Test
  void readOnlyTransactionsAndNoOpDeletesDoNotBump() {
    kv.put("a", "1");
    TxnResponse r =
        kv.ok(
            txnReq(
                TxnRequest.newBuilder()
                    .addSuccess(opRange("a", ""))
                    .addSuccess(opDelete("zz", ""))
                    .build()));
    assertThat(r.getHeader().getRevision()).isEqualTo(2);
    assertThat(kv.sm.revision()).isEqualTo(2);
  }

  @Test
  void nestedTransactionsChooseTheirOwnBranchesOnTheStateBefore() throws Exception {
    kv.put("x", "1"); // 2
    TxnRequest inner =
        TxnRequest.newBuilder()
            .addCompare(cmp("y", CompareTarget.VERSION, CompareResult.EQUAL)) // y absent
            .addSuccess(opPut("inner-ok", "1"))
            .addFailure(opPut("inner-fail", "1"))
            .build();
    TxnRequest outer =
        TxnRequest.newBuilder()
            .addCompare(
                cmp("x", CompareTarget.VALUE, CompareResult.EQUAL).toBuilder().setValue(bs("1")))
            .addSuccess(opPut("y", "1"))
            .addSuccess(opTxn(inner))
            .build();
    TxnResponse r = kv.ok(txnReq(outer));
    assertThat(r.getSucceeded()).isTrue();
    TxnResponse nested = r.getResponses(1).getResponseTxn();
    assertThat(nested.getSucceeded()).isTrue(); // decided before the outer put of y
    assertThat(nested.getResponses(0).hasResponsePut()).isTrue();
    assertThat(nested.getHeader().getRevision()).isEqualTo(3);
    assertThat(kv.get("inner-ok").getModRevision()).isEqualTo(3);
    assertThat(kv.get("y").getModRevision()).isEqualTo(3);
    assertThat(kv.get("inner-fail")).isNull();
    assertThat(kv.sm.revision()).isEqualTo(3);
  }

  @Test
  void duplicateKeysAreRefused() {
    kv.put("a", "0");
    List<TxnRequest> bad =
        List.of(
            TxnRequest.newBuilder().addSuccess(opPut("k", "1")).addSuccess(opPut("k", "2")).build(),
            TxnRequest.newBuilder()
                .addFailure(opDelete("j", "l"))
                .addFailure(opPut("k", "1"))
                .build(),
            TxnRequest.newBuilder()
                .addSuccess(opPut("k", "1"))
                .addSuccess(opTxn(TxnRequest.newBuilder().addSuccess(opPut("k", "2")).build()))
                .build(),
            TxnRequest.newBuilder()
                .addSuccess(opDelete("a", "\0"))
                .addSuccess(opTxn(TxnRequest.newBuilder().addFailure(opPut("z", "2")).build()))
                .build());
    for (TxnRequest t : bad) {
      KvException e = kv.refused(txnReq(t));
      assertThat(e.getMessage()).isEqualTo("etcdserver: duplicate key given in txn request");
      assertThat(e.code()).isEqualTo(KvException.Code.INVALID_ARGUMENT);
    }
    assertThat(kv.sm.revision()).isEqualTo(2);

    // Allowed: the same key in both branches, in both branches of one nested txn, overlapping
    // deletes.
    TxnRequest fine =
        TxnRequest.newBuilder()
            .addSuccess(opPut("k", "1"))
            .addFailure(opPut("k", "2"))
            .addSuccess(
                opTxn(
                    TxnRequest.newBuilder()
                        .addSuccess(opPut("n", "1"))
                        .addFailure(opPut("n", "2"))
                        .build()))
            .addSuccess(opDelete("a", "c"))
            .addSuccess(opDelete("a", ""))
            .build();
    TxnResponse r = kv.ok(txnReq(fine));
    assertThat(r.getResponses(2).getResponseDeleteRange().getDeleted()).isEqualTo(1);
    assertThat(r.getResponses(3).getResponseDeleteRange().getDeleted()).isZero();
  }

  @Test
  void tooManyOpsIsRefusedWhole() throws Exception {
    TxnRequest.Builder wide = TxnRequest.newBuilder();
    for (int i = 0; i < 5; i++) {
      wide.addSuccess(opPut("k" + i, "v"));
    }
    KvException e = kv.refused(txnReq(wide.build()));
    assertThat(e.getMessage()).isEqualTo("etcdserver: too many operations in txn request");

    // Each list within the limit, but the chosen branches hold 6 ops in all.
    TxnRequest.Builder nest = TxnRequest.newBuilder();
    for (int i = 0; i < 3; i++) {
      nest.addSuccess(opPut("n" + i, "v"));
    }
    TxnRequest deep =
        TxnRequest.newBuilder()
            .addSuccess(opTxn(nest.build()))
            .addSuccess(
                opTxn(
                    TxnRequest.newBuilder()
                        .addSuccess(opPut("m0", "v"))
                        .addSuccess(opPut("m1", "v"))
                        .addSuccess(opPut("m2", "v"))
                        .build()))
            .build();
    assertThat(kv.refused(txnReq(deep)).getMessage())
        .isEqualTo("etcdserver: too many operations in txn request");
    assertThat(kv.sm.revision()).isEqualTo(1);
    assertThat(kv.range("\0", "\0").getCount()).isZero();
  }

  @Test
  void aFailingOpLeavesNothingOfTheTransaction() throws Exception {
    kv.put("a", "1"); // 2
    TxnRequest t =
        TxnRequest.newBuilder()
            .addSuccess(opPut("b", "1"))
            .addSuccess(opDelete("a", ""))
            .addSuccess(
                RequestOp.newBuilder()
                    .setRequestPut(PutRequest.newBuilder().setKey(bs("c")).setLease(404)))
            .build();
    KvException e = kv.refused(txnReq(t));
    assertThat(e.getMessage()).isEqualTo("etcdserver: requested lease not found");
    assertThat(kv.sm.revision()).isEqualTo(2);
    assertThat(kv.get("b")).isNull();
    assertThat(kv.get("a").getValue()).isEqualTo(bs("1"));
    assertThat(kv.sm.watchHub().revision()).isEqualTo(2);

    TxnRequest futureRead =
        TxnRequest.newBuilder()
            .addSuccess(opPut("b", "1"))
            .addSuccess(
                RequestOp.newBuilder()
                    .setRequestRange(
                        io.tern.api.RangeRequest.newBuilder().setKey(bs("a")).setRevision(3)))
            .build();
    assertThat(kv.refused(txnReq(futureRead)).getMessage())
        .isEqualTo("mvcc: required revision is a future revision");
    assertThat(kv.get("b")).isNull();
  }
}
