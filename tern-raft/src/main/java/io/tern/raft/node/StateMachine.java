package io.tern.raft.node;

import io.tern.raft.core.Entry;
import java.util.List;

/**
 * The replicated state machine. Called on the apply thread only, with committed entries in log
 * order, each exactly once per incarnation.
 */
public interface StateMachine {
  /**
   * Applies a batch of committed entries in log order. No-op and configuration entries are included
   * (they have empty data) so the machine can track its applied index.
   *
   * @return one result per entry, aligned with {@code entries}; the result of entry {@code i}
   *     completes the proposal that created it (null where there is nothing to report)
   */
  Object[] apply(List<Entry> entries);

  /** The last index whose effects the machine already holds at start; 0 for an empty machine. */
  long appliedIndex();
}
