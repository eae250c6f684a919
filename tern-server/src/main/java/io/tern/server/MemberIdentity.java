package io.tern.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Who this member is, fixed at its first start and kept in its data directory: a restart reads it
 * back and ignores the {@code --initial-*} settings, as etcd does.
 *
 * @param memberId this member's id
 * @param clusterId the cluster's id (for a member that joined, 0 until learned from the others)
 * @param join whether the member joined a running cluster rather than bootstrapping one
 * @param initialVoters the Raft voters it started with and their peer URLs (without itself when it
 *     joined); only their addresses matter after the first start
 */
record MemberIdentity(
    long memberId, long clusterId, boolean join, Map<Long, PeerUrl> initialVoters) {

  static final String FILE = "member.properties";

  MemberIdentity {
    initialVoters = Map.copyOf(initialVoters);
  }

  MemberIdentity withClusterId(long id) {
    return new MemberIdentity(memberId, id, join, initialVoters);
  }

  static boolean exists(Path dataDir) {
    return Files.exists(dataDir.resolve(FILE));
  }

  /**
   * @throws IOException if unreadable
   * @throws IllegalStateException if the file is damaged
   */
  static MemberIdentity load(Path dataDir) throws IOException {
    Path file = dataDir.resolve(FILE);
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(in);
    }
    try {
      long member = Long.parseLong(p.getProperty("member-id"));
      long cluster = Long.parseLong(p.getProperty("cluster-id", "0"));
      boolean join = Boolean.parseBoolean(p.getProperty("join", "false"));
      Map<Long, PeerUrl> voters = new TreeMap<>();
      for (String name : p.stringPropertyNames()) {
        if (name.startsWith("voter.")) {
          voters.put(
              Long.parseLong(name.substring("voter.".length())),
              PeerUrl.parse(file.toString(), p.getProperty(name)));
        }
      }
      return new MemberIdentity(member, cluster, join, voters);
    } catch (RuntimeException e) {
      throw new IllegalStateException(file + " is damaged: " + e.getMessage(), e);
    }
  }

  /** Writes the file atomically (temporary file, fsync, rename). */
  void store(Path dataDir) throws IOException {
    Files.createDirectories(dataDir);
    Properties p = new Properties();
    p.setProperty("member-id", Long.toString(memberId));
    p.setProperty("cluster-id", Long.toString(clusterId));
    p.setProperty("join", Boolean.toString(join));
    new TreeMap<>(initialVoters).forEach((id, url) -> p.setProperty("voter." + id, url.toString()));
    Path tmp = dataDir.resolve(FILE + ".tmp");
    try (OutputStream out = Files.newOutputStream(tmp)) {
      p.store(out, "Tern member identity; do not edit");
    }
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(
        tmp,
        dataDir.resolve(FILE),
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }
}
