package io.tern.raft.core;

/** What a log entry carries. */
public enum EntryType {
  /** An application command (or, with empty data and no request id, the leader's no-op). */
  NORMAL,
  /** A membership configuration change; reserved for the membership-change work. */
  CONFIG
}
