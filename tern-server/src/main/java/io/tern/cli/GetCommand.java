package io.tern.cli;

import io.tern.api.RangeRequest;
import io.tern.api.RangeResponse;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "get", description = "Gets the key or a range of keys [key, range_end).")
final class GetCommand extends ClientCommand {
  @Parameters(arity = "1..2", paramLabel = "<key> [range_end]")
  List<String> args;

  @Option(
      names = "--consistency",
      defaultValue = "l",
      description = "Linearizable(l) or Serializable(s).")
  String consistency;

  @Option(
      names = "--order",
      defaultValue = "",
      description = "ASCEND or DESCEND (ASCEND by default).")
  String order;

  @Option(
      names = "--sort-by",
      defaultValue = "",
      description = "CREATE, KEY, MODIFY, VALUE, or VERSION.")
  String sortBy;

  @Option(names = "--limit", description = "Maximum number of results.")
  long limit;

  @Option(names = "--prefix", description = "Get keys with matching prefix.")
  boolean prefix;

  @Option(names = "--from-key", description = "Get keys >= the given key, by byte compare.")
  boolean fromKey;

  @Option(names = "--rev", description = "The revision to read at (default: latest).")
  long rev;

  @Option(names = "--keys-only", description = "Get only the keys.")
  boolean keysOnly;

  @Option(names = "--count-only", description = "Get only the count.")
  boolean countOnly;

  @Option(names = "--print-value-only", description = "Only print values (simple output only).")
  boolean printValueOnly;

  RangeRequest request() {
    if (keysOnly && countOnly) {
      throw new CliException(
          "`--keys-only` and `--count-only` cannot be set at the same time, choose one");
    }
    Keys.Range range =
        Keys.range(args.get(0), args.size() > 1 ? args.get(1) : null, prefix, fromKey);
    RangeRequest.Builder b =
        RangeRequest.newBuilder()
            .setKey(range.key())
            .setRangeEnd(range.end())
            .setLimit(limit)
            .setKeysOnly(keysOnly)
            .setCountOnly(countOnly);
    switch (consistency) {
      case "l" -> {}
      case "s" -> b.setSerializable(true);
      default -> throw new CliException("unknown consistency flag \"" + consistency + "\"");
    }
    if (rev > 0) {
      b.setRevision(rev);
    }
    RangeRequest.SortOrder sortOrder =
        switch (order.toUpperCase(Locale.ROOT)) {
          case "ASCEND" -> RangeRequest.SortOrder.ASCEND;
          case "DESCEND" -> RangeRequest.SortOrder.DESCEND;
          case "" -> RangeRequest.SortOrder.NONE;
          default -> throw new CliException("bad sort order " + order);
        };
    RangeRequest.SortTarget sortTarget =
        switch (sortBy.toUpperCase(Locale.ROOT)) {
          case "CREATE" -> RangeRequest.SortTarget.CREATE;
          case "KEY", "" -> RangeRequest.SortTarget.KEY;
          case "MODIFY" -> RangeRequest.SortTarget.MOD;
          case "VALUE" -> RangeRequest.SortTarget.VALUE;
          case "VERSION" -> RangeRequest.SortTarget.VERSION;
          default -> throw new CliException("bad sort target " + sortBy);
        };
    // Keys come back in ascending key order anyway; asking for it would only cost a sort.
    if (sortTarget == RangeRequest.SortTarget.KEY && sortOrder == RangeRequest.SortOrder.ASCEND) {
      sortOrder = RangeRequest.SortOrder.NONE;
    }
    return b.setSortOrder(sortOrder).setSortTarget(sortTarget).build();
  }

  @Override
  int run(Connection c) {
    if (printValueOnly && options.json()) {
      throw new CliException("print-value-only is only for `--write-out=simple`");
    }
    RangeRequest req = request();
    RangeResponse r = c.kv().range(req);
    Printer p = printer();
    if (options.json()) {
      p.json(r);
    } else if (countOnly) {
      p.line(Long.toString(r.getCount()));
    } else {
      p.get(r, printValueOnly);
    }
    return 0;
  }
}
