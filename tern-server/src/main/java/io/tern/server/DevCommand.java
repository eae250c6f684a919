package io.tern.server;

import io.tern.api.MemberAttributes;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tern dev}: a 3-member cluster on loopback in this one process, for trying Tern out. Ports
 * as in etcd's Procfile; data under {@code --data-dir}, one directory per member, reused by the
 * next run.
 */
@Command(
    name = "dev",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a 3-member cluster on loopback in this process until Ctrl-C.",
      "Clients: http://127.0.0.1:2379, http://127.0.0.1:22379, http://127.0.0.1:32379."
    })
public final class DevCommand implements Callable<Integer> {
  /** Client and peer ports of the three members. */
  static final int[][] PORTS = {{2379, 2380}, {22379, 22380}, {32379, 32380}};

  static final String HOST = "127.0.0.1";

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description =
          "Where the members keep their data, in infra1/ infra2/ infra3/ (default: data).")
  Path dataDir = Path.of("data");

  private final PrintStream out;

  public DevCommand() {
    this(System.out);
  }

  DevCommand(PrintStream out) {
    this.out = out;
  }

  /** The settings of member {@code i} (0..2) of the development cluster under {@code dir}. */
  static ServerConfig memberConfig(Path dir, int i) {
    StringBuilder cluster = new StringBuilder();
    for (int j = 0; j < PORTS.length; j++) {
      cluster
          .append(j == 0 ? "" : ",")
          .append(name(j))
          .append("=http://" + HOST + ":")
          .append(PORTS[j][1]);
    }
    return ServerConfig.builder()
        .name(name(i))
        .dataDir(dir.resolve(name(i)))
        .listenClientUrls("http://" + HOST + ":" + PORTS[i][0])
        .listenPeerUrls("http://" + HOST + ":" + PORTS[i][1])
        .initialCluster(cluster.toString())
        .initialClusterToken("tern-dev")
        .build();
  }

  static String name(int i) {
    return "infra" + (i + 1);
  }

  @Override
  public Integer call() throws InterruptedException {
    List<EtcdServer> servers = new ArrayList<>();
    CountDownLatch stop = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              stop.countDown();
              closeAll(servers);
            },
            "tern-dev-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      for (int i = 0; i < PORTS.length; i++) {
        EtcdServer s = EtcdServer.start(memberConfig(dataDir, i));
        synchronized (servers) {
          servers.add(s);
        }
      }
    } catch (Exception e) {
      System.err.println("tern dev: cannot start the cluster: " + EtcdServer.describe(e));
      closeAll(servers);
      return ServerCommand.EXIT_FAILED;
    }
    out.println("tern dev: 3 members, data in " + dataDir.toAbsolutePath());
    for (EtcdServer s : servers) {
      out.printf(
          "  %s  id %s  client http://%s:%d%n",
          s.config().name(),
          Long.toHexString(s.memberId()),
          HOST,
          s.config().listenClientUrls().get(0).port());
    }
    out.println("endpoints: " + endpoints());
    out.println("Ctrl-C stops the cluster.");
    out.flush();
    long lastLeader = -1;
    while (!stop.await(200, TimeUnit.MILLISECONDS)) {
      long leader = servers.get(0).raft().leader();
      for (EtcdServer s : servers) {
        if (s.raft().isLeader()) {
          leader = s.memberId();
        }
      }
      if (leader != lastLeader && leader != 0) {
        lastLeader = leader;
        out.println("leader: " + describe(servers, leader));
        out.flush();
      }
      if (servers.stream().anyMatch(s -> s.failure().isPresent())) {
        System.err.println("tern dev: a member stopped on an error; stopping");
        closeAll(servers);
        return ServerCommand.EXIT_FAILED;
      }
    }
    return 0;
  }

  private static String describe(List<EtcdServer> servers, long id) {
    for (EtcdServer s : servers) {
      if (s.memberId() == id) {
        return s.config().name()
            + " ("
            + Long.toHexString(id)
            + ") at http://"
            + HOST
            + ":"
            + s.config().listenClientUrls().get(0).port();
      }
    }
    for (MemberAttributes m : servers.get(0).members()) {
      if (m.getId() == id) {
        return m.getName() + " (" + Long.toHexString(id) + ")";
      }
    }
    return Long.toHexString(id);
  }

  static String endpoints() {
    List<String> e = new ArrayList<>();
    for (int[] p : PORTS) {
      e.add(HOST + ":" + p[0]);
    }
    return String.join(",", e);
  }

  private static void closeAll(List<EtcdServer> servers) {
    List<EtcdServer> copy;
    synchronized (servers) {
      copy = new ArrayList<>(servers);
    }
    copy.parallelStream().forEach(EtcdServer::close);
  }
}
