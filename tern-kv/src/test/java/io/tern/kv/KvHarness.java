package io.tern.kv;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.tern.api.Compare;
import io.tern.api.DeleteRangeRequest;
import io.tern.api.DeleteRangeResponse;
import io.tern.api.InternalRequest;
import io.tern.api.KeyValue;
import io.tern.api.LeaseGrantRequest;
import io.tern.api.PutRequest;
import io.tern.api.PutResponse;
import io.tern.api.RangeRequest;
import io.tern.api.RangeResponse;
import io.tern.api.RequestOp;
import io.tern.api.TxnRequest;
import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * One store fed with hand-built log entries, with shorthands for requests. Records every entry it
 * applies so a test can feed the same log to another store.
 */
final class KvHarness implements AutoCloseable {
  final Path dir;
  final KvOptions options;
  KvStateMachine sm;
  long nextIndex;
  final List<Entry> log = new ArrayList<>();

  KvHarness(Path dir) {
    this(dir, KvOptions.defaults());
  }

  KvHarness(Path dir, KvOptions options) {
    this.dir = dir;
    this.options = options;
    this.sm = KvStateMachine.open(dir, options);
    this.nextIndex = sm.appliedIndex() + 1;
  }

  static KvOptions withClock(LongSupplier clock) {
    return KvOptions.builder().nanoClock(clock).build();
  }

  /** Closes and reopens the store on the same directory. */
  void restart() {
    sm.close();
    sm = KvStateMachine.open(dir, options);
  }

  static ByteString bs(String s) {
    return ByteString.copyFromUtf8(s);
  }

  static Entry entry(long index, InternalRequest req) {
    return new Entry(1, index, EntryType.NORMAL, index, req.toByteArray());
  }

  /** Applies one request as the next log entry and returns its result. */
  Object apply(InternalRequest req) {
    Entry e = entry(nextIndex++, req);
    log.add(e);
    Object[] results = sm.apply(List.of(e));
    assertThat(results).hasSize(1);
    return results[0];
  }

  /** Applies a request that must succeed. */
  @SuppressWarnings("unchecked")
  <T> T ok(InternalRequest req) {
    Object r = apply(req);
    assertThat(r).as("result of %s", req).isNotInstanceOf(KvException.class);
    return (T) r;
  }

  /** Applies a request that must be refused, and returns the refusal. */
  KvException refused(InternalRequest req) {
    Object r = apply(req);
    assertThat(r).as("result of %s", req).isInstanceOf(KvException.class);
    return (KvException) r;
  }

  static InternalRequest putReq(PutRequest p) {
    return InternalRequest.newBuilder().setMemberId(1).setPut(p).build();
  }

  static InternalRequest putReq(String key, String value) {
    return putReq(PutRequest.newBuilder().setKey(bs(key)).setValue(bs(value)).build());
  }

  static InternalRequest putReq(String key, String value, long lease) {
    return putReq(
        PutRequest.newBuilder().setKey(bs(key)).setValue(bs(value)).setLease(lease).build());
  }

  static InternalRequest deleteReq(String key, String end, boolean prevKv) {
    return InternalRequest.newBuilder()
        .setDeleteRange(
            DeleteRangeRequest.newBuilder()
                .setKey(bs(key))
                .setRangeEnd(bs(end))
                .setPrevKv(prevKv)
                .build())
        .build();
  }

  static InternalRequest txnReq(TxnRequest t) {
    return InternalRequest.newBuilder().setTxn(t).build();
  }

  static InternalRequest grantReq(long id, long ttl) {
    return InternalRequest.newBuilder()
        .setLeaseGrant(LeaseGrantRequest.newBuilder().setID(id).setTTL(ttl))
        .build();
  }

  static InternalRequest revokeReq(long id) {
    return InternalRequest.newBuilder()
        .setLeaseRevoke(io.tern.api.LeaseRevokeRequest.newBuilder().setID(id))
        .build();
  }

  static InternalRequest compactReq(long rev) {
    return InternalRequest.newBuilder()
        .setCompaction(io.tern.api.CompactionRequest.newBuilder().setRevision(rev))
        .build();
  }

  PutResponse put(String key, String value) {
    return ok(putReq(key, value));
  }

  DeleteRangeResponse delete(String key, String end) {
    return ok(deleteReq(key, end, false));
  }

  RangeResponse range(RangeRequest r) throws KvException {
    return sm.range(r);
  }

  RangeResponse range(String key, String end) throws KvException {
    return sm.range(RangeRequest.newBuilder().setKey(bs(key)).setRangeEnd(bs(end)).build());
  }

  /** The key's current value, or null. */
  KeyValue get(String key) throws KvException {
    RangeResponse r = range(key, "");
    return r.getKvsCount() == 0 ? null : r.getKvs(0);
  }

  static List<String> keys(RangeResponse r) {
    return r.getKvsList().stream().map(kv -> kv.getKey().toStringUtf8()).toList();
  }

  static RequestOp opPut(String key, String value) {
    return RequestOp.newBuilder()
        .setRequestPut(PutRequest.newBuilder().setKey(bs(key)).setValue(bs(value)))
        .build();
  }

  static RequestOp opDelete(String key, String end) {
    return RequestOp.newBuilder()
        .setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(bs(key)).setRangeEnd(bs(end)))
        .build();
  }

  static RequestOp opRange(String key, String end) {
    return RequestOp.newBuilder()
        .setRequestRange(RangeRequest.newBuilder().setKey(bs(key)).setRangeEnd(bs(end)))
        .build();
  }

  static RequestOp opTxn(TxnRequest t) {
    return RequestOp.newBuilder().setRequestTxn(t).build();
  }

  static Compare cmp(String key, Compare.CompareTarget target, Compare.CompareResult result) {
    return Compare.newBuilder().setKey(bs(key)).setTarget(target).setResult(result).build();
  }

  @Override
  public void close() {
    sm.close();
  }
}
