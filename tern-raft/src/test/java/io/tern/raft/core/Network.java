package io.tern.raft.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A synchronous, deterministic network for cores: one FIFO queue of messages in send order. Links
 * can be cut (per direction) and messages dropped or held by predicate. A cut or a drop rule
 * applies when a message would be delivered, so cutting a link also loses what is already on it.
 * Held messages stay queued until released.
 */
final class Network {
  /** A message as it left its sender, and whether the sender put it in messagesAfterPersist. */
  record Sent(Message message, boolean afterPersist) {}

  private record Link(long from, long to) {}

  private final ArrayDeque<Message> queue = new ArrayDeque<>();
  private final Set<Link> cut = new HashSet<>();
  private final List<Predicate<Message>> dropRules = new ArrayList<>();
  private final List<Predicate<Message>> holdRules = new ArrayList<>();
  private final List<Sent> history = new ArrayList<>();
  private final Map<MessageType, Long> sentByType = new EnumMap<>(MessageType.class);
  private final Map<MessageType, Long> bytesByType = new EnumMap<>(MessageType.class);
  private long dropped;

  void send(Message m, boolean afterPersist) {
    history.add(new Sent(m, afterPersist));
    sentByType.merge(m.type(), 1L, Long::sum);
    bytesByType.merge(m.type(), m.payloadBytes(), Long::sum);
    queue.addLast(m);
  }

  // ---------------------------------------------------------------- faults

  /** Cuts the link from {@code from} to {@code to} (one direction). */
  void cut(long from, long to) {
    cut.add(new Link(from, to));
  }

  /** Cuts both directions between {@code a} and {@code b}. */
  void cutBoth(long a, long b) {
    cut(a, b);
    cut(b, a);
  }

  /** Cuts {@code id} off from every member of {@code all}. */
  void isolate(long id, Iterable<Long> all) {
    for (long other : all) {
      if (other != id) {
        cutBoth(id, other);
      }
    }
  }

  /** Splits {@code all} into groups that only talk among themselves. */
  void partition(Iterable<Long> all, Set<Long> group) {
    for (long a : all) {
      for (long b : all) {
        if (group.contains(a) != group.contains(b)) {
          cut(a, b);
        }
      }
    }
  }

  /** Restores every link and forgets every drop and hold rule. */
  void heal() {
    cut.clear();
    dropRules.clear();
    holdRules.clear();
  }

  /** Drops every message matching {@code rule} when it would be delivered, until healed. */
  void dropIf(Predicate<Message> rule) {
    dropRules.add(rule);
  }

  /** Keeps every message matching {@code rule} queued, until released. */
  void holdIf(Predicate<Message> rule) {
    holdRules.add(rule);
  }

  void releaseHeld() {
    holdRules.clear();
  }

  void clearDropRules() {
    dropRules.clear();
  }

  boolean isHeld(Message m) {
    for (Predicate<Message> r : holdRules) {
      if (r.test(m)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code m} may reach its destination now (links and drop rules permitting). */
  boolean passes(Message m) {
    if (cut.contains(new Link(m.from(), m.to()))) {
      return false;
    }
    for (Predicate<Message> r : dropRules) {
      if (r.test(m)) {
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- queue

  /** The next message that is not held, removed from the queue, or null if none. */
  Message pollDeliverable() {
    Iterator<Message> it = queue.iterator();
    while (it.hasNext()) {
      Message m = it.next();
      if (!isHeld(m)) {
        it.remove();
        return m;
      }
    }
    return null;
  }

  void countDropped() {
    dropped++;
  }

  /** Removes and returns every queued message matching {@code p}, in send order. */
  List<Message> take(Predicate<Message> p) {
    List<Message> out = new ArrayList<>();
    Iterator<Message> it = queue.iterator();
    while (it.hasNext()) {
      Message m = it.next();
      if (p.test(m)) {
        it.remove();
        out.add(m);
      }
    }
    return out;
  }

  /** Removes and returns the {@code i}-th queued message (held ones included). */
  Message takeAt(int i) {
    Iterator<Message> it = queue.iterator();
    for (int k = 0; k < i; k++) {
      it.next();
    }
    Message m = it.next();
    it.remove();
    return m;
  }

  /** Queues another copy of a message already sent, as a duplicating network would. */
  void duplicate(Message m) {
    queue.addLast(m);
  }

  int size() {
    return queue.size();
  }

  /** Queued messages (held ones included), in send order. */
  List<Message> pending() {
    return List.copyOf(queue);
  }

  List<Message> pending(Predicate<Message> p) {
    return queue.stream().filter(p).toList();
  }

  /** Forgets everything queued, as if the wire lost it all. */
  void discardPending() {
    dropped += queue.size();
    queue.clear();
  }

  // ---------------------------------------------------------------- accounting

  /** Every message ever sent, in order. */
  List<Sent> history() {
    return history;
  }

  long sent(MessageType type) {
    return sentByType.getOrDefault(type, 0L);
  }

  long sentTotal() {
    return sentByType.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Entry payload bytes carried by messages of {@code type}. */
  long bytes(MessageType type) {
    return bytesByType.getOrDefault(type, 0L);
  }

  long dropped() {
    return dropped;
  }

  void resetCounters() {
    history.clear();
    sentByType.clear();
    bytesByType.clear();
    dropped = 0;
  }
}
