package io.tern.chaos;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a run's directory: {@code history.jsonl} (every operation), {@code faults.jsonl} (the
 * fault timeline), {@code verdict.json} and {@code summary.txt} (each checker's verdict), and
 * {@code plot.png} (latency and throughput over time, fault windows shaded; drawn by gnuplot).
 */
final class Report {
  private static final Logger LOG = LoggerFactory.getLogger(Report.class);
  private static final List<String> TYPES =
      List.of(
          "read",
          "write",
          "cas",
          "append",
          "lease-grant",
          "lease-put",
          "lease-keepalive",
          "lease-revoke",
          "final-read");

  private Report() {}

  static void write(
      Path dir,
      Map<String, Object> info,
      Recorder rec,
      Timeline timeline,
      List<CheckResult> checks,
      String error,
      boolean valid)
      throws IOException {
    List<Recorder.Op> ops = rec.ops();
    try (BufferedWriter w = Files.newBufferedWriter(dir.resolve("history.jsonl"), UTF_8)) {
      for (Recorder.Op op : ops) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", op.id);
        m.put("client", op.client);
        m.put("type", op.type);
        m.put("key", op.key);
        m.put("value", op.value);
        if (op.type.equals("cas")) {
          m.put("expected", op.expected);
        }
        m.put("member", op.member);
        m.put("status", op.status().name().toLowerCase(Locale.ROOT));
        m.put("output", op.output());
        m.put("revision", op.revision());
        m.put("invokeNanos", op.invoke);
        m.put("completeNanos", op.complete());
        if (op.error() != null) {
          m.put("error", op.error());
        }
        w.write(Json.write(m));
        w.newLine();
      }
    }
    try (BufferedWriter w = Files.newBufferedWriter(dir.resolve("faults.jsonl"), UTF_8)) {
      for (Timeline.Window x : timeline.windows()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("window", x.kind);
        m.put("detail", x.detail);
        m.put("startNanos", x.start);
        m.put("endNanos", x.end);
        w.write(Json.write(m));
        w.newLine();
      }
      for (Timeline.Instant x : timeline.instants()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("action", x.action());
        m.put("detail", x.detail());
        m.put("timeNanos", x.time());
        w.write(Json.write(m));
        w.newLine();
      }
    }
    Map<String, Object> verdict = new LinkedHashMap<>();
    verdict.put("valid", valid);
    verdict.putAll(info);
    verdict.put("operations", ops.size());
    verdict.put("error", error);
    Map<String, Object> byName = new LinkedHashMap<>();
    for (CheckResult c : checks) {
      byName.put(c.name(), c.toJson());
    }
    verdict.put("checks", byName);
    Files.writeString(dir.resolve("verdict.json"), Json.pretty(verdict), UTF_8);
    Files.writeString(
        dir.resolve("summary.txt"), summary(info, ops, timeline, checks, error, valid), UTF_8);
    plot(dir, ops, timeline);
  }

  static String summary(
      Map<String, Object> info,
      List<Recorder.Op> ops,
      Timeline timeline,
      List<CheckResult> checks,
      String error,
      boolean valid) {
    StringBuilder sb = new StringBuilder();
    sb.append("Tern chaos run: ").append(valid ? "VALID" : "INVALID").append('\n');
    info.forEach((k, v) -> sb.append("  ").append(k).append(": ").append(v).append('\n'));
    Map<String, int[]> counts = new TreeMap<>();
    for (Recorder.Op op : ops) {
      int[] c = counts.computeIfAbsent(op.type, k -> new int[3]);
      switch (op.status()) {
        case OK -> c[0]++;
        case FAIL -> c[1]++;
        default -> c[2]++;
      }
    }
    sb.append("operations (ok / fail / unknown):\n");
    counts.forEach(
        (k, c) -> sb.append(String.format("  %-16s %6d %6d %6d%n", k, c[0], c[1], c[2])));
    sb.append("faults:\n");
    for (Timeline.Window w : timeline.windows()) {
      sb.append(
          String.format(
              "  %7.2f - %7.2f s  %-22s %s%n", w.start / 1e9, w.end / 1e9, w.kind, w.detail));
    }
    sb.append("checks:\n");
    for (CheckResult c : checks) {
      sb.append("  ")
          .append(c.ok() ? "PASS " : "FAIL ")
          .append(c.name())
          .append(": ")
          .append(c.summary())
          .append('\n');
      for (String p : c.problems()) {
        sb.append("      - ")
            .append(p.length() > 2000 ? p.substring(0, 2000) + "..." : p)
            .append('\n');
      }
    }
    if (error != null) {
      sb.append("harness error: ").append(error).append('\n');
    }
    return sb.toString();
  }

  /** Latency of every completed operation and throughput per second, faults shaded. */
  static void plot(Path dir, List<Recorder.Op> ops, Timeline timeline) throws IOException {
    Path lat = dir.resolve("plot-latency.dat");
    Path thr = dir.resolve("plot-throughput.dat");
    Map<Long, int[]> perSecond = new TreeMap<>();
    try (BufferedWriter w = Files.newBufferedWriter(lat, UTF_8)) {
      for (Recorder.Op op : ops) {
        if (op.complete() < 0) {
          continue;
        }
        int type = Math.max(0, TYPES.indexOf(op.type));
        int status = op.status() == Recorder.Status.OK ? 0 : 1;
        w.write(
            String.format(
                Locale.ROOT,
                "%.4f %.3f %d %d%n",
                op.invoke / 1e9,
                Math.max(0.01, (op.complete() - op.invoke) / 1e6),
                type,
                status));
        int[] c = perSecond.computeIfAbsent(op.complete() / 1_000_000_000L, k -> new int[2]);
        c[status]++;
      }
    }
    try (BufferedWriter w = Files.newBufferedWriter(thr, UTF_8)) {
      for (Map.Entry<Long, int[]> e : perSecond.entrySet()) {
        w.write(e.getKey() + 0.5 + " " + e.getValue()[0] + " " + e.getValue()[1] + "\n");
      }
    }
    StringBuilder gp = new StringBuilder();
    gp.append("set terminal pngcairo size 1400,900 noenhanced\n")
        .append("set output '")
        .append(dir.resolve("plot.png"))
        .append("'\n")
        .append("set multiplot layout 2,1 title 'Tern chaos run ")
        .append(dir.getFileName())
        .append(" (shaded: fault windows)'\n");
    int n = 1;
    for (Timeline.Window w : timeline.windows()) {
      double end = w.end < 0 ? w.start / 1e9 + 1 : w.end / 1e9;
      gp.append(
          String.format(
              Locale.ROOT,
              "set object %d rect from %.3f, graph 0 to %.3f, graph 1 fc rgb '#f4b0b0' fs solid 0.35"
                  + " noborder behind%n",
              n,
              w.start / 1e9,
              end));
      gp.append(
          String.format(
              Locale.ROOT,
              "set label %d '%s' at %.3f, graph 0.98 rotate by 90 right font ',8'%n",
              n,
              w.kind.replace("'", ""),
              w.start / 1e9 + 0.2));
      n++;
    }
    gp.append("set xlabel 'time since start (s)'\nset ylabel 'latency (ms)'\nset logscale y\n")
        .append("set key outside right\nset grid\n");
    gp.append("plot ");
    for (int t = 0; t < TYPES.size(); t++) {
      gp.append(
          String.format(
              Locale.ROOT,
              "'%s' using 1:($3==%d && $4==0 ? $2 : 1/0) with points pt 7 ps 0.3 title '%s ok', ",
              lat,
              t,
              TYPES.get(t)));
    }
    gp.append(
        String.format(
            Locale.ROOT,
            "'%s' using 1:($4==1 ? $2 : 1/0) with points pt 2 ps 0.5 lc rgb 'black' title 'failed or"
                + " unknown'%n",
            lat));
    gp.append("unset logscale y\nunset label\nset ylabel 'operations completed per second'\n")
        .append(
            String.format(
                Locale.ROOT,
                "plot '%s' using 1:2 with steps lw 2 title 'ok', '%s' using 1:3 with steps lw 2 title"
                    + " 'failed or unknown'%n",
                thr,
                thr))
        .append("unset multiplot\n");
    Path script = dir.resolve("plot.gp");
    Files.writeString(script, gp.toString(), UTF_8);
    Shell.Result r = Shell.run("gnuplot", script.toString());
    if (!r.ok()) {
      LOG.warn("gnuplot failed ({}): {}", r.exit(), r.output());
      Files.writeString(dir.resolve("plot.error.txt"), r.output() + "\n", UTF_8);
    }
  }
}
