package io.tern.sim.check;

/** The outcome of an operation as observed by the client that issued it. */
public enum OpStatus {
  /** Invoked, no outcome recorded yet. The checker treats it exactly like {@link #UNKNOWN}. */
  PENDING,
  /** Completed with a known output at its completion time. */
  OK,
  /** Definitely had no effect; excluded from checking. */
  FAIL,
  /**
   * Outcome unknown (timed out, client crashed): it may or may not have taken effect, at any point
   * after its invocation, and its output is unconstrained.
   */
  UNKNOWN
}
