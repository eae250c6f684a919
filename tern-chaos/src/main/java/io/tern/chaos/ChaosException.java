package io.tern.chaos;

/**
 * The harness itself could not do what a run needs (set up the network, start a member, reach the
 * cluster after healing). Distinct from a checker's verdict: a failed check is a finding about
 * Tern, this is a failure of the test bed.
 */
public final class ChaosException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ChaosException(String message) {
    super(message);
  }

  public ChaosException(String message, Throwable cause) {
    super(message, cause);
  }
}
