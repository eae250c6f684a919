package io.tern.cli;

import java.io.InputStream;
import picocli.CommandLine;

/** Adds etcdctl's client commands to the {@code tern} command. */
public final class ClientCommands {
  private ClientCommands() {}

  public static void addTo(CommandLine tern) {
    tern.addSubcommand(new GetCommand());
    tern.addSubcommand(new PutCommand());
    tern.addSubcommand(new DelCommand());
    tern.addSubcommand(new TxnCommand());
    tern.addSubcommand(new WatchCommand());
    tern.addSubcommand(new LeaseCommand());
    tern.addSubcommand(new MemberCommand());
    tern.addSubcommand(new EndpointCommand());
    tern.addSubcommand(new MaintenanceCommands.MoveLeader());
    tern.addSubcommand(new MaintenanceCommands.Snapshot());
    tern.addSubcommand(new MaintenanceCommands.Compaction());
    tern.addSubcommand(new MaintenanceCommands.Defrag());
    tern.addSubcommand(new AlarmCommand());
  }

  /** Makes every client command under {@code root} read standard input from {@code in}. */
  static void setInput(CommandLine root, InputStream in) {
    if (root.getCommand() instanceof ClientCommand c) {
      c.in = in;
    }
    for (CommandLine sub : root.getSubcommands().values()) {
      setInput(sub, in);
    }
  }
}
