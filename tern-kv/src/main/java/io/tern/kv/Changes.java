package io.tern.kv;

import com.google.protobuf.ByteString;
import java.util.Map;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;

/**
 * The changes of one apply step, gathered for one database write together with the applied index of
 * its last entry. Two forms: {@link IndexedChanges} (RocksDB's indexed batch, which later
 * operations of the step read through — ranges, transactions and deletions need it) and {@link
 * EncodedChanges} (records kept in Java and handed to RocksDB as one serialized batch — puts, which
 * only read single keys, and those through {@link #newest}). Apply thread only.
 *
 * <p>A transaction marks a save point when it begins and either releases it (accepted) or rolls
 * back to it (refused); save points do not nest.
 */
interface Changes extends AutoCloseable {
  void put(ColumnFamilyHandle family, byte[] key, byte[] value);

  void delete(ColumnFamilyHandle family, byte[] key);

  void setSavePoint();

  /** Drops every change made since the save point, and the save point. */
  void rollbackToSavePoint();

  /** Keeps the changes made since the save point and drops the save point. */
  void popSavePoint();

  /** What an operation of this step reads: the database as this step has changed it so far. */
  Source source(KvDatabase db, ReadOptions options);

  /**
   * Whether {@link #newest} knows the key's newest version in this step. Always false for changes
   * that {@link #source} already reads through.
   */
  boolean holds(ByteString key);

  /** The newest version an accepted transaction of this step wrote; null for a deletion. */
  MvccView.Version newest(ByteString key);

  /** What an accepted transaction wrote (its newest version of each key; null for a deletion). */
  void accepted(Map<ByteString, MvccView.Version> written);

  /** Writes every change at once (not synced: see {@link KvDatabase#writeOptions}). */
  void write(KvDatabase db) throws RocksDBException;

  @Override
  void close();
}
