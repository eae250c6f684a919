package io.tern.bench;

import java.util.Arrays;
import java.util.stream.Collectors;

/** What each client of {@code tern bench} sends. */
public enum Workload {
  /** One put of a random key per request. */
  PUT("put"),
  /** One linearizable range of a single random key per request. */
  RANGE_L("range-l"),
  /** One serializable range of a single random key per request. */
  RANGE_S("range-s"),
  /** One txn per request without compares, whose success branch puts {@code --txn-ops} keys. */
  TXN_PUT("txn-put"),
  /** Ranges and puts mixed at {@code --read-ratio}. */
  MIXED("mixed"),
  /** Puts, and the time until each reaches watchers on other connections. */
  WATCH("watch");

  private final String cliName;

  Workload(String cliName) {
    this.cliName = cliName;
  }

  public String cliName() {
    return cliName;
  }

  /** Whether the workload reads keys, so they should exist first. */
  boolean reads() {
    return this == RANGE_L || this == RANGE_S || this == MIXED;
  }

  public static Workload parse(String name) {
    for (Workload w : values()) {
      if (w.cliName.equals(name)) {
        return w;
      }
    }
    throw new IllegalArgumentException(
        "unknown workload \"" + name + "\" (one of " + names() + ")");
  }

  static String names() {
    return Arrays.stream(values()).map(Workload::cliName).collect(Collectors.joining(", "));
  }
}
