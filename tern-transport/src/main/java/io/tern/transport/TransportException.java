package io.tern.transport;

/** The transport could not do what it was asked, for a reason outside the caller's control. */
public class TransportException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TransportException(String message, Throwable cause) {
    super(message, cause);
  }
}
