package io.tern.bench.compare;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Closed-loop load generator: finds the leader among {@code --members}, opens {@code --connections}
 * TCP connections to it and keeps exactly {@code --inflight} proposals of {@code --payload} bytes
 * outstanding in total (spread evenly over the connections). Each answer is followed at once by a
 * new request on the same connection. Completions during the first {@code --warmup} seconds are not
 * counted; those during the next {@code --duration} seconds give the throughput and the latency
 * histogram (HdrHistogram, microseconds, send to answer).
 *
 * <p>Prints one line {@code RESULT system=... inflight=... ops=... p50_us=... p99_us=...} (and
 * appends it to {@code --out} if given). A NOT_LEADER answer (the leader changed under load) stops
 * that connection's requests; once its outstanding ones are answered it finds the new leader and
 * goes on (counted in {@code notleader} and {@code leaderchanges}). Exits 1 if there is no leader,
 * no completion, or any request failed.
 */
public final class Load {
  private static final long HIGHEST_US = TimeUnit.SECONDS.toMicros(60);

  public static void main(String[] argv) throws Exception {
    Args a = new Args(argv);
    String system = a.get("system", "?");
    List<InetSocketAddress> members = new ArrayList<>();
    for (String m : a.get("members").split(",")) {
      members.add(Args.address(m.trim()));
    }
    int inflight = a.getInt("inflight", 1);
    int connections = Math.min(inflight, a.getInt("connections", 16));
    int payload = a.getInt("payload", 256);
    double warmup = Double.parseDouble(a.get("warmup", "5"));
    double duration = Double.parseDouble(a.get("duration", "15"));
    long leaderWaitMs = TimeUnit.SECONDS.toMillis(a.getInt("leader-wait", 60));

    InetSocketAddress leader = findLeader(members, leaderWaitMs);
    if (leader == null) {
      System.err.println("no leader among " + members);
      System.exit(1);
    }

    long start = System.nanoTime();
    long measureFrom = start + (long) (warmup * 1e9);
    long measureTo = measureFrom + (long) (duration * 1e9);
    List<Client> clients = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      int share = inflight / connections + (i < inflight % connections ? 1 : 0);
      clients.add(new Client(i, leader, members, share, payload, measureFrom, measureTo));
    }
    for (Client c : clients) {
      c.thread.start();
    }
    Histogram total = new Histogram(HIGHEST_US, 3);
    long count = 0;
    long errors = 0;
    long notLeader = 0;
    long leaderChanges = 0;
    String failure = null;
    for (Client c : clients) {
      c.thread.join();
      total.add(c.histogram);
      count += c.measured;
      errors += c.failed;
      notLeader += c.notLeader;
      leaderChanges = Math.max(leaderChanges, c.leaderChanges);
      if (c.error != null && failure == null) {
        failure = c.error;
      }
    }
    double ops = count / duration;
    String line =
        String.format(
            Locale.ROOT,
            "RESULT system=%s inflight=%d connections=%d ops=%.0f p50_us=%d p90_us=%d p99_us=%d"
                + " p999_us=%d max_us=%d mean_us=%.0f count=%d notleader=%d leaderchanges=%d"
                + " failed=%d",
            system,
            inflight,
            connections,
            ops,
            total.getValueAtPercentile(50),
            total.getValueAtPercentile(90),
            total.getValueAtPercentile(99),
            total.getValueAtPercentile(99.9),
            total.getMaxValue(),
            total.getMean(),
            count,
            notLeader,
            leaderChanges,
            errors);
    System.out.println(line);
    String out = a.get("out", null);
    if (out != null) {
      java.nio.file.Files.writeString(
          java.nio.file.Path.of(out),
          line + System.lineSeparator(),
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
    }
    if (failure != null) {
      System.err.println("load failed: " + failure);
    }
    System.exit(count == 0 || errors > 0 || failure != null ? 1 : 0);
  }

  /** Probes every member until one says it leads (and stays leader for a few probes). */
  static InetSocketAddress findLeader(List<InetSocketAddress> members, long waitMs)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + waitMs;
    while (System.currentTimeMillis() < deadline) {
      for (InetSocketAddress m : members) {
        if (probe(m) && probe(m) && probe(m)) {
          return m;
        }
      }
      Thread.sleep(200);
    }
    return null;
  }

  /** True if {@code member} answers a probe with OK (it leads). */
  static boolean probe(InetSocketAddress member) {
    try (Socket s = new Socket()) {
      s.connect(member, 1000);
      s.setSoTimeout(2000);
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      out.writeInt(8);
      out.writeLong(-1);
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      int len = in.readInt();
      long id = in.readLong();
      byte status = in.readByte();
      return len == 9 && id == -1 && status == Protocol.OK;
    } catch (IOException e) {
      return false;
    }
  }

  /** One connection with a fixed number of outstanding requests, each in its own slot. */
  private static final class Client {
    final Thread thread;
    final Histogram histogram = new Histogram(HIGHEST_US, 3);
    final InetSocketAddress leader;
    final int slots;
    final int payloadBytes;
    final long measureFrom;
    final long measureTo;
    final long[] sentAt;
    final byte[] payload;
    long measured;
    long failed;
    long notLeader;
    long leaderChanges;
    String error;
    final List<InetSocketAddress> members;
    private long seq;

    Client(
        int index,
        InetSocketAddress leader,
        List<InetSocketAddress> members,
        int slots,
        int payloadBytes,
        long measureFrom,
        long measureTo) {
      this.leader = leader;
      this.members = members;
      this.slots = slots;
      this.payloadBytes = payloadBytes;
      this.measureFrom = measureFrom;
      this.measureTo = measureTo;
      this.sentAt = new long[slots];
      this.payload = new byte[payloadBytes];
      new SplittableRandom(index * 7919L + 17).nextBytes(payload);
      this.thread = new Thread(this::run, "load-" + index);
    }

    private void request(ByteBuffer out, int slot) {
      long id = (++seq << 16) | slot;
      // Vary the payload so no two entries are alike (no compression wins anywhere).
      payload[0] = (byte) seq;
      payload[1] = (byte) (seq >>> 8);
      payload[2] = (byte) slot;
      out.putInt(8 + payloadBytes).putLong(id).put(payload);
      sentAt[slot] = System.nanoTime();
    }

    /** Sessions with the leader; after a NOT_LEADER answer, finds the new leader and goes on. */
    void run() {
      InetSocketAddress target = leader;
      while (true) {
        boolean redirected = session(target);
        if (!redirected || error != null || System.nanoTime() >= measureTo) {
          return;
        }
        try {
          target = findLeader(members, TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        if (target == null) {
          error = "no leader after a NOT_LEADER answer";
          return;
        }
        leaderChanges++;
      }
    }

    /**
     * Keeps every slot busy on a connection to {@code target} until the measurement ends or {@code
     * target} answers NOT_LEADER. Returns whether it answered NOT_LEADER.
     */
    private boolean session(InetSocketAddress target) {
      int frame = 4 + 8 + payloadBytes;
      ByteBuffer out = ByteBuffer.allocate(Math.max(64 << 10, frame * slots));
      byte[] inBuf = new byte[Math.max(64 << 10, Protocol.RESPONSE_BYTES * slots * 2)];
      ByteBuffer in = ByteBuffer.wrap(inBuf);
      int outstanding = 0;
      boolean redirected = false;
      try (Socket s = new Socket()) {
        s.setTcpNoDelay(true);
        s.connect(target, 2000);
        s.setSoTimeout(15_000);
        InputStream is = s.getInputStream();
        OutputStream os = s.getOutputStream();
        for (int slot = 0; slot < slots; slot++) {
          request(out, slot);
        }
        outstanding = slots;
        os.write(out.array(), 0, out.position());
        out.clear();
        boolean stopping = false;
        while (outstanding > 0) {
          int n = is.read(inBuf, in.position(), inBuf.length - in.position());
          if (n < 0) {
            throw new IOException("server closed the connection");
          }
          long now = System.nanoTime();
          in.position(in.position() + n);
          in.flip();
          while (in.remaining() >= Protocol.RESPONSE_BYTES) {
            int len = in.getInt();
            if (len != 9) {
              throw new IOException("bad response length " + len);
            }
            long id = in.getLong();
            byte status = in.get();
            int slot = (int) (id & 0xFFFF);
            outstanding--;
            if (status == Protocol.OK) {
              if (now >= measureFrom && now < measureTo) {
                measured++;
                histogram.recordValue(
                    Math.min(HIGHEST_US, TimeUnit.NANOSECONDS.toMicros(now - sentAt[slot])));
              }
            } else if (status == Protocol.NOT_LEADER) {
              notLeader++;
              redirected = true;
              stopping = true;
            } else {
              failed++;
            }
            if (now >= measureTo) {
              stopping = true;
            }
            if (!stopping) {
              request(out, slot);
              outstanding++;
            }
          }
          in.compact();
          if (out.position() > 0) {
            os.write(out.array(), 0, out.position());
            out.clear();
          }
        }
      } catch (IOException e) {
        error = e + " (" + outstanding + " outstanding)";
      }
      return redirected;
    }
  }
}
