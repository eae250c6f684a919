package io.tern.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tern} command: a server, a local development cluster and etcd v3 client commands. */
@Command(
    name = "tern",
    mixinStandardHelpOptions = true,
    versionProvider = Tern.Version.class,
    description = "A Raft-replicated key-value store speaking the etcd v3 API.")
public final class Tern implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** gRPC's (shaded) Netty buffer-leak detector; see {@link #main}. */
  static final String NETTY_LEAK_DETECTION = "io.grpc.netty.shaded.io.netty.leakDetection.level";

  public static void main(String[] args) {
    // Netty samples one buffer in 128 for leak detection and records a stack trace for each: about
    // 2 % of a member's CPU under load (profiled). Off unless asked for (-D...=simple or paranoid).
    if (System.getProperty(NETTY_LEAK_DETECTION) == null) {
      System.setProperty(NETTY_LEAK_DETECTION, "disabled");
    }
    System.exit(commandLine().execute(args));
  }

  /** The command tree; tests execute it in-process. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Tern());
    // server commands
    cl.addSubcommand(new io.tern.server.ServerCommand());
    cl.addSubcommand(new io.tern.server.DevCommand());
    // client commands
    ClientCommands.addTo(cl);
    cl.addSubcommand(new io.tern.bench.BenchCommand());
    return cl;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing a command");
  }

  /** Reports the version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Tern.class.getPackage().getImplementationVersion();
      return new String[] {"tern " + (v == null ? "(development build)" : v)};
    }
  }
}
