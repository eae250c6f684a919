package io.tern.example.map;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The command line of {@link MapServer}, parsed and checked. Every address is on 127.0.0.1.
 *
 * @param snapshotEntries null: the library's default
 * @param snapshotTrailingEntries null: half of {@code snapshotEntries} when that is given, else the
 *     library's default
 * @param tickMillis null: the library's default
 */
public record MapServerArgs(
    long id,
    Path dataDir,
    int raftPort,
    int clientPort,
    Map<Long, InetSocketAddress> peers,
    boolean join,
    Long snapshotEntries,
    Long snapshotTrailingEntries,
    Long tickMillis) {

  public static final String HOST = "127.0.0.1";

  public static final String USAGE =
      String.join(
          "\n",
          "usage: MapServer --id N --data-dir DIR --raft-port P --client-port C",
          "                 --peers 1=127.0.0.1:P1,2=127.0.0.1:P2,... [--join]",
          "                 [--snapshot-entries N] [--snapshot-trailing-entries N]"
              + " [--tick-millis N]",
          "  --peers   the initial voters with their Raft addresses, this member included;",
          "            with --join: the current members of the cluster to join, without this one",
          "  --join    start as a new member of an existing cluster (then ADD it on the leader)");

  public MapServerArgs {
    peers = Collections.unmodifiableMap(new TreeMap<>(peers));
  }

  /**
   * @throws IllegalArgumentException naming the offending argument
   */
  public static MapServerArgs parse(String... args) {
    Long id = null;
    Path dataDir = null;
    Integer raftPort = null;
    Integer clientPort = null;
    Map<Long, InetSocketAddress> peers = null;
    boolean join = false;
    Long snapshotEntries = null;
    Long snapshotTrailing = null;
    Long tickMillis = null;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (flag.equals("--join")) {
        join = true;
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      String v = args[++i];
      switch (flag) {
        case "--id" -> id = positive(flag, v);
        case "--data-dir" -> dataDir = Path.of(v);
        case "--raft-port" -> raftPort = port(flag, v);
        case "--client-port" -> clientPort = port(flag, v);
        case "--peers" -> peers = parsePeers(v);
        case "--snapshot-entries" -> snapshotEntries = nonNegative(flag, v);
        case "--snapshot-trailing-entries" -> snapshotTrailing = nonNegative(flag, v);
        case "--tick-millis" -> tickMillis = positive(flag, v);
        default -> throw new IllegalArgumentException("unknown argument " + flag);
      }
    }
    require(id, "--id");
    require(dataDir, "--data-dir");
    require(raftPort, "--raft-port");
    require(clientPort, "--client-port");
    require(peers, "--peers");
    if (snapshotTrailing == null && snapshotEntries != null) {
      snapshotTrailing = snapshotEntries / 2;
    }
    return new MapServerArgs(
        id,
        dataDir,
        raftPort,
        clientPort,
        peers,
        join,
        snapshotEntries,
        snapshotTrailing,
        tickMillis);
  }

  /** {@code 1=127.0.0.1:7001,2=127.0.0.1:7002}. */
  public static Map<Long, InetSocketAddress> parsePeers(String list) {
    Map<Long, InetSocketAddress> peers = new TreeMap<>();
    for (String item : list.split(",")) {
      String s = item.trim();
      int eq = s.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--peers: expected id=host:port, got '" + s + "'");
      }
      long id = positive("--peers", s.substring(0, eq));
      if (peers.put(id, parseAddress(s.substring(eq + 1))) != null) {
        throw new IllegalArgumentException("--peers: member " + id + " is listed twice");
      }
    }
    return peers;
  }

  /** {@code host:port}. */
  public static InetSocketAddress parseAddress(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("expected host:port, got '" + hostPort + "'");
    }
    int port = port("port", hostPort.substring(colon + 1));
    return new InetSocketAddress(hostPort.substring(0, colon), port);
  }

  private static void require(Object v, String flag) {
    if (v == null) {
      throw new IllegalArgumentException(flag + " is required");
    }
  }

  private static long positive(String flag, String v) {
    long n = number(flag, v);
    if (n <= 0) {
      throw new IllegalArgumentException(flag + " must be positive, was " + v);
    }
    return n;
  }

  private static long nonNegative(String flag, String v) {
    long n = number(flag, v);
    if (n < 0) {
      throw new IllegalArgumentException(flag + " must be >= 0, was " + v);
    }
    return n;
  }

  private static int port(String flag, String v) {
    long n = number(flag, v);
    if (n < 0 || n > 65535) {
      throw new IllegalArgumentException(flag + " must be a port number, was " + v);
    }
    return (int) n;
  }

  private static long number(String flag, String v) {
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + ": not a number: '" + v + "'");
    }
  }
}
