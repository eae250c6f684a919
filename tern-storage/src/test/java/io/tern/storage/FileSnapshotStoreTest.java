package io.tern.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.quorum.JointConfig;
import io.tern.raft.core.quorum.MajorityConfig;
import io.tern.raft.core.tracker.Membership;
import io.tern.raft.node.Snapshot;
import io.tern.raft.node.SnapshotSink;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileSnapshotStoreTest {
  private static final Membership VOTERS = Membership.ofVoters(1, 2, 3);

  @TempDir Path dataDir;

  // ------------------------------------------------------------ helpers

  static SnapshotMeta meta(long index, long term) {
    return new SnapshotMeta(index, term, VOTERS);
  }

  static byte[] content(int size, long seed) {
    byte[] b = new byte[size];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  static long crc(byte[] b) {
    CRC32C c = new CRC32C();
    c.update(b);
    return c.getValue();
  }

  static Snapshot commit(FileSnapshotStore store, SnapshotMeta meta, byte[] content)
      throws IOException {
    SnapshotSink sink = store.create(meta);
    sink.out().write(content);
    return sink.commit();
  }

  static Snapshot commit(FileSnapshotStore store, long index, byte[] content) throws IOException {
    return commit(store, meta(index, 1), content);
  }

  private FileSnapshotStore open() {
    return FileSnapshotStore.open(dataDir);
  }

  private Path dir() {
    return dataDir.resolve(FileSnapshotStore.DIRECTORY);
  }

  private List<String> files() throws IOException {
    try (Stream<Path> s = Files.list(dir())) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> !n.equals("LOCK"))
          .sorted()
          .toList();
    }
  }

  static byte[] readAll(Snapshot s) throws IOException {
    try (InputStream in = s.open()) {
      return in.readAllBytes();
    }
  }

  static void assertHolds(Snapshot s, SnapshotMeta meta, byte[] content) throws IOException {
    assertThat(s.meta()).isEqualTo(meta);
    assertThat(s.size()).isEqualTo(content.length);
    assertThat(s.checksum()).isEqualTo(crc(content));
    assertThat(s.read(0, content.length + 10)).isEqualTo(content);
    assertThat(readAll(s)).isEqualTo(content);
  }

  private void flipByte(Path file, long position) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      long at = position < 0 ? raf.length() + position : position;
      raf.seek(at);
      int b = raf.read();
      raf.seek(at);
      raf.write(b ^ 0x01);
    }
  }

  // ------------------------------------------------------------ tests

  @Test
  void aCommittedSnapshotReadsBackAndSurvivesReopen() throws IOException {
    Membership joint =
        new Membership(
            new JointConfig(MajorityConfig.of(1, 2, 4), MajorityConfig.of(1, 2, 3)), Set.of(5L));
    SnapshotMeta meta = new SnapshotMeta(1234, 7, joint);
    byte[] data = content(200_000, 1);
    try (FileSnapshotStore store = open()) {
      assertThat(store.latest()).isNull();
      SnapshotSink sink = store.create(meta);
      OutputStream out = sink.out();
      // mixed write sizes, across the internal buffer's boundaries
      out.write(data, 0, 10);
      out.write(data[10]);
      out.write(data, 11, 100_000);
      out.write(data, 100_011, data.length - 100_011);
      out.close(); // closing the stream neither commits nor aborts
      assertThat(sink.written()).isEqualTo(data.length);
      assertThat(store.latest()).as("not visible before commit").isNull();
      Snapshot snap = sink.commit();
      assertHolds(snap, meta, data);
      assertThat(store.latest()).isSameAs(snap);
      assertThat(files()).containsExactly("snap-1234-7.snap");

      // chunked reads, as the snapshot sender does
      ByteArrayOutputStream chunks = new ByteArrayOutputStream();
      for (long off = 0; off < snap.size(); off += 4096) {
        chunks.write(snap.read(off, 4096));
      }
      assertThat(chunks.toByteArray()).isEqualTo(data);
      assertThat(snap.read(snap.size(), 10)).isEmpty();
      assertThatThrownBy(() -> snap.read(snap.size() + 1, 10)).isInstanceOf(IOException.class);
      assertThatThrownBy(() -> snap.read(-1, 10)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(sink::commit).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> out.write(1)).isInstanceOf(IOException.class);
    }
    try (FileSnapshotStore store = open()) {
      assertHolds(store.latest(), meta, data);
    }
  }

  @Test
  void anEmptySnapshotIsValid() throws IOException {
    try (FileSnapshotStore store = open()) {
      assertHolds(commit(store, 3, new byte[0]), meta(3, 1), new byte[0]);
    }
    try (FileSnapshotStore store = open()) {
      assertHolds(store.latest(), meta(3, 1), new byte[0]);
    }
  }

  @Test
  void theTwoNewestAreKeptAndOlderFilesDeleted() throws IOException {
    try (FileSnapshotStore store = open()) {
      commit(store, 10, content(100, 10));
      commit(store, 20, content(100, 20));
      commit(store, 30, content(100, 30));
      assertThat(files()).containsExactly("snap-20-1.snap", "snap-30-1.snap");
      assertThat(store.retained()).extracting(s -> s.meta().index()).containsExactly(30L, 20L);

      // an older snapshot committed late does not become the latest, and is not kept
      Snapshot late = commit(store, 15, content(100, 15));
      assertThat(store.latest().meta().index()).isEqualTo(30);
      assertThat(files()).containsExactly("snap-20-1.snap", "snap-30-1.snap");
      assertHolds(late, meta(15, 1), content(100, 15));
    }
    try (FileSnapshotStore store = open()) {
      assertThat(store.retained()).extracting(s -> s.meta().index()).containsExactly(30L, 20L);
      assertHolds(store.retained().get(1), meta(20, 1), content(100, 20));
    }
  }

  @Test
  void aSnapshotHandedOutStaysReadableAfterNewerOnesAreCommitted() throws IOException {
    byte[] old = content(300_000, 5);
    try (FileSnapshotStore store = open()) {
      commit(store, 5, old);
      Snapshot handedOut = store.latest();
      InputStream streaming = handedOut.open();
      byte[] head = streaming.readNBytes(1000);

      commit(store, 6, content(10, 6));
      commit(store, 7, content(10, 7));
      assertThat(Files.exists(dir().resolve("snap-5-1.snap"))).isFalse();

      assertHolds(handedOut, meta(5, 1), old);
      byte[] rest = streaming.readAllBytes();
      streaming.close();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      all.write(head);
      all.write(rest);
      assertThat(all.toByteArray()).isEqualTo(old);
    }
  }

  @Test
  void committingTheSameIndexAgainReplacesIt() throws IOException {
    try (FileSnapshotStore store = open()) {
      Snapshot first = commit(store, 8, content(50, 1));
      Snapshot second = commit(store, 8, content(60, 2));
      assertThat(store.latest()).isSameAs(second);
      assertThat(store.retained()).hasSize(1);
      assertThat(files()).containsExactly("snap-8-1.snap");
      assertHolds(first, meta(8, 1), content(50, 1)); // still reads its own (replaced) file
    }
    try (FileSnapshotStore store = open()) {
      assertHolds(store.latest(), meta(8, 1), content(60, 2));
    }
  }

  @Test
  void unfinishedSnapshotsLeaveNothingVisibleAndAreCleanedUp() throws IOException {
    try (FileSnapshotStore store = open()) {
      commit(store, 1, content(10, 1));
      SnapshotSink aborted = store.create(meta(2, 1));
      aborted.out().write(content(10, 2));
      aborted.abort();
      aborted.abort();
      assertThat(files()).containsExactly("snap-1-1.snap");

      SnapshotSink abandoned = store.create(meta(3, 1)); // its process "dies"
      abandoned.out().write(content(100_000, 3));
      assertThat(files()).hasSize(2).anyMatch(n -> n.startsWith("snap-3-1") && n.endsWith(".tmp"));
      assertThat(store.latest().meta().index()).isEqualTo(1);
    }
    try (FileSnapshotStore store = open()) {
      assertThat(files()).containsExactly("snap-1-1.snap");
      assertThat(store.latest().meta().index()).isEqualTo(1);
    }
  }

  @Test
  void aSinkCannotCommitAfterTheStoreIsClosed() throws IOException {
    FileSnapshotStore store = open();
    SnapshotSink sink = store.create(meta(4, 2));
    sink.out().write(content(10, 4));
    store.close();
    assertThatThrownBy(sink::commit).isInstanceOf(IOException.class).hasMessageContaining("closed");
    assertThat(files()).isEmpty();
    assertThatThrownBy(() -> store.create(meta(5, 2))).isInstanceOf(IOException.class);
  }

  @Test
  void aFlippedContentByteIsReportedOnOpen() throws IOException {
    try (FileSnapshotStore store = open()) {
      commit(store, 9, content(5000, 9));
    }
    Path file = dir().resolve("snap-9-1.snap");
    flipByte(file, -1);
    assertThatThrownBy(this::open)
        .isInstanceOf(StorageCorruptionException.class)
        .hasMessageContaining("snap-9-1.snap")
        .hasMessageContaining("content CRC32C mismatch");
    flipByte(file, -1);
    try (FileSnapshotStore store = open()) {
      assertHolds(store.latest(), meta(9, 1), content(5000, 9));
    }
  }

  @Test
  void aDamagedHeaderATruncatedFileOrAWrongNameIsReported() throws IOException {
    try (FileSnapshotStore store = open()) {
      commit(store, 9, content(5000, 9));
    }
    Path file = dir().resolve("snap-9-1.snap");
    flipByte(file, 6); // inside the index
    assertThatThrownBy(this::open)
        .isInstanceOf(StorageCorruptionException.class)
        .hasMessageContaining("snap-9-1.snap")
        .hasMessageContaining("header CRC32C mismatch");
    flipByte(file, 6);

    Path renamed = dir().resolve("snap-10-1.snap");
    Files.move(file, renamed);
    assertThatThrownBy(this::open)
        .isInstanceOf(StorageCorruptionException.class)
        .hasMessageContaining("the name disagrees");
    Files.move(renamed, file);

    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(raf.length() - 1);
    }
    assertThatThrownBy(this::open)
        .isInstanceOf(StorageCorruptionException.class)
        .hasMessageContaining("snap-9-1.snap")
        .hasMessageContaining("bytes of content");
  }

  @Test
  void filesBeyondRetentionLeftByACrashAreDeletedOnOpen() throws IOException {
    Path other = dataDir.resolve("other");
    try (FileSnapshotStore store = FileSnapshotStore.open(other)) {
      commit(store, 1, content(10, 1));
    }
    try (FileSnapshotStore store = open()) {
      commit(store, 2, content(10, 2));
      commit(store, 3, content(10, 3));
    }
    Files.copy(
        other.resolve(FileSnapshotStore.DIRECTORY).resolve("snap-1-1.snap"),
        dir().resolve("snap-1-1.snap"));
    assertThat(files()).hasSize(3);
    try (FileSnapshotStore store = open()) {
      assertThat(files()).containsExactly("snap-2-1.snap", "snap-3-1.snap");
      assertThat(store.retained()).extracting(s -> s.meta().index()).containsExactly(3L, 2L);
    }
  }

  @Test
  void aSecondStoreOnTheSameDirectoryIsRefused() {
    try (FileSnapshotStore store = open()) {
      assertThatThrownBy(this::open)
          .isExactlyInstanceOf(StorageException.class)
          .hasMessageContaining("in use");
      assertThat(store.latest()).isNull();
    }
    open().close(); // released on close
  }

  @Test
  void concurrentCommitsAndReadsKeepTheNewestTwo() throws Exception {
    int writers = 4;
    int perWriter = 10;
    ExecutorService pool = Executors.newFixedThreadPool(writers + 2);
    List<String> readErrors = Collections.synchronizedList(new ArrayList<>());
    try (FileSnapshotStore store = open()) {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<List<Snapshot>>> results = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int writer = w;
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  List<Snapshot> mine = new ArrayList<>();
                  for (int i = 0; i < perWriter; i++) {
                    long index = 1 + i * writers + writer;
                    mine.add(commit(store, index, content(2000, index)));
                  }
                  return mine;
                }));
      }
      List<Future<Integer>> readers = new ArrayList<>();
      for (int r = 0; r < 2; r++) {
        readers.add(
            pool.submit(
                () -> {
                  start.await();
                  int reads = 0;
                  for (int i = 0; i < 200; i++) {
                    Snapshot s = store.latest();
                    if (s != null) {
                      byte[] expected = content(2000, s.meta().index());
                      if (!java.util.Arrays.equals(s.read(0, 2000), expected)) {
                        readErrors.add("snapshot " + s.meta() + " read back wrong content");
                      }
                      reads++;
                    }
                  }
                  return reads;
                }));
      }
      start.countDown();
      List<Snapshot> all = new ArrayList<>();
      for (Future<List<Snapshot>> f : results) {
        all.addAll(f.get(20, TimeUnit.SECONDS));
      }
      for (Future<Integer> f : readers) {
        f.get(20, TimeUnit.SECONDS);
      }
      assertThat(readErrors).isEmpty();
      long max = writers * perWriter;
      assertThat(store.retained()).extracting(s -> s.meta().index()).containsExactly(max, max - 1);
      assertThat(files())
          .containsExactly("snap-" + (max - 1) + "-1.snap", "snap-" + max + "-1.snap");
      for (Snapshot s : all) {
        assertThat(s.read(0, 2000)).isEqualTo(content(2000, s.meta().index()));
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
