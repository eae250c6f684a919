package io.tern.chaos;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.tern.api.ClusterGrpc;
import io.tern.api.HashKVRequest;
import io.tern.api.HashKVResponse;
import io.tern.api.MaintenanceGrpc;
import io.tern.api.MemberAddRequest;
import io.tern.api.MemberAddResponse;
import io.tern.api.MemberPromoteRequest;
import io.tern.api.MemberRemoveRequest;
import io.tern.api.MoveLeaderRequest;
import io.tern.api.StatusRequest;
import io.tern.api.StatusResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The five {@code tern server} processes of one run and the operations the nemesis needs. */
final class Cluster implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Cluster.class);
  private static final long RPC_MS = 2_000;

  /** Small, quick-starting JVMs: five run at once on a 2-core machine next to the harness. */
  static final List<String> JVM_OPTIONS =
      List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto");

  private final Net net;
  private final List<Member> members;
  private final String token;
  private final List<String> extraFlags;
  private final Map<Integer, Map<String, String>> envByMember;

  Cluster(
      Net net,
      int size,
      Path dataRoot,
      Path logDir,
      String token,
      List<String> extraFlags,
      Map<Integer, Map<String, String>> envByMember) {
    this.net = net;
    this.token = token;
    this.extraFlags = List.copyOf(extraFlags);
    this.envByMember = Map.copyOf(envByMember);
    List<String> java = new ArrayList<>();
    java.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    java.addAll(JVM_OPTIONS);
    java.add("-cp");
    java.add(System.getProperty("java.class.path"));
    java.add("io.tern.cli.Tern");
    java.add("server");
    List<Member> ms = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      ms.add(new Member(i, net, dataRoot, logDir.resolve("m" + (i + 1) + ".log"), java));
    }
    this.members = List.copyOf(ms);
  }

  List<Member> members() {
    return members;
  }

  Net net() {
    return net;
  }

  private List<String> flags(Member m, String initialCluster, String state) {
    List<String> f =
        new ArrayList<>(
            List.of(
                "--name=" + m.name,
                "--data-dir=" + m.dataDir(),
                "--listen-client-urls=" + net.clientUrl(m.index),
                "--advertise-client-urls=" + net.clientUrl(m.index),
                "--listen-peer-urls=" + net.listenPeerUrl(m.index, m.incarnation()),
                "--initial-advertise-peer-urls=" + m.peerUrl(),
                "--initial-cluster=" + initialCluster,
                "--initial-cluster-state=" + state,
                "--initial-cluster-token=" + token));
    f.addAll(extraFlags);
    return f;
  }

  /** Starts every member of a new cluster and waits for a leader all agree on. */
  void start() throws Exception {
    String initial =
        members.stream().map(m -> m.name + "=" + m.peerUrl()).collect(Collectors.joining(","));
    for (Member m : members) {
      m.flags(flags(m, initial, "new"));
      m.launch(env(m));
    }
    await("a leader of the new cluster", Duration.ofSeconds(120), () -> leader().orElse(null));
  }

  private Map<String, String> env(Member m) {
    return envByMember.getOrDefault(m.index, Map.of());
  }

  // ------------------------------------------------------------------ observing

  Optional<StatusResponse> status(Member m) {
    if (!m.alive() || m.paused()) {
      return Optional.empty();
    }
    try {
      StatusResponse s =
          MaintenanceGrpc.newBlockingStub(m.channel())
              .withDeadlineAfter(RPC_MS, TimeUnit.MILLISECONDS)
              .status(StatusRequest.getDefaultInstance());
      m.id(s.getHeader().getMemberId());
      return Optional.of(s);
    } catch (StatusRuntimeException e) {
      m.channel().resetConnectBackoff();
      return Optional.empty();
    }
  }

  /**
   * The leader, if some serving member reports itself as leader and a majority of the serving
   * members it can see agree; best effort (the answer may be stale by the time it is used).
   */
  Optional<Member> leader() {
    Map<Long, Integer> votes = new HashMap<>();
    for (Member m : members) {
      if (!m.serving()) {
        continue;
      }
      status(m).ifPresent(s -> votes.merge(s.getLeader(), 1, Integer::sum));
    }
    return votes.entrySet().stream()
        .filter(e -> e.getKey() != 0 && e.getValue() > members.size() / 2)
        .map(e -> byId(e.getKey()))
        .flatMap(Optional::stream)
        .filter(Member::serving)
        .findFirst();
  }

  /** The leader as the serving members report it, quickly: the first answer naming one. */
  Optional<Member> anyLeader() {
    for (Member m : members) {
      if (m.serving()) {
        Optional<Member> l = status(m).flatMap(s -> byId(s.getLeader()));
        if (l.isPresent()) {
          return l;
        }
      }
    }
    return Optional.empty();
  }

  Optional<Member> byId(long id) {
    return members.stream().filter(m -> id != 0 && m.id() == id).findFirst();
  }

  Optional<HashKVResponse> hashKv(Member m, long revision) {
    try {
      return Optional.of(
          MaintenanceGrpc.newBlockingStub(m.channel())
              .withDeadlineAfter(RPC_MS * 5, TimeUnit.MILLISECONDS)
              .hashKV(HashKVRequest.newBuilder().setRevision(revision).build()));
    } catch (StatusRuntimeException e) {
      return Optional.empty();
    }
  }

  // ------------------------------------------------------------------ faults

  void kill(Member m) throws InterruptedException {
    m.kill();
  }

  /** Starts a killed member again on its data directory, with the flags of its incarnation. */
  void restart(Member m) throws IOException {
    if (!m.alive() && !m.removed()) {
      m.launch(env(m));
    }
  }

  /** Asks the leader to hand leadership to {@code target}. */
  void moveLeader(Member leader, Member target) {
    MaintenanceGrpc.newBlockingStub(leader.channel())
        .withDeadlineAfter(RPC_MS * 3, TimeUnit.MILLISECONDS)
        .moveLeader(MoveLeaderRequest.newBuilder().setTargetID(target.id()).build());
  }

  /**
   * Removes {@code m} from the configuration through {@code via}, then kills it and deletes its
   * data: a removed member never comes back with its old identity.
   */
  void remove(Member m, Member via) throws InterruptedException, IOException {
    if (m.id() == 0) {
      throw new ChaosException(m + " has no known id");
    }
    ClusterGrpc.newBlockingStub(via.channel())
        .withDeadlineAfter(RPC_MS * 5, TimeUnit.MILLISECONDS)
        .memberRemove(MemberRemoveRequest.newBuilder().setID(m.id()).build());
    m.markRemoved();
    m.kill();
    deleteRecursively(m.dataDir());
  }

  /**
   * Adds a fresh incarnation of the removed {@code m} (new peer URL, so a new member id) through
   * {@code via}, as a learner or a voter, and starts it with {@code --initial-cluster-state
   * existing}. Returns the new member id.
   */
  long add(Member m, Member via, boolean learner) throws IOException {
    if (!m.removed()) {
      throw new IllegalStateException(m + " is still a member");
    }
    m.nextIncarnation();
    // If the reply is lost, the add may or may not have happened: adoptIfAdded finds out, the
    // next attempt uses yet another URL, and the final healing removes members nobody runs.
    MemberAddResponse r =
        ClusterGrpc.newBlockingStub(via.channel())
            .withDeadlineAfter(RPC_MS * 5, TimeUnit.MILLISECONDS)
            .memberAdd(
                MemberAddRequest.newBuilder()
                    .addPeerURLs(m.peerUrl())
                    .setIsLearner(learner)
                    .build());
    long id = r.getMember().getID();
    launchJoined(m, id, r.getMembersList());
    return id;
  }

  /**
   * After an add of the removed {@code m} whose reply was lost: if {@code list} (the member list)
   * names the peer URL of its current incarnation, the add happened, and that incarnation is
   * started as the member added. Returns its id, or 0 if the list does not name it.
   */
  long adoptIfAdded(Member m, List<io.tern.api.Member> list) throws IOException {
    if (!m.removed() || m.incarnation() == 0) {
      return 0;
    }
    for (io.tern.api.Member x : list) {
      if (x.getPeerURLsList().contains(m.peerUrl())) {
        launchJoined(m, x.getID(), list);
        return x.getID();
      }
    }
    return 0;
  }

  /** Starts the current incarnation of {@code m}, added as {@code id}, to join {@code members}. */
  private void launchJoined(Member m, long id, List<io.tern.api.Member> members)
      throws IOException {
    Map<String, String> byUrl = new LinkedHashMap<>();
    for (Member other : this.members) {
      byUrl.put(other.peerUrl(), other.name);
    }
    String initial =
        members.stream()
            .filter(x -> x.getPeerURLsCount() > 0)
            .map(
                x ->
                    byUrl.getOrDefault(x.getPeerURLs(0), "x" + Long.toHexString(x.getID()))
                        + "="
                        + x.getPeerURLs(0))
            .collect(Collectors.joining(","));
    m.flags(flags(m, initial, "existing"));
    m.id(id);
    m.launch(env(m));
  }

  void promote(Member m, Member via) {
    ClusterGrpc.newBlockingStub(via.channel())
        .withDeadlineAfter(RPC_MS * 3, TimeUnit.MILLISECONDS)
        .memberPromote(MemberPromoteRequest.newBuilder().setID(m.id()).build());
  }

  /**
   * The member list as {@code via} reports it, linearizable: a member that only believes it leads
   * cannot answer from a table that misses committed changes (the harness would take a member it
   * just added for one whose removal happened).
   */
  List<io.tern.api.Member> memberList(Member via) {
    return ClusterGrpc.newBlockingStub(via.channel())
        .withDeadlineAfter(RPC_MS * 3, TimeUnit.MILLISECONDS)
        .memberList(io.tern.api.MemberListRequest.newBuilder().setLinearizable(true).build())
        .getMembersList();
  }

  /**
   * Learns the outcome of membership changes whose reply was lost: a member the harness runs that
   * is no longer in {@code via}'s member list was removed, so it is killed and its data deleted (it
   * is added back as a new member later). Returns the members found removed.
   */
  List<Member> reconcile(Member via) throws InterruptedException, IOException {
    List<io.tern.api.Member> list = memberList(via);
    List<Member> gone = new ArrayList<>();
    for (Member m : members) {
      if (!m.removed() && m.id() != 0 && list.stream().noneMatch(x -> x.getID() == m.id())) {
        LOG.info("{} is not in the member list: its removal happened", m);
        m.markRemoved();
        m.kill();
        deleteRecursively(m.dataDir());
        gone.add(m);
      }
    }
    return gone;
  }

  /**
   * Removes configuration members that are none of the current incarnations (adds whose reply was
   * lost, then retried on another URL). Returns what failed, one line per stranger.
   */
  List<String> removeStrangers(Member via) {
    List<String> failures = new ArrayList<>();
    for (io.tern.api.Member x : memberList(via)) {
      boolean known = members.stream().anyMatch(m -> !m.removed() && m.id() == x.getID());
      boolean ours = members.stream().anyMatch(m -> x.getPeerURLsList().contains(m.peerUrl()));
      if (!known && !ours) {
        LOG.info("removing stray member {} {}", Long.toHexString(x.getID()), x.getPeerURLsList());
        try {
          ClusterGrpc.newBlockingStub(via.channel())
              .withDeadlineAfter(RPC_MS * 5, TimeUnit.MILLISECONDS)
              .memberRemove(MemberRemoveRequest.newBuilder().setID(x.getID()).build());
        } catch (StatusRuntimeException e) {
          failures.add(
              "removing stranger "
                  + Long.toHexString(x.getID())
                  + " "
                  + x.getPeerURLsList()
                  + ": "
                  + Workload.describe(e));
        }
      }
    }
    return failures;
  }

  // ------------------------------------------------------------------ waiting

  <T> T await(String what, Duration timeout, Supplier<T> attempt) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T result = attempt.get();
      if (result != null) {
        return result;
      }
      if (System.nanoTime() > deadline) {
        throw new ChaosException(
            "timed out after " + timeout.toSeconds() + " s waiting for " + what + "\n" + tails());
      }
      Thread.sleep(100);
    }
  }

  String tails() {
    StringBuilder sb = new StringBuilder();
    for (Member m : members) {
      sb.append("---- ").append(m).append('\n').append(m.tail(15)).append('\n');
    }
    return sb.toString();
  }

  static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }

  @Override
  public void close() {
    for (Member m : members) {
      m.shutdown();
    }
  }
}
