package io.tern.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.tern.api.Compare;
import io.tern.api.Event;
import io.tern.api.KeyValue;
import io.tern.api.Member;
import io.tern.api.RangeResponse;
import io.tern.api.ResponseHeader;
import io.tern.api.ResponseOp;
import io.tern.api.TxnResponse;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The output formats, checked against values etcdctl (Go) prints for the same input. */
class FormatsTest {
  @Test
  void jsonLeavesOutZeroFieldsAndPrints64BitNumbersUnquoted() {
    RangeResponse r =
        RangeResponse.newBuilder()
            .setHeader(
                ResponseHeader.newBuilder()
                    .setClusterId(-1L) // 2^64-1: uint64
                    .setMemberId(3319814642761637952L)
                    .setRevision(3)
                    .setRaftTerm(2))
            .addKvs(
                KeyValue.newBuilder()
                    .setKey(ByteString.copyFromUtf8("foo"))
                    .setCreateRevision(2)
                    .setModRevision(3)
                    .setVersion(2)
                    .setValue(ByteString.copyFromUtf8("baz")))
            .setCount(1)
            .build();
    assertThat(Json.of(r))
        .isEqualTo(
            "{\"header\":{\"cluster_id\":18446744073709551615,\"member_id\":3319814642761637952,"
                + "\"revision\":3,\"raft_term\":2},\"kvs\":[{\"key\":\"Zm9v\",\"create_revision\":2,"
                + "\"mod_revision\":3,\"version\":2,\"value\":\"YmF6\"}],\"count\":1}");
    assertThat(Json.of(RangeResponse.getDefaultInstance())).isEqualTo("{}");
  }

  @Test
  void jsonNamesOneofsTheWayGoDoes() {
    TxnResponse t =
        TxnResponse.newBuilder()
            .setSucceeded(true)
            .addResponses(
                ResponseOp.newBuilder().setResponseRange(RangeResponse.newBuilder().setCount(1)))
            .build();
    assertThat(Json.of(t))
        .isEqualTo(
            "{\"succeeded\":true,\"responses\":[{\"Response\":{\"ResponseRange\":{\"count\":1}}}]}");
    assertThat(Json.of(Compare.newBuilder().setTarget(Compare.CompareTarget.MOD).build()))
        .isEqualTo("{\"target\":2,\"TargetUnion\":null}");
    assertThat(Json.of(Event.newBuilder().setType(Event.EventType.DELETE).build()))
        .isEqualTo("{\"type\":1}");
  }

  @Test
  void jsonUsesProtoFieldNamesAndGoStringEscapes() {
    Member m =
        Member.newBuilder()
            .setID(1)
            .setName("a\"<b>&\n")
            .addPeerURLs("http://x")
            .setIsLearner(true)
            .build();
    assertThat(Json.of(m))
        .isEqualTo(
            "{\"ID\":1,\"name\":\"a\\\"\\u003cb\\u003e\\u0026\\n\",\"peerURLs\":[\"http://x\"],"
                + "\"isLearner\":true}");
  }

  @Test
  void goDurations() {
    assertThat(GoDuration.parse("2s")).isEqualTo(Duration.ofSeconds(2));
    assertThat(GoDuration.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(GoDuration.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(GoDuration.parse("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(GoDuration.parse("10")).isEqualTo(Duration.ofSeconds(10));
    assertThatThrownBy(() -> GoDuration.parse("2x")).isInstanceOf(IllegalArgumentException.class);
    assertThat(GoDuration.format(Duration.ofNanos(1_533_587))).isEqualTo("1.533587ms");
    assertThat(GoDuration.format(Duration.ofNanos(923_305))).isEqualTo("923.305µs");
    assertThat(GoDuration.format(Duration.ofNanos(999))).isEqualTo("999ns");
    assertThat(GoDuration.format(Duration.ofMillis(2500))).isEqualTo("2.5s");
    assertThat(GoDuration.format(Duration.ofSeconds(3723))).isEqualTo("1h2m3s");
  }

  @Test
  void humanizedBytesAndIds() {
    assertThat(Printer.humanBytes(9)).isEqualTo("9 B");
    assertThat(Printer.humanBytes(28672)).isEqualTo("29 kB");
    assertThat(Printer.humanBytes(20480)).isEqualTo("20 kB");
    assertThat(Printer.humanBytes(8192)).isEqualTo("8.2 kB");
    assertThat(Printer.humanBytes(12500)).isEqualTo("12 kB"); // Go rounds half to even
    assertThat(Printer.humanBytes(2_100_000)).isEqualTo("2.1 MB");
    assertThat(Printer.leaseId(0x2040a2342636b812L)).isEqualTo("2040a2342636b812");
    assertThat(Printer.leaseId(0x1234)).isEqualTo("0000000000001234");
    assertThat(Printer.memberId(0x81a65ad5d30d9ccL)).isEqualTo("81a65ad5d30d9cc");
    assertThat(Printer.paddedId(0x81a65ad5d30d9ccL)).isEqualTo(" 81a65ad5d30d9cc");
    assertThat(Printer.memberId(-1L)).isEqualTo("ffffffffffffffff");
  }

  @Test
  void simpleTxnOutputSeparatesResponsesByBlankLines() {
    StringWriter s = new StringWriter();
    new Printer(new PrintWriter(s), false)
        .txn(
            TxnResponse.newBuilder()
                .addResponses(
                    ResponseOp.newBuilder()
                        .setResponsePut(io.tern.api.PutResponse.getDefaultInstance()))
                .addResponses(
                    ResponseOp.newBuilder()
                        .setResponseDeleteRange(
                            io.tern.api.DeleteRangeResponse.newBuilder().setDeleted(2)))
                .build());
    assertThat(s.toString()).isEqualTo("FAILURE\n\nOK\n\n2\n");
  }

  @Test
  void prefixRangeEnds() {
    assertThat(Keys.prefixEnd(ByteString.copyFromUtf8("abc")).toStringUtf8()).isEqualTo("abd");
    assertThat(Keys.prefixEnd(ByteString.copyFrom(new byte[] {'a', (byte) 0xff})))
        .isEqualTo(ByteString.copyFromUtf8("b"));
    assertThat(Keys.prefixEnd(ByteString.copyFrom(new byte[] {(byte) 0xff})))
        .isEqualTo(Keys.FROM_KEY);
    Keys.Range all = Keys.range("", null, true, false);
    assertThat(all.key()).isEqualTo(Keys.FROM_KEY);
    assertThat(all.end()).isEqualTo(Keys.FROM_KEY);
    assertThat(Keys.range("k", null, false, true).end()).isEqualTo(Keys.FROM_KEY);
    assertThat(Keys.range("k", null, false, false).end()).isEqualTo(ByteString.EMPTY);
  }

  @Test
  void endpointsAcceptUrlsAndBareAddresses() {
    assertThat(Endpoint.parse("127.0.0.1:2379").authority()).isEqualTo("127.0.0.1:2379");
    assertThat(Endpoint.parse("http://10.0.0.1:22379/").authority()).isEqualTo("10.0.0.1:22379");
    assertThat(Endpoint.parse("http://10.0.0.1:22379").text()).isEqualTo("http://10.0.0.1:22379");
    assertThat(Endpoint.parse("[::1]:2379").authority()).isEqualTo("[::1]:2379");
    assertThat(Endpoint.parse("localhost").port()).isEqualTo(2379);
    assertThatThrownBy(() -> Endpoint.parse("https://x:1")).hasMessageContaining("TLS");
    assertThatThrownBy(() -> Endpoint.parse("x:99999")).hasMessageContaining("invalid port");
  }
}
