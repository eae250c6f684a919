package io.tern.raft.core.log;

import io.tern.raft.core.Entry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The log as the core sees it: every entry after the compaction point, held in memory, with three
 * marks over it.
 *
 * <pre>
 *   snapshotIndex < applied <= applying <= min(committed, stable)
 *   stable <= persisting <= lastIndex
 * </pre>
 *
 * Entries up to {@code stable} are durable; those in (stable, persisting] have been handed to
 * storage and are being written; those after {@code persisting} are not yet handed out. Committed
 * entries are applied only once durable locally, so a restart never finds its state machine ahead
 * of its log.
 *
 * <p>Invariant: committed entries are never truncated (Raft paper 5.3, Log Matching and Leader
 * Completeness); an attempt to do so throws.
 */
public final class RaftLog {
  /** Index and term of the entry just before the first held one (the compaction point). */
  private long snapshotIndex;

  private long snapshotTerm;

  /** Entries from snapshotIndex + 1, contiguous. */
  private final ArrayList<Entry> entries;

  private long committed;
  private long applying;
  private long applied;
  private long stable;
  private long persisting;

  /**
   * Rebuilds the log from durable state. Every given entry is durable.
   *
   * @param snapshotIndex the index before the first entry (0 for a log never compacted)
   * @param snapshotTerm the term at snapshotIndex
   * @param durable entries from snapshotIndex + 1, contiguous
   * @param committed the durable commit index
   * @param applied the index the state machine already holds
   */
  public RaftLog(
      long snapshotIndex, long snapshotTerm, List<Entry> durable, long committed, long applied) {
    this.snapshotIndex = snapshotIndex;
    this.snapshotTerm = snapshotTerm;
    this.entries = new ArrayList<>(Math.max(16, durable.size() * 2));
    for (int i = 0; i < durable.size(); i++) {
      Entry e = durable.get(i);
      if (e.index() != snapshotIndex + 1 + i) {
        throw new IllegalStateException("log not contiguous at " + e + " after " + snapshotIndex);
      }
      entries.add(e);
    }
    long last = lastIndex();
    if (committed > last) {
      throw new IllegalStateException("commit " + committed + " beyond last index " + last);
    }
    if (applied > committed && applied > snapshotIndex) {
      throw new IllegalStateException("applied " + applied + " beyond commit " + committed);
    }
    this.committed = Math.max(committed, snapshotIndex);
    this.applied = Math.max(applied, snapshotIndex);
    this.applying = this.applied;
    this.stable = last;
    this.persisting = last;
  }

  public long firstIndex() {
    return snapshotIndex + 1;
  }

  public long lastIndex() {
    return snapshotIndex + entries.size();
  }

  public long lastTerm() {
    return entries.isEmpty() ? snapshotTerm : entries.get(entries.size() - 1).term();
  }

  public long committed() {
    return committed;
  }

  public long applied() {
    return applied;
  }

  public long applying() {
    return applying;
  }

  public long stable() {
    return stable;
  }

  public long persisting() {
    return persisting;
  }

  /**
   * The term of the entry at {@code index}, or -1 when the log holds no such entry (beyond the end,
   * or compacted away).
   */
  public long term(long index) {
    if (index == snapshotIndex) {
      return snapshotTerm;
    }
    if (index < snapshotIndex || index > lastIndex()) {
      return -1;
    }
    return entries.get((int) (index - snapshotIndex - 1)).term();
  }

  public boolean matchTerm(long index, long term) {
    long t = term(index);
    return t >= 0 && t == term;
  }

  /** The entry at {@code index}; it must be held. */
  public Entry entry(long index) {
    if (index <= snapshotIndex || index > lastIndex()) {
      throw new IllegalStateException(
          "entry " + index + " not in [" + firstIndex() + ", " + lastIndex() + "]");
    }
    return entries.get((int) (index - snapshotIndex - 1));
  }

  /**
   * Whether a log ending at (lastIndex, lastTerm) is at least as up to date as ours (Raft paper
   * 5.4.1, election restriction).
   */
  public boolean isUpToDate(long lastIndex, long lastTerm) {
    long ourTerm = lastTerm();
    return lastTerm > ourTerm || (lastTerm == ourTerm && lastIndex >= lastIndex());
  }

  /**
   * Appends leader-side entries, already placed at lastIndex + 1 onwards.
   *
   * @return the new last index
   */
  public long appendPlaced(List<Entry> placed) {
    if (!placed.isEmpty() && placed.get(0).index() != lastIndex() + 1) {
      throw new IllegalStateException(
          "append of " + placed.get(0) + " does not follow last index " + lastIndex());
    }
    entries.addAll(placed);
    return lastIndex();
  }

  /**
   * The follower side of AppendEntries (Raft paper Figure 2, receiver rules 2-5): if our log
   * matches the leader's at (prevIndex, prevTerm), drop any conflicting suffix, append the new
   * entries and advance the commit index.
   *
   * @return the index of the last new entry, or -1 if our log does not match at prevIndex
   */
  public long maybeAppend(long prevIndex, long prevTerm, long leaderCommit, List<Entry> incoming) {
    if (!matchTerm(prevIndex, prevTerm)) {
      return -1;
    }
    long lastNew = prevIndex + incoming.size();
    int conflictAt = findConflict(incoming);
    if (conflictAt >= 0) {
      long conflictIndex = incoming.get(conflictAt).index();
      if (conflictIndex <= committed) {
        throw new IllegalStateException(
            "entry "
                + conflictIndex
                + " conflicts with committed prefix (commit "
                + committed
                + ")");
      }
      truncateFrom(conflictIndex);
      for (int i = conflictAt; i < incoming.size(); i++) {
        Entry e = incoming.get(i);
        if (e.index() != lastIndex() + 1) {
          throw new IllegalStateException("non-contiguous append: " + e + " after " + lastIndex());
        }
        entries.add(e);
      }
    }
    commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /**
   * Position in {@code incoming} of the first entry that is new or conflicts with ours (same index,
   * different term), or -1 if we hold all of them already.
   */
  private int findConflict(List<Entry> incoming) {
    for (int i = 0; i < incoming.size(); i++) {
      Entry e = incoming.get(i);
      if (!matchTerm(e.index(), e.term())) {
        if (e.index() <= snapshotIndex) {
          continue; // compacted entries are committed, hence matching
        }
        return i;
      }
    }
    return -1;
  }

  private void truncateFrom(long index) {
    if (index <= lastIndex()) {
      int from = (int) (index - snapshotIndex - 1);
      entries.subList(from, entries.size()).clear();
      stable = Math.min(stable, index - 1);
      persisting = Math.min(persisting, index - 1);
    }
  }

  /**
   * For fast backtracking (thesis 5.3 optimization): the largest index at most {@code index} whose
   * term is at most {@code term}. Every entry after it up to {@code index} has a term above {@code
   * term}, so cannot match a log whose entry at {@code index} has that term.
   */
  public long findConflictByTerm(long index, long term) {
    long i = Math.min(index, lastIndex());
    while (i > snapshotIndex) {
      if (term(i) <= term) {
        return i;
      }
      i--;
    }
    return i;
  }

  public void commitTo(long index) {
    if (index > committed) {
      if (index > lastIndex()) {
        throw new IllegalStateException("commit " + index + " beyond last index " + lastIndex());
      }
      committed = index;
    }
  }

  /**
   * Entries in [from, lastIndex] up to the given limits, at least one when any exists. The returned
   * list is a copy: later changes to the log do not affect it.
   */
  public List<Entry> slice(long from, int maxCount, long maxBytes) {
    long last = lastIndex();
    if (from > last) {
      return List.of();
    }
    if (from <= snapshotIndex) {
      throw new IllegalStateException("slice from compacted index " + from);
    }
    int start = (int) (from - snapshotIndex - 1);
    int end = (int) Math.min(entries.size(), (long) start + maxCount);
    long bytes = 0;
    int i = start;
    for (; i < end; i++) {
      bytes += entries.get(i).sizeBytes();
      if (bytes > maxBytes && i > start) {
        break;
      }
    }
    return new ArrayList<>(entries.subList(start, i));
  }

  /** Entries not yet handed to storage. */
  public List<Entry> unpersisted() {
    if (persisting >= lastIndex()) {
      return List.of();
    }
    int start = (int) (persisting - snapshotIndex);
    return Collections.unmodifiableList(new ArrayList<>(entries.subList(start, entries.size())));
  }

  /** Storage has accepted entries through {@code index}. */
  public void persistingTo(long index) {
    if (index > lastIndex()) {
      throw new IllegalStateException("persisting " + index + " beyond last " + lastIndex());
    }
    persisting = Math.max(persisting, index);
  }

  /**
   * Storage made entries durable through {@code index}, which had term {@code term} when written.
   * Ignored if the entry has since been replaced (a newer write will report it).
   *
   * @return whether the stable mark moved
   */
  public boolean stableTo(long index, long term) {
    if (index > stable && index <= persisting && matchTerm(index, term)) {
      stable = index;
      return true;
    }
    return false;
  }

  /** Whether committed, durable entries are waiting to be handed to the state machine. */
  public boolean hasNextCommitted() {
    return applying < Math.min(committed, stable);
  }

  /** Committed, durable entries not yet handed to the state machine, up to {@code maxBytes}. */
  public List<Entry> nextCommitted(long maxBytes) {
    long hi = Math.min(committed, stable);
    if (applying >= hi) {
      return List.of();
    }
    return slice(applying + 1, (int) Math.min(Integer.MAX_VALUE, hi - applying), maxBytes);
  }

  /** Entries through {@code index} were handed to the state machine. */
  public void applyingTo(long index) {
    if (index > Math.min(committed, stable) || index < applying) {
      throw new IllegalStateException(
          "applying "
              + index
              + " outside ["
              + applying
              + ", min("
              + committed
              + ", "
              + stable
              + ")]");
    }
    applying = index;
  }

  /** The state machine holds the effects of entries through {@code index}. */
  public void appliedTo(long index) {
    if (index > applying || index < applied) {
      throw new IllegalStateException(
          "applied " + index + " outside [" + applied + ", " + applying + "]");
    }
    applied = index;
  }

  /** Index of the entry just before the first held one: where the log was compacted or reset. */
  public long snapshotIndex() {
    return snapshotIndex;
  }

  public long snapshotTerm() {
    return snapshotTerm;
  }

  /**
   * Drops the entries through {@code index}, which a snapshot covers. Only applied entries can be
   * compacted.
   */
  public void compact(long index) {
    if (index <= snapshotIndex) {
      return;
    }
    if (index > applied) {
      throw new IllegalStateException("compaction to " + index + " beyond applied " + applied);
    }
    long t = term(index);
    entries.subList(0, (int) (index - snapshotIndex)).clear();
    snapshotIndex = index;
    snapshotTerm = t;
  }

  /**
   * Replaces the whole log by a snapshot taken at {@code index} in {@code term}: nothing is held
   * after it, it is committed, and the state machine is being restored to it (applying). The caller
   * persists the reset before acknowledging anything.
   */
  public void restore(long index, long term) {
    if (index <= committed) {
      throw new IllegalStateException(
          "restore of snapshot " + index + " at or below commit " + committed);
    }
    entries.clear();
    snapshotIndex = index;
    snapshotTerm = term;
    committed = index;
    applying = index;
    stable = index;
    persisting = index;
  }

  @Override
  public String toString() {
    return "RaftLog{snap="
        + snapshotIndex
        + "@"
        + snapshotTerm
        + " last="
        + lastIndex()
        + "@"
        + lastTerm()
        + " commit="
        + committed
        + " stable="
        + stable
        + " persisting="
        + persisting
        + " applying="
        + applying
        + " applied="
        + applied
        + "}";
  }
}
