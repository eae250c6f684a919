package io.tern.example.map;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Members of one test as separate JVMs on loopback. Waits are polls against generous deadlines:
 * nothing depends on how long anything takes.
 */
final class ProcessCluster {
  static final Duration DEADLINE = Duration.ofSeconds(60);
  private static final Set<Integer> PORTS_HANDED_OUT = new HashSet<>();

  private final Path dataRoot;
  private final Path logDir;
  private final Map<Long, MemberProcess> members = new LinkedHashMap<>();

  ProcessCluster(Path dataRoot, Path logDir) {
    this.dataRoot = dataRoot;
    this.logDir = logDir;
  }

  /** A port nothing listens on now, never handed out before in this JVM. */
  static synchronized int freePort() throws IOException {
    for (int attempt = 0; attempt < 100; attempt++) {
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(MemberProcess.HOST))) {
        if (PORTS_HANDED_OUT.add(s.getLocalPort())) {
          return s.getLocalPort();
        }
      }
    }
    throw new IOException("no free port found");
  }

  /** Declares members {@code ids} of a new cluster (not started), with ports and data dirs. */
  List<MemberProcess> declare(List<Long> ids, String... extraArgs) throws IOException {
    Map<Long, int[]> ports = new LinkedHashMap<>();
    for (long id : ids) {
      ports.put(id, new int[] {freePort(), freePort()});
    }
    String peers =
        ports.entrySet().stream()
            .map(e -> e.getKey() + "=" + MemberProcess.HOST + ":" + e.getValue()[0])
            .collect(Collectors.joining(","));
    List<MemberProcess> out = new ArrayList<>();
    for (long id : ids) {
      List<String> args = new ArrayList<>(List.of("--peers", peers));
      args.addAll(List.of(extraArgs));
      out.add(declare(id, ports.get(id)[0], ports.get(id)[1], args));
    }
    return out;
  }

  /** Declares one member with explicit arguments (besides id, ports and data dir). */
  MemberProcess declare(long id, int raftPort, int clientPort, List<String> args) {
    MemberProcess m =
        new MemberProcess(
            id,
            raftPort,
            clientPort,
            dataRoot.resolve("member-" + id),
            logDir.resolve("member-" + id + ".log"),
            args);
    if (members.putIfAbsent(id, m) != null) {
      throw new IllegalArgumentException("member " + id + " already declared");
    }
    return m;
  }

  /** Declares and starts a new cluster of {@code ids}; returns once every member serves clients. */
  List<MemberProcess> startNew(List<Long> ids, String... extraArgs) throws Exception {
    List<MemberProcess> ms = declare(ids, extraArgs);
    for (MemberProcess m : ms) {
      m.start();
    }
    for (MemberProcess m : ms) {
      awaitServing(m);
    }
    return ms;
  }

  MemberProcess member(long id) {
    return members.get(id);
  }

  Collection<MemberProcess> members() {
    return members.values();
  }

  Path logDir() {
    return logDir;
  }

  // ---------------------------------------------------------------- waiting

  static <T> T await(String what, Supplier<T> attempt) throws InterruptedException {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (true) {
      T result = attempt.get();
      if (result != null) {
        return result;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "timed out after " + DEADLINE.toSeconds() + " s waiting for " + what);
      }
      Thread.sleep(50);
    }
  }

  /** The answer to {@code request}, or null if the member cannot be reached. */
  static String tryCall(MemberProcess m, String request) {
    try {
      return m.call(request);
    } catch (IOException e) {
      return null;
    }
  }

  void awaitServing(MemberProcess m) throws InterruptedException {
    await(
        m + " to serve clients",
        () -> {
          if (!m.alive()) {
            throw new AssertionError(m + " exited with " + m.process().exitValue());
          }
          String s = tryCall(m, "STATUS");
          return s != null && s.startsWith("STATUS ") ? s : null;
        });
  }

  /** Parses {@code STATUS k=v ...}. */
  static Map<String, String> status(String line) {
    Map<String, String> fields = new HashMap<>();
    for (String kv : line.substring("STATUS ".length()).split(" ")) {
      int eq = kv.indexOf('=');
      fields.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return fields;
  }

  /** Waits until every member in {@code group} names the same leader, itself one of them. */
  MemberProcess awaitLeader(Collection<MemberProcess> group) throws InterruptedException {
    return await(
        "a leader among " + group,
        () -> {
          Long leader = null;
          for (MemberProcess m : group) {
            String s = tryCall(m, "STATUS");
            if (s == null || !s.startsWith("STATUS ")) {
              return null;
            }
            long l = Long.parseLong(status(s).get("leader"));
            if (l == 0 || (leader != null && leader != l)) {
              return null;
            }
            leader = l;
          }
          MemberProcess m = members.get(leader);
          if (m == null || !group.contains(m)) {
            return null;
          }
          String s = tryCall(m, "STATUS");
          return s != null && status(s).get("role").equals("LEADER") ? m : null;
        });
  }

  /**
   * Sends a request that must reach the leader (membership changes), following NOTLEADER hints and
   * retrying refusals (another change in flight, a learner still behind) until it answers OK.
   */
  String onLeader(Collection<MemberProcess> group, String request) throws InterruptedException {
    List<String> answers = new ArrayList<>();
    return await(
        "OK to '" + request + "' from the leader (answers so far: " + answers + ")",
        () -> {
          MemberProcess leader;
          try {
            leader = awaitLeader(group);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
          }
          String a = tryCall(leader, request);
          if (a != null && answers.size() < 20) {
            answers.add(a);
          }
          return a != null && a.startsWith("OK") ? a : null;
        });
  }

  /** Waits until every member of {@code group} reports the same DIGEST line; returns it. */
  String awaitSameDigest(Collection<MemberProcess> group) throws InterruptedException {
    Map<Long, String> last = new LinkedHashMap<>();
    return await(
        "identical digests of " + group + " (last seen: " + last + ")",
        () -> {
          String first = null;
          boolean same = true;
          for (MemberProcess m : group) {
            String d = tryCall(m, "DIGEST");
            last.put(m.id, d);
            if (d == null || !d.startsWith("DIGEST ")) {
              return null;
            }
            if (first == null) {
              first = d;
            } else if (!first.equals(d)) {
              same = false;
            }
          }
          return same ? first : null;
        });
  }

  /** PUTs at {@code m} until it answers OK (the cluster may still be electing). */
  void put(MemberProcess m, String key, String value) throws InterruptedException {
    awaitOk(m, "PUT " + key + " " + value);
  }

  /** Sends an idempotent request to {@code m} until it answers OK. */
  String awaitOk(MemberProcess m, String request) throws InterruptedException {
    return await(
        "OK to '" + request + "' at " + m,
        () -> {
          String a = tryCall(m, request);
          return a != null && a.startsWith("OK") ? a : null;
        });
  }

  /**
   * The first definite answer of {@code m} to a read: retried while the member cannot be reached or
   * answers ERR / NOTLEADER (e.g. during an election), returned as soon as it answers anything else
   * (a VALUE or NONE, right or wrong).
   */
  static String read(MemberProcess m, String request) throws InterruptedException {
    return await(
        "an answer to '" + request + "' at " + m,
        () -> {
          String a = tryCall(m, request);
          return a == null || a.startsWith("ERR") || a.startsWith("NOTLEADER") ? null : a;
        });
  }

  /** SIGKILLs every member still running and waits for them to be gone. */
  void destroyAll() throws InterruptedException {
    for (MemberProcess m : members.values()) {
      Process p = m.process();
      if (p != null) {
        p.destroyForcibly();
      }
    }
    for (MemberProcess m : members.values()) {
      m.kill();
    }
  }
}
