package io.tern.cli;

import io.grpc.StatusRuntimeException;
import io.tern.api.CompactionRequest;
import io.tern.api.DefragmentRequest;
import io.tern.api.MoveLeaderRequest;
import io.tern.api.SnapshotRequest;
import io.tern.api.SnapshotResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Iterator;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The single-request maintenance commands: compaction, defrag, move-leader, snapshot save. */
final class MaintenanceCommands {
  private MaintenanceCommands() {}

  @Command(name = "compaction", description = "Discards the key history before the given revision.")
  static final class Compaction extends ClientCommand {
    @Parameters(paramLabel = "<revision>")
    long revision;

    @Option(names = "--physical", description = "Wait until the space is freed on disk.")
    boolean physical;

    @Override
    int run(Connection c) {
      c.kv()
          .compact(
              CompactionRequest.newBuilder().setRevision(revision).setPhysical(physical).build());
      printer().line("compacted revision " + revision);
      return 0;
    }
  }

  @Command(
      name = "defrag",
      description = "Returns the free space of each endpoint's storage to the file system.")
  static final class Defrag extends ClientCommand {
    @Option(names = "--cluster", description = "Use every endpoint of the cluster member list.")
    boolean cluster;

    @Override
    int run(Connection c) {
      boolean failed = false;
      for (Endpoint ep : EndpointCommand.targets(c, cluster)) {
        try {
          c.maintenance(ep).defragment(DefragmentRequest.getDefaultInstance());
          printer().line("Finished defragmenting etcd member[" + ep.text() + "]");
        } catch (StatusRuntimeException e) {
          failed = true;
          err()
              .print(
                  "Failed to defragment etcd member["
                      + ep.text()
                      + "] ("
                      + describe(e.getStatus())
                      + ")\n");
        }
      }
      err().flush();
      return failed ? EXIT_ERROR : 0;
    }
  }

  @Command(
      name = "move-leader",
      description = "Transfers leadership to another member (id in hex).")
  static final class MoveLeader extends ClientCommand {
    @Parameters(paramLabel = "<transferee-member-id>")
    String target;

    @Override
    int run(Connection c) {
      long to = MemberCommand.parseId(target);
      List<Endpoint> eps = c.endpoints();
      for (EndpointCommand.EndpointStatus s : EndpointCommand.statuses(c, eps)) {
        if (s.status() == null) {
          throw new CliException(s.error());
        }
        long self = s.status().getHeader().getMemberId();
        if (self == s.status().getLeader()) {
          c.maintenance(s.endpoint())
              .moveLeader(MoveLeaderRequest.newBuilder().setTargetID(to).build());
          printer()
              .line(
                  "Leadership transferred from "
                      + Printer.memberId(self)
                      + " to "
                      + Printer.memberId(to));
          return 0;
        }
      }
      throw new CliException(
          "no leader endpoint given at ["
              + String.join(" ", eps.stream().map(Endpoint::text).toList())
              + "]");
    }
  }

  @Command(
      name = "snapshot",
      description = "Manages snapshots of the key-value store.",
      subcommands = {SnapshotSave.class})
  static final class Snapshot extends GroupCommand {}

  @Command(name = "save", description = "Stores a snapshot of one endpoint's store in a file.")
  static final class SnapshotSave extends ClientCommand {
    @Parameters(paramLabel = "<filename>")
    Path file;

    @Override
    int run(Connection c) throws IOException {
      List<Endpoint> eps = c.endpoints();
      if (eps.size() != 1) {
        throw new CliException(
            "snapshot must be requested to one selected node, not multiple ["
                + String.join(" ", eps.stream().map(Endpoint::text).toList())
                + "]");
      }
      Path part = file.resolveSibling(file.getFileName() + ".part");
      try (FileChannel ch =
          FileChannel.open(
              part,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE)) {
        OutputStream out = java.nio.channels.Channels.newOutputStream(ch);
        Iterator<SnapshotResponse> chunks =
            c.maintenance(eps.get(0)).snapshot(SnapshotRequest.getDefaultInstance());
        while (chunks.hasNext()) {
          chunks.next().getBlob().writeTo(out);
        }
        out.flush();
        ch.force(true);
        verifyChecksum(ch);
      } catch (IOException | RuntimeException e) {
        Files.deleteIfExists(part);
        throw e;
      }
      Files.move(part, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      printer().line("Snapshot saved at " + file);
      return 0;
    }

    /**
     * Checks the stream's trailer as etcdctl does: the data is padded to a multiple of 512 bytes
     * and followed by the SHA-256 of everything before it.
     */
    static void verifyChecksum(FileChannel ch) throws IOException {
      long size = ch.size();
      if (size % 512 != SHA256_BYTES) {
        throw new CliException("sha256 checksum not found [bytes: " + size + "]");
      }
      MessageDigest sha;
      try {
        sha = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("the JDK has no SHA-256", e);
      }
      ByteBuffer buf = ByteBuffer.allocate(1 << 16);
      long pos = 0;
      long dataEnd = size - SHA256_BYTES;
      while (pos < dataEnd) {
        buf.clear().limit((int) Math.min(buf.capacity(), dataEnd - pos));
        int n = ch.read(buf, pos);
        if (n < 0) {
          throw new IOException("snapshot file ended early at " + pos);
        }
        buf.flip();
        sha.update(buf);
        pos += n;
      }
      ByteBuffer trailer = ByteBuffer.allocate(SHA256_BYTES);
      while (trailer.hasRemaining()) {
        if (ch.read(trailer, dataEnd + trailer.position()) < 0) {
          throw new IOException("snapshot file ended early in its checksum");
        }
      }
      if (!MessageDigest.isEqual(sha.digest(), trailer.array())) {
        throw new CliException("snapshot's sha256 checksum does not match its data");
      }
    }
  }

  private static final int SHA256_BYTES = 32;
}
