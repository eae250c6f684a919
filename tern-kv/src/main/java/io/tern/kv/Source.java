package io.tern.kv;

import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatchWithIndex;

/**
 * Where a {@link MvccView} reads from: a RocksDB snapshot (readers), or the database overlaid with
 * the batch being built (apply, so an operation sees the earlier ones of its transaction).
 */
interface Source {
  /** A fresh iterator; the caller closes it. */
  RocksIterator iterator(ColumnFamilyHandle family);

  byte[] get(ColumnFamilyHandle family, byte[] key);

  static Source of(KvDatabase db, ReadOptions options) {
    return new Source() {
      @Override
      public RocksIterator iterator(ColumnFamilyHandle family) {
        return db.db.newIterator(family, options);
      }

      @Override
      public byte[] get(ColumnFamilyHandle family, byte[] key) {
        try {
          return db.db.get(family, options, key);
        } catch (RocksDBException e) {
          throw new IllegalStateException("read failed in " + db.path, e);
        }
      }
    };
  }

  static Source overlay(KvDatabase db, WriteBatchWithIndex batch, ReadOptions options) {
    return new Source() {
      @Override
      public RocksIterator iterator(ColumnFamilyHandle family) {
        return batch.newIteratorWithBase(family, db.db.newIterator(family, options), options);
      }

      @Override
      public byte[] get(ColumnFamilyHandle family, byte[] key) {
        try {
          return batch.getFromBatchAndDB(db.db, family, options, key);
        } catch (RocksDBException e) {
          throw new IllegalStateException("read failed in " + db.path, e);
        }
      }
    };
  }
}
