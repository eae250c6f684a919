package io.tern.bench;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** How {@code tern bench} prints a result: a table for people, one JSON object for scripts. */
final class Report {
  private Report() {}

  static String text(BenchResult r) {
    BenchOptions o = r.options();
    StringBuilder sb = new StringBuilder();
    sb.append(o.workload().cliName())
        .append(": ")
        .append(o.clients())
        .append(o.clients() == 1 ? " client" : " clients")
        .append(" over ")
        .append(o.conns())
        .append(o.conns() == 1 ? " connection" : " connections")
        .append(" to ")
        .append(r.endpoints())
        .append(o.leaderOnly() ? " (leader)" : "")
        .append(", ")
        .append(
            o.openLoop()
                ? "open loop at "
                    + count(Math.round(o.rate()))
                    + " requests/s"
                    + " (latency from each request's intended start)"
                : "closed loop")
        .append('\n');
    sb.append("  ")
        .append(o.keySize())
        .append("-byte keys, ")
        .append(o.valSize())
        .append("-byte values, key space ")
        .append(count(o.keySpace()));
    switch (o.workload()) {
      case MIXED ->
          sb.append(
              String.format(
                  Locale.ROOT,
                  ", %.0f%% %s reads",
                  o.readRatio() * 100,
                  o.serializableReads() ? "serializable" : "linearizable"));
      case TXN_PUT -> sb.append(", ").append(o.txnOps()).append(" puts per txn");
      case WATCH ->
          sb.append(", ")
              .append(o.watchers())
              .append(o.watchers() == 1 ? " watcher" : " watchers")
              .append(" over ")
              .append(o.watchConns())
              .append(" more connection")
              .append(o.watchConns() == 1 ? "" : "s");
      default -> {}
    }
    if (!o.warmup().isZero()) {
      sb.append("; warmup ").append(seconds(o.warmup())).append(" s");
    }
    sb.append('\n');
    sb.append(
        String.format(
            Locale.ROOT,
            "measured %.3f s: %s requests, %s requests/s, %s errors%n",
            r.elapsedNanos() / 1e9,
            count(r.requests().count()),
            rate(r.opsPerSecond()),
            count(r.errorCount())));
    if (r.unsent() > 0) {
      sb.append("  ")
          .append(count(r.unsent()))
          .append(" requests not sent: the run ended while the open loop was behind schedule\n");
    }
    sb.append('\n');
    sb.append(
        String.format(
            Locale.ROOT,
            "%-8s %12s %12s %9s %9s %9s %9s %9s%n",
            "latency",
            "count",
            "per s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms"));
    for (Map.Entry<String, LatencySummary> e : r.kinds().entrySet()) {
      LatencySummary s = e.getValue();
      sb.append(
          String.format(
              Locale.ROOT,
              "%-8s %12s %12s %9s %9s %9s %9s %9s%n",
              e.getKey(),
              count(s.count()),
              rate(r.perSecond(s.count())),
              ms(s.p50()),
              ms(s.p90()),
              ms(s.p99()),
              ms(s.p999()),
              ms(s.max())));
    }
    if (r.errors().isEmpty()) {
      sb.append("errors: none\n");
    } else {
      sb.append("errors: ")
          .append(
              r.errors().entrySet().stream()
                  .map(e -> e.getKey() + " " + count(e.getValue()))
                  .collect(Collectors.joining(", ")))
          .append('\n');
    }
    return sb.toString();
  }

  /** One JSON object on one line; latencies in milliseconds. */
  static String json(BenchResult r) {
    BenchOptions o = r.options();
    StringBuilder sb = new StringBuilder("{");
    field(sb, "workload", quote(o.workload().cliName()));
    field(sb, "endpoints", quote(r.endpoints()));
    field(sb, "leaderOnly", Boolean.toString(o.leaderOnly()));
    field(sb, "clients", Integer.toString(o.clients()));
    field(sb, "conns", Integer.toString(o.conns()));
    field(sb, "keySize", Integer.toString(o.keySize()));
    field(sb, "valSize", Integer.toString(o.valSize()));
    field(sb, "keySpace", Long.toString(o.keySpace()));
    field(sb, "rate", number(o.rate()));
    field(sb, "warmupSeconds", number(o.warmup().toNanos() / 1e9));
    field(sb, "measuredFromEpochMs", Long.toString(r.measuredFromEpochMillis()));
    field(sb, "elapsedSeconds", number(r.elapsedNanos() / 1e9));
    field(sb, "ops", Long.toString(r.requests().count()));
    field(sb, "opsPerSecond", number(r.opsPerSecond()));
    field(sb, "errorCount", Long.toString(r.errorCount()));
    StringBuilder errors = new StringBuilder("{");
    r.errors().forEach((k, v) -> field(errors, k, Long.toString(v)));
    field(sb, "errors", errors.append('}').toString());
    field(sb, "unsent", Long.toString(r.unsent()));
    field(sb, "latencyMs", latency(r.requests(), null));
    StringBuilder kinds = new StringBuilder("{");
    r.kinds().forEach((k, s) -> field(kinds, k, latency(s, r.perSecond(s.count()))));
    field(sb, "kinds", kinds.append('}').toString());
    return sb.append('}').toString();
  }

  /** The live line: throughput of the last interval, percentiles of everything measured. */
  static String progress(
      long elapsedNanos, boolean warmingUp, double perSecond, LatencySummary soFar, long failed) {
    StringBuilder sb =
        new StringBuilder(String.format(Locale.ROOT, "[%4ds] ", elapsedNanos / 1_000_000_000L));
    sb.append(rate(perSecond)).append(" requests/s");
    if (warmingUp) {
      sb.append(" (warmup)");
    } else if (soFar.count() > 0) {
      sb.append(", p50 ").append(ms(soFar.p50())).append(" ms");
      sb.append(", p99 ").append(ms(soFar.p99())).append(" ms");
    }
    if (failed > 0) {
      sb.append(", ").append(count(failed)).append(" errors");
    }
    return sb.toString();
  }

  private static String latency(LatencySummary s, Double perSecond) {
    StringBuilder sb = new StringBuilder("{");
    field(sb, "count", Long.toString(s.count()));
    if (perSecond != null) {
      field(sb, "perSecond", number(perSecond));
    }
    field(sb, "p50", number(s.p50() / 1e6));
    field(sb, "p90", number(s.p90() / 1e6));
    field(sb, "p99", number(s.p99() / 1e6));
    field(sb, "p99.9", number(s.p999() / 1e6));
    field(sb, "max", number(s.max() / 1e6));
    field(sb, "mean", number(s.mean() / 1e6));
    return sb.append('}').toString();
  }

  private static void field(StringBuilder sb, String name, String rawValue) {
    if (sb.length() > 1) {
      sb.append(',');
    }
    sb.append(quote(name)).append(':').append(rawValue);
  }

  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  private static String number(double v) {
    return String.format(Locale.ROOT, "%.3f", v);
  }

  static String ms(long nanos) {
    return String.format(Locale.ROOT, "%.3f", nanos / 1e6);
  }

  private static String count(long v) {
    return String.format(Locale.ROOT, "%,d", v);
  }

  private static String rate(double v) {
    return String.format(Locale.ROOT, "%,.1f", v);
  }

  private static String seconds(Duration d) {
    return java.math.BigDecimal.valueOf(d.toMillis(), 3).stripTrailingZeros().toPlainString();
  }
}
