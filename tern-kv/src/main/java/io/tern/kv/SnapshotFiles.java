package io.tern.kv;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * The stream format of a store snapshot: the files of a RocksDB checkpoint directory.
 *
 * <pre>
 *   magic "TERNKV01"
 *   per file, in name order: u16 name length, name (UTF-8), u64 length, bytes
 *   u16 0                         (end of files)
 *   u32 CRC32C of every byte above
 * </pre>
 */
final class SnapshotFiles {
  private static final byte[] MAGIC = "TERNKV01".getBytes(UTF_8);
  private static final int BUFFER = 64 * 1024;

  private SnapshotFiles() {}

  /** Streams every regular file of {@code dir} (a flat checkpoint directory). */
  static void write(Path dir, OutputStream sink) throws IOException {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
      for (Path p : children) {
        if (!Files.isRegularFile(p)) {
          throw new IOException("unexpected non-file " + p + " in checkpoint " + dir);
        }
        files.add(p);
      }
    }
    files.sort(null);
    CRC32C crc = new CRC32C();
    DataOutputStream out = new DataOutputStream(new CheckedOutputStream(nonClosing(sink), crc));
    out.write(MAGIC);
    byte[] buf = new byte[BUFFER];
    for (Path p : files) {
      byte[] name = p.getFileName().toString().getBytes(UTF_8);
      long size = Files.size(p);
      out.writeShort(name.length);
      out.write(name);
      out.writeLong(size);
      try (InputStream in = Files.newInputStream(p)) {
        long left = size;
        while (left > 0) {
          int n = in.read(buf, 0, (int) Math.min(buf.length, left));
          if (n < 0) {
            throw new IOException("checkpoint file " + p + " shrank while streaming");
          }
          out.write(buf, 0, n);
          left -= n;
        }
      }
    }
    out.writeShort(0);
    out.flush();
    new DataOutputStream(nonClosing(sink)).writeInt((int) crc.getValue());
    sink.flush();
  }

  /**
   * Writes the files of a snapshot stream into {@code dir} (created, must not exist), each fsynced,
   * and checks the CRC; throws (leaving partial files for the caller to delete) on any mismatch.
   */
  static void read(InputStream source, Path dir) throws IOException {
    Files.createDirectories(dir);
    CRC32C crc = new CRC32C();
    DataInputStream in = new DataInputStream(new CheckedInputStream(source, crc));
    try {
      byte[] magic = new byte[MAGIC.length];
      in.readFully(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new IOException("not a Tern KV snapshot (bad magic)");
      }
      byte[] buf = new byte[BUFFER];
      while (true) {
        int nameLength = in.readUnsignedShort();
        if (nameLength == 0) {
          break;
        }
        byte[] nameBytes = new byte[nameLength];
        in.readFully(nameBytes);
        String name = new String(nameBytes, UTF_8);
        if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
          throw new IOException("bad file name in snapshot: '" + name + "'");
        }
        long size = in.readLong();
        if (size < 0) {
          throw new IOException("bad file size in snapshot: " + size);
        }
        Path file = dir.resolve(name);
        try (FileChannel ch =
            FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          long left = size;
          while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
              throw new EOFException("snapshot ends inside " + name);
            }
            ch.write(java.nio.ByteBuffer.wrap(buf, 0, n));
            left -= n;
          }
          ch.force(true);
        }
      }
      int expected = (int) crc.getValue();
      int stored = new DataInputStream(source).readInt();
      if (stored != expected) {
        throw new IOException(
            "snapshot CRC mismatch: stored "
                + Integer.toHexString(stored)
                + ", computed "
                + Integer.toHexString(expected));
      }
    } catch (EOFException e) {
      throw new IOException("truncated snapshot: " + e.getMessage(), e);
    }
    KvDatabase.fsyncDirectory(dir);
  }

  private static OutputStream nonClosing(OutputStream out) {
    return new java.io.FilterOutputStream(out) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() throws IOException {
        flush();
      }
    };
  }
}
