package io.tern.sim.net;

import io.tern.raft.core.Message;
import io.tern.raft.core.MessageType;
import io.tern.raft.node.Transport;
import io.tern.sim.Simulation;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * A simulated network between nodes identified by id.
 *
 * <p>Each message sent gets its own fate, drawn from the network's seeded random stream: dropped
 * with probability {@link #dropProbability()}, else delivered after a latency uniform in {@code
 * [minLatency, maxLatency]} (so messages reorder whenever the bounds differ) and, with probability
 * {@link #duplicateProbability()}, delivered a second time with an independent latency.
 *
 * <p>Links are directed and can be cut ({@link #cut}, {@link #partition}, {@link #isolate}); a
 * message is lost if its link is cut when it is sent or when it would be delivered. Delivery goes
 * to whichever endpoint of the destination is current at delivery time, and only if that endpoint
 * is started and not closed; {@link #endpoint(long)} replaces (and closes) a node's previous
 * endpoint, which is how a restarted node gets a fresh one. Messages already in flight when their
 * sender crashes are still delivered, as packets on the wire would be.
 */
public final class SimNetwork {
  /** Latency bounds of the {@link #reliable()} preset, in nanoseconds. */
  public static final long RELIABLE_MIN_LATENCY = 100_000;

  public static final long RELIABLE_MAX_LATENCY = 1_000_000;

  private final Simulation sim;
  private final RandomGenerator random;
  private final Map<Long, Endpoint> endpoints = new TreeMap<>();

  /** Cut directed links: from -> set of destinations. */
  private final Map<Long, Set<Long>> cuts = new TreeMap<>();

  private final Set<Long> isolated = new TreeSet<>();

  private long minLatency = RELIABLE_MIN_LATENCY;
  private long maxLatency = RELIABLE_MAX_LATENCY;
  private double dropProbability;
  private double duplicateProbability;

  private final EnumMap<MessageType, Long> sentByType = new EnumMap<>(MessageType.class);
  private final EnumMap<MessageType, Long> bytesByType = new EnumMap<>(MessageType.class);
  private long messagesSent;
  private long bytesSent;
  private long messagesDropped;
  private long messagesDuplicated;
  private long messagesDelivered;

  /** A network with the {@link #reliable()} settings and its own random stream. */
  public SimNetwork(Simulation sim) {
    this.sim = Objects.requireNonNull(sim, "sim");
    this.random = sim.forkRandom();
  }

  // ------------------------------------------------------------ settings

  /** No loss or duplication, latency in [100 µs, 1 ms] (messages may still reorder). */
  public SimNetwork reliable() {
    return latency(RELIABLE_MIN_LATENCY, RELIABLE_MAX_LATENCY)
        .dropProbability(0)
        .duplicateProbability(0);
  }

  /** 5% loss, 2% duplication, latency in [100 µs, 20 ms]: heavy reordering. */
  public SimNetwork unreliable() {
    return latency(100_000, 20_000_000).dropProbability(0.05).duplicateProbability(0.02);
  }

  /** Latency bounds in nanoseconds, inclusive. */
  public SimNetwork latency(long minNanos, long maxNanos) {
    if (minNanos < 0 || maxNanos < minNanos) {
      throw new IllegalArgumentException("bad latency [" + minNanos + ", " + maxNanos + "]");
    }
    this.minLatency = minNanos;
    this.maxLatency = maxNanos;
    return this;
  }

  public SimNetwork dropProbability(double p) {
    this.dropProbability = checkProbability(p);
    return this;
  }

  public SimNetwork duplicateProbability(double p) {
    this.duplicateProbability = checkProbability(p);
    return this;
  }

  private static double checkProbability(double p) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException("probability out of [0,1]: " + p);
    }
    return p;
  }

  public long minLatency() {
    return minLatency;
  }

  public long maxLatency() {
    return maxLatency;
  }

  public double dropProbability() {
    return dropProbability;
  }

  public double duplicateProbability() {
    return duplicateProbability;
  }

  // ------------------------------------------------------------ partitions

  /** Cuts the one-way link {@code from -> to}. */
  public void cut(long from, long to) {
    cuts.computeIfAbsent(from, k -> new TreeSet<>()).add(to);
    sim.trace("net.cut", from, to, 0, null);
  }

  /** Cuts both directions between {@code a} and {@code b}. */
  public void cutBoth(long a, long b) {
    cut(a, b);
    cut(b, a);
  }

  /** Restores the one-way link {@code from -> to}. */
  public void restore(long from, long to) {
    Set<Long> s = cuts.get(from);
    if (s != null && s.remove(to) && s.isEmpty()) {
      cuts.remove(from);
    }
    sim.trace("net.restore", from, to, 0, null);
  }

  /** Cuts every link between the two sides, both ways; links within a side are untouched. */
  public void partition(Set<Long> side1, Set<Long> side2) {
    for (long a : new TreeSet<>(side1)) {
      for (long b : new TreeSet<>(side2)) {
        if (a != b) {
          cutBoth(a, b);
        }
      }
    }
  }

  /**
   * Cuts every link to and from {@code id} (including with nodes that join later), until {@link
   * #rejoin} or {@link #heal}. A node's messages to itself still pass.
   */
  public void isolate(long id) {
    isolated.add(id);
    sim.trace("net.isolate", id, 0, 0, null);
  }

  /** Undoes {@link #isolate}; links cut individually stay cut. */
  public void rejoin(long id) {
    isolated.remove(id);
    sim.trace("net.rejoin", id, 0, 0, null);
  }

  /** Restores every link. */
  public void heal() {
    cuts.clear();
    isolated.clear();
    sim.trace("net.heal", 0, 0, 0, null);
  }

  /** Whether messages from {@code from} to {@code to} currently pass (ignoring random loss). */
  public boolean isConnected(long from, long to) {
    if (from != to && (isolated.contains(from) || isolated.contains(to))) {
      return false;
    }
    Set<Long> s = cuts.get(from);
    return s == null || !s.contains(to);
  }

  // ------------------------------------------------------------ endpoints

  /**
   * A new transport for {@code nodeId}, replacing and closing the previous one if any. Messages to
   * the node are delivered to the new endpoint once it is started.
   */
  public Transport endpoint(long nodeId) {
    Endpoint old = endpoints.get(nodeId);
    if (old != null) {
      old.closed = true;
    }
    Endpoint e = new Endpoint(nodeId, old == null ? 1 : old.generation + 1);
    endpoints.put(nodeId, e);
    sim.trace("net.endpoint", nodeId, e.generation, 0, null);
    return e;
  }

  /** Ids of nodes that ever had an endpoint, ascending. */
  public Set<Long> nodes() {
    return Collections.unmodifiableSet(new TreeSet<>(endpoints.keySet()));
  }

  private void send(Endpoint src, Message sent) {
    Message m = sent;
    if (m.from() != src.nodeId) {
      throw new IllegalStateException(
          "node " + src.nodeId + " sends a message from " + m.from() + ": " + m);
    }
    messagesSent++;
    long bytes = m.payloadBytes();
    bytesSent += bytes;
    sentByType.merge(m.type(), 1L, Long::sum);
    bytesByType.merge(m.type(), bytes, Long::sum);
    if (!isConnected(m.from(), m.to())) {
      drop(m, "cut");
      return;
    }
    if (dropProbability > 0 && random.nextDouble() < dropProbability) {
      drop(m, "lost");
      return;
    }
    if (!m.entries().isEmpty()) {
      // A real transport serializes: the receiver never shares the sender's list.
      m = m.toBuilder().entries(List.copyOf(m.entries())).build();
    }
    sim.trace("net.send", m.from(), m.to(), key(m), m);
    scheduleDelivery(m);
    if (duplicateProbability > 0 && random.nextDouble() < duplicateProbability) {
      messagesDuplicated++;
      sim.trace("net.dup", m.from(), m.to(), key(m), m);
      scheduleDelivery(m);
    }
  }

  private void scheduleDelivery(Message m) {
    long latency =
        maxLatency == minLatency ? minLatency : random.nextLong(minLatency, maxLatency + 1);
    sim.at(latency, () -> deliver(m));
  }

  private void deliver(Message m) {
    if (!isConnected(m.from(), m.to())) {
      drop(m, "cut-in-flight");
      return;
    }
    Endpoint dst = endpoints.get(m.to());
    if (dst == null || dst.closed || dst.inbound == null) {
      drop(m, "no-endpoint");
      return;
    }
    messagesDelivered++;
    sim.trace("net.deliver", m.from(), m.to(), key(m), m);
    dst.inbound.accept(m);
  }

  /** A number summarizing a message for the trace hash. */
  private static long key(Message m) {
    long k = m.type().ordinal();
    k = k * 1_000_003L + m.term();
    k = k * 1_000_003L + m.logTerm();
    k = k * 1_000_003L + m.index();
    k = k * 1_000_003L + m.commit();
    k = k * 1_000_003L + m.entries().size();
    k = k * 1_000_003L + m.context();
    k = k * 31 + (m.reject() ? 1 : 0);
    return k;
  }

  private void drop(Message m, String why) {
    messagesDropped++;
    sim.trace("net.drop", m.from(), m.to(), key(m), sim.isTraceLogEnabled() ? why + " " + m : null);
  }

  // ------------------------------------------------------------ statistics

  /** Messages handed to {@code send} since the last {@link #reset()} (duplicates not counted). */
  public long messagesSent() {
    return messagesSent;
  }

  /** Sum of {@link Message#payloadBytes()} over the messages sent. */
  public long bytesSent() {
    return bytesSent;
  }

  /** Messages sent per type; types never sent are absent. */
  public Map<MessageType, Long> countsByType() {
    return Collections.unmodifiableMap(new EnumMap<>(sentByType));
  }

  /** Payload bytes sent per type; types never sent are absent. */
  public Map<MessageType, Long> bytesByType() {
    return Collections.unmodifiableMap(new EnumMap<>(bytesByType));
  }

  /** Copies dropped: lost at random, on a cut link, or to a node without a live endpoint. */
  public long messagesDropped() {
    return messagesDropped;
  }

  /** Messages the network decided to deliver twice. */
  public long messagesDuplicated() {
    return messagesDuplicated;
  }

  /** Copies handed to a receiver. */
  public long messagesDelivered() {
    return messagesDelivered;
  }

  /** Zeroes the statistics (settings, cuts and messages in flight are untouched). */
  public void reset() {
    sentByType.clear();
    bytesByType.clear();
    messagesSent = 0;
    bytesSent = 0;
    messagesDropped = 0;
    messagesDuplicated = 0;
    messagesDelivered = 0;
  }

  /** One node incarnation's view of the network. */
  private final class Endpoint implements Transport {
    private final long nodeId;
    private final long generation;
    private Consumer<Message> inbound;
    private boolean closed;

    Endpoint(long nodeId, long generation) {
      this.nodeId = nodeId;
      this.generation = generation;
    }

    @Override
    public void start(Consumer<Message> inbound) {
      if (this.inbound != null) {
        throw new IllegalStateException("endpoint of node " + nodeId + " already started");
      }
      this.inbound = Objects.requireNonNull(inbound, "inbound");
    }

    @Override
    public void send(List<Message> messages) {
      if (closed) {
        return;
      }
      for (Message m : messages) {
        SimNetwork.this.send(this, m);
      }
    }

    @Override
    public void close() {
      closed = true;
    }

    @Override
    public String toString() {
      return "SimNetwork.Endpoint[" + nodeId + "#" + generation + (closed ? " closed]" : "]");
    }
  }
}
