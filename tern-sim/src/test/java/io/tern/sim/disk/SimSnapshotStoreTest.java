package io.tern.sim.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.tracker.Membership;
import io.tern.raft.node.Snapshot;
import io.tern.raft.node.SnapshotSink;
import io.tern.raft.node.SnapshotStore;
import io.tern.sim.Simulation;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

class SimSnapshotStoreTest {
  private final Simulation sim = new Simulation(1);
  private final SimSnapshotStore snapshots = new SimSnapshotStore(sim, 1);

  private static SnapshotMeta meta(long index, long term) {
    return new SnapshotMeta(index, term, Membership.ofVoters(1, 2, 3));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Snapshot commit(SnapshotStore store, SnapshotMeta meta, String content)
      throws IOException {
    SnapshotSink sink = store.create(meta);
    sink.out().write(bytes(content));
    return sink.commit();
  }

  private static String content(Snapshot s) throws IOException {
    try (InputStream in = s.open()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void commitMakesTheContentDurableAndVisibleAtOnce() throws IOException {
    SnapshotStore store = snapshots.open();
    assertThat(store.latest()).isNull();

    SnapshotSink sink = store.create(meta(7, 2));
    sink.out().write('h');
    sink.out().write(bytes("ello, snapshot"), 0, 4);
    sink.out().write(bytes("xx world"), 2, 6);
    assertThat(sink.written()).isEqualTo(11);
    assertThat(store.latest()).as("invisible until committed").isNull();

    Snapshot s = sink.commit();

    byte[] expected = bytes("hello world");
    CRC32C crc = new CRC32C();
    crc.update(expected);
    assertThat(s.meta()).isEqualTo(meta(7, 2));
    assertThat(s.size()).isEqualTo(11);
    assertThat(s.checksum()).isEqualTo(crc.getValue());
    assertThat(content(s)).isEqualTo("hello world");
    assertThat(store.latest()).isSameAs(s);
    assertThat(snapshots.latest()).isSameAs(s);
    assertThat(snapshots.snapshotsCommitted()).isEqualTo(1);
    assertThat(snapshots.bytesCommitted()).isEqualTo(11);
    assertThat(sim.pendingEvents()).as("no latency: nothing scheduled").isZero();
    assertThatThrownBy(() -> sink.out().write(1))
        .as("a committed sink takes no more content")
        .isInstanceOf(IOException.class);
    assertThatThrownBy(sink::commit).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void readReturnsACopyOfTheRequestedRange() throws IOException {
    Snapshot s = commit(snapshots.open(), meta(3, 1), "0123456789");

    assertThat(s.read(0, 4)).isEqualTo(bytes("0123"));
    assertThat(s.read(4, 100)).as("fewer only at the end").isEqualTo(bytes("456789"));
    assertThat(s.read(10, 5)).isEmpty();
    assertThat(s.read(3, 0)).isEmpty();
    byte[] chunk = s.read(0, 10);
    chunk[0] = 'X';
    assertThat(content(s)).as("reads are copies").isEqualTo("0123456789");
    assertThatThrownBy(() -> s.read(11, 1)).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> s.read(-1, 1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void latestIsTheHighestIndexAndTheMostRecentAmongEqualOnes() throws IOException {
    SnapshotStore store = snapshots.open();
    Snapshot five = commit(store, meta(5, 1), "five");
    commit(store, meta(3, 1), "three, committed later");
    assertThat(store.latest()).isSameAs(five);

    Snapshot fiveAgain = commit(store, meta(5, 1), "five again");
    assertThat(store.latest()).isSameAs(fiveAgain);
    assertThat(content(store.latest())).isEqualTo("five again");

    Snapshot nine = commit(store, meta(9, 2), "nine");
    assertThat(store.latest()).isSameAs(nine);
  }

  @Test
  void keepsTheTwoHighestAndOldOnesHandedOutStayReadable() throws IOException {
    SnapshotStore store = snapshots.open();
    Snapshot one = commit(store, meta(1, 1), "one");
    Snapshot two = commit(store, meta(2, 1), "two");
    Snapshot three = commit(store, meta(3, 1), "three");

    assertThat(snapshots.retained()).containsExactly(three, two);
    assertThat(content(one)).isEqualTo("one");
    assertThat(one.read(1, 2)).isEqualTo(bytes("ne"));

    Snapshot late = commit(store, meta(1, 1), "older index, committed last");
    assertThat(snapshots.retained()).as("lower than both retained").containsExactly(three, two);
    assertThat(content(late)).isEqualTo("older index, committed last");
    assertThat(snapshots.snapshotsCommitted()).isEqualTo(4);
  }

  @Test
  void sinksOfASupersededIncarnationFailOnCommitAndLeaveNothing() throws IOException {
    SnapshotStore first = snapshots.open();
    Snapshot kept = commit(first, meta(2, 1), "kept");
    SnapshotSink orphan = first.create(meta(8, 3));
    orphan.out().write(bytes("half of it"));

    SnapshotStore second = snapshots.open();

    assertThatThrownBy(orphan::commit)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("incarnation has ended");
    assertThatThrownBy(() -> commit(first, meta(9, 3), "through the dead store"))
        .isInstanceOf(IOException.class);
    assertThat(second.latest()).as("committed snapshots survive").isSameAs(kept);
    assertThat(first.latest()).isSameAs(kept);
    assertThat(snapshots.staleCommits()).isEqualTo(2);
    assertThat(snapshots.snapshotsCommitted()).isEqualTo(1);
    assertThat(snapshots.bytesCommitted()).isEqualTo(4);

    Snapshot fresh = commit(second, meta(8, 3), "complete");
    assertThat(second.latest()).isSameAs(fresh);
  }

  @Test
  void crashEndsTheIncarnationAndTheStoreActsForTheCurrentOne() throws IOException {
    SnapshotSink before = snapshots.create(meta(4, 1));
    before.out().write(bytes("x"));
    snapshots.crash();
    assertThatThrownBy(before::commit).isInstanceOf(IOException.class);

    Snapshot after = commit(snapshots, meta(4, 1), "y");
    assertThat(snapshots.latest()).isSameAs(after);
  }

  @Test
  void abortedSinkLeavesNothing() throws IOException {
    SnapshotStore store = snapshots.open();
    SnapshotSink sink = store.create(meta(6, 2));
    sink.out().write(bytes("discarded"));
    sink.abort();
    sink.abort(); // idempotent

    assertThat(store.latest()).isNull();
    assertThat(snapshots.aborted()).isEqualTo(1);
    assertThat(snapshots.snapshotsCommitted()).isZero();
    assertThatThrownBy(() -> sink.out().write(1)).isInstanceOf(IOException.class);
    assertThatThrownBy(sink::commit).isInstanceOf(IllegalStateException.class);
  }
}
