package io.tern.process;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.tern.api.ClusterGrpc;
import io.tern.api.HashKVRequest;
import io.tern.api.HashKVResponse;
import io.tern.api.MaintenanceGrpc;
import io.tern.api.MemberListRequest;
import io.tern.api.MemberListResponse;
import io.tern.api.StatusRequest;
import io.tern.api.StatusResponse;
import io.tern.cli.Tern;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Tern cluster whose members are {@code tern server} child JVMs on loopback, started on the test
 * JVM's class path with etcd's flags. Each member's output is appended to {@code
 * <logDir>/<name>.log} (kept across restarts); every wait is a poll against a generous deadline,
 * and a wait that times out reports the tails of those logs.
 */
final class TernProcessCluster implements AutoCloseable {
  static final Duration DEADLINE = Duration.ofSeconds(60);
  static final String HOST = "127.0.0.1";

  /** Small, quick-starting JVMs: three run at once on a 2-core machine next to the test. */
  private static final List<String> JVM_OPTIONS =
      List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto");

  private static final Duration RPC_DEADLINE = Duration.ofSeconds(3);
  private static final Set<Integer> PORTS_HANDED_OUT = new HashSet<>();

  private final Path logDir;
  private final List<Member> members;

  private TernProcessCluster(Path logDir, List<Member> members) {
    this.logDir = logDir;
    this.members = List.copyOf(members);
  }

  /**
   * Starts {@code size} members named {@code m1..mN} of a new cluster, data under {@code dataRoot},
   * logs under {@code logDir}; returns once every member answers Status and they agree on a leader.
   */
  static TernProcessCluster start(int size, Path dataRoot, Path logDir, String... extraFlags)
      throws Exception {
    deleteRecursively(logDir);
    Files.createDirectories(logDir);
    List<String> names = new ArrayList<>();
    Map<String, int[]> ports = new LinkedHashMap<>();
    for (int i = 1; i <= size; i++) {
      String name = "m" + i;
      names.add(name);
      ports.put(name, new int[] {freePort(), freePort()});
    }
    String initialCluster =
        names.stream().map(n -> n + "=" + url(ports.get(n)[1])).collect(Collectors.joining(","));
    String token = "tern-process-" + Long.toHexString(System.nanoTime());
    List<Member> ms = new ArrayList<>();
    for (String name : names) {
      int client = ports.get(name)[0];
      int peer = ports.get(name)[1];
      List<String> flags =
          new ArrayList<>(
              List.of(
                  "--name=" + name,
                  "--data-dir=" + dataRoot.resolve(name),
                  "--listen-client-urls=" + url(client),
                  "--advertise-client-urls=" + url(client),
                  "--listen-peer-urls=" + url(peer),
                  "--initial-advertise-peer-urls=" + url(peer),
                  "--initial-cluster=" + initialCluster,
                  "--initial-cluster-state=new",
                  "--initial-cluster-token=" + token));
      flags.addAll(List.of(extraFlags));
      ms.add(new Member(name, client, peer, logDir.resolve(name + ".log"), flags));
    }
    TernProcessCluster cluster = new TernProcessCluster(logDir, ms);
    try {
      for (Member m : ms) {
        m.launch();
      }
      cluster.awaitLeader(ms);
      cluster.awaitPublished(ms);
    } catch (Throwable t) {
      cluster.close();
      throw t;
    }
    return cluster;
  }

  static String url(int port) {
    return "http://" + HOST + ":" + port;
  }

  /** A loopback port nothing listens on now, never handed out before in this JVM. */
  static synchronized int freePort() throws IOException {
    for (int attempt = 0; attempt < 100; attempt++) {
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
        if (PORTS_HANDED_OUT.add(s.getLocalPort())) {
          return s.getLocalPort();
        }
      }
    }
    throw new IOException("no free port found");
  }

  List<Member> members() {
    return members;
  }

  Path logDir() {
    return logDir;
  }

  /** The members' client endpoints as {@code host:port}, comma-separated (etcdctl --endpoints). */
  String endpoints() {
    return members.stream().map(Member::endpoint).collect(Collectors.joining(","));
  }

  // ---------------------------------------------------------------- one member

  /** One member: its flags never change, so a restart reuses its data dir, ports and identity. */
  static final class Member {
    final String name;
    final int clientPort;
    final int peerPort;
    final Path logFile;
    private final List<String> flags;
    private Process process;
    private int starts;
    private ManagedChannel channel;
    private volatile long id;

    private Member(String name, int clientPort, int peerPort, Path logFile, List<String> flags) {
      this.name = name;
      this.clientPort = clientPort;
      this.peerPort = peerPort;
      this.logFile = logFile;
      this.flags = List.copyOf(flags);
    }

    String endpoint() {
      return HOST + ":" + clientPort;
    }

    String clientUrl() {
      return url(clientPort);
    }

    String peerUrl() {
      return url(peerPort);
    }

    /** The member id, as its Status header reports it (0 until it answered once). */
    long id() {
      return id;
    }

    /** A channel to this member, kept across its restarts (gRPC reconnects by itself). */
    synchronized ManagedChannel channel() {
      if (channel == null) {
        channel =
            Grpc.newChannelBuilderForAddress(HOST, clientPort, InsecureChannelCredentials.create())
                .build();
      }
      return channel;
    }

    synchronized boolean alive() {
      return process != null && process.isAlive();
    }

    private synchronized void launch() throws IOException {
      if (alive()) {
        throw new IllegalStateException(this + " is running");
      }
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(JVM_OPTIONS);
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add(Tern.class.getName());
      cmd.add("server");
      cmd.addAll(flags);
      Files.createDirectories(logFile.getParent());
      Files.writeString(
          logFile,
          "==== start #" + (++starts) + ": tern server " + String.join(" ", flags) + "\n",
          UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
      process =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
              .start();
      if (channel != null) {
        channel.resetConnectBackoff();
      }
    }

    /** SIGKILL: no shutdown hook runs, nothing is flushed. Waits until the process is gone. */
    void kill() throws InterruptedException {
      Process p;
      synchronized (this) {
        p = process;
      }
      if (p != null) {
        p.destroyForcibly();
        if (!p.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
          throw new AssertionError(this + " survived SIGKILL");
        }
      }
    }

    String tail(int lines) {
      try {
        if (!Files.exists(logFile)) {
          return "(no log)";
        }
        List<String> all = Files.readAllLines(logFile, UTF_8);
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
      } catch (IOException e) {
        return "(unreadable: " + e + ")";
      }
    }

    private synchronized void shutdown() throws InterruptedException {
      if (process != null) {
        process.destroyForcibly();
        process.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS);
      }
      if (channel != null) {
        channel.shutdownNow();
        channel.awaitTermination(5, TimeUnit.SECONDS);
      }
    }

    @Override
    public String toString() {
      return name + " (" + (id == 0 ? "id ?" : Long.toHexString(id)) + ", " + endpoint() + ")";
    }
  }

  // ---------------------------------------------------------------- observing members

  /** The member's Status, or empty if it cannot answer now (down, starting, no quorum). */
  Optional<StatusResponse> status(Member m) {
    try {
      StatusResponse s =
          MaintenanceGrpc.newBlockingStub(m.channel())
              .withDeadlineAfter(RPC_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
              .status(StatusRequest.getDefaultInstance());
      m.id = s.getHeader().getMemberId();
      return Optional.of(s);
    } catch (StatusRuntimeException e) {
      m.channel().resetConnectBackoff();
      return Optional.empty();
    }
  }

  /** The member whose id is {@code id}, if it is one of this cluster's and has answered once. */
  Optional<Member> byId(long id) {
    return members.stream().filter(m -> m.id() == id && id != 0).findFirst();
  }

  /**
   * Waits until every member of {@code group} answers Status naming the same leader, itself one of
   * the group and reporting itself as leader; returns it.
   */
  Member awaitLeader(Collection<Member> group) throws InterruptedException {
    Map<String, String> seen = new LinkedHashMap<>();
    return await(
        "a leader among " + group + " (last seen: " + seen + ")",
        () -> {
          long leader = 0;
          for (Member m : group) {
            checkRunning(m);
            Optional<StatusResponse> s = status(m);
            seen.put(m.name, s.map(r -> "leader " + Long.toHexString(r.getLeader())).orElse("-"));
            if (s.isEmpty() || s.get().getLeader() == 0) {
              return null;
            }
            if (leader != 0 && leader != s.get().getLeader()) {
              return null;
            }
            leader = s.get().getLeader();
          }
          long l = leader;
          return group.stream().filter(m -> m.id() == l).findFirst().orElse(null);
        });
  }

  /**
   * Waits until every member of {@code group} lists every member of the group with its client URL:
   * a member publishes its name and client URLs through Raft shortly after a leader is known (as
   * etcd's does before it serves clients), and until then a client that discovers the endpoints
   * from the member list (etcdctl {@code --cluster}) does not find it.
   */
  void awaitPublished(Collection<Member> group) throws InterruptedException {
    Map<String, String> seen = new LinkedHashMap<>();
    await(
        "every member's client URL in every member's member list (last seen: " + seen + ")",
        () -> {
          for (Member m : group) {
            checkRunning(m);
            MemberListResponse r;
            try {
              r =
                  ClusterGrpc.newBlockingStub(m.channel())
                      .withDeadlineAfter(RPC_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                      .memberList(MemberListRequest.newBuilder().setLinearizable(true).build());
            } catch (StatusRuntimeException e) {
              seen.put(m.name, e.getStatus().getCode().toString());
              return null;
            }
            Set<String> urls = new HashSet<>();
            r.getMembersList().forEach(x -> urls.addAll(x.getClientURLsList()));
            seen.put(m.name, urls.toString());
            for (Member other : group) {
              if (!urls.contains(other.clientUrl())) {
                return null;
              }
            }
          }
          return Boolean.TRUE;
        });
  }

  /** SIGKILLs {@code m} and waits until it is gone. */
  void kill(Member m) throws InterruptedException {
    m.kill();
  }

  /**
   * Starts {@code m} again with exactly the flags of its first start (it recovers from its data
   * dir), and waits until it answers Status with a leader.
   */
  void restart(Member m) throws Exception {
    m.launch();
    await(
        m + " to serve again after a restart",
        () -> {
          checkRunning(m);
          return status(m).filter(s -> s.getLeader() != 0).orElse(null);
        });
  }

  /**
   * Waits until every member reports the same store revision and the same HashKV at it, and returns
   * that revision. Meant for a quiet cluster: nothing should be writing.
   */
  long awaitConverged() throws InterruptedException {
    Map<String, String> seen = new LinkedHashMap<>();
    return await(
        "every member at the same revision with the same HashKV (last seen: " + seen + ")",
        () -> {
          Long revision = null;
          for (Member m : members) {
            checkRunning(m);
            Optional<StatusResponse> s = status(m);
            seen.put(m.name, s.map(r -> "revision " + r.getHeader().getRevision()).orElse("-"));
            if (s.isEmpty()) {
              return null;
            }
            long r = s.get().getHeader().getRevision();
            if (revision != null && revision != r) {
              return null;
            }
            revision = r;
          }
          Integer hash = null;
          for (Member m : members) {
            Optional<HashKVResponse> h = hashKv(m, revision);
            seen.put(
                m.name,
                seen.get(m.name)
                    + h.map(r -> " hash " + Integer.toHexString(r.getHash())).orElse(" hash -"));
            if (h.isEmpty() || h.get().getHeader().getRevision() != revision) {
              return null;
            }
            if (hash != null && hash != h.get().getHash()) {
              return null;
            }
            hash = h.get().getHash();
          }
          return revision;
        });
  }

  private Optional<HashKVResponse> hashKv(Member m, long revision) {
    try {
      return Optional.of(
          MaintenanceGrpc.newBlockingStub(m.channel())
              .withDeadlineAfter(RPC_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
              .hashKV(HashKVRequest.newBuilder().setRevision(revision).build()));
    } catch (StatusRuntimeException e) {
      return Optional.empty();
    }
  }

  private static void checkRunning(Member m) {
    synchronized (m) {
      if (m.process != null && !m.process.isAlive()) {
        throw new AssertionError(
            m + " exited with status " + m.process.exitValue() + ":\n" + m.tail(40));
      }
    }
  }

  // ---------------------------------------------------------------- waiting and logs

  /**
   * Polls {@code attempt} until it returns non-null; throws an AssertionError naming {@code what}
   * and carrying the members' log tails once {@link #DEADLINE} has passed.
   */
  <T> T await(String what, Supplier<T> attempt) throws InterruptedException {
    return await(what, DEADLINE, attempt);
  }

  <T> T await(String what, Duration timeout, Supplier<T> attempt) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T result = attempt.get();
      if (result != null) {
        return result;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "timed out after "
                + timeout.toSeconds()
                + " s waiting for "
                + what
                + "\n"
                + logTails());
      }
      Thread.sleep(50);
    }
  }

  /** The last lines of every member's log, for failure messages. */
  String logTails() {
    StringBuilder sb = new StringBuilder();
    for (Member m : members) {
      sb.append("---- tail of ").append(m.logFile).append('\n').append(m.tail(40)).append('\n');
    }
    return sb.toString();
  }

  /** SIGKILLs every member and closes the channels. Logs stay; data dirs are the caller's. */
  @Override
  public void close() {
    for (Member m : members) {
      synchronized (m) {
        if (m.process != null) {
          m.process.destroyForcibly();
        }
      }
    }
    try {
      for (Member m : members) {
        m.shutdown();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** {@code target/process-logs/<test>}: where a test's member logs go. */
  static Path logDirFor(String test) {
    return Path.of("target", "process-logs", test);
  }
}
