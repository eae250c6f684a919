package io.tern.sim.check;

/** The kinds of single-key operations understood by the key-value register model. */
public enum OpKind {
  /** {@code PUT(key, value)}: sets the value; no output. */
  PUT,
  /** {@code GET(key)}: outputs the current value, or null if the key is absent. */
  GET,
  /** {@code APPEND(key, suffix)}: sets the value to old value (or "" if absent) + suffix. */
  APPEND,
  /**
   * {@code CAS(key, expected, newValue)}: if the current value equals {@code expected} (null
   * meaning "absent"), sets it to {@code newValue} and outputs true; otherwise outputs false.
   */
  CAS
}
