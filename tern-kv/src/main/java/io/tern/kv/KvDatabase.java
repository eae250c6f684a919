package io.tern.kv;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WALRecoveryMode;
import org.rocksdb.WriteOptions;

/**
 * One RocksDB instance of the store and the directory it lives in.
 *
 * <p><b>Directory.</b> The store's directory holds database directories {@code db-<n>} and a file
 * {@code CURRENT} naming the live one. A restore writes a new {@code db-<n+1>}, and switches by
 * replacing {@code CURRENT} with an atomic rename (then fsyncs the directory), so a crash leaves
 * either the old or the new database live, never a mix. Opening deletes every other {@code db-*}
 * and every temporary directory ({@code *.tmp}).
 *
 * <p><b>Column families.</b> {@code key} and {@code rev} (see {@link Codec}); {@code lease}: lease
 * id (8 bytes) → granted TTL (8 bytes), and lease id ++ key → empty for each attached key; {@code
 * meta}: the applied index, revision, compact revision, alarms and members ({@link Meta}).
 */
final class KvDatabase implements AutoCloseable {
  static final String CURRENT = "CURRENT";
  static final String TMP_SUFFIX = ".tmp";

  /**
   * Block cache of each database (shared by its column families). Plain gets of recently used keys
   * do not reach RocksDB (see {@code LatestVersions}); the cache serves ranges, history and the
   * apply thread's misses. With the memtables and the Raft log's, it bounds the member's native
   * memory (the 512 MB resident target of a member includes the JVM's heap of up to 256 MB).
   */
  static final long BLOCK_CACHE_BYTES = 32L << 20;

  private static final byte[] KEY_FAMILY = "key".getBytes(UTF_8);
  private static final byte[] REV_FAMILY = "rev".getBytes(UTF_8);
  private static final byte[] LEASE_FAMILY = "lease".getBytes(UTF_8);
  private static final byte[] META_FAMILY = "meta".getBytes(UTF_8);

  static {
    RocksDB.loadLibrary();
  }

  final Path path;
  final RocksDB db;
  final ColumnFamilyHandle keys;
  final ColumnFamilyHandle revs;
  final ColumnFamilyHandle leases;
  final ColumnFamilyHandle meta;

  /** RocksDB's ids of the column families above (0 is the default family). */
  private final int keysId;

  private final int revsId;
  private final int leasesId;
  private final int metaId;

  /**
   * Writes skip RocksDB's write-ahead log: the Raft log is the store's. A write lives in the
   * memtables until a flush, and every flush writes all column families at once (atomic flush), so
   * the files on disk always hold the state after some applied index, recorded in {@code meta} with
   * the data it produced. A crash loses at most the memtables; on restart the Raft node applies the
   * entries after that index again from its log. The log keeps them: it is compacted only up to a
   * snapshot, and a snapshot's checkpoint flushes the memtables first.
   */
  final WriteOptions writeOptions;

  /** Plain reads of the latest state (no snapshot); shared by every reader. */
  final ReadOptions readOptions = new ReadOptions();

  private final DBOptions dbOptions;
  private final ColumnFamilyOptions familyOptions;
  private final LRUCache blockCache;
  private final List<ColumnFamilyHandle> handles;

  private KvDatabase(
      Path path,
      RocksDB db,
      List<ColumnFamilyHandle> handles,
      DBOptions dbOptions,
      ColumnFamilyOptions familyOptions,
      LRUCache blockCache) {
    this.path = path;
    this.blockCache = blockCache;
    this.db = db;
    this.handles = handles;
    this.keys = handles.get(1);
    this.revs = handles.get(2);
    this.leases = handles.get(3);
    this.meta = handles.get(4);
    this.keysId = keys.getID();
    this.revsId = revs.getID();
    this.leasesId = leases.getID();
    this.metaId = meta.getID();
    this.dbOptions = dbOptions;
    this.familyOptions = familyOptions;
    this.writeOptions = new WriteOptions().setDisableWAL(true);
  }

  /** The default column family (the store keeps nothing in it). */
  ColumnFamilyHandle defaultFamily() {
    return handles.get(0);
  }

  /** RocksDB's id of one of this database's column families, without a native call. */
  int familyId(ColumnFamilyHandle family) {
    if (family == keys) {
      return keysId;
    } else if (family == revs) {
      return revsId;
    } else if (family == leases) {
      return leasesId;
    } else if (family == meta) {
      return metaId;
    } else if (family == handles.get(0)) {
      return 0;
    }
    throw new IllegalArgumentException("not a column family of " + path);
  }

  /**
   * Opens (creating if missing) the database in {@code path}, its memtables (all column families)
   * limited to {@code memtableBytes}.
   */
  static KvDatabase open(Path path, long memtableBytes) throws IOException {
    Files.createDirectories(path);
    DBOptions dbOptions =
        new DBOptions()
            .setCreateIfMissing(true)
            .setCreateMissingColumnFamilies(true)
            .setParanoidChecks(true)
            // Writes skip the WAL (see writeOptions); a WAL left by an earlier version is replayed.
            .setWalRecoveryMode(WALRecoveryMode.PointInTimeRecovery)
            .setAtomicFlush(true)
            .setDbWriteBufferSize(memtableBytes) // memtables of all families together
            .setInfoLogLevel(InfoLogLevel.WARN_LEVEL)
            .setKeepLogFileNum(4)
            .setMaxLogFileSize(16L << 20);
    // Blocks are cached uncompressed (the default cache is 8 MiB); LZ4 decompresses several times
    // faster than the default Snappy when a block does come from disk.
    LRUCache blockCache = new LRUCache(BLOCK_CACHE_BYTES);
    ColumnFamilyOptions familyOptions =
        new ColumnFamilyOptions()
            // One family may fill the whole budget; its memtable grows in blocks of an eighth.
            .setWriteBufferSize(memtableBytes)
            .setCompressionType(CompressionType.LZ4_COMPRESSION)
            .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(blockCache));
    List<ColumnFamilyDescriptor> families =
        List.of(
            new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, familyOptions),
            new ColumnFamilyDescriptor(KEY_FAMILY, familyOptions),
            new ColumnFamilyDescriptor(REV_FAMILY, familyOptions),
            new ColumnFamilyDescriptor(LEASE_FAMILY, familyOptions),
            new ColumnFamilyDescriptor(META_FAMILY, familyOptions));
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try {
      RocksDB db = RocksDB.open(dbOptions, path.toString(), families, handles);
      return new KvDatabase(path, db, handles, dbOptions, familyOptions, blockCache);
    } catch (RocksDBException e) {
      handles.forEach(ColumnFamilyHandle::close);
      familyOptions.close();
      blockCache.close();
      dbOptions.close();
      throw new IOException("cannot open the KV database " + path + ": " + e.getMessage(), e);
    }
  }

  /** Writes a consistent copy of the database into {@code target}, which must not exist. */
  void checkpoint(Path target) throws IOException {
    try (Checkpoint checkpoint = Checkpoint.create(db)) {
      checkpoint.createCheckpoint(target.toString());
    } catch (RocksDBException e) {
      throw new IOException("cannot checkpoint " + path + " into " + target + ": " + e, e);
    }
  }

  long property(String name) {
    long total = 0;
    try {
      for (ColumnFamilyHandle h : handles) {
        total += db.getLongProperty(h, name);
      }
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot read " + name + " of " + path, e);
    }
    return total;
  }

  void compactAll() {
    try {
      for (ColumnFamilyHandle h : handles) {
        db.compactRange(h);
      }
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot compact " + path, e);
    }
  }

  @Override
  public void close() {
    writeOptions.close();
    readOptions.close();
    handles.forEach(ColumnFamilyHandle::close);
    db.close();
    familyOptions.close();
    blockCache.close();
    dbOptions.close();
  }

  // ---- the store directory ----

  /** The live database directory of the store in {@code dir}, choosing {@code db-1} if none. */
  static Path live(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path current = dir.resolve(CURRENT);
    String name;
    try {
      name = Files.readString(current, UTF_8).trim();
    } catch (NoSuchFileException e) {
      name = "db-1";
      switchTo(dir, name);
    }
    if (!name.matches("db-[0-9]+")) {
      throw new IOException("corrupt " + current + ": '" + name + "'");
    }
    return dir.resolve(name);
  }

  /** Deletes every database directory but {@code live}, and every temporary directory. */
  static void removeStale(Path dir, Path live) throws IOException {
    try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
      for (Path child : children) {
        String name = child.getFileName().toString();
        boolean staleDb = name.startsWith("db-") && !child.equals(live);
        if (staleDb || name.endsWith(TMP_SUFFIX)) {
          deleteTree(child);
        }
      }
    }
  }

  /** The directory a restore writes into: {@code db-<n+1>} after the live {@code db-<n>}. */
  static Path next(Path live) {
    long n = Long.parseLong(live.getFileName().toString().substring(3));
    return live.resolveSibling("db-" + (n + 1));
  }

  /** Makes {@code name} the live database atomically and durably. */
  static void switchTo(Path dir, String name) throws IOException {
    Path tmp = dir.resolve(CURRENT + TMP_SUFFIX);
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap((name + "\n").getBytes(UTF_8)));
      ch.force(true);
    }
    Files.move(tmp, dir.resolve(CURRENT), StandardCopyOption.ATOMIC_MOVE);
    fsyncDirectory(dir);
  }

  static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
