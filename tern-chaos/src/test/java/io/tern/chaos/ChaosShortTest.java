package io.tern.chaos;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The short chaos run of CI: two fixed seeds of 55 s of faults each on 5 {@code tern server}
 * processes (network namespaces when running as root, loopback TCP proxies otherwise); seed 1 runs
 * with clock skew (libfaketime) and lease reads when faketime is installed, seed 2 with ReadIndex;
 * both with every fault. Fails if any checker fails or the harness could not complete a run. The
 * run directories stay under {@code target/chaos}. The long version is {@code chaos/run.sh --seeds
 * N --duration S}.
 */
class ChaosShortTest {
  private static final List<Long> SEEDS = List.of(1L, 2L);
  private static final int DURATION_SECONDS = 55;

  /**
   * Faults left out of CI. Empty: the two anomalies the harness found are fixed (a paused leader
   * serving lease reads from a lease that expired in real time — ReadScenarioTest; an expiry revoke
   * undoing an acknowledged keep-alive — LeaseAlarmMemberTest), so every fault runs.
   */
  private static final Set<String> LEASE_READ_EXCLUSIONS = Set.of();

  private static final Set<String> EXCLUSIONS = Set.of();

  @Test
  @Timeout(value = 6, unit = java.util.concurrent.TimeUnit.MINUTES)
  void shortRunsOfFixedSeedsPassEveryChecker() throws Exception {
    Path out = Path.of(System.getProperty("tern.chaos.out", "target/chaos"));
    for (long seed : SEEDS) {
      ChaosRun.Outcome r =
          ChaosRun.run(
              new ChaosOptions(
                  seed,
                  DURATION_SECONDS,
                  out,
                  "auto",
                  "auto",
                  "auto",
                  5,
                  200,
                  seed % 2 == 1 ? LEASE_READ_EXCLUSIONS : EXCLUSIONS));
      String summary =
          Files.exists(r.dir().resolve("summary.txt"))
              ? Files.readString(r.dir().resolve("summary.txt"), UTF_8)
              : "(no summary)";
      System.out.println(summary);
      assertThat(r.error())
          .as("harness error of seed %d (%s)\n%s", seed, r.dir(), summary)
          .isNull();
      assertThat(r.valid()).as("seed %d (%s)\n%s", seed, r.dir(), summary).isTrue();
      // The run did what it claims: faults were injected, clients made progress, all checked.
      // (At least 3 windows even when the machine is loaded and everything runs slower.)
      assertThat(r.faultWindows()).as("fault windows of seed %d", seed).isGreaterThanOrEqualTo(3);
      assertThat(r.okOperations())
          .as("acknowledged operations of seed %d", seed)
          .isGreaterThan(500);
      assertThat(r.checks())
          .extracting(CheckResult::name)
          .containsExactlyInAnyOrder(
              "convergence", "linearizability", "no-lost-writes", "watch", "leases");
      assertThat(r.snapshotRestores())
          .as("snapshots installed on lagging members during seed %d", seed)
          .isPositive();
      assertThat(r.dir().resolve("plot.png")).exists();
      assertThat(r.dir().resolve("history.jsonl")).exists();
    }
  }
}
