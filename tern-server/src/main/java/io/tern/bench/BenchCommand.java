package io.tern.bench;

import java.io.PrintWriter;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tern bench}: a load generator for any etcd v3 endpoint, Tern's or etcd's. */
@Command(
    name = "bench",
    sortOptions = false,
    mixinStandardHelpOptions = true,
    description = {
      "Load an etcd v3 cluster (Tern or etcd) and report throughput and latency percentiles.",
      "Workloads: put, range-l (linearizable), range-s (serializable), txn-put, mixed, watch.",
      "Each client keeps one request in flight; clients share --conns connections spread over"
          + " the endpoints round-robin. A progress line goes to stderr once per second."
    })
public final class BenchCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "<workload>",
      description = "put, range-l, range-s, txn-put, mixed or watch.")
  String workload;

  @Option(
      names = "--endpoints",
      split = ",",
      paramLabel = "<host:port>",
      defaultValue = "127.0.0.1:2379",
      description = "Comma-separated gRPC endpoints (default: ${DEFAULT-VALUE}).")
  List<String> endpoints;

  @Option(
      names = "--target",
      defaultValue = "all",
      description =
          "all: spread connections over every endpoint; leader: send everything to the"
              + " endpoint that leads (found with Status) (default: ${DEFAULT-VALUE}).")
  String target;

  @Option(
      names = "--clients",
      split = ",",
      paramLabel = "<n>",
      defaultValue = "1",
      description =
          "Concurrent clients (default: 1). A comma-separated list (1,16,64,256) measures each"
              + " level in turn in this one process, each with its own --warmup and --duration.")
  List<Integer> clients;

  @Option(
      names = "--conns",
      defaultValue = "1",
      description = "gRPC connections shared by the clients (default: 1).")
  int conns;

  @Option(names = "--key-size", defaultValue = "8", description = "Key bytes (default: 8).")
  int keySize;

  @Option(names = "--val-size", defaultValue = "256", description = "Value bytes (default: 256).")
  int valSize;

  @Option(
      names = "--key-space",
      defaultValue = "10000",
      description = "Distinct keys, drawn uniformly (default: 10000).")
  long keySpace;

  @Option(
      names = "--sequential-keys",
      description = "Walk the key space in order instead of drawing keys at random.")
  boolean sequentialKeys;

  @Option(
      names = "--rate",
      defaultValue = "0",
      description =
          "Open loop at this many requests/s in total, latency counted from each request's"
              + " intended start; 0 (default) runs a closed loop.")
  double rate;

  @Option(
      names = "--duration",
      paramLabel = "<duration>",
      description = "Measured time, e.g. 30s, 2m (default: 10s unless --total).")
  String duration;

  @Option(names = "--total", description = "Measured requests, instead of --duration.")
  long total;

  @Option(
      names = "--prime",
      defaultValue = "0s",
      paramLabel = "<duration>",
      description =
          "Unmeasured load once, before the first level, so the generator (and the server) is warm"
              + " at every level, one client included (default: ${DEFAULT-VALUE}).")
  String prime;

  @Option(
      names = "--prime-clients",
      defaultValue = "0",
      paramLabel = "<n>",
      description = "Clients of the --prime load (default: the largest level).")
  int primeClients;

  @Option(
      names = "--warmup",
      defaultValue = "0s",
      paramLabel = "<duration>",
      description = "Load before measuring starts (default: ${DEFAULT-VALUE}).")
  String warmup;

  @Option(
      names = "--read-ratio",
      defaultValue = "0.5",
      description = "mixed: fraction of requests that are ranges (default: ${DEFAULT-VALUE}).")
  double readRatio;

  @Option(
      names = "--consistency",
      defaultValue = "l",
      description = "mixed: l (linearizable) or s (serializable) reads (default: l).")
  String consistency;

  @Option(
      names = "--txn-ops",
      defaultValue = "1",
      description = "txn-put: puts per txn, on distinct keys (default: 1).")
  int txnOps;

  @Option(
      names = "--watchers",
      defaultValue = "1",
      description = "watch: watch streams over the whole key space (default: 1).")
  int watchers;

  @Option(
      names = "--watch-conns",
      defaultValue = "1",
      description = "watch: connections of the watchers, apart from the clients' (default: 1).")
  int watchConns;

  @Option(
      names = "--prefill",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Reading workloads: first put the keys of the key space if any is missing"
              + " (default: true).")
  boolean prefill;

  @Option(
      names = "--timeout",
      defaultValue = "5s",
      paramLabel = "<duration>",
      description = "Deadline of each request (default: ${DEFAULT-VALUE}).")
  String timeout;

  @Option(names = "--json", description = "Print the result as one JSON object.")
  boolean json;

  @Option(names = "--no-progress", description = "No progress line on stderr.")
  boolean noProgress;

  @Override
  public Integer call() throws InterruptedException {
    List<BenchOptions> levels;
    Duration primeFor;
    try {
      levels = levels();
      primeFor = parseDuration("--prime", prime);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    PrintWriter err = spec.commandLine().getErr();
    List<BenchResult> results;
    try {
      results = new LoadRun(levels, primeFor, primeLoad(), noProgress ? null : err).run();
    } catch (BenchException e) {
      err.println("tern bench: " + e.getMessage());
      err.flush();
      return 1;
    }
    PrintWriter out = spec.commandLine().getOut();
    int code = 0;
    for (int i = 0; i < results.size(); i++) {
      BenchResult result = results.get(i);
      if (json) {
        out.print(Report.json(result) + "\n");
      } else {
        out.print((i == 0 ? "" : "\n") + Report.text(result));
      }
      if (result.requests().count() == 0) {
        err.printf("tern bench: no request succeeded at %d clients%n", result.options().clients());
        code = 1;
      }
    }
    out.flush();
    err.flush();
    return code;
  }

  /**
   * The validated levels, one per --clients value, in order; each uses min(--conns, its clients)
   * connections. IllegalArgumentException names the offending flag.
   */
  List<BenchOptions> levels() {
    BenchOptions most = most();
    return clients.stream().map(c -> most.withClients(c, Math.min(most.conns(), c))).toList();
  }

  /** The --prime load: --prime-clients (default the largest level) on min(--conns, them). */
  BenchOptions primeLoad() {
    BenchOptions most = most();
    int c = primeClients == 0 ? largestLevel() : primeClients;
    return most.withClients(c, Math.min(most.conns(), c));
  }

  /**
   * The options at the most clients of any level or the priming load: --conns may be up to that.
   */
  private BenchOptions most() {
    if (primeClients < 0) {
      throw new IllegalArgumentException(
          "--prime-clients must not be negative, got " + primeClients);
    }
    return options(Math.max(largestLevel(), primeClients));
  }

  private int largestLevel() {
    if (clients.isEmpty()) {
      throw new IllegalArgumentException("--clients: at least one number is needed");
    }
    for (int c : clients) {
      if (c < 1) {
        throw new IllegalArgumentException("--clients must be at least 1, got " + c);
      }
    }
    return clients.stream().mapToInt(Integer::intValue).max().orElseThrow();
  }

  /** The first level's options. */
  BenchOptions options() {
    return levels().get(0);
  }

  private BenchOptions options(int clients) {
    List<BenchEndpoint> eps = new ArrayList<>();
    for (String e : endpoints) {
      if (!e.isBlank()) {
        eps.add(BenchEndpoint.parse(e));
      }
    }
    BenchOptions.Builder b =
        BenchOptions.builder(Workload.parse(workload))
            .endpoints(eps)
            .clients(clients)
            .conns(conns)
            .keySize(keySize)
            .valSize(valSize)
            .keySpace(keySpace)
            .sequentialKeys(sequentialKeys)
            .rate(rate)
            .total(total)
            .warmup(parseDuration("--warmup", warmup))
            .readRatio(readRatio)
            .serializableReads(consistency(consistency))
            .txnOps(txnOps)
            .watchers(watchers)
            .watchConns(watchConns)
            .prefill(prefill)
            .leaderOnly(target(target))
            .timeout(parseDuration("--timeout", timeout));
    if (duration != null) {
      b.duration(parseDuration("--duration", duration));
    }
    return b.build();
  }

  private static boolean consistency(String c) {
    return switch (c) {
      case "l" -> false;
      case "s" -> true;
      default -> throw new IllegalArgumentException("--consistency must be l or s, got " + c);
    };
  }

  private static boolean target(String t) {
    return switch (t) {
      case "all" -> false;
      case "leader" -> true;
      default -> throw new IllegalArgumentException("--target must be all or leader, got " + t);
    };
  }

  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)?");

  /** "500ms", "10s", "1.5m", "1h"; a bare number is seconds. */
  static Duration parseDuration(String option, String text) {
    Matcher m = DURATION.matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          option + ": invalid duration \"" + text + "\" (e.g. 500ms, 10s, 2m)");
    }
    long unitNanos =
        switch (m.group(2) == null ? "s" : m.group(2)) {
          case "ms" -> 1_000_000L;
          case "s" -> 1_000_000_000L;
          case "m" -> 60_000_000_000L;
          default -> 3_600_000_000_000L;
        };
    return Duration.ofNanos(
        new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unitNanos)).longValue());
  }
}
