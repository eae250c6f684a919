package io.tern.example.map;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The line protocol against a one-member cluster in this JVM. */
class MapServerTest {
  @TempDir Path dir;

  private MapServer server;

  @BeforeEach
  void start() throws Exception {
    int raft = ProcessCluster.freePort();
    server =
        MapServer.start(
            MapServerArgs.parse(
                "--id",
                "1",
                "--data-dir",
                dir.toString(),
                "--raft-port",
                Integer.toString(raft),
                "--client-port",
                "0",
                "--peers",
                "1=127.0.0.1:" + raft,
                "--tick-millis",
                "20"));
    ProcessCluster.await("leadership", () -> server.raft().isLeader() ? true : null);
  }

  @AfterEach
  void stop() {
    server.close();
    server.close();
  }

  @Test
  void servesTheLineProtocol() throws Exception {
    assertThat(server.handle("PUT k hello there")).isEqualTo("OK");
    assertThat(server.handle("get k")).isEqualTo("VALUE hello there");
    assertThat(server.handle("DELETE k")).isEqualTo("OK");
    assertThat(server.handle("GET k")).isEqualTo("NONE");
    assertThat(server.handle("STATUS"))
        .matches(
            "STATUS id=1 role=LEADER term=\\d+ leader=1 commit=\\d+ applied=\\d+ last=\\d+"
                + " snapshots-installed=0");
    assertThat(server.handle("DIGEST")).matches("DIGEST \\d+ [0-9a-f]{32}");
    assertThat(server.handle("SNAPSHOT")).matches("OK \\d+");
    assertThat(server.handle("PEER 2 127.0.0.1:1")).isEqualTo("OK");
    assertThat(server.raft().peerAddresses()).containsKey(2L);

    assertThat(server.handle("")).startsWith("ERR unknown command");
    assertThat(server.handle("PUT k")).isEqualTo("ERR usage: PUT key value");
    assertThat(server.handle("GET")).isEqualTo("ERR usage: GET key");
    assertThat(server.handle("ADD 2 127.0.0.1:1 observer"))
        .isEqualTo("ERR usage: ADD id host:port voter|learner");
    assertThat(server.handle("REMOVE two")).startsWith("ERR not a number");
    assertThat(server.handle("PROMOTE 9")).startsWith("ERR ProposalDroppedException");
    assertThat(server.handle("PEER 0 127.0.0.1:1")).startsWith("ERR IllegalArgumentException");
  }

  @Test
  void servesClientsOverTcp() throws Exception {
    MemberProcess self =
        new MemberProcess(
            1,
            server.raft().raftAddress().getPort(),
            server.clientAddress().getPort(),
            dir,
            dir.resolve("unused.log"),
            List.of());
    try (MemberProcess.Connection c = self.connect(java.time.Duration.ofSeconds(20))) {
      assertThat(c.call("PUT a 1")).isEqualTo("OK");
      assertThat(c.call("GET a")).isEqualTo("VALUE 1");
    }
  }
}
