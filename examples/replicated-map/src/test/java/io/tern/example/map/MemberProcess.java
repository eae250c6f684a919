package io.tern.example.map;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One {@link MapServer} in its own JVM, started on the test JVM's class path. Its standard output
 * and error are appended to a log file that survives restarts.
 */
final class MemberProcess {
  static final String HOST = MapServerArgs.HOST;

  /** Small, quick-starting JVMs: several run at once on a 2-core machine. */
  private static final List<String> JVM_OPTIONS =
      List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto");

  final long id;
  final int raftPort;
  final int clientPort;
  final Path dataDir;
  final Path logFile;
  private final List<String> args;
  private Process process;
  private int starts;

  MemberProcess(
      long id, int raftPort, int clientPort, Path dataDir, Path logFile, List<String> args) {
    this.id = id;
    this.raftPort = raftPort;
    this.clientPort = clientPort;
    this.dataDir = dataDir;
    this.logFile = logFile;
    this.args = List.copyOf(args);
  }

  String raftHostPort() {
    return HOST + ":" + raftPort;
  }

  synchronized void start() throws IOException {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException("member " + id + " is running");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(JVM_OPTIONS);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(MapServer.class.getName());
    cmd.addAll(
        List.of(
            "--id",
            Long.toString(id),
            "--data-dir",
            dataDir.toString(),
            "--raft-port",
            Integer.toString(raftPort),
            "--client-port",
            Integer.toString(clientPort)));
    cmd.addAll(args);
    Files.createDirectories(logFile.getParent());
    Files.writeString(
        logFile,
        "==== start #" + (++starts) + ": " + String.join(" ", cmd.subList(5, cmd.size())) + "\n",
        UTF_8,
        java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.APPEND);
    process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
            .start();
  }

  synchronized boolean alive() {
    return process != null && process.isAlive();
  }

  synchronized Process process() {
    return process;
  }

  /** SIGKILL, and waits for the process to be gone. */
  void kill() throws InterruptedException {
    Process p = process();
    if (p != null) {
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** SIGTERM (the server closes cleanly), SIGKILL if it does not exit in time. */
  void stop() throws InterruptedException {
    Process p = process();
    if (p != null && p.isAlive()) {
      p.destroy();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  /** Sends one request on a fresh connection and returns the answer line. */
  String call(String request) throws IOException {
    try (Connection c = connect(Duration.ofSeconds(20))) {
      return c.call(request);
    }
  }

  Connection connect(Duration readTimeout) throws IOException {
    return new Connection(new InetSocketAddress(HOST, clientPort), readTimeout);
  }

  String log() throws IOException {
    return Files.exists(logFile) ? Files.readString(logFile, UTF_8) : "";
  }

  @Override
  public String toString() {
    return "member " + id + " (raft " + raftPort + ", client " + clientPort + ")";
  }

  /** A client connection to one member's line protocol. */
  static final class Connection implements AutoCloseable {
    private final Socket socket;
    private final BufferedReader in;
    private final Writer out;

    Connection(InetSocketAddress address, Duration readTimeout) throws IOException {
      socket = new Socket();
      try {
        socket.connect(address, 5_000);
        socket.setSoTimeout((int) readTimeout.toMillis());
        socket.setTcpNoDelay(true);
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), UTF_8));
        out = new OutputStreamWriter(socket.getOutputStream(), UTF_8);
      } catch (IOException e) {
        socket.close();
        throw e;
      }
    }

    String call(String request) throws IOException {
      out.write(request);
      out.write('\n');
      out.flush();
      String line = in.readLine();
      if (line == null) {
        throw new IOException("connection closed by the server");
      }
      return line;
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
