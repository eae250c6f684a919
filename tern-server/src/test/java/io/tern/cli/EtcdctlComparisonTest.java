package io.tern.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs etcdctl (Debian's etcd-client) and tern against the same cluster (the one the tests run on:
 * Tern by default, so etcdctl talks to Tern too) and requires the same output, byte for byte, for
 * the commands whose output does not change between two calls.
 *
 * <p>etcdctl spreads its requests over all the endpoints it is given (round robin), so the member
 * that answers, whose id is in the response header, would differ between the two runs: commands
 * that send one request are given the first endpoint only. The endpoint reports address every
 * member and get all the endpoints.
 */
@WithEtcdEndpoint
class EtcdctlComparisonTest {
  private static final Path ETCDCTL = Path.of("/usr/bin/etcdctl");

  private final Cli cli;
  private final String endpoints;
  private final String first;

  EtcdctlComparisonTest(EtcdEndpoint cluster) {
    this.cli = new Cli(cluster);
    this.endpoints = cluster.endpoints();
    this.first = cluster.endpointList().get(0);
  }

  @BeforeEach
  void needsEtcdctl() {
    Assumptions.assumeTrue(
        Files.isExecutable(ETCDCTL), "etcdctl is not installed (apt-get install etcd-client)");
  }

  private static String etcdctl(String endpoints, String stdin, String... args)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(ETCDCTL.toString(), "--endpoints=" + endpoints));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("ETCDCTL_API", "3");
    Process p = pb.start();
    p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return out;
  }

  /** The same output from one request to the first endpoint. */
  private void same(String... args) throws Exception {
    sameWithInput("", args);
  }

  private void sameWithInput(String stdin, String... args) throws Exception {
    compare(first, stdin, args);
  }

  /** The same output from a report that addresses every endpoint. */
  private void sameOnAll(String... args) throws Exception {
    compare(endpoints, "", args);
  }

  private void compare(String endpoints, String stdin, String... args) throws Exception {
    String theirs = etcdctl(endpoints, stdin, args);
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--endpoints=" + endpoints);
    Cli.Result ours = Cli.runRaw(stdin, all.toArray(new String[0]));
    assertThat(withoutFieldsUnknownTo(theirs, ours.out()))
        .as("tern %s", String.join(" ", args))
        .isEqualTo(theirs);
  }

  /**
   * Response fields newer than the etcdctl installed here (3.4), which Tern's server sends and tern
   * prints: HashKVResponse.hash_revision, StatusResponse.dbSizeQuota. etcdctl drops fields its
   * protos lack, so JSON output is compared without them when etcdctl's output has none.
   */
  private static final List<String> NEWER_FIELDS = List.of("hash_revision", "dbSizeQuota");

  private static String withoutFieldsUnknownTo(String theirs, String ours) {
    for (String field : NEWER_FIELDS) {
      if (!theirs.contains("\"" + field + "\":")) {
        ours = ours.replaceAll(",\"" + field + "\":\\d+", "");
      }
    }
    return ours;
  }

  @Test
  void keyValueReadsMatch() throws Exception {
    cli.run("put", "cmp/a", "1");
    cli.run("put", "cmp/b", "two words");
    cli.run("put", "cmp/c", "<&>");
    same("get", "cmp/", "--prefix");
    same("get", "cmp/", "--prefix", "-w", "json");
    same("get", "cmp/a", "cmp/c", "--keys-only");
    same("get", "cmp/", "--prefix", "--order", "DESCEND", "--limit", "2", "-w", "json");
    same("get", "cmp/", "--prefix", "--print-value-only");
    same("get", "cmp/b", "--hex");
    same("del", "cmp/none");
  }

  @Test
  void readOnlyTxnMatches() throws Exception {
    cli.run("put", "cmp-txn/k", "v");
    String txn =
        "value(\"cmp-txn/k\") = \"v\"\n\nget cmp-txn/k\nget cmp-txn/ --prefix --keys-only\n\n\n";
    sameWithInput(txn, "txn");
    sameWithInput(txn, "txn", "-w", "json");
    sameWithInput("version(\"cmp-txn/k\") = \"5\"\n\n\nget cmp-txn/k\n\n", "txn", "-i");
  }

  @Test
  void clusterReportsMatch() throws Exception {
    same("member", "list");
    same("member", "list", "-w", "json");
    sameOnAll("member", "list");
    sameOnAll("endpoint", "hashkv");
    sameOnAll("endpoint", "hashkv", "-w", "json");
    sameOnAll("endpoint", "status");
    sameOnAll("endpoint", "status", "--cluster", "-w", "json");
    same("alarm", "list");
  }

  @Test
  void leaseReportsMatch() throws Exception {
    String id = cli.run("lease", "grant", "600").out().split(" ")[1];
    cli.run("put", "cmp-lease/k", "v", "--lease", id);
    same("lease", "list");
    same("lease", "list", "-w", "json");
    same("lease", "keep-alive", "--once", id);
    cli.run("lease", "revoke", id);
    same("lease", "timetolive", id);
    same("lease", "timetolive", id, "-w", "json");
  }
}
