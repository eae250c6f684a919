package io.tern.storage;

import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.tracker.MembershipCodec;
import io.tern.raft.node.Snapshot;
import io.tern.raft.node.SnapshotSink;
import io.tern.raft.node.SnapshotStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Snapshots as files in {@code <dataDir>/snapshots}, one file each, named {@code
 * snap-<index>-<term>.snap}.
 *
 * <p><b>File format</b> (integers big-endian): a header, then the content.
 *
 * <pre>
 * magic:"TSNP"  format:u8=1  index:int64  term:int64  size:int64  crc:u32  mlen:int32
 * membership:mlen bytes (MembershipCodec)  headerCrc:u32  content:size bytes
 * </pre>
 *
 * {@code crc} is the CRC32C of the content, {@code headerCrc} that of every header byte before it.
 *
 * <p><b>Writing.</b> {@link #create} opens {@code snap-<index>-<term>-<n>.tmp} and reserves the
 * header; content is streamed after it. {@link SnapshotSink#commit()} writes the header (now that
 * size and CRC are known), fsyncs the file, renames it atomically to its final name and fsyncs the
 * directory: a snapshot is either complete and durable under its final name, or absent. A sink
 * whose process dies leaves only a {@code .tmp} file, deleted on the next {@link #open}.
 *
 * <p><b>Retention.</b> The {@value #RETAINED} snapshots with the highest index are kept (the most
 * recently committed wins among equal indexes); committing a newer one deletes the oldest file. A
 * {@link Snapshot} already handed out stays readable after its file is deleted: it reads through a
 * file descriptor opened when it was committed or loaded, and on Linux an open file outlives its
 * directory entry. That descriptor is closed when the snapshot becomes unreachable (a {@link
 * Cleaner}), or for the retained ones when the store is closed.
 *
 * <p><b>Checking.</b> {@link #open} verifies the retained files completely (header CRC, name,
 * length, content CRC32C) and throws {@link StorageCorruptionException} naming the file if any does
 * not match; it then deletes files beyond the retention (left by a crash between commit and
 * cleanup). Reads after that trust the file. Thread-safe.
 */
public final class FileSnapshotStore implements SnapshotStore, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FileSnapshotStore.class);

  /** Subdirectory of the member's data directory holding the snapshots. */
  public static final String DIRECTORY = "snapshots";

  /** How many committed snapshots the store keeps. */
  public static final int RETAINED = 2;

  static final byte[] MAGIC = {'T', 'S', 'N', 'P'};
  static final byte FORMAT = 1;

  /** Header bytes besides the membership: magic, format, index, term, size, crc, mlen, hcrc. */
  private static final int FIXED_HEADER_BYTES = 4 + 1 + 8 + 8 + 8 + 4 + 4 + 4;

  private static final int MAX_MEMBERSHIP_BYTES = 1 << 20;
  private static final int BUFFER_BYTES = 64 * 1024;
  private static final String LOCK_FILE = "LOCK";
  private static final String TMP_SUFFIX = ".tmp";
  private static final Pattern COMMITTED = Pattern.compile("snap-(\\d+)-(\\d+)\\.snap");
  private static final Cleaner CLEANER = Cleaner.create();
  private static final Set<Path> LOCKED_DIRECTORIES = ConcurrentHashMap.newKeySet();

  private static final Comparator<FileSnapshot> NEWEST_FIRST =
      Comparator.comparingLong((FileSnapshot s) -> s.meta.index())
          .thenComparingLong(s -> s.sequence)
          .reversed();

  private final Path dir;
  private final FileChannel lockChannel;
  private final Path lockedPath;
  private final Object commitLock = new Object();
  private final AtomicLong tmpSequence = new AtomicLong();

  // Guarded by this.
  private final List<FileSnapshot> retained = new ArrayList<>();
  private long sequence;
  private boolean closed;

  /**
   * Opens (creating if needed) the snapshot directory {@code <dataDir>/snapshots}: takes its lock,
   * deletes stale temporary files, verifies the retained snapshots and deletes older ones.
   *
   * @throws StorageCorruptionException if a retained snapshot file does not match its checksums
   * @throws StorageException on an I/O error, or if another store holds the directory
   */
  public static FileSnapshotStore open(Path dataDir) {
    return new FileSnapshotStore(dataDir.resolve(DIRECTORY));
  }

  private FileSnapshotStore(Path dir) {
    this.dir = dir;
    FileChannel lockCh = null;
    Path locked = null;
    try {
      boolean created = !Files.isDirectory(dir);
      Files.createDirectories(dir);
      if (created) {
        fsyncDirectory(dir.toAbsolutePath().getParent());
      }
      // Within this process the set decides: closing a second descriptor of the lock file would
      // release the process's POSIX lock held through the first.
      Path real = dir.toRealPath();
      if (!LOCKED_DIRECTORIES.add(real)) {
        throw new StorageException("snapshot directory " + dir + " is in use by another store");
      }
      locked = real;
      lockCh =
          FileChannel.open(
              dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = lockCh.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        throw new StorageException("snapshot directory " + dir + " is in use by another store");
      }
      this.lockChannel = lockCh;
      this.lockedPath = real;
      load();
    } catch (IOException | RuntimeException e) {
      if (locked != null) {
        LOCKED_DIRECTORIES.remove(locked);
      }
      for (FileSnapshot s : retained) {
        s.file.cleanable.clean();
      }
      if (lockCh != null) {
        try {
          lockCh.close(); // releases the lock
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      if (e instanceof RuntimeException r) {
        throw r;
      }
      throw new StorageException("cannot open snapshot directory " + dir + ": " + e, e);
    }
  }

  /** Called from the constructor. */
  private void load() throws IOException {
    record Found(Path path, long index, long term) {}
    List<Found> found = new ArrayList<>();
    List<Path> stale = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        String name = p.getFileName().toString();
        Matcher m = COMMITTED.matcher(name);
        if (name.endsWith(TMP_SUFFIX)) {
          stale.add(p);
        } else if (m.matches()) {
          found.add(new Found(p, Long.parseLong(m.group(1)), Long.parseLong(m.group(2))));
        }
      }
    }
    for (Path p : stale) {
      LOG.info("deleting unfinished snapshot {}", p);
      Files.deleteIfExists(p);
    }
    found.sort(Comparator.comparingLong(Found::index).thenComparingLong(Found::term).reversed());
    List<Found> keep = found.subList(0, Math.min(RETAINED, found.size()));
    for (int i = keep.size() - 1; i >= 0; i--) {
      Found f = keep.get(i);
      retained.add(verify(f.path, f.index, f.term, ++sequence));
    }
    retained.sort(NEWEST_FIRST);
    for (Found f : found.subList(keep.size(), found.size())) {
      LOG.info("deleting snapshot {} beyond retention", f.path);
      Files.deleteIfExists(f.path);
    }
    if (!stale.isEmpty() || found.size() > keep.size()) {
      fsyncDirectory(dir);
    }
    LOG.info(
        "opened snapshot store {}: {}", dir, retained.isEmpty() ? "empty" : retained.get(0).meta);
  }

  /** Reads and checks a committed file completely. */
  private static FileSnapshot verify(Path path, long index, long term, long sequence)
      throws IOException {
    OpenFile file = new OpenFile(new RandomAccessFile(path.toFile(), "r"));
    boolean ok = false;
    try {
      RandomAccessFile raf = file.raf;
      byte[] fixed = new byte[4 + 1 + 8 + 8 + 8 + 4 + 4];
      if (raf.length() < FIXED_HEADER_BYTES) {
        throw corrupt(path, "file is " + raf.length() + " bytes, shorter than any header");
      }
      raf.readFully(fixed);
      ByteBuffer b = ByteBuffer.wrap(fixed);
      byte[] magic = new byte[4];
      b.get(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw corrupt(path, "bad magic");
      }
      byte format = b.get();
      if (format != FORMAT) {
        throw corrupt(path, "unknown format " + format);
      }
      long hIndex = b.getLong();
      long hTerm = b.getLong();
      long size = b.getLong();
      long crc = Integer.toUnsignedLong(b.getInt());
      int mlen = b.getInt();
      if (mlen < 0 || mlen > MAX_MEMBERSHIP_BYTES || FIXED_HEADER_BYTES + mlen > raf.length()) {
        throw corrupt(path, "bad membership length " + mlen);
      }
      byte[] membership = new byte[mlen];
      raf.readFully(membership);
      long storedHeaderCrc = Integer.toUnsignedLong(raf.readInt());
      CRC32C hc = new CRC32C();
      hc.update(fixed);
      hc.update(membership);
      if (hc.getValue() != storedHeaderCrc) {
        throw corrupt(
            path,
            "header CRC32C mismatch (stored "
                + Long.toHexString(storedHeaderCrc)
                + ", computed "
                + Long.toHexString(hc.getValue())
                + ")");
      }
      if (hIndex != index || hTerm != term) {
        throw corrupt(path, "header says " + hIndex + "@" + hTerm + ", the name disagrees");
      }
      SnapshotMeta meta;
      try {
        meta = new SnapshotMeta(hIndex, hTerm, MembershipCodec.decode(membership));
      } catch (IllegalArgumentException e) {
        throw corrupt(path, "bad snapshot meta: " + e.getMessage());
      }
      long contentOffset = FIXED_HEADER_BYTES + mlen;
      if (size < 0 || raf.length() != contentOffset + size) {
        throw corrupt(
            path,
            "file is "
                + raf.length()
                + " bytes, the header says "
                + contentOffset
                + " + "
                + size
                + " bytes of content");
      }
      CRC32C content = new CRC32C();
      byte[] buf = new byte[BUFFER_BYTES];
      for (long left = size; left > 0; ) {
        int n = raf.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          throw corrupt(path, "content ends early");
        }
        content.update(buf, 0, n);
        left -= n;
      }
      if (content.getValue() != crc) {
        throw corrupt(
            path,
            "content CRC32C mismatch (header "
                + Long.toHexString(crc)
                + ", content "
                + Long.toHexString(content.getValue())
                + ")");
      }
      FileSnapshot s = new FileSnapshot(meta, size, crc, path, contentOffset, sequence, file);
      ok = true;
      return s;
    } finally {
      if (!ok) {
        file.run();
      }
    }
  }

  private static StorageCorruptionException corrupt(Path path, String what) {
    return new StorageCorruptionException("snapshot file " + path + ": " + what);
  }

  /** The snapshot directory. */
  public Path directory() {
    return dir;
  }

  @Override
  public synchronized Snapshot latest() {
    return retained.isEmpty() ? null : retained.get(0);
  }

  /** The committed snapshots kept, highest index (then most recent) first. */
  public synchronized List<Snapshot> retained() {
    return List.copyOf(retained);
  }

  @Override
  public SnapshotSink create(SnapshotMeta meta) throws IOException {
    Objects.requireNonNull(meta, "meta");
    synchronized (this) {
      if (closed) {
        throw new IOException("snapshot store " + dir + " is closed");
      }
    }
    Path tmp =
        dir.resolve(
            "snap-"
                + meta.index()
                + "-"
                + meta.term()
                + "-"
                + tmpSequence.incrementAndGet()
                + TMP_SUFFIX);
    return new FileSink(meta, tmp);
  }

  /**
   * Releases the directory lock and the descriptors of the retained snapshots (they cannot be read
   * afterwards). Sinks can no longer commit.
   */
  @Override
  public void close() {
    List<FileSnapshot> toClose;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      toClose = List.copyOf(retained);
    }
    synchronized (commitLock) {
      for (FileSnapshot s : toClose) {
        s.file.cleanable.clean();
      }
      try {
        lockChannel.close();
      } catch (IOException e) {
        LOG.warn("closing the lock of snapshot directory {} failed", dir, e);
      }
      LOCKED_DIRECTORIES.remove(lockedPath);
    }
  }

  @Override
  public String toString() {
    return "FileSnapshotStore[" + dir + "]";
  }

  static String fileName(SnapshotMeta meta) {
    return "snap-" + meta.index() + "-" + meta.term() + ".snap";
  }

  private static void fsyncDirectory(Path d) throws IOException {
    try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /** Makes a fully written and synced temporary file the committed snapshot. */
  private Snapshot commit(FileSink sink, long size, long crc) throws IOException {
    synchronized (commitLock) {
      synchronized (this) {
        if (closed) {
          throw new IOException("snapshot store " + dir + " is closed; " + sink.meta + " dropped");
        }
      }
      Path target = dir.resolve(fileName(sink.meta));
      Files.move(sink.tmp, target, StandardCopyOption.ATOMIC_MOVE);
      fsyncDirectory(dir);
      OpenFile file = new OpenFile(new RandomAccessFile(target.toFile(), "r"));
      List<FileSnapshot> evicted = new ArrayList<>();
      FileSnapshot snap;
      synchronized (this) {
        snap = new FileSnapshot(sink.meta, size, crc, target, sink.contentOffset, ++sequence, file);
        // A snapshot committed again under the same name replaced the old file: forget the old
        // entry without deleting the path, which now holds the new file.
        retained.removeIf(s -> s.path.equals(target));
        retained.add(snap);
        retained.sort(NEWEST_FIRST);
        while (retained.size() > RETAINED) {
          evicted.add(retained.remove(retained.size() - 1));
        }
      }
      for (FileSnapshot old : evicted) {
        try {
          Files.deleteIfExists(old.path);
          LOG.debug("deleted snapshot {}", old.path);
        } catch (IOException e) {
          LOG.warn("cannot delete old snapshot {}; it is retried on the next open", old.path, e);
        }
      }
      LOG.info("committed snapshot {} ({} bytes) in {}", sink.meta, size, dir);
      return snap;
    }
  }

  // ------------------------------------------------------------ sink

  /** A snapshot being written to its temporary file; used by one thread at a time. */
  private final class FileSink extends OutputStream implements SnapshotSink {
    private final SnapshotMeta meta;
    private final Path tmp;
    private final FileChannel channel;
    private final byte[] membership;
    private final long contentOffset;
    private final CRC32C crc = new CRC32C();
    private final byte[] buffer = new byte[BUFFER_BYTES];
    private int buffered;
    private long written;
    private boolean finished;

    FileSink(SnapshotMeta meta, Path tmp) throws IOException {
      this.meta = meta;
      this.tmp = tmp;
      this.membership = MembershipCodec.encode(meta.membership());
      this.contentOffset = FIXED_HEADER_BYTES + membership.length;
      this.channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      channel.position(contentOffset); // the header is written on commit
    }

    @Override
    public OutputStream out() {
      return this;
    }

    @Override
    public long written() {
      return written;
    }

    @Override
    public void write(int b) throws IOException {
      ensureOpen();
      if (buffered == buffer.length) {
        drain();
      }
      buffer[buffered++] = (byte) b;
      crc.update(b);
      written++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      ensureOpen();
      crc.update(b, off, len);
      written += len;
      if (len >= buffer.length) {
        drain();
        writeFully(ByteBuffer.wrap(b, off, len));
        return;
      }
      if (len > buffer.length - buffered) {
        drain();
      }
      System.arraycopy(b, off, buffer, buffered, len);
      buffered += len;
    }

    /** Closing the stream does not commit or abort the sink. */
    @Override
    public void close() {}

    private void ensureOpen() throws IOException {
      if (finished) {
        throw new IOException("snapshot sink " + meta + " is already committed or aborted");
      }
    }

    private void drain() throws IOException {
      if (buffered > 0) {
        writeFully(ByteBuffer.wrap(buffer, 0, buffered));
        buffered = 0;
      }
    }

    private void writeFully(ByteBuffer b) throws IOException {
      while (b.hasRemaining()) {
        channel.write(b);
      }
    }

    @Override
    public Snapshot commit() throws IOException {
      if (finished) {
        throw new IllegalStateException(
            "snapshot sink " + meta + " is already committed or aborted");
      }
      finished = true;
      try {
        drain();
        ByteBuffer header = ByteBuffer.allocate((int) contentOffset);
        header
            .put(MAGIC)
            .put(FORMAT)
            .putLong(meta.index())
            .putLong(meta.term())
            .putLong(written)
            .putInt((int) crc.getValue())
            .putInt(membership.length)
            .put(membership);
        CRC32C hc = new CRC32C();
        hc.update(header.array(), 0, header.position());
        header.putInt((int) hc.getValue()).flip();
        while (header.hasRemaining()) {
          channel.write(header, header.position()); // the header starts at file position 0
        }
        channel.force(true);
        channel.close();
        return FileSnapshotStore.this.commit(this, written, crc.getValue());
      } catch (IOException | RuntimeException e) {
        discard();
        throw e;
      }
    }

    @Override
    public void abort() {
      if (finished) {
        return;
      }
      finished = true;
      discard();
    }

    private void discard() {
      try {
        channel.close();
      } catch (IOException e) {
        LOG.debug("closing {} failed", tmp, e);
      }
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException e) {
        LOG.warn("cannot delete unfinished snapshot {}; it is deleted on the next open", tmp, e);
      }
    }

    @Override
    public String toString() {
      return "FileSnapshotStore.Sink[" + tmp + " " + written + "B]";
    }
  }

  // ------------------------------------------------------------ committed snapshots

  /** An open snapshot file; run() closes it (the cleaning action, which must not reach back). */
  private static final class OpenFile implements Runnable {
    final RandomAccessFile raf;
    Cleaner.Cleanable cleanable;

    OpenFile(RandomAccessFile raf) {
      this.raf = raf;
    }

    /** Reads at {@code position}; -1 at the end of the file. */
    int readAt(long position, byte[] b, int off, int len) throws IOException {
      synchronized (raf) {
        raf.seek(position);
        return raf.read(b, off, len);
      }
    }

    @Override
    public void run() {
      try {
        raf.close();
      } catch (IOException e) {
        LOG.debug("closing a snapshot file failed", e);
      }
    }
  }

  /** A committed snapshot. Immutable; reads are thread-safe. */
  private static final class FileSnapshot implements Snapshot {
    final SnapshotMeta meta;
    final long size;
    final long checksum;
    final Path path;
    final long contentOffset;
    final long sequence;
    final OpenFile file;

    FileSnapshot(
        SnapshotMeta meta,
        long size,
        long checksum,
        Path path,
        long contentOffset,
        long sequence,
        OpenFile file) {
      this.meta = meta;
      this.size = size;
      this.checksum = checksum;
      this.path = path;
      this.contentOffset = contentOffset;
      this.sequence = sequence;
      this.file = file;
      file.cleanable = CLEANER.register(this, file);
    }

    @Override
    public SnapshotMeta meta() {
      return meta;
    }

    @Override
    public long size() {
      return size;
    }

    @Override
    public long checksum() {
      return checksum;
    }

    @Override
    public byte[] read(long offset, int maxLength) throws IOException {
      if (offset < 0 || maxLength < 0) {
        throw new IllegalArgumentException("bad read at " + offset + " of " + maxLength + " bytes");
      }
      if (offset > size) {
        throw new IOException(
            "read at " + offset + " beyond the end of snapshot " + meta + " (" + size + " bytes)");
      }
      byte[] out = new byte[(int) Math.min(maxLength, size - offset)];
      readFully(offset, out, 0, out.length);
      return out;
    }

    private void readFully(long offset, byte[] b, int off, int len) throws IOException {
      while (len > 0) {
        int n = file.readAt(contentOffset + offset, b, off, len);
        if (n < 0) {
          throw new IOException("snapshot file " + path + " ends before its recorded size");
        }
        offset += n;
        off += n;
        len -= n;
      }
    }

    @Override
    public InputStream open() {
      return new InputStream() {
        private long position;

        @Override
        public int read() throws IOException {
          byte[] one = new byte[1];
          return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          Objects.checkFromIndexSize(off, len, b.length);
          if (len == 0) {
            return 0;
          }
          if (position >= size) {
            return -1;
          }
          int n = (int) Math.min(len, size - position);
          readFully(position, b, off, n);
          position += n;
          return n;
        }

        @Override
        public long skip(long n) {
          long skipped = Math.max(0, Math.min(n, size - position));
          position += skipped;
          return skipped;
        }

        @Override
        public int available() {
          return (int) Math.min(Integer.MAX_VALUE, size - position);
        }
      };
    }

    @Override
    public String toString() {
      return "Snapshot[" + meta + " " + size + "B crc=" + Long.toHexString(checksum) + "]";
    }
  }
}
