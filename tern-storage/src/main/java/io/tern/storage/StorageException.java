package io.tern.storage;

/**
 * Durable storage failed: an I/O error, a failed fsync, a full disk, or a store that is closed or
 * already failed. The store that threw it accepts nothing more; what was acknowledged before it is
 * durable, what was not may or may not be. The member should stop, and an operator look at the
 * disk.
 */
public class StorageException extends RuntimeException {
  public StorageException(String message) {
    super(message);
  }

  public StorageException(String message, Throwable cause) {
    super(message, cause);
  }
}
