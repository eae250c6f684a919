package io.tern.embed;

/**
 * A {@link RaftServer} cannot start or has stopped: the data directory cannot be opened or is
 * corrupt ({@link #getCause()} is then an {@link io.tern.storage.StorageException} or its {@link
 * io.tern.storage.StorageCorruptionException} subclass), the peer address cannot be bound ({@link
 * io.tern.transport.TransportException}), the durable state cannot be recovered, or the server was
 * closed. The message names the member and what went wrong.
 */
public class RaftServerException extends RuntimeException {
  public RaftServerException(String message) {
    super(message);
  }

  public RaftServerException(String message, Throwable cause) {
    super(message, cause);
  }
}
