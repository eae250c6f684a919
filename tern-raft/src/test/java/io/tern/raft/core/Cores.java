package io.tern.raft.core;

import io.tern.raft.core.tracker.Membership;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.LongStream;

/** Fixtures for tests that drive one core by hand, stepping messages into it directly. */
final class Cores {
  static final long SEED = 42;

  private Cores() {}

  /** Everything a core emitted while it was drained: Readies merged, in order. */
  record Output(
      HardState hardState,
      List<Entry> written,
      List<Message> messages,
      List<Message> afterPersist,
      List<Entry> committed,
      List<ReadState> readStates) {

    /** Messages of both lists, immediate ones first. */
    List<Message> all() {
      List<Message> out = new ArrayList<>(messages);
      out.addAll(afterPersist);
      return out;
    }

    List<Message> ofType(MessageType t) {
      return all().stream().filter(m -> m.type() == t).toList();
    }

    Message only(MessageType t) {
      List<Message> ms = ofType(t);
      if (ms.size() != 1) {
        throw new AssertionError("expected one " + t + ", got " + all());
      }
      return ms.get(0);
    }
  }

  /** Classic Raft configuration (no pre-vote, no check-quorum), seeded. */
  static RaftConfig.Builder paper(long id) {
    return RaftConfig.builder(id).preVote(false).checkQuorum(false).random(new Random(SEED + id));
  }

  static Membership voters(int size) {
    return Membership.ofVoters(LongStream.rangeClosed(1, size).toArray());
  }

  /** A core with the paper configuration restored from this durable state. */
  static Raft core(long id, int size, HardState hs, List<Entry> log) {
    return core(paper(id).build(), size, hs, log);
  }

  static Raft core(RaftConfig cfg, int size, HardState hs, List<Entry> log) {
    return new Raft(cfg, new InitialState(hs, 0, 0, log, voters(size), 0));
  }

  /** A brand-new core with the paper configuration. */
  static Raft fresh(long id, int size) {
    return core(id, size, HardState.EMPTY, List.of());
  }

  /** A fresh core configured by {@code tweak} on top of the defaults (seeded). */
  static Raft fresh(long id, int size, UnaryOperator<RaftConfig.Builder> tweak) {
    RaftConfig cfg = tweak.apply(RaftConfig.builder(id).random(new Random(SEED + id))).build();
    return core(cfg, size, HardState.EMPTY, List.of());
  }

  /**
   * Carries out every Ready of {@code r}: writes count as durable at once, committed entries are
   * applied at once.
   */
  static Output drain(Raft r) {
    HardState hs = null;
    List<Entry> written = new ArrayList<>();
    List<Message> msgs = new ArrayList<>();
    List<Message> after = new ArrayList<>();
    List<Entry> committed = new ArrayList<>();
    List<ReadState> reads = new ArrayList<>();
    while (r.hasReady()) {
      Ready rd = r.ready();
      r.advance(rd);
      if (rd.hardState() != null) {
        hs = rd.hardState();
      }
      written.addAll(rd.entries());
      msgs.addAll(rd.messages());
      after.addAll(rd.messagesAfterPersist());
      reads.addAll(rd.readStates());
      Entry last = rd.lastEntry();
      if (last != null) {
        r.persisted(last.index(), last.term());
      }
      if (!rd.committedEntries().isEmpty()) {
        committed.addAll(rd.committedEntries());
        r.applied(rd.committedEntries().get(rd.committedEntries().size() - 1).index());
      }
    }
    return new Output(hs, written, msgs, after, committed, reads);
  }

  /** Steps {@code m} into {@code r} and drains it. */
  static Output step(Raft r, Message m) {
    r.step(m);
    return drain(r);
  }

  static Message.Builder msg(MessageType type, long from, long to, long term) {
    return Message.builder(type).from(from).to(to).term(term);
  }

  /** An entry whose payload names its place, so entries differ whenever index or term do. */
  static Entry entry(long index, long term) {
    return new Entry(
        term,
        index,
        EntryType.NORMAL,
        0,
        ("e" + index + "t" + term).getBytes(StandardCharsets.UTF_8));
  }

  /** Entries 1..n, entry i of term {@code terms[i-1]}. */
  static List<Entry> log(long... terms) {
    List<Entry> out = new ArrayList<>(terms.length);
    for (int i = 0; i < terms.length; i++) {
      out.add(entry(i + 1, terms[i]));
    }
    return out;
  }

  /** Entries {@code from}..{@code from+count-1}, all of {@code term}. */
  static List<Entry> run(long from, int count, long term) {
    List<Entry> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(entry(from + i, term));
    }
    return out;
  }

  /** {@code r}'s whole in-memory log. */
  static List<Entry> entries(Raft r) {
    List<Entry> out = new ArrayList<>();
    for (long i = r.log().firstIndex(); i <= r.log().lastIndex(); i++) {
      out.add(r.log().entry(i));
    }
    return out;
  }

  /** Makes a fresh 3-member core 1 the leader of term 1 with a vote from 2; drains it. */
  static Raft leaderOfThree() {
    Raft r = fresh(1, 3);
    r.campaign();
    drain(r);
    step(r, msg(MessageType.VOTE_RESPONSE, 2, 1, 1).build());
    return r;
  }
}
