package io.tern.chaos;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code chaos/run.sh}: runs chaos runs for a list of seeds and prints each verdict. */
@Command(
    name = "tern-chaos",
    mixinStandardHelpOptions = true,
    description =
        "Runs 5 tern server processes under faults (kills, pauses, partitions, one-way loss, clock"
            + " skew, membership changes, leader transfers) with concurrent clients, then checks"
            + " the history. Exit status 0 when every run is valid, 1 otherwise.")
public final class ChaosMain implements Callable<Integer> {
  @Option(names = "--seeds", description = "Run seeds 1..N (after --from) (default: 1).")
  int seeds = 1;

  @Option(names = "--from", description = "First seed of --seeds (default: 1).")
  long from = 1;

  @Option(names = "--seed", split = ",", description = "Explicit seeds, comma-separated.")
  List<Long> explicit = new ArrayList<>();

  @Option(names = "--duration", description = "Seconds of faults per run (default: 60).")
  int duration = 60;

  @Option(
      names = "--out",
      description = "Directory of the run directories (default: target/chaos).")
  Path out = Path.of("target", "chaos");

  @Option(names = "--mode", description = "auto, netns or proxy (default: auto).")
  String mode = "auto";

  @Option(
      names = "--clock-skew",
      description = "auto (odd seeds), on or off; needs Debian's faketime (default: auto).")
  String clockSkew = "auto";

  @Option(
      names = "--lease-read",
      description = "Members' --lease-read: auto (with clock skew), on or off (default: auto).")
  String leaseRead = "auto";

  @Option(names = "--snapshot-count", description = "Members' --snapshot-count (default: 200).")
  int snapshotCount = 200;

  @Option(
      names = "--exclude-faults",
      split = ",",
      description =
          "Fault kinds never drawn, e.g. PAUSE_LEADER,PAUSE_RANDOM (see verdict.json's faultPlan).")
  List<String> excludeFaults = new ArrayList<>();

  @Option(names = "--cleanup", description = "Only remove leftovers of crashed runs, then exit.")
  boolean cleanup;

  @Override
  public Integer call() throws Exception {
    if (cleanup) {
      NetnsNet.cleanupLeftovers();
      return 0;
    }
    List<Long> list = new ArrayList<>(explicit);
    if (list.isEmpty()) {
      for (long s = from; s < from + seeds; s++) {
        list.add(s);
      }
    }
    int invalid = 0;
    List<String> lines = new ArrayList<>();
    for (long seed : list) {
      ChaosRun.Outcome r =
          ChaosRun.run(
              new ChaosOptions(
                  seed,
                  duration,
                  out,
                  mode,
                  clockSkew,
                  leaseRead,
                  5,
                  snapshotCount,
                  java.util.Set.copyOf(excludeFaults)));
      String line =
          "seed "
              + seed
              + ": "
              + (r.valid() ? "VALID" : "INVALID")
              + "  "
              + r.dir()
              + (r.error() == null
                  ? ""
                  : "  (harness error: " + r.error().lines().findFirst().orElse("") + ")");
      System.out.println(line);
      for (CheckResult c : r.checks()) {
        System.out.println("    " + (c.ok() ? "PASS " : "FAIL ") + c.name() + ": " + c.summary());
      }
      lines.add(line);
      if (!r.valid()) {
        invalid++;
      }
    }
    System.out.println();
    lines.forEach(System.out::println);
    System.out.println(invalid == 0 ? "all runs valid" : invalid + " invalid run(s)");
    return invalid == 0 ? 0 : 1;
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new ChaosMain()).execute(args));
  }
}
