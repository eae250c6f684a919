package io.tern.example.map;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.tern.embed.RaftServer;
import io.tern.embed.RaftServerException;
import io.tern.embed.RaftServerOptions;
import io.tern.embed.ServerStatus;
import io.tern.raft.NotLeaderException;
import io.tern.raft.node.ReadMode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member of the replicated map: a {@link RaftServer} replicating a {@link MapStateMachine}, and
 * a line protocol for clients on 127.0.0.1 (one request per line, one answer line each):
 *
 * <pre>
 * PUT key value                     OK | NOTLEADER leaderId | ERR message
 * DELETE key                        OK | NOTLEADER leaderId | ERR message
 * GET key                           VALUE value | NONE      (linearizable)
 * STATUS                            STATUS id=.. role=.. term=.. leader=.. commit=.. applied=..
 *                                          last=.. snapshots-installed=..
 * DIGEST                            DIGEST appliedIndex hash   (this member's state, no round trip)
 * SNAPSHOT                          OK index
 * ADD id host:port voter|learner    OK   (on the leader; records the address here)
 * PEER id host:port                 OK   (records a member's address here only)
 * REMOVE id                         OK   (on the leader)
 * PROMOTE id                        OK   (on the leader)
 * </pre>
 *
 * Writes and reads may go to any member: Raft forwards them to the leader. Membership changes must
 * go to the leader ({@code NOTLEADER} names it otherwise).
 */
public final class MapServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MapServer.class);

  /** Exit status when the arguments are wrong. */
  public static final int EXIT_USAGE = 2;

  /** Exit status when the member cannot start (e.g. corrupt data, port in use). */
  public static final int EXIT_START_FAILED = 1;

  /** Exit status when the member stopped on an error while running. */
  public static final int EXIT_FAILED = 3;

  private final RaftServer raft;
  private final MapStateMachine map;
  private final ServerSocket clients;
  private final long waitMillis;
  private final ExecutorService connections;
  private final Thread acceptor;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();

  private MapServer(RaftServer raft, MapStateMachine map, ServerSocket clients) {
    this.raft = raft;
    this.map = map;
    this.clients = clients;
    // The library fails requests after its request timeout; this only guards against a bug.
    this.waitMillis = raft.options().requestTimeout().toMillis() + 10_000;
    AtomicInteger n = new AtomicInteger();
    this.connections =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "map-client-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.acceptor = new Thread(this::acceptLoop, "map-accept-" + raft.id());
    acceptor.setDaemon(true);
  }

  /** Binds the client port, starts the Raft member, then serves clients. */
  public static MapServer start(MapServerArgs args) throws IOException {
    RaftServerOptions.Builder options =
        RaftServerOptions.builder(args.id())
            .dataDir(args.dataDir())
            .raftAddress(new InetSocketAddress(MapServerArgs.HOST, args.raftPort()))
            .initialVoters(args.peers())
            .join(args.join());
    if (args.snapshotEntries() != null) {
      options.snapshotEntries(args.snapshotEntries());
    }
    if (args.snapshotTrailingEntries() != null) {
      options.snapshotTrailingEntries(args.snapshotTrailingEntries());
    }
    if (args.tickMillis() != null) {
      options.tickMillis(args.tickMillis());
    }
    RaftServerOptions built = options.build();
    ServerSocket clients =
        new ServerSocket(args.clientPort(), 64, InetAddress.getByName(MapServerArgs.HOST));
    try {
      MapStateMachine map = new MapStateMachine();
      RaftServer raft = RaftServer.start(built, map);
      MapServer server = new MapServer(raft, map, clients);
      server.acceptor.start();
      return server;
    } catch (RuntimeException e) {
      clients.close();
      throw e;
    }
  }

  public RaftServer raft() {
    return raft;
  }

  public MapStateMachine map() {
    return map;
  }

  public InetSocketAddress clientAddress() {
    return (InetSocketAddress) clients.getLocalSocketAddress();
  }

  // ---------------------------------------------------------------- connections

  private void acceptLoop() {
    while (!closed.get()) {
      Socket s;
      try {
        s = clients.accept();
      } catch (IOException e) {
        if (!closed.get()) {
          LOG.warn("accepting clients failed", e);
        }
        return;
      }
      open.add(s);
      try {
        connections.execute(() -> serve(s));
      } catch (RuntimeException e) {
        open.remove(s);
        closeQuietly(s);
      }
    }
  }

  private void serve(Socket s) {
    try (s;
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), UTF_8));
        Writer out = new BufferedWriter(new OutputStreamWriter(s.getOutputStream(), UTF_8))) {
      s.setTcpNoDelay(true);
      String line;
      while ((line = in.readLine()) != null) {
        out.write(handle(line));
        out.write('\n');
        out.flush();
      }
    } catch (SocketException e) {
      // the client went away, or we are closing
    } catch (IOException e) {
      LOG.debug("client connection failed", e);
    } finally {
      open.remove(s);
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }

  // ---------------------------------------------------------------- requests

  /** Answers one request line; never throws. */
  public String handle(String line) {
    String[] w = line.strip().split(" +", 3);
    String cmd = w[0].toUpperCase(java.util.Locale.ROOT);
    try {
      switch (cmd) {
        case "PUT" -> {
          if (w.length < 3) {
            return usage("PUT key value");
          }
          await(raft.propose(MapStateMachine.put(w[1], w[2])));
          return "OK";
        }
        case "DELETE" -> {
          if (w.length != 2) {
            return usage("DELETE key");
          }
          await(raft.propose(MapStateMachine.delete(w[1])));
          return "OK";
        }
        case "GET" -> {
          if (w.length != 2) {
            return usage("GET key");
          }
          String key = w[1];
          String v = await(raft.read(ReadMode.READ_INDEX, () -> map.get(key)));
          return v == null ? "NONE" : "VALUE " + v;
        }
        case "STATUS" -> {
          ServerStatus st = await(raft.status());
          return "STATUS id="
              + st.id()
              + " role="
              + st.role()
              + " term="
              + st.term()
              + " leader="
              + st.leader()
              + " commit="
              + st.commitIndex()
              + " applied="
              + st.appliedIndex()
              + " last="
              + st.lastIndex()
              + " snapshots-installed="
              + st.snapshotsInstalled();
        }
        case "DIGEST" -> {
          MapStateMachine.Digest d = map.digest();
          return "DIGEST " + d.appliedIndex() + " " + d.hash();
        }
        case "SNAPSHOT" -> {
          return "OK " + await(raft.snapshot());
        }
        case "ADD" -> {
          String[] a = line.strip().split(" +");
          if (a.length != 4 || !(a[3].equals("voter") || a[3].equals("learner"))) {
            return usage("ADD id host:port voter|learner");
          }
          await(
              raft.addMember(
                  Long.parseLong(a[1]), MapServerArgs.parseAddress(a[2]), a[3].equals("learner")));
          return "OK";
        }
        case "PEER" -> {
          String[] a = line.strip().split(" +");
          if (a.length != 3) {
            return usage("PEER id host:port");
          }
          raft.setPeerAddress(Long.parseLong(a[1]), MapServerArgs.parseAddress(a[2]));
          return "OK";
        }
        case "REMOVE" -> {
          if (w.length != 2) {
            return usage("REMOVE id");
          }
          await(raft.removeMember(Long.parseLong(w[1])));
          return "OK";
        }
        case "PROMOTE" -> {
          if (w.length != 2) {
            return usage("PROMOTE id");
          }
          await(raft.promote(Long.parseLong(w[1])));
          return "OK";
        }
        default -> {
          return "ERR unknown command '" + w[0] + "'";
        }
      }
    } catch (NotLeaderException e) {
      return "NOTLEADER " + e.leaderHint();
    } catch (NumberFormatException e) {
      return "ERR not a number: " + e.getMessage();
    } catch (TimeoutException e) {
      return "ERR no answer within " + waitMillis + " ms";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "ERR interrupted";
    } catch (RuntimeException e) {
      return "ERR " + describe(e);
    }
  }

  private static String usage(String form) {
    return "ERR usage: " + form;
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return (e.getClass().getSimpleName() + (m == null ? "" : ": " + m)).replace('\n', ' ');
  }

  /** The future's value; its failure rethrown unwrapped (a NotLeaderException stays one). */
  private <T> T await(CompletableFuture<T> f) throws InterruptedException, TimeoutException {
    try {
      return f.get(waitMillis, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      while (cause instanceof CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(describe(cause), cause);
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** Stops serving clients, then closes the Raft member. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      clients.close();
    } catch (IOException e) {
      LOG.debug("closing the client socket failed", e);
    }
    open.forEach(MapServer::closeQuietly);
    connections.shutdownNow();
    raft.close();
  }

  public static void main(String[] argv) {
    MapServerArgs args;
    try {
      args = MapServerArgs.parse(argv);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.err.println(MapServerArgs.USAGE);
      System.exit(EXIT_USAGE);
      return;
    }
    MapServer server;
    try {
      server = start(args);
    } catch (RaftServerException | IllegalArgumentException | IOException e) {
      LOG.error("member {} failed to start: {}", args.id(), e.getMessage(), e);
      System.exit(EXIT_START_FAILED);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "map-shutdown"));
    LOG.info(
        "READY member {}: raft {}, clients {}",
        args.id(),
        server.raft().raftAddress(),
        server.clientAddress());
    Throwable failure = server.raft().failed().join();
    LOG.error("member {} stopped on an error; exiting", args.id(), failure);
    System.exit(EXIT_FAILED);
  }
}
