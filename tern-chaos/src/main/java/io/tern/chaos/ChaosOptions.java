package io.tern.chaos;

import java.nio.file.Path;
import java.util.Set;

/**
 * Settings of one run.
 *
 * @param seed draws the fault schedule, the workload choices and the clock skews
 * @param durationSeconds how long faults are injected (the run takes longer: start, heal, checks)
 * @param out the directory under which the run's directory is created
 * @param mode "auto" (netns when possible, else proxy), "netns" or "proxy"
 * @param clockSkew "auto" (every odd seed, when faketime is installed), "on" or "off"
 * @param leaseRead "auto" (with clock skew), "on" or "off": the members' --lease-read
 * @param members cluster size
 * @param snapshotCount --snapshot-count of the members (low: snapshots install during faults)
 * @param excludedFaults names of {@link Nemesis.Kind}s never drawn in this run, and {@link
 *     #LATE_KEEPALIVE}: no lease keep-alive later than half the TTL after the last refresh
 */
record ChaosOptions(
    long seed,
    int durationSeconds,
    Path out,
    String mode,
    String clockSkew,
    String leaseRead,
    int members,
    int snapshotCount,
    Set<String> excludedFaults) {
  /** Keep-alives sent close to a lease's expiry, racing the leader's expiry revoke. */
  static final String LATE_KEEPALIVE = "LATE_KEEPALIVE";

  ChaosOptions {
    excludedFaults = Set.copyOf(excludedFaults);
    for (String f : excludedFaults) {
      if (!f.equals(LATE_KEEPALIVE)) {
        Nemesis.Kind.valueOf(f); // IllegalArgumentException naming an unknown fault
      }
    }
    if (durationSeconds < 10) {
      throw new IllegalArgumentException("duration must be at least 10 s, was " + durationSeconds);
    }
    if (!leaseRead.equals("auto") && !leaseRead.equals("on") && !leaseRead.equals("off")) {
      throw new IllegalArgumentException("lease read must be auto, on or off: " + leaseRead);
    }
    if (members < 3) {
      throw new IllegalArgumentException("at least 3 members, was " + members);
    }
    if (!mode.equals("auto") && !mode.equals("netns") && !mode.equals("proxy")) {
      throw new IllegalArgumentException("mode must be auto, netns or proxy: " + mode);
    }
    if (!clockSkew.equals("auto") && !clockSkew.equals("on") && !clockSkew.equals("off")) {
      throw new IllegalArgumentException("clock skew must be auto, on or off: " + clockSkew);
    }
  }
}
