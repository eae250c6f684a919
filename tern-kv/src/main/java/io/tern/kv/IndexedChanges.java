package io.tern.kv;

import com.google.protobuf.ByteString;
import java.util.Map;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatchWithIndex;

/** Changes in RocksDB's indexed batch: reads of the step see them through an overlay. */
final class IndexedChanges implements Changes {
  private final WriteBatchWithIndex batch = new WriteBatchWithIndex(true);

  @Override
  public void put(ColumnFamilyHandle family, byte[] key, byte[] value) {
    try {
      batch.put(family, key, value);
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot add to a write batch", e);
    }
  }

  @Override
  public void delete(ColumnFamilyHandle family, byte[] key) {
    try {
      batch.delete(family, key);
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot add to a write batch", e);
    }
  }

  @Override
  public void setSavePoint() {
    batch.setSavePoint();
  }

  @Override
  public void rollbackToSavePoint() {
    try {
      batch.rollbackToSavePoint();
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot roll back a write batch", e);
    }
  }

  @Override
  public void popSavePoint() {
    try {
      batch.popSavePoint();
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot drop a save point of a write batch", e);
    }
  }

  @Override
  public Source source(KvDatabase db, ReadOptions options) {
    return Source.overlay(db, batch, options);
  }

  @Override
  public boolean holds(ByteString key) {
    return false;
  }

  @Override
  public MvccView.Version newest(ByteString key) {
    throw new IllegalStateException("an indexed batch is read through its overlay");
  }

  @Override
  public void accepted(Map<ByteString, MvccView.Version> written) {}

  @Override
  public void write(KvDatabase db) throws RocksDBException {
    db.db.write(db.writeOptions, batch);
  }

  @Override
  public void close() {
    batch.close();
  }
}
