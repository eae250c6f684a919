package io.tern.bench.compare.ratis;

import io.tern.bench.compare.Args;
import io.tern.bench.compare.FrontEnd;
import io.tern.bench.compare.Protocol;
import java.io.File;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * One Apache Ratis 3.1.3 member for the library comparison: gRPC between members, the durable
 * segmented log with its defaults (a flush and {@code FileChannel.force} per batch: async flush and
 * unsafe flush off), no snapshots. Clients speak {@link Protocol} through {@link FrontEnd}; a
 * proposal is submitted in-process to this server as a write {@link RaftClientRequest} (as a Ratis
 * client's request arriving over RPC would be), and answered when the server replies, which it does
 * once the entry is committed and applied here.
 *
 * <p>{@code --id 1 --data DIR --peers 1=127.0.0.1:7001,2=...,3=... --client-port 7101 [--prop
 * raft.grpc.server.leader.outstanding.appends.max=1 ...]}
 */
public final class RatisServer {
  private static final RaftGroupId GROUP =
      RaftGroupId.valueOf(UUID.fromString("7e4a1c3b-0000-4000-8000-00000000be4c"));

  public static void main(String[] argv) throws Exception {
    Args a = new Args(argv);
    long id = a.getLong("id");
    Path data = Path.of(a.get("data"));
    Files.createDirectories(data);
    Map<Long, InetSocketAddress> members = Args.members(a.get("peers"));
    int clientPort = a.getInt("client-port", 0);

    List<RaftPeer> peers = new ArrayList<>();
    members.forEach(
        (k, v) ->
            peers.add(
                RaftPeer.newBuilder()
                    .setId(peerId(k))
                    .setAddress(v.getHostString() + ":" + v.getPort())
                    .build()));
    RaftGroup group = RaftGroup.valueOf(GROUP, peers);

    RaftProperties props = new RaftProperties();
    RaftConfigKeys.Rpc.setType(props, SupportedRpcType.GRPC);
    GrpcConfigKeys.Server.setHost(props, members.get(id).getHostString());
    GrpcConfigKeys.Server.setPort(props, members.get(id).getPort());
    RaftServerConfigKeys.setStorageDir(props, List.of(new File(data.toFile(), "ratis")));
    for (String kv : a.all("prop")) {
      String[] p = kv.split("=", 2);
      props.set(p[0], p[1]);
    }

    Counter sm = new Counter();
    RaftServer server =
        RaftServer.newBuilder()
            .setServerId(peerId(id))
            .setGroup(group)
            .setProperties(props)
            .setStateMachine(sm)
            .setOption(RaftStorage.StartupOption.FORMAT)
            .build();
    server.start();
    RaftServer.Division division = server.getDivision(GROUP);
    RaftPeerId self = peerId(id);
    ClientId clientId = ClientId.randomId();
    AtomicLong callIds = new AtomicLong();
    AtomicLong failuresLogged = new AtomicLong();

    FrontEnd front =
        new FrontEnd(
            clientPort,
            new FrontEnd.Backend() {
              @Override
              public boolean isLeader() {
                // Ready: it has committed an entry of its term and accepts writes.
                return division.getInfo().isLeaderReady();
              }

              @Override
              public void propose(byte[] payload, FrontEnd.Reply reply) {
                RaftClientRequest request =
                    RaftClientRequest.newBuilder()
                        .setClientId(clientId)
                        .setServerId(self)
                        .setGroupId(GROUP)
                        .setCallId(callIds.incrementAndGet())
                        .setMessage(Message.valueOf(UnsafeByteOperations.unsafeWrap(payload)))
                        .setType(RaftClientRequest.writeRequestType())
                        .build();
                CompletableFuture<RaftClientReply> f;
                try {
                  f = server.submitClientRequestAsync(request);
                } catch (Exception e) {
                  reply.complete(Protocol.FAILED);
                  return;
                }
                f.whenComplete(
                    (r, err) -> {
                      if (err == null && r.isSuccess()) {
                        reply.complete(Protocol.OK);
                      } else if (r != null && r.getNotLeaderException() != null) {
                        reply.complete(Protocol.NOT_LEADER);
                      } else {
                        if (failuresLogged.getAndIncrement() < 10) {
                          System.err.println(
                              "proposal failed: " + (err != null ? err : r.getException()));
                        }
                        reply.complete(Protocol.FAILED);
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
                      "ratis member %d exiting: leader=%s lastApplied=%s applies=%d %s%n",
                      id,
                      division.getInfo().isLeader(),
                      sm.getLastAppliedTermIndex(),
                      sm.count,
                      front.stats());
                  front.close();
                  try {
                    server.close();
                  } catch (Exception ignored) {
                    // exiting anyway
                  }
                  stopped.countDown();
                }));
    System.out.printf(
        "ratis member %d up: raft %s, clients 127.0.0.1:%d, data %s; forceSyncNum=%d"
            + " unsafeFlush=%s asyncFlush=%s outstandingAppendsMax=%d%n",
        id,
        members.get(id),
        clientPort,
        data,
        RaftServerConfigKeys.Log.forceSyncNum(props),
        RaftServerConfigKeys.Log.unsafeFlushEnabled(props),
        RaftServerConfigKeys.Log.asyncFlushEnabled(props),
        GrpcConfigKeys.Server.leaderOutstandingAppendsMax(props));
    stopped.await();
  }

  private static RaftPeerId peerId(long id) {
    return RaftPeerId.valueOf("m" + id);
  }

  /** Counts applied transactions and keeps the last value. */
  static final class Counter extends BaseStateMachine {
    volatile long count;
    private volatile ByteString last = ByteString.EMPTY;

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
      LogEntryProto entry = trx.getLogEntry();
      last = entry.getStateMachineLogEntry().getLogData();
      count++;
      updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
      return CompletableFuture.completedFuture(Message.EMPTY);
    }
  }
}
