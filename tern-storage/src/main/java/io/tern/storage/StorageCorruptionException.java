package io.tern.storage;

/**
 * Data that was made durable does not read back as written: a checksum mismatch, a malformed
 * record, a gap in the log, or a hard state that points past the log. The store refuses to start
 * rather than guess (silently dropping synced entries or votes could break Raft's safety). The
 * message names the key, index or file and what is wrong.
 */
public class StorageCorruptionException extends StorageException {
  public StorageCorruptionException(String message) {
    super(message);
  }

  public StorageCorruptionException(String message, Throwable cause) {
    super(message, cause);
  }
}
