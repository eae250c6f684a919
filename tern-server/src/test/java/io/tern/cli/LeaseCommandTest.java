package io.tern.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

@WithEtcdEndpoint
class LeaseCommandTest {
  private static final Pattern GRANTED =
      Pattern.compile("lease ([0-9a-f]{16}) granted with TTL\\((\\d+)s\\)\n");

  private final Cli cli;

  LeaseCommandTest(EtcdEndpoint etcd) {
    this.cli = new Cli(etcd);
  }

  private String grant(int ttl) {
    Cli.Result r = cli.run("lease", "grant", Integer.toString(ttl));
    Matcher m = GRANTED.matcher(r.out());
    assertThat(m.matches()).as(r.out() + r.err()).isTrue();
    assertThat(m.group(2)).isEqualTo(Integer.toString(ttl));
    return m.group(1);
  }

  @Test
  void grantAttachTimeToLiveKeepAliveRevoke() {
    String id = grant(60);
    assertThat(cli.run("put", "lease-a/k", "v", "--lease", id).out()).isEqualTo("OK\n");

    String ttl = cli.run("lease", "timetolive", id, "--keys").out();
    Matcher m =
        Pattern.compile(
                "lease "
                    + id
                    + " granted with TTL\\(60s\\), remaining\\((\\d+)s\\),"
                    + " attached keys\\(\\[lease-a/k\\]\\)\n")
            .matcher(ttl);
    assertThat(m.matches()).as(ttl).isTrue();
    assertThat(Integer.parseInt(m.group(1))).isBetween(1, 60);
    assertThat(cli.run("lease", "list").out()).startsWith("found ").contains("\n" + id + "\n");
    assertThat(cli.run("lease", "keep-alive", "--once", id).out())
        .isEqualTo("lease " + id + " keepalived with TTL(60)\n");

    assertThat(cli.run("lease", "revoke", id).out()).isEqualTo("lease " + id + " revoked\n");
    assertThat(cli.run("get", "lease-a/k").out()).isEmpty();
    assertThat(cli.run("lease", "timetolive", id).out())
        .isEqualTo("lease " + id + " already expired\n");

    Cli.Result again = cli.run("lease", "revoke", id);
    assertThat(again.err())
        .isEqualTo("Error: failed to revoke lease (etcdserver: requested lease not found)\n");
    assertThat(again.exitCode()).isEqualTo(1);
    Cli.Result once = cli.run("lease", "keep-alive", "--once", id);
    assertThat(once.err()).isEqualTo("Error: etcdserver: requested lease not found\n");
    assertThat(once.exitCode()).isEqualTo(1);
  }

  @Test
  void jsonOutputInlinesTheHeaderAsEtcdctlDoes() {
    JsonObject g =
        JsonParser.parseString(cli.run("lease", "grant", "30", "-w", "json").out())
            .getAsJsonObject();
    long id = g.get("ID").getAsLong();
    assertThat(g.get("TTL").getAsLong()).isEqualTo(30);
    assertThat(g.get("revision").getAsLong()).isPositive();
    assertThat(g.get("cluster_id").getAsBigInteger()).isPositive();
    String hex = Printer.leaseId(id);

    JsonObject ttl =
        JsonParser.parseString(cli.run("lease", "timetolive", hex, "-w", "json").out())
            .getAsJsonObject();
    assertThat(ttl.get("id").getAsLong()).isEqualTo(id);
    assertThat(ttl.get("granted-ttl").getAsLong()).isEqualTo(30);
    assertThat(ttl.get("keys").isJsonNull()).isTrue();

    JsonObject list =
        JsonParser.parseString(cli.run("lease", "list", "-w", "json").out()).getAsJsonObject();
    assertThat(list.getAsJsonArray("leases").toString()).contains("{\"id\":" + id + "}");
    cli.run("lease", "revoke", hex);
  }

  @Test
  void keepAliveRenewsUntilTheLeaseIsRevoked() throws Exception {
    String id = grant(3);
    RunningCommand keepAlive = new RunningCommand(cli, "lease", "keep-alive", id);
    keepAlive.awaitOutput(s -> s.contains("keepalived"));
    assertThat(cli.run("lease", "revoke", id).exitCode()).isZero();
    assertThat(keepAlive.awaitExit()).isZero();
    assertThat(keepAlive.out.toString())
        .matches(
            "(lease "
                + id
                + " keepalived with TTL\\(3\\)\n)+lease "
                + id
                + " expired or revoked.\n");
  }

  @Test
  void badLeaseIdsAreRefused() {
    Cli.Result r = cli.run("lease", "revoke", "xyz");
    assertThat(r.err()).isEqualTo("Error: bad lease ID arg (xyz), expecting ID in Hex\n");
    assertThat(r.exitCode()).isEqualTo(1);
  }
}
