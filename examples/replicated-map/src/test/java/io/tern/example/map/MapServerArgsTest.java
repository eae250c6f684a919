package io.tern.example.map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MapServerArgsTest {
  private static final String PEERS = "1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003";

  @Test
  void parsesEveryFlag() {
    MapServerArgs a =
        MapServerArgs.parse(
            "--id",
            "2",
            "--data-dir",
            "d/2",
            "--raft-port",
            "7002",
            "--client-port",
            "9002",
            "--peers",
            PEERS,
            "--snapshot-entries",
            "50",
            "--tick-millis",
            "20");
    assertThat(a.id()).isEqualTo(2);
    assertThat(a.dataDir()).isEqualTo(Path.of("d/2"));
    assertThat(a.raftPort()).isEqualTo(7002);
    assertThat(a.clientPort()).isEqualTo(9002);
    assertThat(a.peers())
        .containsOnlyKeys(1L, 2L, 3L)
        .containsEntry(3L, new InetSocketAddress("127.0.0.1", 7003));
    assertThat(a.join()).isFalse();
    assertThat(a.snapshotEntries()).isEqualTo(50);
    assertThat(a.snapshotTrailingEntries()).isEqualTo(25); // half, unless given
    assertThat(a.tickMillis()).isEqualTo(20);

    MapServerArgs b =
        MapServerArgs.parse(
            "--join",
            "--id",
            "4",
            "--data-dir",
            "d",
            "--raft-port",
            "0",
            "--client-port",
            "0",
            "--peers",
            "1=127.0.0.1:7001",
            "--snapshot-trailing-entries",
            "3");
    assertThat(b.join()).isTrue();
    assertThat(b.snapshotEntries()).isNull();
    assertThat(b.snapshotTrailingEntries()).isEqualTo(3);
    assertThat(b.tickMillis()).isNull();
  }

  @Test
  void rejectsBadArguments() {
    String[] base = {"--id", "1", "--data-dir", "d", "--raft-port", "1", "--client-port", "2"};
    assertThatThrownBy(() -> MapServerArgs.parse(base))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--peers is required");
    assertThatThrownBy(() -> MapServerArgs.parse("--id"))
        .hasMessageContaining("--id needs a value");
    assertThatThrownBy(() -> MapServerArgs.parse("--id", "0"))
        .hasMessageContaining("--id must be positive");
    assertThatThrownBy(() -> MapServerArgs.parse("--raft-port", "70000"))
        .hasMessageContaining("port number");
    assertThatThrownBy(() -> MapServerArgs.parse("--verbose", "x"))
        .hasMessageContaining("unknown argument --verbose");
    assertThatThrownBy(() -> MapServerArgs.parsePeers("1=127.0.0.1:1,1=127.0.0.1:2"))
        .hasMessageContaining("listed twice");
    assertThatThrownBy(() -> MapServerArgs.parsePeers("127.0.0.1:1"))
        .hasMessageContaining("expected id=host:port");
    assertThatThrownBy(() -> MapServerArgs.parsePeers("1=localhost"))
        .hasMessageContaining("expected host:port");
    assertThatThrownBy(() -> MapServerArgs.parsePeers("x=127.0.0.1:1"))
        .hasMessageContaining("not a number");
  }
}
