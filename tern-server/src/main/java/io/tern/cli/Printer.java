package io.tern.cli;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageOrBuilder;
import io.tern.api.DeleteRangeResponse;
import io.tern.api.KeyValue;
import io.tern.api.PutResponse;
import io.tern.api.RangeResponse;
import io.tern.api.ResponseOp;
import io.tern.api.TxnResponse;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;

/** etcdctl's "simple" output of key-value results, and the shared number formats. */
final class Printer {
  private final PrintWriter out;
  private final boolean hex;

  Printer(PrintWriter out, boolean hex) {
    this.out = out;
    this.hex = hex;
  }

  /** One line; always "\n", as etcdctl prints on every platform. */
  void line(String s) {
    out.print(s);
    out.print('\n');
  }

  void json(MessageOrBuilder message) {
    line(Json.of(message));
  }

  /** The key on one line and the value on the next (only the value if {@code valueOnly}). */
  void kv(KeyValue kv, boolean valueOnly) {
    if (!valueOnly) {
      line(bytes(kv.getKey()));
    }
    line(bytes(kv.getValue()));
  }

  void get(RangeResponse r, boolean valueOnly) {
    for (KeyValue kv : r.getKvsList()) {
      kv(kv, valueOnly);
    }
  }

  void put(PutResponse r) {
    line("OK");
    if (r.hasPrevKv()) {
      kv(r.getPrevKv(), false);
    }
  }

  void del(DeleteRangeResponse r) {
    line(Long.toString(r.getDeleted()));
    for (KeyValue kv : r.getPrevKvsList()) {
      kv(kv, false);
    }
  }

  void txn(TxnResponse r) {
    line(r.getSucceeded() ? "SUCCESS" : "FAILURE");
    for (ResponseOp op : r.getResponsesList()) {
      line("");
      switch (op.getResponseCase()) {
        case RESPONSE_RANGE -> get(op.getResponseRange(), false);
        case RESPONSE_PUT -> put(op.getResponsePut());
        case RESPONSE_DELETE_RANGE -> del(op.getResponseDeleteRange());
        case RESPONSE_TXN -> txn(op.getResponseTxn());
        case RESPONSE_NOT_SET -> line("unexpected response " + op);
      }
    }
  }

  /** Bytes as text, or as "\x66\x6f\x6f" with --hex. */
  String bytes(ByteString b) {
    if (!hex) {
      return b.toStringUtf8();
    }
    StringBuilder s = new StringBuilder(b.size() * 4);
    for (int i = 0; i < b.size(); i++) {
      s.append(String.format(Locale.ROOT, "\\x%02x", b.byteAt(i) & 0xff));
    }
    return s.toString();
  }

  /** A lease id as etcdctl prints it: 16 hex digits, zero-padded. */
  static String leaseId(long id) {
    return String.format(Locale.ROOT, "%016x", id);
  }

  /** A member or cluster id as etcdctl prints it in lists: hex without padding. */
  static String memberId(long id) {
    return Long.toHexString(id);
  }

  /** A member or cluster id in etcdctl's member messages: hex padded with spaces to 16. */
  static String paddedId(long id) {
    return String.format(Locale.ROOT, "%16x", id);
  }

  /** Byte counts like go-humanize's Bytes, which etcdctl uses: "29 kB", "2.1 MB", "9 B". */
  static String humanBytes(long n) {
    if (n < 10) {
      return n + " B";
    }
    String[] units = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    int e = (int) Math.floor(Math.log(n) / Math.log(1000));
    double val = Math.floor(n / Math.pow(1000, e) * 10 + 0.5) / 10;
    // Go rounds the exact binary value half to even.
    BigDecimal shown = new BigDecimal(val).setScale(val < 10 ? 1 : 0, RoundingMode.HALF_EVEN);
    return shown.toPlainString() + " " + units[e];
  }
}
