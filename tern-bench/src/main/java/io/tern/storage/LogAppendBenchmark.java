package io.tern.storage;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.tern.bench.TempDirs;
import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * The CPU the Raft log's writer spends building one append batch of {@code batch} entries of 256
 * bytes (keys, values with their CRC, the RocksDB {@code WriteBatch}) before RocksDB writes it. The
 * write itself (WAL, memtable, fsync) is not measured: both encodings hand RocksDB the same bytes,
 * so it costs the same, and a benchmark that kept writing would mostly measure RocksDB's flushes,
 * compactions and write stalls. Scores are per batch.
 *
 * <p>{@code encoding=PER_ENTRY} is how {@code RocksDbLogStore} built a batch until 2026-12-03 and
 * still builds one that truncates, resets or compacts: one {@code WriteBatch.put} (a JNI call with
 * its own key and value arrays) per entry. {@code ONE_ARRAY} is {@link LogCodec#entryPutBatch}: the
 * whole batch encoded in Java into RocksDB's write-batch format and handed over at once.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class LogAppendBenchmark {
  /** The two ways of building the batch. */
  public enum Encoding {
    PER_ENTRY,
    ONE_ARRAY
  }

  @Param({"1", "32", "256"})
  int batch;

  @Param({"PER_ENTRY", "ONE_ARRAY"})
  Encoding encoding;

  private Path dir;
  private DBOptions dbOptions;
  private ColumnFamilyOptions familyOptions;
  private RocksDB db;
  private ColumnFamilyHandle log;
  private final List<ColumnFamilyHandle> handles = new ArrayList<>();
  private byte[][] payloads;
  private long nextIndex = 1;

  @Setup
  public void open() throws IOException, RocksDBException {
    RocksDB.loadLibrary();
    dir = Files.createTempDirectory("tern-log-append-bench");
    dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
    familyOptions = new ColumnFamilyOptions();
    db =
        RocksDB.open(
            dbOptions,
            dir.toString(),
            List.of(
                new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, familyOptions),
                new ColumnFamilyDescriptor("log".getBytes(UTF_8), familyOptions)),
            handles);
    log = handles.get(1);
    SplittableRandom random = new SplittableRandom(3);
    payloads = new byte[1024][];
    for (int i = 0; i < payloads.length; i++) {
      payloads[i] = new byte[256];
      random.nextBytes(payloads[i]);
    }
  }

  @TearDown
  public void close() throws IOException {
    for (ColumnFamilyHandle h : handles) {
      h.close();
    }
    db.close();
    familyOptions.close();
    dbOptions.close();
    TempDirs.deleteRecursively(dir);
  }

  /** One batch of the next {@code batch} indexes, built the way the log writer builds it. */
  @Benchmark
  public long appendBatch() throws RocksDBException {
    List<Entry> entries = new ArrayList<>(batch);
    for (int i = 0; i < batch; i++) {
      long index = nextIndex++;
      entries.add(
          new Entry(7, index, EntryType.NORMAL, index, payloads[(int) (index % payloads.length)]));
    }
    try (WriteBatch wb = build(entries)) {
      return wb.getDataSize();
    }
  }

  private WriteBatch build(List<Entry> entries) throws RocksDBException {
    if (encoding == Encoding.ONE_ARRAY) {
      return new WriteBatch(LogCodec.entryPutBatch(log.getID(), List.of(entries)));
    }
    WriteBatch wb = new WriteBatch();
    for (Entry e : entries) {
      wb.put(log, LogCodec.indexKey(e.index()), LogCodec.encodeEntry(e));
    }
    return wb;
  }
}
