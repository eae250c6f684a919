package io.tern.raft.core.quorum;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * Parses the compact notation used by the table-driven quorum tests.
 *
 * <ul>
 *   <li>voters: {@code "1 2 3"}, empty or null for none; joint: {@code "1 2 3 && 1 2 4"}
 *   <li>acked indexes: {@code "1:5 2:3"}; a voter left out has acked nothing
 *   <li>votes: {@code "1:y 2:n"}; a voter left out has not answered
 * </ul>
 */
final class QuorumFixtures {
  private QuorumFixtures() {}

  static MajorityConfig majority(String voters) {
    String text = voters == null ? "" : voters.trim();
    if (text.isEmpty()) {
      return MajorityConfig.EMPTY;
    }
    return MajorityConfig.of(
        Arrays.stream(text.split("\\s+")).mapToLong(Long::parseLong).toArray());
  }

  static JointConfig joint(String voters) {
    String text = voters == null ? "" : voters;
    int split = text.indexOf("&&");
    if (split < 0) {
      return new JointConfig(majority(text), MajorityConfig.EMPTY);
    }
    return new JointConfig(majority(text.substring(0, split)), majority(text.substring(split + 2)));
  }

  static Map<Long, Long> acked(String pairs) {
    Map<Long, Long> acked = new HashMap<>();
    forEachPair(pairs, (id, value) -> acked.put(id, Long.parseLong(value)));
    return acked;
  }

  static AckedIndexer indexer(Map<Long, Long> acked) {
    return id -> acked.getOrDefault(id, 0L);
  }

  static Map<Long, Boolean> votes(String pairs) {
    Map<Long, Boolean> votes = new HashMap<>();
    forEachPair(
        pairs,
        (id, value) -> {
          switch (value) {
            case "y" -> votes.put(id, true);
            case "n" -> votes.put(id, false);
            default -> throw new IllegalArgumentException("vote must be y or n: " + value);
          }
        });
    return votes;
  }

  /**
   * Bytes the current thread allocated while running {@code body}, measured with the JVM's
   * per-thread allocation counter. Skips the calling test where the JVM does not offer it.
   */
  static long allocatedBytes(Runnable body) {
    ThreadMXBean bean = ManagementFactory.getThreadMXBean();
    Assumptions.assumeTrue(
        bean instanceof com.sun.management.ThreadMXBean counting
            && counting.isThreadAllocatedMemorySupported(),
        "per-thread allocation counter unavailable");
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
    threads.setThreadAllocatedMemoryEnabled(true);
    long thread = Thread.currentThread().getId();
    body.run(); // warm-up, so that class loading and first-call setup are not counted
    long before = threads.getThreadAllocatedBytes(thread);
    body.run();
    return threads.getThreadAllocatedBytes(thread) - before;
  }

  private interface PairConsumer {
    void accept(long id, String value);
  }

  private static void forEachPair(String pairs, PairConsumer consumer) {
    if (pairs == null || pairs.isBlank()) {
      return;
    }
    for (String pair : pairs.trim().split("\\s+")) {
      int colon = pair.indexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException("expected id:value, got " + pair);
      }
      consumer.accept(Long.parseLong(pair.substring(0, colon)), pair.substring(colon + 1));
    }
  }
}
