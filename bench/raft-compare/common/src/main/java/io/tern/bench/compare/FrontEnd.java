package io.tern.bench.compare;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The client side of a benchmark server, identical for every Raft library: accepts connections
 * speaking {@link Protocol}, hands each proposal to the {@link Backend} on the connection's reader
 * thread, and sends the answers.
 *
 * <p>Answers are never written on the thread that completes them (a library's apply or callback
 * thread): {@link Reply#complete} appends the 13-byte frame to its connection's buffer and, if the
 * buffer was empty, queues the connection for the single responder thread, which writes each
 * connection's whole buffer with one system call. So a batch of applied entries costs one wake-up
 * and one write per connection, whatever the library.
 */
public final class FrontEnd implements AutoCloseable {
  /** What a Raft library must provide. */
  public interface Backend {
    /** Whether this member currently leads (for probes). */
    boolean isLeader();

    /**
     * Proposes {@code payload}; {@code reply} must be completed exactly once, with {@link
     * Protocol#OK} only after the entry is committed and applied on this member. Called on a
     * connection's reader thread: must not block for long.
     */
    void propose(byte[] payload, Reply reply);
  }

  /** Completes one request; thread-safe. */
  public interface Reply {
    void complete(byte status);
  }

  private final ServerSocket server;
  private final Backend backend;
  private final Thread acceptor;
  private final Thread responder;
  private final ConcurrentLinkedQueue<Connection> dirty = new ConcurrentLinkedQueue<>();
  private final List<Connection> connections = new CopyOnWriteArrayList<>();
  private volatile boolean responderSleeping;
  private volatile boolean closed;

  private final LongAdder proposals = new LongAdder();
  private final LongAdder ok = new LongAdder();
  private final LongAdder notLeader = new LongAdder();
  private final LongAdder failed = new LongAdder();

  /** Proposal to answer inside this server (microseconds), reset by each probe. */
  private final Recorder serverLatency = new Recorder(TimeUnit.SECONDS.toMicros(60), 2);

  public FrontEnd(int port, Backend backend) throws IOException {
    this.backend = backend;
    server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress("127.0.0.1", port), 128);
    acceptor = new Thread(this::acceptLoop, "client-acceptor");
    acceptor.setDaemon(true);
    responder = new Thread(this::respondLoop, "client-responder");
    responder.setDaemon(true);
    responder.start();
    acceptor.start();
  }

  /** Counters since start, for the server's exit line. */
  public String stats() {
    reportServerLatency();
    return String.format(
        "proposals=%d ok=%d notLeader=%d failed=%d",
        proposals.sum(), ok.sum(), notLeader.sum(), failed.sum());
  }

  /**
   * Prints the time from handing a proposal to the library to its answer, inside this server, since
   * the last report (the load generator probes before each in-flight level).
   */
  private void reportServerLatency() {
    Histogram h;
    synchronized (serverLatency) {
      h = serverLatency.getIntervalHistogram();
    }
    if (h.getTotalCount() > 0) {
      System.out.printf(
          "server-side propose-to-answer: n=%d p50=%dus p90=%dus p99=%dus mean=%.0fus%n",
          h.getTotalCount(),
          h.getValueAtPercentile(50),
          h.getValueAtPercentile(90),
          h.getValueAtPercentile(99),
          h.getMean());
    }
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket s = server.accept();
        s.setTcpNoDelay(true);
        Connection c = new Connection(s);
        connections.add(c);
        Thread t = new Thread(c::readLoop, "client-reader-" + s.getPort());
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        if (!closed) {
          System.err.println("accept failed: " + e);
        }
      }
    }
  }

  private void respondLoop() {
    while (!closed) {
      Connection c = dirty.poll();
      if (c == null) {
        responderSleeping = true;
        if (dirty.isEmpty()) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        responderSleeping = false;
        continue;
      }
      c.flush();
    }
  }

  private void schedule(Connection c) {
    dirty.offer(c);
    if (responderSleeping) {
      LockSupport.unpark(responder);
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException ignored) {
      // closing
    }
    for (Connection c : connections) {
      c.close();
    }
    LockSupport.unpark(responder);
  }

  private final class Connection {
    private final Socket socket;
    private final OutputStream out;
    // Guarded by this.
    private ByteBuffer pending = ByteBuffer.allocate(64 << 10);
    private ByteBuffer spare = ByteBuffer.allocate(64 << 10);
    private boolean queued;

    Connection(Socket socket) throws IOException {
      this.socket = socket;
      this.out = socket.getOutputStream();
    }

    void readLoop() {
      try (InputStream raw = socket.getInputStream()) {
        DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(raw, 64 << 10));
        while (true) {
          int len = in.readInt();
          if (len < 8 || len > Protocol.MAX_REQUEST) {
            throw new IOException("bad frame length " + len);
          }
          long requestId = in.readLong();
          byte[] payload = new byte[len - 8];
          in.readFully(payload);
          if (payload.length == 0) {
            boolean leader = backend.isLeader();
            if (leader) {
              reportServerLatency();
            }
            answer(requestId, leader ? Protocol.OK : Protocol.NOT_LEADER);
            continue;
          }
          proposals.increment();
          long start = System.nanoTime();
          backend.propose(
              payload,
              status -> {
                serverLatency.recordValue(
                    Math.min(
                        TimeUnit.SECONDS.toMicros(60),
                        TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start)));
                switch (status) {
                  case Protocol.OK -> ok.increment();
                  case Protocol.NOT_LEADER -> notLeader.increment();
                  default -> failed.increment();
                }
                answer(requestId, status);
              });
        }
      } catch (EOFException e) {
        // client went away
      } catch (IOException e) {
        if (!closed && !socket.isClosed()) {
          System.err.println("client connection failed: " + e);
        }
      } finally {
        close();
        connections.remove(this);
      }
    }

    void answer(long requestId, byte status) {
      boolean schedule;
      synchronized (this) {
        if (pending.remaining() < Protocol.RESPONSE_BYTES) {
          ByteBuffer bigger = ByteBuffer.allocate(pending.capacity() * 2);
          pending.flip();
          bigger.put(pending);
          pending = bigger;
        }
        pending.putInt(9).putLong(requestId).put(status);
        schedule = !queued;
        queued = true;
      }
      if (schedule) {
        schedule(this);
      }
    }

    /** On the responder thread. */
    void flush() {
      ByteBuffer b;
      synchronized (this) {
        b = pending;
        pending = spare;
        pending.clear();
        queued = false;
      }
      try {
        out.write(b.array(), 0, b.position());
      } catch (IOException e) {
        close();
      }
      synchronized (this) {
        spare = b;
      }
    }

    void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing
      }
    }
  }
}
