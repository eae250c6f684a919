package io.tern.chaos;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One member slot of the cluster: a {@code tern server} process, restarted on the same data
 * directory after a kill, or replaced by a fresh incarnation (new peer URL, new member id, empty
 * data directory) after it was removed from the cluster.
 */
final class Member {
  final int index;
  final String name;
  private final Net net;
  private final Path dataRoot;
  private final Path logFile;
  private final List<String> javaCommand;

  private int incarnation; // guarded by this
  private List<String> flags = List.of(); // guarded by this
  private Process process; // guarded by this
  private boolean paused; // guarded by this
  private boolean removed; // guarded by this: not in the cluster's configuration
  private int starts; // guarded by this
  private volatile long id;
  private ManagedChannel channel;

  Member(int index, Net net, Path dataRoot, Path logFile, List<String> javaCommand) {
    this.index = index;
    this.name = "m" + (index + 1);
    this.net = net;
    this.dataRoot = dataRoot;
    this.logFile = logFile;
    this.javaCommand = List.copyOf(javaCommand);
  }

  synchronized int incarnation() {
    return incarnation;
  }

  synchronized Path dataDir() {
    return dataRoot.resolve(name + "." + incarnation);
  }

  String peerUrl() {
    return net.advertisePeerUrl(index, incarnation());
  }

  long id() {
    return id;
  }

  void id(long id) {
    this.id = id;
  }

  synchronized boolean removed() {
    return removed;
  }

  synchronized void markRemoved() {
    removed = true;
  }

  synchronized boolean paused() {
    return paused;
  }

  /** Starts a fresh incarnation (empty data directory) on the next peer URL. */
  synchronized void nextIncarnation() {
    incarnation++;
    id = 0;
  }

  /** Sets the {@code tern server} flags of the current incarnation. */
  synchronized void flags(List<String> f) {
    flags = List.copyOf(f);
  }

  synchronized ManagedChannel channel() {
    if (channel == null) {
      channel =
          Grpc.newChannelBuilderForAddress(
                  net.clientHost(index), net.clientPort(index), InsecureChannelCredentials.create())
              .build();
    }
    return channel;
  }

  synchronized boolean alive() {
    return process != null && process.isAlive();
  }

  /** Whether the member runs, is not paused and is in the configuration. */
  synchronized boolean serving() {
    return alive() && !paused && !removed;
  }

  synchronized long pid() {
    return process == null ? -1 : process.pid();
  }

  synchronized void launch(Map<String, String> extraEnv) throws IOException {
    if (alive()) {
      throw new IllegalStateException(name + " is running");
    }
    List<String> cmd = new ArrayList<>(net.commandPrefix(index));
    cmd.addAll(javaCommand.subList(0, 1));
    cmd.addAll(net.jvmOptions(index));
    cmd.addAll(javaCommand.subList(1, javaCommand.size()));
    cmd.addAll(flags);
    Files.createDirectories(logFile.getParent());
    Files.writeString(
        logFile,
        "==== start #"
            + (++starts)
            + " (incarnation "
            + incarnation
            + "): "
            + String.join(" ", cmd)
            + "\n",
        UTF_8,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    pb.environment().putAll(net.environment(index));
    pb.environment().putAll(extraEnv);
    process = pb.start();
    paused = false;
    removed = false;
    if (channel != null) {
      channel.resetConnectBackoff();
    }
  }

  /** SIGKILL; waits until the process is gone. */
  void kill() throws InterruptedException {
    Process p;
    synchronized (this) {
      p = process;
      if (p == null) {
        return;
      }
      if (paused) {
        Shell.quiet("kill", "-CONT", Long.toString(p.pid())); // a stopped process dies anyway
      }
    }
    p.destroyForcibly();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      throw new ChaosException(name + " survived SIGKILL");
    }
    synchronized (this) {
      paused = false;
    }
  }

  synchronized void pause() {
    if (alive() && !paused) {
      Shell.check("kill", "-STOP", Long.toString(process.pid()));
      paused = true;
    }
  }

  synchronized void resume() {
    if (paused && process != null) {
      Shell.quiet("kill", "-CONT", Long.toString(process.pid()));
    }
    paused = false;
  }

  String tail(int lines) {
    try {
      if (!Files.exists(logFile)) {
        return "(no log)";
      }
      List<String> all = Files.readAllLines(logFile, UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  /** Kills the process and closes the channel; for the end of a run. */
  void shutdown() {
    try {
      kill();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      // reported by the caller's cleanup
    }
    synchronized (this) {
      if (channel != null) {
        channel.shutdownNow();
      }
    }
  }

  @Override
  public String toString() {
    long i = id;
    return name + "(" + (i == 0 ? "?" : Long.toHexString(i)) + ")";
  }
}
