package io.tern.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.tern.api.Compare;
import io.tern.api.RangeRequest;
import io.tern.api.RequestOp;
import org.junit.jupiter.api.Test;

class TxnParserTest {
  @Test
  void comparesOnEveryTarget() {
    Compare mod = TxnParser.parseCompare("mod(\"key1\") > \"0\"");
    assertThat(mod.getTarget()).isEqualTo(Compare.CompareTarget.MOD);
    assertThat(mod.getResult()).isEqualTo(Compare.CompareResult.GREATER);
    assertThat(mod.getKey().toStringUtf8()).isEqualTo("key1");
    assertThat(mod.getModRevision()).isZero();
    assertThat(mod.hasModRevision()).isTrue();

    Compare ver = TxnParser.parseCompare("ver(\"k\") != \"3\"");
    assertThat(ver.getTarget()).isEqualTo(Compare.CompareTarget.VERSION);
    assertThat(ver.getResult()).isEqualTo(Compare.CompareResult.NOT_EQUAL);
    assertThat(ver.getVersion()).isEqualTo(3);

    assertThat(TxnParser.parseCompare("c(\"k\") < \"9\"").getCreateRevision()).isEqualTo(9);
    assertThat(TxnParser.parseCompare("create(\"k\") = \"9\"").getResult())
        .isEqualTo(Compare.CompareResult.EQUAL);
    assertThat(TxnParser.parseCompare("lease(\"k\") = \"1f\"").getLease()).isEqualTo(0x1f);
    Compare val = TxnParser.parseCompare("val(\"a b\") = \"x\\ty \\\"q\\\" \\x41\"");
    assertThat(val.getKey().toStringUtf8()).isEqualTo("a b");
    assertThat(val.getValue().toStringUtf8()).isEqualTo("x\ty \"q\" A");
  }

  @Test
  void malformedComparesSayWhy() {
    assertThatThrownBy(() -> TxnParser.parseCompare("mod key > 0"))
        .hasMessage("malformed comparison: mod key > 0");
    assertThatThrownBy(() -> TxnParser.parseCompare("mod(\"k\") > 0"))
        .hasMessage("malformed comparison: mod(\"k\") > 0");
    assertThatThrownBy(() -> TxnParser.parseCompare("size(\"k\") > \"0\""))
        .hasMessage("malformed comparison: size(\"k\") > \"0\" (unknown target size)");
    assertThatThrownBy(() -> TxnParser.parseCompare("mod(\"k\") >= \"0\""))
        .hasMessage("malformed comparison: mod(\"k\") >= \"0\" (unknown operator >=)");
    assertThatThrownBy(() -> TxnParser.parseCompare("mod(\"k\") > \"x\""))
        .hasMessage("invalid txn compare request: mod(\"k\") > \"x\" (\"x\" is not a number)");
  }

  @Test
  void requestsTakeTheCommandsFlags() {
    RequestOp get = TxnParser.parseOp("get p --prefix --limit 2");
    RangeRequest r = get.getRequestRange();
    assertThat(r.getKey().toStringUtf8()).isEqualTo("p");
    assertThat(r.getRangeEnd().toStringUtf8()).isEqualTo("q");
    assertThat(r.getLimit()).isEqualTo(2);

    RequestOp put = TxnParser.parseOp("put k \"two words\" --prev-kv");
    assertThat(put.getRequestPut().getValue().toStringUtf8()).isEqualTo("two words");
    assertThat(put.getRequestPut().getPrevKv()).isTrue();

    RequestOp del = TxnParser.parseOp("del 'a key' --from-key");
    assertThat(del.getRequestDeleteRange().getKey().toStringUtf8()).isEqualTo("a key");
    assertThat(del.getRequestDeleteRange().getRangeEnd())
        .isEqualTo(ByteString.copyFrom(new byte[] {0}));

    assertThatThrownBy(() -> TxnParser.parseOp("get")).hasMessage("invalid txn request: get");
    assertThatThrownBy(() -> TxnParser.parseOp("get k --nope"))
        .hasMessage("invalid txn request: get k --nope");
  }

  @Test
  void argifySplitsOnBlanksAndKeepsQuotedText() {
    assertThat(TxnParser.argify("  put  k1 \"a \\\"b\\\"\"  'c d' e "))
        .containsExactly("put", "k1", "a \"b\"", "c d", "e");
  }
}
