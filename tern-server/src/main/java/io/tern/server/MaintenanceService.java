package io.tern.server;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.tern.api.AlarmMember;
import io.tern.api.AlarmRequest;
import io.tern.api.AlarmResponse;
import io.tern.api.AlarmType;
import io.tern.api.DefragmentRequest;
import io.tern.api.DefragmentResponse;
import io.tern.api.HashKVRequest;
import io.tern.api.HashKVResponse;
import io.tern.api.HashRequest;
import io.tern.api.HashResponse;
import io.tern.api.InternalRequest;
import io.tern.api.MaintenanceGrpc;
import io.tern.api.MemberAttributes;
import io.tern.api.MoveLeaderRequest;
import io.tern.api.MoveLeaderResponse;
import io.tern.api.SnapshotRequest;
import io.tern.api.SnapshotResponse;
import io.tern.api.StatusRequest;
import io.tern.api.StatusResponse;
import io.tern.embed.ServerStatus;
import io.tern.kv.KvOptions;
import io.tern.kv.KvStateMachine;
import io.tern.raft.NotLeaderException;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** etcd's Maintenance service. */
final class MaintenanceService extends MaintenanceGrpc.MaintenanceImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(MaintenanceService.class);

  /** Largest blob of one Snapshot response. */
  static final int SNAPSHOT_CHUNK_BYTES = 1 << 20;

  private final EtcdServer server;

  MaintenanceService(EtcdServer server) {
    this.server = server;
  }

  @Override
  public void alarm(AlarmRequest request, StreamObserver<AlarmResponse> out) {
    if (request.getAction() == AlarmRequest.AlarmAction.GET) {
      // Linearizable, as in etcd (where the list goes through Raft): an alarm raised through any
      // member before this call is listed.
      Replies.send(
          out,
          server
              .linearizableBarrier()
              .thenApply(
                  ignored ->
                      AlarmResponse.newBuilder()
                          .setHeader(server.header(server.kv().revision()))
                          .addAllAlarms(
                              server.kv().alarms().stream()
                                  .filter(
                                      a ->
                                          request.getAlarm() == AlarmType.NONE
                                              || a.getAlarm() == request.getAlarm())
                                  .toList())
                          .build()),
          server.workers());
      return;
    }
    Replies.send(
        out,
        server.write(InternalRequest.newBuilder().setAlarm(request), AlarmResponse.class),
        server.workers());
  }

  /**
   * Whether this member is a Raft learner (etcd's meaning of {@code StatusResponse.isLearner}): as
   * its own Raft configuration says, or, before that configuration names it (a member that just
   * joined), as the member table says.
   */
  private boolean isLearner(ServerStatus s) {
    long self = server.memberId();
    if (s.isMember(self)) {
      return s.learners().contains(self);
    }
    return server.member(self).map(MemberAttributes::getIsLearner).orElse(false);
  }

  @Override
  public void status(StatusRequest request, StreamObserver<StatusResponse> out) {
    Replies.send(
        out,
        server
            .status()
            .thenApply(
                s -> {
                  StatusResponse.Builder r =
                      StatusResponse.newBuilder()
                          .setHeader(server.header(server.kv().revision()))
                          .setVersion(EtcdServer.VERSION)
                          .setDbSize(server.kv().dbSize())
                          .setDbSizeInUse(server.kv().dbSizeInUse())
                          .setLeader(s.leader())
                          .setRaftIndex(s.commitIndex())
                          .setRaftTerm(s.term())
                          .setRaftAppliedIndex(server.kv().appliedIndex())
                          .setIsLearner(isLearner(s))
                          .setDbSizeQuota(
                              server.config().quotaBackendBytes() == 0
                                  ? KvOptions.DEFAULT_QUOTA_BACKEND_BYTES
                                  : server.config().quotaBackendBytes());
                  for (AlarmMember a : server.kv().alarms()) {
                    r.addErrors(
                        "memberID:"
                            + Long.toUnsignedString(a.getMemberID())
                            + " alarm:"
                            + a.getAlarm().name());
                  }
                  return r.build();
                }),
        server.workers());
  }

  @Override
  public void defragment(DefragmentRequest request, StreamObserver<DefragmentResponse> out) {
    Replies.send(
        out,
        CompletableFuture.supplyAsync(
            () -> {
              server.kv().defragment();
              return DefragmentResponse.newBuilder()
                  .setHeader(server.header(server.kv().revision()))
                  .build();
            },
            server.workers()),
        server.workers());
  }

  @Override
  public void hash(HashRequest request, StreamObserver<HashResponse> out) {
    Replies.sendNow(
        out,
        () -> {
          var h = server.kv().hashKv(server.kv().revision());
          return HashResponse.newBuilder()
              .setHeader(server.header(server.kv().revision()))
              .setHash((int) h.hash())
              .build();
        });
  }

  @Override
  public void hashKV(HashKVRequest request, StreamObserver<HashKVResponse> out) {
    Replies.sendNow(
        out,
        () -> {
          long revision =
              request.getRevision() > 0 ? request.getRevision() : server.kv().revision();
          var h = server.kv().hashKv(revision);
          return HashKVResponse.newBuilder()
              .setHeader(server.header(server.kv().revision()))
              .setHash((int) h.hash())
              .setCompactRevision(h.compactRevision())
              .setHashRevision(h.hashRevision())
              .build();
        });
  }

  /**
   * Like etcd, only the leader hands leadership over: a follower refuses with "not leader" rather
   * than forwarding, so a client learns that it asked the wrong member.
   */
  @Override
  public void moveLeader(MoveLeaderRequest request, StreamObserver<MoveLeaderResponse> out) {
    long target = request.getTargetID();
    Replies.send(out, moveLeader(target), server.workers());
  }

  private CompletableFuture<MoveLeaderResponse> moveLeader(long target) {
    if (!server.raft().isLeader()) {
      return CompletableFuture.failedFuture(
          GrpcErrors.status(Status.Code.FAILED_PRECONDITION, GrpcErrors.NOT_LEADER));
    }
    var m = server.member(target);
    if (m.isEmpty() || m.get().getIsLearner()) {
      return CompletableFuture.failedFuture(
          GrpcErrors.status(Status.Code.FAILED_PRECONDITION, GrpcErrors.BAD_TRANSFEREE));
    }
    CompletableFuture<Long> moved =
        target == server.memberId()
            ? CompletableFuture.completedFuture(target)
            : server.raft().transferLeadership(target);
    return moved
        .thenApply(
            leader ->
                MoveLeaderResponse.newBuilder()
                    .setHeader(server.header(server.kv().revision()))
                    .build())
        .exceptionallyCompose(
            t ->
                CompletableFuture.failedFuture(
                    GrpcErrors.unwrap(t) instanceof NotLeaderException
                        ? GrpcErrors.status(Status.Code.FAILED_PRECONDITION, GrpcErrors.NOT_LEADER)
                        : t));
  }

  @Override
  public void snapshot(SnapshotRequest request, StreamObserver<SnapshotResponse> responses) {
    ServerCallStreamObserver<SnapshotResponse> out =
        (ServerCallStreamObserver<SnapshotResponse>) responses;
    SnapshotPump pump = new SnapshotPump(out);
    out.setOnReadyHandler(() -> server.workers().execute(pump::pump));
    out.setOnCancelHandler(pump::close);
    server.workers().execute(pump::prepare);
  }

  /** etcd's snapshot streams are a multiple of this many bytes plus the SHA-256 trailer. */
  static final int SNAPSHOT_ALIGNMENT = 512;

  /**
   * Writes what the Snapshot RPC streams, laid out like etcd's so etcdctl accepts it (it checks
   * that the size is a multiple of 512 plus 32):
   *
   * <pre>
   *   the store's backup ({@link KvStateMachine#writeBackup}; self-delimiting, ends with its CRC)
   *   zero bytes up to the next multiple of 512 bytes (ignored by the backup's reader)
   *   the SHA-256 (32 bytes) of everything above
   * </pre>
   */
  static void writeSnapshot(KvStateMachine kv, OutputStream out) throws IOException {
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
    long[] written = {0};
    OutputStream hashed =
        new FilterOutputStream(out) {
          @Override
          public void write(int b) throws IOException {
            sha256.update((byte) b);
            written[0]++;
            out.write(b);
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            sha256.update(b, off, len);
            written[0] += len;
            out.write(b, off, len);
          }

          @Override
          public void close() throws IOException {
            flush(); // the caller closes the stream
          }
        };
    kv.writeBackup(hashed);
    int padding =
        (int) ((SNAPSHOT_ALIGNMENT - written[0] % SNAPSHOT_ALIGNMENT) % SNAPSHOT_ALIGNMENT);
    hashed.write(new byte[padding]);
    out.write(sha256.digest());
    out.flush();
  }

  /** Streams a consistent copy of the store, written to a temporary file first. */
  private final class SnapshotPump {
    private final ServerCallStreamObserver<SnapshotResponse> out;
    private FileChannel file; // guarded by this
    private Path path;
    private long remaining;
    private boolean first = true;
    private boolean done;
    private long revision;

    SnapshotPump(ServerCallStreamObserver<SnapshotResponse> out) {
      this.out = out;
    }

    void prepare() {
      try {
        Path dir = server.config().dataDir().resolve("tmp");
        Files.createDirectories(dir);
        Path p = Files.createTempFile(dir, "snapshot-", ".db");
        long rev = server.kv().revision();
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(p), 1 << 16)) {
          writeSnapshot(server.kv(), os);
        }
        synchronized (this) {
          path = p;
          if (done) {
            Files.deleteIfExists(p);
            return;
          }
          file = FileChannel.open(p, StandardOpenOption.READ);
          remaining = file.size();
          revision = rev;
        }
      } catch (IOException | RuntimeException e) {
        LOG.warn("writing a snapshot failed", e);
        synchronized (this) {
          done = true;
        }
        Replies.fail(
            out, GrpcErrors.status(Status.Code.INTERNAL, "etcdserver: snapshot failed: " + e));
        return;
      }
      pump();
    }

    synchronized void pump() {
      if (file == null || done) {
        return;
      }
      try {
        while (out.isReady() && (remaining > 0 || first)) {
          int n = (int) Math.min(SNAPSHOT_CHUNK_BYTES, remaining);
          ByteBuffer buf = ByteBuffer.allocate(n);
          while (buf.hasRemaining()) {
            if (file.read(buf) < 0) {
              throw new IOException("the snapshot file ended early");
            }
          }
          buf.flip();
          remaining -= n;
          SnapshotResponse.Builder r =
              SnapshotResponse.newBuilder()
                  .setRemainingBytes(remaining)
                  .setBlob(ByteString.copyFrom(buf))
                  .setVersion(EtcdServer.VERSION);
          if (first) {
            r.setHeader(server.header(revision));
            first = false;
          }
          out.onNext(r.build());
        }
        if (remaining == 0 && !first) {
          out.onCompleted();
          close();
        }
      } catch (IOException | RuntimeException e) {
        close();
        Replies.fail(out, e instanceof IOException ? new UncheckedIOException((IOException) e) : e);
      }
    }

    synchronized void close() {
      done = true;
      try {
        if (file != null) {
          file.close();
        }
        if (path != null) {
          Files.deleteIfExists(path);
        }
      } catch (IOException e) {
        LOG.debug("removing a snapshot file failed", e);
      }
    }
  }
}
