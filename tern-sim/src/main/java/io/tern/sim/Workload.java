package io.tern.sim;

import io.tern.raft.NotLeaderException;
import io.tern.raft.ProposalDroppedException;
import io.tern.raft.node.RaftNode;
import io.tern.raft.node.ReadMode;
import io.tern.sim.check.History;
import io.tern.sim.check.OpKind;
import io.tern.sim.kv.KvCommand;
import io.tern.sim.kv.KvStateMachine;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.random.RandomGenerator;

/**
 * Closed-loop clients issuing PUT, GET, APPEND and CAS against random members (any member takes any
 * request), recording every operation in a {@link History}: invoked, then ok, fail (definitely no
 * effect) or unknown (timed out, or the member died: it may still take effect).
 */
public final class Workload {
  /** Mix and pacing of the clients. */
  public record Settings(
      int clients,
      int keys,
      int putPercent,
      int getPercent,
      int appendPercent,
      long thinkNanos,
      long timeoutNanos,
      ReadMode readMode) {
    public static Settings defaults() {
      return new Settings(4, 5, 30, 30, 20, 2_000_000L, 1_000_000_000L, ReadMode.READ_INDEX);
    }

    public Settings withClients(int n, int keys) {
      return new Settings(
          n, keys, putPercent, getPercent, appendPercent, thinkNanos, timeoutNanos, readMode);
    }

    public Settings withReadMode(ReadMode mode) {
      return new Settings(
          clients, keys, putPercent, getPercent, appendPercent, thinkNanos, timeoutNanos, mode);
    }

    public Settings withTimeout(long nanos) {
      return new Settings(
          clients, keys, putPercent, getPercent, appendPercent, thinkNanos, nanos, readMode);
    }
  }

  private final Cluster cluster;
  private final Simulation sim;
  private final History history;
  private final Settings settings;
  private final RandomGenerator random;
  private final Map<String, String> lastSeen = new HashMap<>();
  private final List<Long> targets = new ArrayList<>();
  private boolean running;
  private int inFlight;
  private long acknowledged;
  private long failed;
  private long unknown;
  private long sequence;
  private long fastReads;

  public Workload(Cluster cluster, History history, Settings settings) {
    this.cluster = cluster;
    this.sim = cluster.sim();
    this.history = history;
    this.settings = settings;
    this.random = sim.forkRandom();
    targets.addAll(cluster.ids());
  }

  public History history() {
    return history;
  }

  public void start() {
    running = true;
    for (int c = 0; c < settings.clients(); c++) {
      int client = c;
      sim.at(random.nextLong(settings.thinkNanos() + 1), () -> next(client));
    }
  }

  /** Stops issuing new operations; those in flight still complete or time out. */
  public void stop() {
    running = false;
  }

  public boolean idle() {
    return inFlight == 0;
  }

  public long acknowledged() {
    return acknowledged;
  }

  /** Gets answered by {@link RaftNode#tryLeaseRead} on the caller's thread. */
  public long fastReads() {
    return fastReads;
  }

  public long failed() {
    return failed;
  }

  public long unknown() {
    return unknown;
  }

  /** Runs until every in-flight operation completed or timed out. */
  public void drain() {
    stop();
    sim.runUntil(this::idle, sim.now() + settings.timeoutNanos() * 2 + 1);
  }

  private void next(int client) {
    if (!running) {
      return;
    }
    long target = targets.get(random.nextInt(targets.size()));
    String key = "k" + random.nextInt(settings.keys());
    int dice = random.nextInt(100);
    OpKind kind;
    if (dice < settings.putPercent()) {
      kind = OpKind.PUT;
    } else if (dice < settings.putPercent() + settings.getPercent()) {
      kind = OpKind.GET;
    } else if (dice < settings.putPercent() + settings.getPercent() + settings.appendPercent()) {
      kind = OpKind.APPEND;
    } else {
      kind = OpKind.CAS;
    }
    String value = "c" + client + "." + (++sequence);
    String expected = kind == OpKind.CAS ? lastSeen.get(key) : null;
    long op =
        history.invoke(
            client, kind, key, kind == OpKind.APPEND ? "|" + value : value, expected, sim.now());
    inFlight++;
    Op pending = new Op(client, op);
    sim.at(settings.timeoutNanos(), () -> pending.finish(Outcome.UNKNOWN, null));
    if (!cluster.isUp(target)) {
      // Connection refused: the request never left the client.
      sim.at(0, () -> pending.finish(Outcome.FAIL, null));
      return;
    }
    RaftNode node = cluster.node(target);
    CompletableFuture<?> f;
    switch (kind) {
      case GET -> {
        KvStateMachine sm = cluster.member(target).stateMachine();
        // With leases, every other get first tries the lease read served on the caller's thread
        // (as a server's network thread would), falling back to the loop when it is refused.
        Optional<Optional<String>> fast =
            settings.readMode() == ReadMode.LEASE && sequence % 2 == 0
                ? node.tryLeaseRead(() -> Optional.ofNullable(sm.get(key)))
                : Optional.empty();
        if (fast.isPresent()) {
          fastReads++;
          f = CompletableFuture.completedFuture(fast.get().orElse(null));
        } else {
          f = node.read(settings.readMode(), () -> sm.get(key));
        }
      }
      case PUT -> f = node.propose(KvCommand.put(key, value).encode());
      case APPEND -> f = node.propose(KvCommand.append(key, "|" + value).encode());
      default -> f = node.propose(KvCommand.cas(key, expected, value).encode());
    }
    f.whenComplete(
        (result, err) -> {
          if (err == null) {
            if (kind == OpKind.GET) {
              lastSeen.put(key, (String) result);
            }
            pending.finish(Outcome.OK, result);
          } else {
            Throwable cause = err instanceof CompletionException ? err.getCause() : err;
            boolean definite =
                cause instanceof NotLeaderException || cause instanceof ProposalDroppedException;
            pending.finish(definite || kind == OpKind.GET ? Outcome.FAIL : Outcome.UNKNOWN, null);
          }
        });
  }

  private enum Outcome {
    OK,
    FAIL,
    UNKNOWN
  }

  /** One operation of one client; the first outcome wins. */
  private final class Op {
    private final int client;
    private final long id;
    private boolean done;

    Op(int client, long id) {
      this.client = client;
      this.id = id;
    }

    void finish(Outcome outcome, Object result) {
      if (done) {
        return;
      }
      done = true;
      inFlight--;
      switch (outcome) {
        case OK -> {
          history.ok(id, result, sim.now());
          acknowledged++;
        }
        case FAIL -> {
          history.fail(id, sim.now());
          failed++;
        }
        case UNKNOWN -> {
          history.unknown(id);
          unknown++;
        }
      }
      sim.at(1 + random.nextLong(settings.thinkNanos() + 1), () -> next(client));
    }
  }
}
