package io.tern.cli;

import io.tern.api.DeleteRangeRequest;
import io.tern.api.DeleteRangeResponse;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "del", description = "Removes the key or the keys in [key, range_end).")
final class DelCommand extends ClientCommand {
  @Parameters(arity = "1..2", paramLabel = "<key> [range_end]")
  List<String> args;

  @Option(names = "--prefix", description = "Delete keys with matching prefix.")
  boolean prefix;

  @Option(names = "--prev-kv", description = "Return the deleted key-value pairs.")
  boolean prevKv;

  @Option(names = "--from-key", description = "Delete keys >= the given key, by byte compare.")
  boolean fromKey;

  DeleteRangeRequest request() {
    Keys.Range range =
        Keys.range(args.get(0), args.size() > 1 ? args.get(1) : null, prefix, fromKey);
    return DeleteRangeRequest.newBuilder()
        .setKey(range.key())
        .setRangeEnd(range.end())
        .setPrevKv(prevKv)
        .build();
  }

  @Override
  int run(Connection c) {
    DeleteRangeResponse r = c.kv().deleteRange(request());
    if (options.json()) {
      printer().json(r);
    } else {
      printer().del(r);
    }
    return 0;
  }
}
