package io.tern.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

@WithEtcdEndpoint
class KvCommandsTest {
  private final Cli cli;

  KvCommandsTest(EtcdEndpoint etcd) {
    this.cli = new Cli(etcd);
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static JsonObject json(Cli.Result r) {
    assertThat(r.exitCode()).as(r.err()).isZero();
    return JsonParser.parseString(r.out()).getAsJsonObject();
  }

  private long revision() {
    return json(cli.run("get", "any-key", "-w", "json"))
        .getAsJsonObject("header")
        .get("revision")
        .getAsLong();
  }

  private void expect(Cli.Result r, String out) {
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).isEqualTo(out);
    assertThat(r.exitCode()).isZero();
  }

  private void expectError(Cli.Result r, String message) {
    assertThat(r.err()).isEqualTo("Error: " + message + "\n");
    assertThat(r.exitCode()).isEqualTo(1);
  }

  @Test
  void putPrintsOkAndGetPrintsKeyThenValue() {
    expect(cli.run("put", "kv-basic", "hello world"), "OK\n");
    expect(cli.run("get", "kv-basic"), "kv-basic\nhello world\n");
    expect(cli.run("get", "kv-basic", "--print-value-only"), "hello world\n");
    expect(cli.run("get", "kv-basic-missing"), "");
  }

  @Test
  void putWithPrevKvPrintsTheReplacedPair() {
    cli.run("put", "kv-prev", "one");
    expect(cli.run("put", "kv-prev", "two", "--prev-kv"), "OK\nkv-prev\none\n");
  }

  @Test
  void putReadsTheValueFromStandardInputWhenNotGiven() {
    expect(cli.runWithInput("line one\nline two\n", "put", "kv-stdin"), "OK\n");
    expect(cli.run("get", "kv-stdin", "--print-value-only"), "line one\nline two\n\n");
  }

  @Test
  void putWithoutValueOrInputFails() {
    expectError(
        cli.run("put", "kv-novalue"),
        "put command needs 1 argument and input from stdin or 2 arguments");
  }

  @Test
  void valueStartingWithDashGoesAfterDoubleDash() {
    expect(cli.run("put", "kv-dash", "--", "-v"), "OK\n");
    expect(cli.run("get", "kv-dash"), "kv-dash\n-v\n");
  }

  @Test
  void putIgnoreValueKeepsTheValue() {
    cli.run("put", "kv-ignore", "kept");
    expect(cli.run("put", "kv-ignore", "--ignore-value"), "OK\n");
    expect(cli.run("get", "kv-ignore"), "kv-ignore\nkept\n");
    expectError(
        cli.run("put", "kv-ignore", "v", "--ignore-value"),
        "put command needs only 1 argument when 'ignore-value' is set");
  }

  @Test
  void getRangesPrefixesFromKeyLimitSortAndKeysOnly() {
    cli.run("put", "kv-range/a", "3");
    cli.run("put", "kv-range/b", "1");
    cli.run("put", "kv-range/c", "2");
    expect(
        cli.run("get", "kv-range/", "--prefix"), "kv-range/a\n3\nkv-range/b\n1\nkv-range/c\n2\n");
    expect(cli.run("get", "kv-range/a", "kv-range/c"), "kv-range/a\n3\nkv-range/b\n1\n");
    expect(
        cli.run("get", "kv-range/b", "--from-key", "--limit", "2"),
        "kv-range/b\n1\nkv-range/c\n2\n");
    expect(cli.run("get", "kv-range/", "--prefix", "--limit", "1"), "kv-range/a\n3\n");
    expect(
        cli.run("get", "kv-range/", "--prefix", "--order", "DESCEND"),
        "kv-range/c\n2\nkv-range/b\n1\nkv-range/a\n3\n");
    expect(
        cli.run("get", "kv-range/", "--prefix", "--sort-by", "VALUE"),
        "kv-range/b\n1\nkv-range/c\n2\nkv-range/a\n3\n");
    expect(
        cli.run("get", "kv-range/", "--prefix", "--keys-only"),
        "kv-range/a\n\nkv-range/b\n\nkv-range/c\n\n");
    expect(cli.run("get", "kv-range/", "--prefix", "--count-only"), "3\n");
    expect(
        cli.run("get", "kv-range/", "--prefix", "--consistency", "s", "--print-value-only"),
        "3\n1\n2\n");
  }

  @Test
  void getAtAnOlderRevisionSeesTheOlderValue() {
    cli.run("put", "kv-rev", "old");
    long rev = revision();
    cli.run("put", "kv-rev", "new");
    expect(cli.run("get", "kv-rev", "--rev", Long.toString(rev)), "kv-rev\nold\n");
    expect(cli.run("get", "kv-rev"), "kv-rev\nnew\n");
  }

  @Test
  void jsonOutputHasTheHeaderAndBase64KeysAndValues() {
    cli.run("put", "kv-json", "v<&>");
    JsonObject r = json(cli.run("get", "kv-json", "-w", "json"));
    JsonObject header = r.getAsJsonObject("header");
    assertThat(header.get("revision").getAsLong()).isPositive();
    assertThat(header.get("cluster_id").getAsBigInteger()).isPositive();
    assertThat(header.get("member_id").getAsBigInteger()).isPositive();
    assertThat(header.get("raft_term").getAsLong()).isPositive();
    JsonObject kv = r.getAsJsonArray("kvs").get(0).getAsJsonObject();
    assertThat(kv.get("key").getAsString()).isEqualTo(b64("kv-json"));
    assertThat(kv.get("value").getAsString()).isEqualTo(b64("v<&>"));
    assertThat(kv.get("mod_revision").getAsLong()).isEqualTo(header.get("revision").getAsLong());
    assertThat(r.get("count").getAsLong()).isEqualTo(1);

    JsonObject put = json(cli.run("put", "kv-json", "w", "-w", "json", "--prev-kv"));
    assertThat(put.getAsJsonObject("prev_kv").get("value").getAsString()).isEqualTo(b64("v<&>"));
  }

  @Test
  void delPrintsTheCountAndThePreviousPairs() {
    cli.run("put", "kv-del/1", "a");
    cli.run("put", "kv-del/2", "b");
    expect(cli.run("del", "kv-del/", "--prefix", "--prev-kv"), "2\nkv-del/1\na\nkv-del/2\nb\n");
    expect(cli.run("del", "kv-del/1"), "0\n");
    cli.run("put", "kv-del/3", "c");
    JsonObject r = json(cli.run("del", "kv-del/3", "-w", "json"));
    assertThat(r.get("deleted").getAsLong()).isEqualTo(1);
    assertThat(r.getAsJsonObject("header").get("revision").getAsLong()).isPositive();
  }

  @Test
  void hexPrintsEscapedBytes() {
    cli.run("put", "kv-hex", "ab");
    expect(cli.run("get", "kv-hex", "--hex"), "\\x6b\\x76\\x2d\\x68\\x65\\x78\n\\x61\\x62\n");
  }

  @Test
  void serverErrorsArePrintedWithExitCodeOne() {
    expectError(cli.run("put", "", "x"), "etcdserver: key is not provided");
    expectError(
        cli.run("get", "kv-err", "--rev", Long.toString(revision() + 1000)),
        "etcdserver: mvcc: required revision is a future revision");
  }

  @Test
  void theCommandTimeoutBoundsEachRequest() {
    expectError(cli.run("get", "kv-timeout", "--command-timeout=1ns"), "context deadline exceeded");
  }

  @Test
  void conflictingFlagsAreRefused() {
    expectError(
        cli.run("get", "k", "--prefix", "--from-key"),
        "`--prefix` and `--from-key` cannot be set at the same time, choose one");
    expectError(
        cli.run("get", "k", "z", "--prefix"),
        "too many arguments, only accept one argument when `--prefix` or `--from-key` is set");
    expectError(
        cli.run("get", "k", "--keys-only", "--count-only"),
        "`--keys-only` and `--count-only` cannot be set at the same time, choose one");
    expectError(
        cli.run("get", "k", "--print-value-only", "-w", "json"),
        "print-value-only is only for `--write-out=simple`");
    expectError(cli.run("get", "k", "--consistency", "x"), "unknown consistency flag \"x\"");
    expectError(cli.run("get", "k", "--sort-by", "SIZE"), "bad sort target SIZE");
    expectError(
        cli.run("put", "k", "v", "--lease", "xyz"), "bad lease ID arg (xyz), expecting ID in Hex");
  }

  @Test
  void unreachableEndpointsFailAndALiveOneLaterInTheListIsUsed() throws Exception {
    int dead;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      dead = s.getLocalPort();
    }
    Cli.Result r = Cli.runRaw("", "get", "k", "--endpoints=127.0.0.1:" + dead, "--dial-timeout=1s");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).startsWith("Error: ").contains("Connection refused");

    cli.run("put", "kv-failover", "v");
    String live = cli.withEndpoints()[0].substring("--endpoints=".length());
    Cli.Result ok =
        Cli.runRaw("", "get", "kv-failover", "--endpoints=127.0.0.1:" + dead + "," + live);
    expect(ok, "kv-failover\nv\n");
  }
}
