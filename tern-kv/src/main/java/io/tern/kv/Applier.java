package io.tern.kv;

import com.google.protobuf.ByteString;
import io.tern.api.AlarmMember;
import io.tern.api.AlarmRequest;
import io.tern.api.AlarmResponse;
import io.tern.api.AlarmType;
import io.tern.api.CompactionRequest;
import io.tern.api.CompactionResponse;
import io.tern.api.DeleteRangeRequest;
import io.tern.api.DeleteRangeResponse;
import io.tern.api.InternalRequest;
import io.tern.api.LeaseExpire;
import io.tern.api.LeaseGrantRequest;
import io.tern.api.LeaseGrantResponse;
import io.tern.api.LeaseKeepAliveRequest;
import io.tern.api.LeaseKeepAliveResponse;
import io.tern.api.LeaseRevokeRequest;
import io.tern.api.LeaseRevokeResponse;
import io.tern.api.MemberAttributes;
import io.tern.api.MemberPublish;
import io.tern.api.PutRequest;
import io.tern.api.PutResponse;
import io.tern.api.RequestOp;
import io.tern.api.ResponseHeader;
import io.tern.api.ResponseOp;
import io.tern.api.TxnRequest;
import io.tern.api.TxnResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Executes one {@link InternalRequest} into a {@link WriteTxn} with etcd's semantics. Every check
 * that can refuse the request runs before or while building the batch; a refusal is thrown and the
 * caller discards the batch, so nothing of a refused request is applied. Deterministic: reads only
 * the store and the replicated tables (the clock only in after-commit actions on lease clocks).
 */
final class Applier {
  /** etcd's largest lease TTL, seconds. */
  static final long MAX_LEASE_TTL = 9_000_000_000L;

  /** The replicated tables' in-memory mirrors, replaced after each commit that changes them. */
  static final class Tables {
    volatile List<AlarmMember> alarms = List.of();
    volatile List<MemberAttributes> members = List.of();
    final LeaseClocks leaseClocks = new LeaseClocks();
  }

  private final KvOptions options;
  private final Tables tables;
  private final Consumer<List<MemberAttributes>> membersChanged;

  Applier(KvOptions options, Tables tables, Consumer<List<MemberAttributes>> membersChanged) {
    this.options = options;
    this.tables = tables;
    this.membersChanged = membersChanged;
  }

  Object apply(InternalRequest req, WriteTxn w, long index) throws KvException {
    return switch (req.getRequestCase()) {
      case PUT -> put(req.getPut(), w);
      case DELETE_RANGE -> deleteRange(req.getDeleteRange(), w);
      case TXN -> txn(req.getTxn(), w);
      case COMPACTION -> compaction(req.getCompaction(), w);
      case LEASE_GRANT -> leaseGrant(req.getLeaseGrant(), w, index);
      case LEASE_REVOKE -> leaseRevoke(req.getLeaseRevoke(), w);
      case LEASE_KEEP_ALIVE -> leaseKeepAlive(req.getLeaseKeepAlive(), w, index);
      case LEASE_EXPIRE -> leaseExpire(req.getLeaseExpire(), w);
      case ALARM -> alarm(req.getAlarm(), w);
      case MEMBER_PUT -> memberPut(req.getMemberPut(), w);
      case MEMBER_REMOVE -> memberRemove(req.getMemberRemove().getId(), w);
      case MEMBER_PUBLISH -> memberPublish(req.getMemberPublish(), w);
      case REQUEST_NOT_SET -> throw KvException.invalid("etcdserver: empty request");
    };
  }

  private static ResponseHeader header(WriteTxn w) {
    return ResponseHeader.newBuilder().setRevision(w.revision()).build();
  }

  private boolean noSpace() {
    return Meta.isNoSpace(tables.alarms);
  }

  // ---- KV

  private PutResponse put(PutRequest p, WriteTxn w) throws KvException {
    RequestChecks.checkPut(p);
    if (noSpace()) {
      throw KvException.noSpace();
    }
    PutResponse.Builder resp = doPut(p, w);
    return resp.setHeader(header(w)).build();
  }

  private PutResponse.Builder doPut(PutRequest p, WriteTxn w) throws KvException {
    if (p.getLease() != 0 && w.view().leaseTtl(p.getLease()) < 0) {
      throw KvException.leaseNotFound();
    }
    MvccView.Version prev = w.current(p.getKey());
    ByteString value = p.getValue();
    long lease = p.getLease();
    if (p.getIgnoreValue() || p.getIgnoreLease()) {
      if (prev == null) {
        throw KvException.keyNotFound();
      }
      if (p.getIgnoreValue()) {
        value = prev.keyValue().getValue();
      }
      if (p.getIgnoreLease()) {
        lease = prev.lease();
      }
    }
    w.put(p.getKey(), value, lease, prev);
    PutResponse.Builder resp = PutResponse.newBuilder();
    if (p.getPrevKv() && prev != null) {
      resp.setPrevKv(prev.keyValue());
    }
    return resp;
  }

  private DeleteRangeResponse deleteRange(DeleteRangeRequest d, WriteTxn w) throws KvException {
    RequestChecks.checkDelete(d);
    return doDelete(d, w).setHeader(header(w)).build();
  }

  private DeleteRangeResponse.Builder doDelete(DeleteRangeRequest d, WriteTxn w) {
    List<MvccView.Version> doomed = w.view().live(d.getKey(), d.getRangeEnd());
    DeleteRangeResponse.Builder resp = DeleteRangeResponse.newBuilder().setDeleted(doomed.size());
    for (MvccView.Version v : doomed) {
      w.delete(v);
      if (d.getPrevKv()) {
        resp.addPrevKvs(v.keyValue());
      }
    }
    return resp;
  }

  // ---- Txn

  /** The branch each (nested) transaction takes, decided on the store as it was before it. */
  private record Path(boolean succeeded, List<Path> nested, int ops) {}

  private TxnResponse txn(TxnRequest t, WriteTxn w) throws KvException {
    RequestChecks.checkTxn(t, options.maxTxnOps());
    if (noSpace() && RequestChecks.hasPut(t)) {
      throw KvException.noSpace();
    }
    Path path = choose(t, w.view());
    if (path.ops() > options.maxTxnOps()) {
      throw KvException.tooManyOps();
    }
    TxnResponse.Builder resp = execute(t, path, w);
    return withRevision(resp, w.revision()).build();
  }

  private static Path choose(TxnRequest t, MvccView view) {
    boolean ok = true;
    for (var c : t.getCompareList()) {
      if (!view.compare(c)) {
        ok = false;
        break;
      }
    }
    List<RequestOp> branch = ok ? t.getSuccessList() : t.getFailureList();
    List<Path> nested = new ArrayList<>(branch.size());
    int ops = 0;
    for (RequestOp op : branch) {
      if (op.hasRequestTxn()) {
        Path p = choose(op.getRequestTxn(), view);
        nested.add(p);
        ops += p.ops();
      } else {
        nested.add(null);
        ops++;
      }
    }
    return new Path(ok, nested, ops);
  }

  private TxnResponse.Builder execute(TxnRequest t, Path path, WriteTxn w) throws KvException {
    List<RequestOp> branch = path.succeeded() ? t.getSuccessList() : t.getFailureList();
    TxnResponse.Builder resp = TxnResponse.newBuilder().setSucceeded(path.succeeded());
    for (int i = 0; i < branch.size(); i++) {
      RequestOp op = branch.get(i);
      ResponseOp.Builder r = ResponseOp.newBuilder();
      switch (op.getRequestCase()) {
        case REQUEST_RANGE ->
            r.setResponseRange(w.view().range(op.getRequestRange(), w.beginRevision()));
        case REQUEST_PUT -> r.setResponsePut(doPut(op.getRequestPut(), w));
        case REQUEST_DELETE_RANGE ->
            r.setResponseDeleteRange(doDelete(op.getRequestDeleteRange(), w));
        case REQUEST_TXN -> r.setResponseTxn(execute(op.getRequestTxn(), path.nested().get(i), w));
        case REQUEST_NOT_SET -> throw KvException.invalid("etcdserver: request op not set");
      }
      resp.addResponses(r);
    }
    return resp;
  }

  /** Every header of a transaction's response names the revision the transaction produced. */
  private static TxnResponse.Builder withRevision(TxnResponse.Builder resp, long revision) {
    ResponseHeader h = ResponseHeader.newBuilder().setRevision(revision).build();
    resp.setHeader(h);
    for (ResponseOp.Builder r : resp.getResponsesBuilderList()) {
      switch (r.getResponseCase()) {
        case RESPONSE_RANGE -> r.getResponseRangeBuilder().setHeader(h);
        case RESPONSE_PUT -> r.getResponsePutBuilder().setHeader(h);
        case RESPONSE_DELETE_RANGE -> r.getResponseDeleteRangeBuilder().setHeader(h);
        case RESPONSE_TXN -> withRevision(r.getResponseTxnBuilder(), revision);
        case RESPONSE_NOT_SET -> {}
      }
    }
    return resp;
  }

  // ---- compaction

  private CompactionResponse compaction(CompactionRequest c, WriteTxn w) throws KvException {
    if (c.getRevision() <= w.compactRevision()) {
      throw KvException.compacted();
    }
    if (c.getRevision() > w.beginRevision()) {
      throw KvException.futureRevision();
    }
    w.compact(c.getRevision());
    return CompactionResponse.newBuilder().setHeader(header(w)).build();
  }

  // ---- leases

  private static byte[] leaseRecord(long ttl, long renewedIndex) {
    byte[] v = new byte[16];
    Codec.putLong(v, 0, ttl);
    Codec.putLong(v, 8, renewedIndex);
    return v;
  }

  private LeaseGrantResponse leaseGrant(LeaseGrantRequest g, WriteTxn w, long index)
      throws KvException {
    if (noSpace()) {
      throw KvException.noSpace();
    }
    long id = g.getID();
    if (id == 0) {
      throw KvException.leaseNotFound(); // the server picks an id before proposing
    }
    if (g.getTTL() > MAX_LEASE_TTL) {
      throw KvException.leaseTtlTooLarge();
    }
    if (w.view().leaseTtl(id) >= 0) {
      throw KvException.leaseExists();
    }
    long ttl = Math.max(1, g.getTTL());
    w.put(w.db().leases, Codec.longBytes(id), leaseRecord(ttl, index));
    w.afterCommit(() -> tables.leaseClocks.renew(id, ttl, options.nanoClock().getAsLong()));
    return LeaseGrantResponse.newBuilder().setHeader(header(w)).setID(id).setTTL(ttl).build();
  }

  /** The leader's expiry: a revoke unless the lease was renewed after what the leader saw. */
  private LeaseRevokeResponse leaseExpire(LeaseExpire e, WriteTxn w) throws KvException {
    long renewed = w.view().leaseRenewedIndex(e.getId());
    if (renewed < 0) {
      throw KvException.leaseNotFound();
    }
    if (renewed != e.getRenewedIndex()) {
      throw new KvException(
          KvException.Code.FAILED_PRECONDITION,
          "etcdserver: lease was renewed after it was seen to expire");
    }
    return leaseRevoke(LeaseRevokeRequest.newBuilder().setID(e.getId()).build(), w);
  }

  private LeaseRevokeResponse leaseRevoke(LeaseRevokeRequest r, WriteTxn w) throws KvException {
    long id = r.getID();
    MvccView view = w.view();
    if (view.leaseTtl(id) < 0) {
      throw KvException.leaseNotFound();
    }
    for (ByteString key : view.leaseKeys(id)) {
      MvccView.Version v = w.current(key);
      if (v == null || v.lease() != id) {
        throw new IllegalStateException("lease " + id + " lists key " + key + " it does not hold");
      }
      w.delete(v);
    }
    w.delete(w.db().leases, Codec.longBytes(id));
    w.afterCommit(() -> tables.leaseClocks.remove(id));
    return LeaseRevokeResponse.newBuilder().setHeader(header(w)).build();
  }

  private LeaseKeepAliveResponse leaseKeepAlive(LeaseKeepAliveRequest k, WriteTxn w, long index)
      throws KvException {
    long id = k.getID();
    long ttl = w.view().leaseTtl(id);
    if (ttl < 0) {
      throw KvException.leaseNotFound();
    }
    w.put(w.db().leases, Codec.longBytes(id), leaseRecord(ttl, index));
    w.afterCommit(() -> tables.leaseClocks.renew(id, ttl, options.nanoClock().getAsLong()));
    return LeaseKeepAliveResponse.newBuilder().setHeader(header(w)).setID(id).setTTL(ttl).build();
  }

  // ---- alarms and members

  private AlarmResponse alarm(AlarmRequest a, WriteTxn w) {
    AlarmResponse.Builder resp = AlarmResponse.newBuilder();
    List<AlarmMember> current = tables.alarms;
    AlarmMember m =
        AlarmMember.newBuilder().setMemberID(a.getMemberID()).setAlarm(a.getAlarm()).build();
    switch (a.getAction()) {
      case GET -> {
        for (AlarmMember x : current) {
          if (a.getAlarm() == AlarmType.NONE || x.getAlarm() == a.getAlarm()) {
            resp.addAlarms(x);
          }
        }
      }
      case ACTIVATE -> {
        if (a.getAlarm() == AlarmType.NONE || a.getAlarm() == AlarmType.UNRECOGNIZED) {
          break;
        }
        if (!current.contains(m)) {
          List<AlarmMember> next = new ArrayList<>(current);
          next.add(m);
          next.sort(Meta.ALARM_ORDER);
          w.put(w.db().meta, Meta.alarmKey(m), new byte[0]);
          w.afterCommit(() -> tables.alarms = List.copyOf(next));
        }
        resp.addAlarms(m);
      }
      case DEACTIVATE -> {
        if (current.contains(m)) {
          List<AlarmMember> next = new ArrayList<>(current);
          next.remove(m);
          w.delete(w.db().meta, Meta.alarmKey(m));
          w.afterCommit(() -> tables.alarms = List.copyOf(next));
          resp.addAlarms(m);
        }
      }
      case UNRECOGNIZED -> {}
    }
    return resp.setHeader(header(w)).build();
  }

  private MemberAttributes memberPut(MemberAttributes m, WriteTxn w) throws KvException {
    if (m.getId() == 0) {
      throw KvException.invalid("etcdserver: member id is 0");
    }
    List<MemberAttributes> next = new ArrayList<>(tables.members);
    next.removeIf(x -> x.getId() == m.getId());
    next.add(m);
    next.sort(Meta.MEMBER_ORDER);
    w.put(w.db().meta, Meta.memberKey(m.getId()), m.toByteArray());
    setMembers(w, List.copyOf(next));
    return m;
  }

  /** Sets an existing member's name and client URLs; FALSE (no change) if it is not a member. */
  private Boolean memberPublish(MemberPublish p, WriteTxn w) throws KvException {
    for (MemberAttributes current : tables.members) {
      if (current.getId() == p.getId()) {
        MemberAttributes next =
            current.toBuilder()
                .setName(p.getName())
                .clearClientUrls()
                .addAllClientUrls(p.getClientUrlsList())
                .build();
        if (!next.equals(current)) {
          memberPut(next, w);
        }
        return Boolean.TRUE;
      }
    }
    return Boolean.FALSE;
  }

  private Boolean memberRemove(long id, WriteTxn w) {
    List<MemberAttributes> next = new ArrayList<>(tables.members);
    if (!next.removeIf(x -> x.getId() == id)) {
      return Boolean.FALSE;
    }
    w.delete(w.db().meta, Meta.memberKey(id));
    setMembers(w, List.copyOf(next));
    return Boolean.TRUE;
  }

  private void setMembers(WriteTxn w, List<MemberAttributes> next) {
    w.afterCommit(
        () -> {
          tables.members = next;
          membersChanged.accept(next);
        });
  }
}
