package io.tern.chaos;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Linux network namespace per member, each with a veth pair whose other end is on a bridge in
 * the root namespace; the bridge has an address on the same private /24 so the harness reaches
 * every member directly. A one-way cut from A to B is a blackhole route to B's address inside A's
 * namespace: A's packets to B are dropped (TCP connections between them stall, since A's
 * acknowledgements are lost too; packets from B still arrive). Every name starts with {@link
 * #PREFIX} so leftovers of a crashed harness can be found and removed ({@code chaos/run.sh
 * --cleanup}).
 */
final class NetnsNet implements Net {
  private static final Logger LOG = LoggerFactory.getLogger(NetnsNet.class);

  /** Prefix of every namespace and link name this class creates. */
  static final String PREFIX = "tchaos";

  static final int CLIENT_PORT = 2379;
  static final int PEER_PORT = 2380;

  private final String id;
  private final int subnet;
  private final int size;
  private final Set<String> routes = new HashSet<>(); // "from to", guarded by this
  private boolean closed;

  private NetnsNet(String id, int subnet, int size) {
    this.id = id;
    this.subnet = subnet;
    this.size = size;
  }

  /** Whether this process may create namespaces: root and a working {@code ip netns}. */
  static boolean available() {
    if (!"root".equals(System.getProperty("user.name"))) {
      return false;
    }
    String probe = PREFIX + "probe" + ProcessHandle.current().pid() % 10000;
    boolean ok = Shell.works("ip", "netns", "add", probe);
    if (ok) {
      ok = Shell.works("ip", "netns", "exec", probe, "ip", "link", "set", "lo", "up");
      Shell.quiet("ip", "netns", "del", probe);
    }
    return ok;
  }

  /** Creates the bridge, the namespaces and the links for {@code size} members. */
  static NetnsNet create(int size, long seed) {
    String id = String.format("%04x", (int) ((seed * 31 + System.nanoTime()) & 0xffff));
    String used = Shell.run("ip", "-4", "-o", "addr").output();
    int subnet = -1;
    for (int k = 0; k < 250; k++) {
      int candidate = (int) ((Long.parseLong(id, 16) + k) % 250) + 1;
      if (!used.contains("10.213." + candidate + ".")) {
        subnet = candidate;
        break;
      }
    }
    if (subnet < 0) {
      throw new ChaosException("no free 10.213.x.0/24 subnet");
    }
    NetnsNet net = new NetnsNet(id, subnet, size);
    try {
      net.setUp();
    } catch (RuntimeException e) {
      net.close();
      throw e;
    }
    return net;
  }

  private String bridge() {
    return PREFIX + id + "br";
  }

  String namespace(int i) {
    return PREFIX + id + "m" + (i + 1);
  }

  private String hostVeth(int i) {
    return PREFIX + id + "v" + (i + 1);
  }

  private String nsVeth(int i) {
    return PREFIX + id + "p" + (i + 1);
  }

  String ip(int i) {
    return "10.213." + subnet + "." + (11 + i);
  }

  private void setUp() {
    Shell.check("ip", "link", "add", bridge(), "type", "bridge");
    Shell.check("ip", "addr", "add", "10.213." + subnet + ".1/24", "dev", bridge());
    Shell.check("ip", "link", "set", bridge(), "up");
    for (int i = 0; i < size; i++) {
      String ns = namespace(i);
      Shell.check("ip", "netns", "add", ns);
      Shell.check("ip", "link", "add", hostVeth(i), "type", "veth", "peer", "name", nsVeth(i));
      Shell.check("ip", "link", "set", hostVeth(i), "master", bridge(), "up");
      Shell.check("ip", "link", "set", nsVeth(i), "netns", ns);
      Shell.check("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
      Shell.check("ip", "netns", "exec", ns, "ip", "addr", "add", ip(i) + "/24", "dev", nsVeth(i));
      Shell.check("ip", "netns", "exec", ns, "ip", "link", "set", nsVeth(i), "up");
    }
    LOG.info(
        "network namespaces {}m1..m{} on bridge {} (10.213.{}.0/24)",
        PREFIX + id,
        size,
        bridge(),
        subnet);
  }

  @Override
  public String kind() {
    return "netns";
  }

  @Override
  public String clientHost(int i) {
    return ip(i);
  }

  @Override
  public int clientPort(int i) {
    return CLIENT_PORT;
  }

  @Override
  public String clientUrl(int i) {
    return "http://" + ip(i) + ":" + CLIENT_PORT;
  }

  @Override
  public String listenPeerUrl(int i, int incarnation) {
    return advertisePeerUrl(i, incarnation);
  }

  @Override
  public String advertisePeerUrl(int i, int incarnation) {
    return "http://" + ip(i) + ":" + (PEER_PORT + 10 * incarnation);
  }

  @Override
  public List<String> commandPrefix(int i) {
    return List.of("ip", "netns", "exec", namespace(i));
  }

  @Override
  public List<String> jvmOptions(int i) {
    return List.of();
  }

  @Override
  public Map<String, String> environment(int i) {
    return Map.of();
  }

  @Override
  public synchronized void cut(int from, int to) {
    if (closed || !routes.add(from + " " + to)) {
      return;
    }
    Shell.check(
        "ip", "netns", "exec", namespace(from), "ip", "route", "add", "blackhole", ip(to) + "/32");
  }

  @Override
  public synchronized void healAll() {
    for (String r : new ArrayList<>(routes)) {
      String[] p = r.split(" ");
      int from = Integer.parseInt(p[0]);
      int to = Integer.parseInt(p[1]);
      Shell.quiet(
          "ip",
          "netns",
          "exec",
          namespace(from),
          "ip",
          "route",
          "del",
          "blackhole",
          ip(to) + "/32");
    }
    routes.clear();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (int i = 0; i < size; i++) {
      killProcessesIn(namespace(i));
      Shell.quiet("ip", "netns", "del", namespace(i));
      Shell.quiet("ip", "link", "del", hostVeth(i));
    }
    Shell.quiet("ip", "link", "del", bridge());
    LOG.info("removed network namespaces {}*", PREFIX + id);
  }

  /** SIGKILLs what still runs in one of our namespaces (members of a crashed harness). */
  private static void killProcessesIn(String ns) {
    for (String pid : Shell.run("ip", "netns", "pids", ns).output().split("\\s+")) {
      if (pid.matches("\\d+")) {
        Shell.quiet("kill", "-9", pid);
      }
    }
  }

  /** Removes every namespace and link whose name starts with {@link #PREFIX}: leftovers. */
  static void cleanupLeftovers() {
    for (String line : Shell.run("ip", "netns", "list").output().split("\n")) {
      String name = line.strip().split(" ")[0];
      if (name.startsWith(PREFIX)) {
        killProcessesIn(name);
        Shell.quiet("ip", "netns", "del", name);
      }
    }
    for (String line : Shell.run("ip", "-o", "link", "show").output().split("\n")) {
      String[] parts = line.split(":");
      if (parts.length > 1) {
        String name = parts[1].strip().split("@")[0];
        if (name.startsWith(PREFIX)) {
          Shell.quiet("ip", "link", "del", name);
        }
      }
    }
  }
}
