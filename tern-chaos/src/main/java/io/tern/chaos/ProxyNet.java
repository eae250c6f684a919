package io.tern.chaos;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fallback when network namespaces are not available: members on loopback, every peer link
 * through a TCP proxy of its own. Member {@code i} resolves the host name of member {@code j} to
 * the loopback address 127.0.(i+1).(j+1) (a hosts file per member, {@code jdk.net.hosts.file}),
 * where a proxy for the link i-to-j listens and forwards to j's real peer port. Cutting a link
 * stalls its connections (bytes stay unread, as a TCP connection whose packets are dropped stalls)
 * and holds new ones; healing resumes them. A TCP connection carries both directions, so a one-way
 * cut stalls the connections between the two members whichever opened them.
 */
final class ProxyNet implements Net {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyNet.class);

  private final int size;
  private final Path hostsDir;
  private final int[] clientPorts;
  private final Map<String, int[]> peerPorts = new HashMap<>(); // "j/inc" -> {real, advertised}
  private final boolean[][] cut;
  private final List<ServerSocket> listeners = new CopyOnWriteArrayList<>();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final Map<Integer, Boolean> used = new ConcurrentHashMap<>();
  private volatile boolean closed;

  private ProxyNet(int size, Path hostsDir) throws IOException {
    this.size = size;
    this.hostsDir = hostsDir;
    this.clientPorts = new int[size];
    this.cut = new boolean[size][size];
    for (int i = 0; i < size; i++) {
      clientPorts[i] = freePort();
    }
  }

  static ProxyNet create(int size, long seed) throws IOException {
    Path dir = Files.createTempDirectory("tern-chaos-hosts");
    ProxyNet net = new ProxyNet(size, dir);
    for (int i = 0; i < size; i++) {
      StringBuilder hosts = new StringBuilder("127.0.0.1 localhost\n");
      for (int j = 0; j < size; j++) {
        hosts
            .append("127.0.")
            .append(i + 1)
            .append('.')
            .append(j + 1)
            .append(' ')
            .append(host(j))
            .append('\n');
      }
      Files.writeString(dir.resolve("hosts-m" + (i + 1)), hosts.toString(), UTF_8);
    }
    LOG.info("loopback members behind per-link TCP proxies (hosts files in {})", dir);
    return net;
  }

  private static String host(int j) {
    return "tchaos-m" + (j + 1);
  }

  private int freePort() throws IOException {
    for (int attempt = 0; attempt < 100; attempt++) {
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
        if (used.putIfAbsent(s.getLocalPort(), true) == null) {
          return s.getLocalPort();
        }
      }
    }
    throw new IOException("no free port");
  }

  private synchronized int[] ports(int j, int incarnation) {
    return peerPorts.computeIfAbsent(
        j + "/" + incarnation,
        k -> {
          try {
            int[] p = {freePort(), freePort()};
            for (int i = 0; i < size; i++) {
              if (i != j) {
                listen(i, j, p);
              }
            }
            return p;
          } catch (IOException e) {
            throw new ChaosException("cannot set up the proxies of m" + (j + 1), e);
          }
        });
  }

  private void listen(int from, int to, int[] p) throws IOException {
    ServerSocket ss = new ServerSocket();
    ss.setReuseAddress(true);
    ss.bind(
        new InetSocketAddress(InetAddress.getByName("127.0." + (from + 1) + "." + (to + 1)), p[1]));
    listeners.add(ss);
    Thread t =
        new Thread(() -> accept(ss, from, to, p[0]), "proxy-m" + (from + 1) + "-m" + (to + 1));
    t.setDaemon(true);
    t.start();
  }

  private void accept(ServerSocket ss, int from, int to, int realPort) {
    while (!closed) {
      try {
        Socket in = ss.accept();
        sockets.add(in);
        Thread t = new Thread(() -> connect(in, from, to, realPort), "proxy-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void connect(Socket in, int from, int to, int realPort) {
    try {
      awaitLink(from, to);
      Socket out = new Socket("127.0.0.1", realPort);
      sockets.add(out);
      pump(in, out, from, to);
      pump(out, in, from, to);
    } catch (IOException | InterruptedException e) {
      closeQuietly(in);
    }
  }

  private void pump(Socket src, Socket dst, int a, int b) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[16 * 1024];
              try (InputStream is = src.getInputStream();
                  OutputStream os = dst.getOutputStream()) {
                while (!closed) {
                  awaitLink(a, b);
                  int n = is.read(buf);
                  if (n < 0) {
                    break;
                  }
                  awaitLink(a, b); // read while healthy, cut before forwarding: held, not lost
                  os.write(buf, 0, n);
                  os.flush();
                }
              } catch (IOException | InterruptedException e) {
                // connection over
              } finally {
                closeQuietly(src);
                closeQuietly(dst);
              }
            },
            "proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private void awaitLink(int a, int b) throws InterruptedException {
    while (!closed) {
      synchronized (this) {
        if (!cut[a][b] && !cut[b][a]) {
          return;
        }
      }
      Thread.sleep(20);
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  @Override
  public String kind() {
    return "proxy";
  }

  @Override
  public String clientHost(int i) {
    return "127.0.0.1";
  }

  @Override
  public int clientPort(int i) {
    return clientPorts[i];
  }

  @Override
  public String clientUrl(int i) {
    return "http://127.0.0.1:" + clientPorts[i];
  }

  @Override
  public String listenPeerUrl(int i, int incarnation) {
    return "http://127.0.0.1:" + ports(i, incarnation)[0];
  }

  @Override
  public String advertisePeerUrl(int i, int incarnation) {
    return "http://" + host(i) + ":" + ports(i, incarnation)[1];
  }

  @Override
  public List<String> commandPrefix(int i) {
    return List.of();
  }

  @Override
  public List<String> jvmOptions(int i) {
    return List.of("-Djdk.net.hosts.file=" + hostsDir.resolve("hosts-m" + (i + 1)));
  }

  @Override
  public Map<String, String> environment(int i) {
    return Map.of();
  }

  @Override
  public synchronized void cut(int from, int to) {
    cut[from][to] = true;
  }

  @Override
  public synchronized void healAll() {
    for (boolean[] row : cut) {
      java.util.Arrays.fill(row, false);
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (ServerSocket s : listeners) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing
      }
    }
    for (Socket s : new ArrayList<>(sockets)) {
      closeQuietly(s);
    }
    try {
      Cluster.deleteRecursively(hostsDir);
    } catch (IOException ignored) {
      // a temp dir
    }
  }
}
