package io.tern.bench.compare.tern;

import io.tern.bench.compare.Args;
import io.tern.bench.compare.FrontEnd;
import io.tern.bench.compare.Protocol;
import io.tern.raft.NotLeaderException;
import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.RaftConfig;
import io.tern.raft.core.Role;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.node.LogStore;
import io.tern.raft.node.NodeOptions;
import io.tern.raft.node.RaftNode;
import io.tern.raft.node.StateMachine;
import io.tern.raft.node.ThreadScheduler;
import io.tern.storage.FileSnapshotStore;
import io.tern.storage.RocksDbLogStore;
import io.tern.transport.GrpcTransport;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;

/**
 * One Tern member for the library comparison: {@link RaftNode} over {@link RocksDbLogStore} (synced
 * group commit), {@link FileSnapshotStore} and {@link GrpcTransport}, all with their defaults, and
 * a trivial state machine; clients speak {@link Protocol} through {@link FrontEnd}.
 *
 * <p>{@code --id 1 --data DIR --peers 1=127.0.0.1:7001,2=...,3=... --client-port 7101} and, for
 * profiling only, {@code --diag-writes true}, {@code --experiment-lazy-commit true} (see {@link
 * DiagnosticLogStore}) or {@code --experiment-no-disk true} (see {@link NoDiskLogStore}).
 */
public final class TernServer {
  public static void main(String[] argv) throws Exception {
    Args a = new Args(argv);
    long id = a.getLong("id");
    Path data = Path.of(a.get("data"));
    Files.createDirectories(data);
    Map<Long, InetSocketAddress> peers = Args.members(a.get("peers"));
    int clientPort = a.getInt("client-port", 0);

    NodeOptions options =
        NodeOptions.builder(RaftConfig.builder(id).random(new Random()).build())
            .initialVoters(peers.keySet())
            .build();
    Counter sm = new Counter();
    RocksDbLogStore log = RocksDbLogStore.open(data);
    // Profiling aids, off by default (see DiagnosticLogStore); the comparison runs without them.
    boolean lazyCommit = Boolean.parseBoolean(a.get("experiment-lazy-commit", "false"));
    DiagnosticLogStore diag =
        lazyCommit || Boolean.parseBoolean(a.get("diag-writes", "false"))
            ? new DiagnosticLogStore(log, lazyCommit)
            : null;
    FileSnapshotStore snapshots = FileSnapshotStore.open(data);
    GrpcTransport transport = new GrpcTransport(id, peers.get(id), peers);
    ThreadScheduler scheduler = new ThreadScheduler("tern-" + id);
    boolean noDisk = Boolean.parseBoolean(a.get("experiment-no-disk", "false"));
    LogStore store = noDisk ? new NoDiskLogStore() : diag != null ? diag : log;
    RaftNode node = RaftNode.start(options, store, snapshots, transport, sm, scheduler);

    FrontEnd front =
        new FrontEnd(
            clientPort,
            new FrontEnd.Backend() {
              @Override
              public boolean isLeader() {
                return node.softState().role() == Role.LEADER;
              }

              @Override
              public void propose(byte[] payload, FrontEnd.Reply reply) {
                node.propose(payload)
                    .whenComplete(
                        (result, err) -> {
                          if (err == null) {
                            reply.complete(Protocol.OK);
                          } else {
                            Throwable c = err instanceof CompletionException ? err.getCause() : err;
                            reply.complete(
                                c instanceof NotLeaderException
                                    ? Protocol.NOT_LEADER
                                    : Protocol.FAILED);
                          }
                        });
              }
            });

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.printf(
                      "tern member %d exiting: role=%s applied=%d applies=%d %s stats=%s%n",
                      id,
                      node.softState().role(),
                      node.appliedIndex(),
                      sm.count,
                      front.stats(),
                      log.stats());
                  if (diag != null) {
                    System.out.printf(
                        "tern member %d log store (lazyCommit=%s): %s%n",
                        id, lazyCommit, diag.summary());
                  }
                  front.close();
                  try {
                    node.stop().get();
                  } catch (Exception ignored) {
                    // exiting anyway
                  }
                  scheduler.close();
                  snapshots.close();
                  stopped.countDown();
                }));
    System.out.printf(
        "tern member %d up: raft %s, clients 127.0.0.1:%d, data %s%n",
        id, peers.get(id), clientPort, data);
    stopped.await();
  }

  /** Counts applied proposals and keeps the last value. Touched only on the apply thread. */
  static final class Counter implements StateMachine {
    volatile long count;
    private byte[] last = new byte[0];
    private long applied;

    @Override
    public Object[] apply(List<Entry> entries) {
      for (Entry e : entries) {
        if (e.type() == EntryType.NORMAL && e.data().length > 0) {
          count++;
          last = e.data();
        }
      }
      applied = entries.get(entries.size() - 1).index();
      return new Object[entries.size()];
    }

    @Override
    public long appliedIndex() {
      return applied;
    }

    @Override
    public SnapshotWriter snapshot() {
      long c = count;
      byte[] l = last;
      return out -> {
        DataOutputStream d = new DataOutputStream(out);
        d.writeLong(c);
        d.writeInt(l.length);
        d.write(l);
        d.flush();
      };
    }

    @Override
    public void restore(SnapshotMeta meta, InputStream data) throws IOException {
      DataInputStream d = new DataInputStream(data);
      count = d.readLong();
      last = new byte[d.readInt()];
      d.readFully(last);
      applied = meta.index();
    }
  }
}
