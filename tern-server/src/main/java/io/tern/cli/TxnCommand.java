package io.tern.cli;

import io.tern.api.Compare;
import io.tern.api.RequestOp;
import io.tern.api.TxnRequest;
import io.tern.api.TxnResponse;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "txn",
    description = {
      "Reads a transaction from standard input and applies it atomically.",
      "Three sections, each ended by an empty line (or the end of input):",
      "compares, e.g.  mod(\"key1\") > \"0\"   (ver, create, mod, val, lease; =, !=, <, >)",
      "requests to run if all compares hold, e.g.  put key1 \"new value\"",
      "requests to run otherwise, e.g.  get key1 --prefix"
    })
final class TxnCommand extends ClientCommand {
  @Option(
      names = {"-i", "--interactive"},
      description = "Prompt for each section.")
  boolean interactive;

  @Override
  int run(Connection c) throws IOException {
    BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    prompt("compares:");
    List<Compare> compares = section(reader, TxnParser::parseCompare);
    prompt("success requests (get, put, del):");
    List<RequestOp> success = section(reader, TxnParser::parseOp);
    prompt("failure requests (get, put, del):");
    List<RequestOp> failure = section(reader, TxnParser::parseOp);
    TxnResponse r =
        c.kv()
            .txn(
                TxnRequest.newBuilder()
                    .addAllCompare(compares)
                    .addAllSuccess(success)
                    .addAllFailure(failure)
                    .build());
    if (options.json()) {
      printer().json(r);
    } else {
      printer().txn(r);
    }
    return 0;
  }

  private void prompt(String text) {
    if (interactive) {
      printer().line(text);
      out().flush();
    }
  }

  private static <T> List<T> section(BufferedReader reader, Function<String, T> parse)
      throws IOException {
    List<T> items = new ArrayList<>();
    String line;
    while ((line = reader.readLine()) != null && !line.isBlank()) {
      items.add(parse.apply(line.strip()));
    }
    return items;
  }
}
