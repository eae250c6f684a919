package io.tern.cli;

import picocli.CommandLine;

/**
 * A command that only groups subcommands ({@code lease}, {@code member}, ...): run on its own it
 * fails with a usage error naming what is missing.
 */
abstract class GroupCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Show this help message and exit.")
  boolean help;

  @Override
  public void run() {
    String name = spec.name();
    String article = "aeiou".indexOf(name.charAt(0)) >= 0 ? "an" : "a";
    throw new CommandLine.ParameterException(
        spec.commandLine(), "Missing " + article + " " + name + " subcommand");
  }
}
