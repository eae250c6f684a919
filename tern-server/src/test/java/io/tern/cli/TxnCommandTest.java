package io.tern.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

@WithEtcdEndpoint
class TxnCommandTest {
  private final Cli cli;

  TxnCommandTest(EtcdEndpoint etcd) {
    this.cli = new Cli(etcd);
  }

  @Test
  void successBranchRunsWhenEveryCompareHolds() {
    cli.run("put", "txn-a/key", "v1");
    Cli.Result r =
        cli.runWithInput(
            """
            value("txn-a/key") = "v1"
            mod("txn-a/key") > "0"

            put txn-a/key "over written"
            get txn-a/key
            del txn-a/none

            put txn-a/key unused
            """,
            "txn");
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).isEqualTo("SUCCESS\n\nOK\n\ntxn-a/key\nover written\n\n0\n");
    assertThat(r.exitCode()).isZero();
  }

  @Test
  void failureBranchRunsOtherwiseAndEndOfInputEndsTheSections() {
    cli.run("put", "txn-b/1", "x");
    cli.run("put", "txn-b/2", "y");
    Cli.Result r =
        cli.runWithInput(
            """
            version("txn-b/1") = "7"

            put txn-b/1 unused

            get txn-b/ --prefix
            del txn-b/1 --prev-kv""",
            "txn");
    assertThat(r.out()).isEqualTo("FAILURE\n\ntxn-b/1\nx\ntxn-b/2\ny\n\n1\ntxn-b/1\nx\n");
    assertThat(r.exitCode()).isZero();
  }

  @Test
  void interactiveModePromptsForEachSection() {
    Cli.Result r =
        cli.runWithInput(
            """
            create("txn-c/new") = "0"

            put txn-c/new 'single quoted value'

            """,
            "txn",
            "-i");
    assertThat(r.out())
        .isEqualTo(
            "compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\n"
                + "SUCCESS\n\nOK\n");
    assertThat(cli.run("get", "txn-c/new", "--print-value-only").out())
        .isEqualTo("single quoted value\n");
  }

  @Test
  void jsonOutputNamesTheResponseKinds() {
    Cli.Result r = cli.runWithInput("\nput txn-d/k v\nget txn-d/k\n\n", "txn", "-w", "json");
    JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
    assertThat(o.get("succeeded").getAsBoolean()).isTrue();
    assertThat(o.getAsJsonObject("header").get("revision").getAsLong()).isPositive();
    var responses = o.getAsJsonArray("responses");
    assertThat(responses.get(0).getAsJsonObject().getAsJsonObject("Response").has("ResponsePut"))
        .isTrue();
    assertThat(
            responses
                .get(1)
                .getAsJsonObject()
                .getAsJsonObject("Response")
                .getAsJsonObject("ResponseRange")
                .get("count")
                .getAsLong())
        .isEqualTo(1);
  }

  @Test
  void malformedInputIsReported() {
    Cli.Result bad = cli.runWithInput("bogus(\"k\") > \"0\"\n\n\n", "txn");
    assertThat(bad.err())
        .isEqualTo("Error: malformed comparison: bogus(\"k\") > \"0\" (unknown target bogus)\n");
    assertThat(bad.exitCode()).isEqualTo(1);

    Cli.Result badOp = cli.runWithInput("\nfrobnicate k\n\n", "txn");
    assertThat(badOp.err()).isEqualTo("Error: invalid txn request: frobnicate k\n");

    Cli.Result noValue = cli.runWithInput("\nput k\n\n", "txn");
    assertThat(noValue.err())
        .isEqualTo("Error: put command needs 1 argument and input from stdin or 2 arguments\n");
  }

  @Test
  void duplicateKeysAreRefusedByTheServer() {
    Cli.Result r = cli.runWithInput("\nput txn-e/k 1\nput txn-e/k 2\n\n", "txn");
    assertThat(r.err()).isEqualTo("Error: etcdserver: duplicate key given in txn request\n");
    assertThat(r.exitCode()).isEqualTo(1);
  }
}
