package io.tern.cli;

import com.google.protobuf.ByteString;
import io.tern.api.PutRequest;
import io.tern.api.PutResponse;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "put",
    description = {
      "Puts the given key into the store.",
      "Without <value> (and without --ignore-value) the value is read from standard input.",
      "A value starting with '-' goes after '--': put <key> -- <value>."
    })
final class PutCommand extends ClientCommand {
  @Parameters(arity = "1..2", paramLabel = "<key> [value]")
  List<String> args;

  @Option(
      names = "--lease",
      defaultValue = "0",
      description = "Lease ID (hex) to attach to the key.")
  String lease;

  @Option(names = "--prev-kv", description = "Return the previous key-value pair.")
  boolean prevKv;

  @Option(names = "--ignore-value", description = "Update the key keeping its current value.")
  boolean ignoreValue;

  @Option(names = "--ignore-lease", description = "Update the key keeping its current lease.")
  boolean ignoreLease;

  PutRequest request(InputStream stdin) throws IOException {
    if (ignoreValue && args.size() > 1) {
      throw new CliException("put command needs only 1 argument when 'ignore-value' is set");
    }
    ByteString value = ByteString.EMPTY;
    if (!ignoreValue) {
      if (args.size() > 1) {
        value = Keys.utf8(args.get(1));
      } else {
        value = stdin == null ? ByteString.EMPTY : ByteString.readFrom(stdin);
        if (value.isEmpty()) {
          throw new CliException(
              "put command needs 1 argument and input from stdin or 2 arguments");
        }
      }
    }
    return PutRequest.newBuilder()
        .setKey(Keys.utf8(args.get(0)))
        .setValue(value)
        .setLease(LeaseCommand.parseId(lease))
        .setPrevKv(prevKv)
        .setIgnoreValue(ignoreValue)
        .setIgnoreLease(ignoreLease)
        .build();
  }

  @Override
  int run(Connection c) throws IOException {
    PutResponse r = c.kv().put(request(in));
    if (options.json()) {
      printer().json(r);
    } else {
      printer().put(r);
    }
    return 0;
  }
}
