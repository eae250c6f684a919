package io.tern.bench.compare.jraft;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Iterator;
import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.RaftGroupService;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.core.StateMachineAdapter;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.entity.Task;
import com.alipay.sofa.jraft.error.RaftError;
import com.alipay.sofa.jraft.option.NodeOptions;
import io.tern.bench.compare.Args;
import io.tern.bench.compare.FrontEnd;
import io.tern.bench.compare.Protocol;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.CountDownLatch;

/**
 * One SOFAJRaft 1.3.14 member for the library comparison, with the library's defaults: the default
 * service factory (RocksDB log storage, {@code RaftOptions.sync = true}: every log batch is written
 * with a synced RocksDB write), bolt RPC, no snapshots (none configured). Clients speak {@link
 * Protocol} through {@link FrontEnd}; a proposal is a {@link Task} whose closure answers the client
 * when {@link StateMachineAdapter#onApply} has applied it on this (the leader) member.
 *
 * <p>{@code --id 1 --data DIR --peers 1=127.0.0.1:7001,2=...,3=... --client-port 7101}
 */
public final class JraftServer {
  private static final String GROUP = "bench";

  public static void main(String[] argv) throws Exception {
    Args a = new Args(argv);
    long id = a.getLong("id");
    Path data = Path.of(a.get("data"));
    Files.createDirectories(data);
    Map<Long, InetSocketAddress> peers = Args.members(a.get("peers"));
    int clientPort = a.getInt("client-port", 0);

    StringJoiner conf = new StringJoiner(",");
    peers.values().forEach(p -> conf.add(p.getHostString() + ":" + p.getPort()));
    InetSocketAddress self = peers.get(id);
    PeerId serverId = PeerId.parsePeer(self.getHostString() + ":" + self.getPort());

    Counter fsm = new Counter();
    NodeOptions options = new NodeOptions();
    options.setElectionTimeoutMs(1000);
    options.setInitialConf(parse(conf.toString()));
    options.setFsm(fsm);
    options.setLogUri(data.resolve("log").toString());
    options.setRaftMetaUri(data.resolve("meta").toString());
    RaftGroupService group = new RaftGroupService(GROUP, serverId, options);
    Node node = group.start();

    FrontEnd front =
        new FrontEnd(
            clientPort,
            new FrontEnd.Backend() {
              @Override
              public boolean isLeader() {
                return node.isLeader();
              }

              @Override
              public void propose(byte[] payload, FrontEnd.Reply reply) {
                node.apply(new Task(ByteBuffer.wrap(payload), new Answer(reply)));
              }
            });

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.printf(
                      "jraft member %d exiting: leader=%s lastApplied=%d applies=%d %s%n",
                      id, node.isLeader(), fsm.lastIndex, fsm.count, front.stats());
                  front.close();
                  group.shutdown();
                  stopped.countDown();
                }));
    System.out.printf(
        "jraft member %d up: raft %s, clients 127.0.0.1:%d, data %s%n",
        id, serverId, clientPort, data);
    stopped.await();
  }

  private static Configuration parse(String s) {
    Configuration c = new Configuration();
    if (!c.parse(s)) {
      throw new IllegalArgumentException("bad configuration " + s);
    }
    return c;
  }

  /** Answers the client once the task is applied here (or failed). */
  private record Answer(FrontEnd.Reply reply) implements Closure {
    @Override
    public void run(Status status) {
      if (status.isOk()) {
        reply.complete(Protocol.OK);
      } else {
        reply.complete(
            status.getRaftError() == RaftError.EPERM ? Protocol.NOT_LEADER : Protocol.FAILED);
      }
    }
  }

  /** Counts applied tasks and keeps the last value. Runs on jraft's FSM caller thread. */
  static final class Counter extends StateMachineAdapter {
    volatile long count;
    volatile long lastIndex;
    private ByteBuffer last;

    @Override
    public void onApply(Iterator iter) {
      while (iter.hasNext()) {
        last = iter.getData();
        count++;
        lastIndex = iter.getIndex();
        Closure done = iter.done();
        if (done != null) {
          done.run(Status.OK());
        }
        iter.next();
      }
    }
  }
}
