package io.tern.kv;

import com.google.protobuf.ByteString;
import io.tern.api.Compare;
import io.tern.api.DeleteRangeRequest;
import io.tern.api.PutRequest;
import io.tern.api.RangeRequest;
import io.tern.api.RequestOp;
import io.tern.api.TxnRequest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks of a request that need no state (etcd makes them before proposing; apply makes them again
 * so a request is refused the same way whoever proposed it).
 */
final class RequestChecks {
  private RequestChecks() {}

  static void checkRange(RangeRequest r) throws KvException {
    if (r.getKey().isEmpty()) {
      throw KvException.keyNotProvided();
    }
  }

  static void checkPut(PutRequest r) throws KvException {
    if (r.getKey().isEmpty()) {
      throw KvException.keyNotProvided();
    }
    if (r.getIgnoreValue() && !r.getValue().isEmpty()) {
      throw KvException.valueProvided();
    }
    if (r.getIgnoreLease() && r.getLease() != 0) {
      throw KvException.leaseProvided();
    }
  }

  static void checkDelete(DeleteRangeRequest r) throws KvException {
    if (r.getKey().isEmpty()) {
      throw KvException.keyNotProvided();
    }
  }

  /**
   * etcd's transaction checks: at every level at most {@code maxOps} compares and ops per branch,
   * every op well formed, and no key written twice by one branch (a put of a key another put or a
   * delete of the same branch also covers, nested transactions included).
   */
  static void checkTxn(TxnRequest t, int maxOps) throws KvException {
    checkShape(t, maxOps);
    writes(t.getSuccessList());
    writes(t.getFailureList());
  }

  private static void checkShape(TxnRequest t, int maxOps) throws KvException {
    if (t.getCompareCount() > maxOps
        || t.getSuccessCount() > maxOps
        || t.getFailureCount() > maxOps) {
      throw KvException.tooManyOps();
    }
    for (Compare c : t.getCompareList()) {
      if (c.getKey().isEmpty()) {
        throw KvException.keyNotProvided();
      }
    }
    for (List<RequestOp> branch : List.of(t.getSuccessList(), t.getFailureList())) {
      for (RequestOp op : branch) {
        switch (op.getRequestCase()) {
          case REQUEST_RANGE -> checkRange(op.getRequestRange());
          case REQUEST_PUT -> checkPut(op.getRequestPut());
          case REQUEST_DELETE_RANGE -> checkDelete(op.getRequestDeleteRange());
          case REQUEST_TXN -> checkShape(op.getRequestTxn(), maxOps);
          case REQUEST_NOT_SET -> throw KvException.invalid("etcdserver: request op not set");
        }
      }
    }
  }

  private record Del(ByteString key, ByteString rangeEnd) {
    boolean covers(ByteString k) {
      return KeyRanges.contains(key, rangeEnd, k);
    }
  }

  private record Writes(Set<ByteString> puts, List<Del> dels) {}

  /**
   * The keys a list of ops may put and the ranges it may delete (both branches of nested
   * transactions, since either may run), refusing a key written twice. A key put by both branches
   * of one nested transaction is fine: only one runs.
   */
  private static Writes writes(List<RequestOp> ops) throws KvException {
    List<Del> dels = new ArrayList<>();
    for (RequestOp op : ops) {
      if (op.hasRequestDeleteRange()) {
        DeleteRangeRequest d = op.getRequestDeleteRange();
        dels.add(new Del(d.getKey(), d.getRangeEnd()));
      }
    }
    List<Writes> children = new ArrayList<>();
    Set<ByteString> puts = new HashSet<>();
    for (RequestOp op : ops) {
      if (!op.hasRequestTxn()) {
        continue;
      }
      Writes then = writes(op.getRequestTxn().getSuccessList());
      Writes otherwise = writes(op.getRequestTxn().getFailureList());
      Set<ByteString> childPuts = new HashSet<>(then.puts());
      for (ByteString k : otherwise.puts()) {
        childPuts.add(k);
      }
      for (ByteString k : childPuts) {
        if (puts.contains(k) || covered(dels, k)) {
          throw KvException.duplicateKey();
        }
      }
      puts.addAll(childPuts);
      List<Del> childDels = new ArrayList<>(then.dels());
      childDels.addAll(otherwise.dels());
      children.add(new Writes(childPuts, childDels));
    }
    // A nested transaction's puts must not fall in a sibling's deletes either.
    for (int i = 0; i < children.size(); i++) {
      for (int j = 0; j < children.size(); j++) {
        if (i == j) {
          continue;
        }
        for (ByteString k : children.get(i).puts()) {
          if (covered(children.get(j).dels(), k)) {
            throw KvException.duplicateKey();
          }
        }
      }
    }
    for (Writes child : children) {
      dels.addAll(child.dels());
    }
    for (RequestOp op : ops) {
      if (!op.hasRequestPut()) {
        continue;
      }
      ByteString k = op.getRequestPut().getKey();
      if (!puts.add(k) || covered(dels, k)) {
        throw KvException.duplicateKey();
      }
    }
    return new Writes(puts, dels);
  }

  private static boolean covered(List<Del> dels, ByteString k) {
    for (Del d : dels) {
      if (d.covers(k)) {
        return true;
      }
    }
    return false;
  }

  /** Whether any branch at any depth holds a put (refused while the store is out of space). */
  static boolean hasPut(TxnRequest t) {
    for (List<RequestOp> branch : List.of(t.getSuccessList(), t.getFailureList())) {
      for (RequestOp op : branch) {
        if (op.hasRequestPut() || (op.hasRequestTxn() && hasPut(op.getRequestTxn()))) {
          return true;
        }
      }
    }
    return false;
  }
}
