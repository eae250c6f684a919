package io.tern.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {
  @TempDir Path dir;

  @Test
  void defaultsAreEtcds() {
    ServerConfig c = ServerConfig.builder().build();
    assertThat(c.name()).isEqualTo("default");
    assertThat(c.dataDir()).isEqualTo(Path.of("default.etcd"));
    assertThat(c.listenClientUrls()).containsExactly(new PeerUrl("localhost", 2379));
    assertThat(c.advertiseClientUrls()).containsExactly(new PeerUrl("localhost", 2379));
    assertThat(c.listenPeerUrl()).isEqualTo(new PeerUrl("localhost", 2380));
    assertThat(c.initialCluster()).containsOnlyKeys("default");
    assertThat(c.initialCluster().get("default")).containsExactly(new PeerUrl("localhost", 2380));
    assertThat(c.initialClusterState()).isEqualTo(ServerConfig.ClusterState.NEW);
    assertThat(c.initialClusterToken()).isEqualTo("etcd-cluster");
    assertThat(c.heartbeatMillis()).isEqualTo(100);
    assertThat(c.electionMillis()).isEqualTo(1000);
    assertThat(c.electionTicks()).isEqualTo(10);
    assertThat(c.maxRequestBytes()).isEqualTo(1_572_864);
    assertThat(c.maxTxnOps()).isEqualTo(128);
    assertThat(c.quotaBackendBytes()).isZero();
    assertThat(c.snapshotCount()).isEqualTo(100_000);
    assertThat(c.progressNotifyInterval()).isEqualTo(Duration.ofMinutes(10));
    assertThat(c.leaseRead()).as("lease reads by default").isTrue();
  }

  @Test
  void dataDirDefaultsToTheNameAndWildcardsAreAdvertisedAsLocalhost() {
    ServerConfig c =
        ServerConfig.builder()
            .name("n1")
            .listenClientUrls("http://0.0.0.0:3379")
            .listenPeerUrls("http://0.0.0.0:3380")
            .build();
    assertThat(c.dataDir()).isEqualTo(Path.of("n1.etcd"));
    assertThat(c.advertiseClientUrls()).containsExactly(new PeerUrl("localhost", 3379));
    assertThat(c.initialAdvertisePeerUrls()).containsExactly(new PeerUrl("localhost", 3380));
    assertThat(c.initialCluster().get("n1")).containsExactly(new PeerUrl("localhost", 3380));
  }

  @Test
  void invalidSettingsAreRefusedNamingTheFlag() {
    assertThatThrownBy(() -> ServerConfig.builder().listenClientUrls("https://a:1").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--listen-client-urls")
        .hasMessageContaining("TLS");
    assertThatThrownBy(() -> ServerConfig.builder().listenPeerUrls("http://a").build())
        .hasMessageContaining("--listen-peer-urls")
        .hasMessageContaining("port");
    assertThatThrownBy(
            () -> ServerConfig.builder().name("a").initialCluster("b=http://h:1").build())
        .hasMessageContaining("--initial-cluster")
        .hasMessageContaining("'a'");
    assertThatThrownBy(
            () ->
                ServerConfig.builder()
                    .name("a")
                    .initialAdvertisePeerUrls("http://h:1")
                    .initialCluster("a=http://h:2")
                    .build())
        .hasMessageContaining("--initial-advertise-peer-urls");
    assertThatThrownBy(
            () ->
                ServerConfig.builder()
                    .name("a")
                    .initialAdvertisePeerUrls("http://h:1")
                    .initialCluster("a=http://h:1,b=http://h:1")
                    .build())
        .hasMessageContaining("more than once");
    assertThatThrownBy(() -> ServerConfig.builder().set("initial-cluster-state", "old").build())
        .hasMessageContaining("--initial-cluster-state");
    assertThatThrownBy(
            () -> ServerConfig.builder().heartbeatMillis(100).electionMillis(400).build())
        .hasMessageContaining("--election-timeout")
        .hasMessageContaining("5 times");
    assertThatThrownBy(() -> ServerConfig.builder().set("max-txn-ops", "0").build())
        .hasMessageContaining("--max-txn-ops");
    assertThatThrownBy(() -> ServerConfig.builder().set("quota-backend-bytes", "-1").build())
        .hasMessageContaining("--quota-backend-bytes");
    assertThatThrownBy(() -> ServerConfig.builder().set("snapshot-count", "lots"))
        .hasMessageContaining("--snapshot-count")
        .hasMessageContaining("integer");
    assertThatThrownBy(() -> ServerConfig.builder().set("no-such-flag", "1"))
        .hasMessageContaining("no-such-flag");
    assertThatThrownBy(
            () -> ServerConfig.builder().set("experimental-watch-progress-notify-interval", "10x"))
        .hasMessageContaining("duration");
  }

  @Test
  void yamlFileUsesEtcdsKeysAndIgnoresUnknownOnes() throws Exception {
    Path file = dir.resolve("etcd.yaml");
    Files.writeString(
        file,
        String.join(
            "\n",
            "name: infra1",
            "data-dir: /var/lib/tern/infra1",
            "listen-client-urls: http://127.0.0.1:2379,http://10.0.0.1:2379",
            "advertise-client-urls: http://10.0.0.1:2379",
            "listen-peer-urls: http://10.0.0.1:2380",
            "initial-advertise-peer-urls: http://10.0.0.1:2380",
            "initial-cluster: infra1=http://10.0.0.1:2380,infra2=http://10.0.0.2:2380",
            "initial-cluster-state: existing",
            "initial-cluster-token: prod",
            "snapshot-count: 5000",
            "heartbeat-interval: 50",
            "election-timeout: 500",
            "quota-backend-bytes: 8589934592",
            "max-request-bytes: 2097152",
            "max-txn-ops: 256",
            "experimental-watch-progress-notify-interval: 5s",
            "enable-v2: false",
            "log-level: info",
            ""));
    ServerConfig c = ServerConfig.fromYaml(file);
    assertThat(c.name()).isEqualTo("infra1");
    assertThat(c.dataDir()).isEqualTo(Path.of("/var/lib/tern/infra1"));
    assertThat(c.listenClientUrls())
        .containsExactly(new PeerUrl("127.0.0.1", 2379), new PeerUrl("10.0.0.1", 2379));
    assertThat(c.advertiseClientUrls()).containsExactly(new PeerUrl("10.0.0.1", 2379));
    assertThat(c.initialCluster().keySet()).containsExactly("infra1", "infra2");
    assertThat(c.initialClusterState()).isEqualTo(ServerConfig.ClusterState.EXISTING);
    assertThat(c.initialClusterToken()).isEqualTo("prod");
    assertThat(c.snapshotCount()).isEqualTo(5000);
    assertThat(c.heartbeatMillis()).isEqualTo(50);
    assertThat(c.electionTicks()).isEqualTo(10);
    assertThat(c.quotaBackendBytes()).isEqualTo(8L << 30);
    assertThat(c.maxRequestBytes()).isEqualTo(2 << 20);
    assertThat(c.maxTxnOps()).isEqualTo(256);
    assertThat(c.progressNotifyInterval()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void yamlValuesAreValidatedToo() throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, "name: a\nlisten-client-urls: https://127.0.0.1:2379\n");
    assertThatThrownBy(() -> ServerConfig.fromYaml(file)).hasMessageContaining("TLS");
    Files.writeString(file, "- just\n- a list\n");
    assertThatThrownBy(() -> ServerConfig.fromYaml(file)).hasMessageContaining("mapping");
  }

  @Test
  void memberIdsAreStablePositiveAndDependOnUrlsAndToken() {
    List<PeerUrl> a = List.of(new PeerUrl("10.0.0.1", 2380));
    List<PeerUrl> b = List.of(new PeerUrl("10.0.0.2", 2380));
    long id = MemberIds.memberId(a, "t");
    assertThat(id).isPositive().isEqualTo(MemberIds.memberId(a, "t"));
    assertThat(MemberIds.memberId(b, "t")).isPositive().isNotEqualTo(id);
    assertThat(MemberIds.memberId(a, "u")).isNotEqualTo(id);
    assertThat(MemberIds.clusterId(List.of(1L, 2L), "t"))
        .isPositive()
        .isEqualTo(MemberIds.clusterId(List.of(2L, 1L), "t"))
        .isNotEqualTo(MemberIds.clusterId(List.of(1L, 2L), "u"));
  }
}
