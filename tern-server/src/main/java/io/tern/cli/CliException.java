package io.tern.cli;

/**
 * A failure a client command reports as {@code Error: <message>} on standard error before exiting
 * with a nonzero code, the way etcdctl does.
 */
final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  CliException(String message) {
    super(message);
  }
}
