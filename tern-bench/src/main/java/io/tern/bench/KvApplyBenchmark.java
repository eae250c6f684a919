package io.tern.bench;

import com.google.protobuf.ByteString;
import io.tern.api.InternalRequest;
import io.tern.api.PutRequest;
import io.tern.api.RangeRequest;
import io.tern.api.RangeResponse;
import io.tern.kv.KvException;
import io.tern.kv.KvOptions;
import io.tern.kv.KvStateMachine;
import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The etcd state machine's hot paths on a real RocksDB in a temporary directory: applying puts
 * (8-byte keys drawn from 10,000, 256-byte values) the way the apply thread receives them, in
 * batches of {@code batch} committed entries, and linearizable-style single-key ranges at the
 * current revision. The store is prefilled with every key once. Scores are per put and per range.
 *
 * <p>{@code keyCacheBytes=0} turns off the apply thread's memory of keys' newest versions (every
 * put then seeks RocksDB for the key's current version); {@code batch=1} writes each entry alone.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class KvApplyBenchmark {
  private static final int KEYS = 10_000;
  private static final int BATCH_MAX = 64;

  @Param({"1", "32"})
  public int batch;

  @Param({"0", "33554432"})
  public long keyCacheBytes;

  /**
   * {@code binary}: 8 bytes holding a big-endian counter, as {@code tern bench} writes them; {@code
   * decimal}: eight ASCII digits.
   */
  @Param({"binary", "decimal"})
  public String keys;

  private Path dir;
  private KvStateMachine store;
  private long index;
  private final SplittableRandom random = new SplittableRandom(7);
  private final ByteString value = ByteString.copyFrom(new byte[256]);
  private ByteString[] keySpace;

  @Setup(Level.Trial)
  public void open() throws IOException {
    dir = Files.createTempDirectory("kv-apply-bench");
    store = KvStateMachine.open(dir, KvOptions.builder().keyCacheBytes(keyCacheBytes).build());
    keySpace = new ByteString[KEYS];
    for (int i = 0; i < KEYS; i++) {
      keySpace[i] = key(i);
    }
    for (int i = 0; i < KEYS; i += BATCH_MAX) {
      List<Entry> entries = new ArrayList<>();
      for (int j = i; j < Math.min(KEYS, i + BATCH_MAX); j++) {
        entries.add(put(keySpace[j]));
      }
      store.apply(entries);
    }
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    store.close();
    TempDirs.deleteRecursively(dir);
  }

  private ByteString key(int i) {
    return switch (keys) {
      case "binary" -> ByteString.copyFrom(ByteBuffer.allocate(8).putLong(0, i));
      case "decimal" -> ByteString.copyFromUtf8(String.format("%08d", i));
      default -> throw new IllegalArgumentException("keys=" + keys);
    };
  }

  private Entry put(ByteString key) {
    long i = ++index;
    byte[] data =
        InternalRequest.newBuilder()
            .setMemberId(1)
            .setPut(PutRequest.newBuilder().setKey(key).setValue(value))
            .build()
            .toByteArray();
    return new Entry(1, i, EntryType.NORMAL, i, data);
  }

  /** Applies 32 puts in batches of {@code batch} entries; the score is per put. */
  @Benchmark
  @OperationsPerInvocation(32)
  public Object[] applyPuts() {
    Object[] last = null;
    List<Entry> entries = new ArrayList<>(batch);
    for (int n = 0; n < 32; n++) {
      entries.add(put(keySpace[random.nextInt(KEYS)]));
      if (entries.size() == batch) {
        last = store.apply(entries);
        entries = new ArrayList<>(batch);
      }
    }
    if (!entries.isEmpty()) {
      last = store.apply(entries);
    }
    return last;
  }

  /** One single-key range at the current revision. */
  @Benchmark
  public RangeResponse rangeOneKey() throws KvException {
    return store.range(RangeRequest.newBuilder().setKey(keySpace[random.nextInt(KEYS)]).build());
  }
}
