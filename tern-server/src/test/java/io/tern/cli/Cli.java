package io.tern.cli;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine;

/** Runs {@code tern} commands in-process against an endpoint, capturing their output. */
final class Cli {
  /** What a command printed and returned. */
  record Result(int exitCode, String out, String err) {}

  private final EtcdEndpoint etcd;

  Cli(EtcdEndpoint etcd) {
    this.etcd = etcd;
  }

  Result run(String... args) {
    return runWithInput("", args);
  }

  /** Runs with {@code stdin} as standard input; the endpoints are added to the arguments. */
  Result runWithInput(String stdin, String... args) {
    return runRaw(stdin, withEndpoints(args));
  }

  /** Runs exactly these arguments (no endpoints added). */
  static Result runRaw(String stdin, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = execute(stdin, out, err, args);
    return new Result(code, out.toString(), err.toString());
  }

  /** Runs writing into the given writers, for commands that run until interrupted. */
  static int execute(String stdin, StringWriter out, StringWriter err, String... args) {
    CommandLine cl = Tern.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    ClientCommands.setInput(cl, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
    return cl.execute(args);
  }

  /** The arguments with --endpoints added, before any "--" that ends the options. */
  String[] withEndpoints(String... args) {
    List<String> all = new ArrayList<>(Arrays.asList(args));
    int dashes = all.indexOf("--");
    all.add(dashes < 0 ? all.size() : dashes, "--endpoints=" + etcd.endpoints());
    return all.toArray(new String[0]);
  }
}
