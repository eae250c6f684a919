package io.tern.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.tern.cli.Tern;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerCommandTest {
  @TempDir Path dir;

  @Test
  void invalidFlagsExitWithUsageStatusAndSayWhy() {
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      int status =
          Tern.commandLine()
              .execute(
                  "server",
                  "--data-dir",
                  dir.toString(),
                  "--listen-client-urls",
                  "https://127.0.0.1:2379");
      assertThat(status).isEqualTo(ServerCommand.EXIT_USAGE);
    } finally {
      System.setErr(err);
    }
    assertThat(captured.toString(StandardCharsets.UTF_8))
        .contains("--listen-client-urls")
        .contains("TLS");
  }

  @Test
  void flagsAndConfigFileMapToTheSameSettings() throws Exception {
    ServerCommand fromFlags = new ServerCommand();
    picocli.CommandLine cl = new picocli.CommandLine(fromFlags);
    cl.parseArgs(
        "--name",
        "a",
        "--listen-peer-urls",
        "http://127.0.0.1:7001",
        "--initial-cluster",
        "a=http://127.0.0.1:7001,b=http://127.0.0.1:7002",
        "--heartbeat-interval",
        "20",
        "--election-timeout",
        "200",
        "--max-txn-ops",
        "9",
        "--lease-read=false");
    ServerConfig flags = fromFlags.config();
    Path file = dir.resolve("c.yaml");
    Files.writeString(
        file,
        "name: a\nlisten-peer-urls: http://127.0.0.1:7001\n"
            + "initial-cluster: a=http://127.0.0.1:7001,b=http://127.0.0.1:7002\n"
            + "heartbeat-interval: 20\nelection-timeout: 200\nmax-txn-ops: 9\n"
            + "lease-read: false\n");
    ServerCommand fromFile = new ServerCommand();
    new picocli.CommandLine(fromFile).parseArgs("--config-file", file.toString());
    assertThat(fromFile.config().toString()).isEqualTo(flags.toString());
    assertThat(flags.initialCluster()).containsOnlyKeys("a", "b");
    assertThat(flags.electionTicks()).isEqualTo(10);
    assertThat(flags.maxTxnOps()).isEqualTo(9);
    assertThat(flags.leaseRead()).isFalse();
  }

  @Test
  void leaseReadIsOnByDefaultAndTheOldFlagStillWorks() throws Exception {
    String[] base = {
      "--name",
      "a",
      "--listen-peer-urls",
      "http://127.0.0.1:7001",
      "--initial-cluster",
      "a=http://127.0.0.1:7001"
    };
    assertThat(parse(base).leaseRead()).isTrue();
    assertThat(parse(concat(base, "--experimental-lease-read")).leaseRead()).isTrue();
    assertThat(parse(concat(base, "--experimental-lease-read=false")).leaseRead()).isFalse();
    assertThat(parse(concat(base, "--lease-read=false")).leaseRead()).isFalse();
    assertThat(parse(concat(base, "--lease-read")).leaseRead()).isTrue();
  }

  private static ServerConfig parse(String... args) throws Exception {
    ServerCommand c = new ServerCommand();
    new picocli.CommandLine(c).parseArgs(args);
    return c.config();
  }

  private static String[] concat(String[] a, String b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + 1);
    r[a.length] = b;
    return r;
  }
}
