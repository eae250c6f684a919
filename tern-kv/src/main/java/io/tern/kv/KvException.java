package io.tern.kv;

import java.util.Objects;

/**
 * A request the key-value store refuses, with the status code and message an etcd client expects
 * (the server maps {@link Code} to the gRPC status of the same name). A refused write has no
 * effect.
 */
public final class KvException extends Exception {
  private static final long serialVersionUID = 1L;

  /** The failure's class; the names are gRPC status codes. */
  public enum Code {
    INVALID_ARGUMENT,
    OUT_OF_RANGE,
    NOT_FOUND,
    FAILED_PRECONDITION,
    RESOURCE_EXHAUSTED,
    UNAVAILABLE,
    INTERNAL
  }

  public static final String KEY_NOT_PROVIDED = "etcdserver: key is not provided";
  public static final String COMPACTED = "mvcc: required revision has been compacted";
  public static final String FUTURE_REV = "mvcc: required revision is a future revision";
  public static final String LEASE_NOT_FOUND = "etcdserver: requested lease not found";
  public static final String LEASE_EXISTS = "etcdserver: lease already exists";
  public static final String NO_SPACE = "etcdserver: mvcc: database space exceeded";
  public static final String TOO_MANY_OPS = "etcdserver: too many operations in txn request";
  public static final String DUPLICATE_KEY = "etcdserver: duplicate key given in txn request";
  public static final String REQUEST_TOO_LARGE = "etcdserver: request is too large";
  public static final String KEY_NOT_FOUND = "etcdserver: key not found";
  public static final String VALUE_PROVIDED = "etcdserver: value is provided";
  public static final String LEASE_PROVIDED = "etcdserver: lease is provided";
  public static final String LEASE_TTL_TOO_LARGE = "etcdserver: too large lease TTL";
  public static final String MALFORMED_REQUEST = "etcdserver: malformed request";

  private final Code code;

  public KvException(Code code, String message) {
    super(message, null, false, false);
    this.code = Objects.requireNonNull(code, "code");
  }

  public Code code() {
    return code;
  }

  public static KvException invalid(String message) {
    return new KvException(Code.INVALID_ARGUMENT, message);
  }

  public static KvException compacted() {
    return new KvException(Code.OUT_OF_RANGE, COMPACTED);
  }

  public static KvException futureRevision() {
    return new KvException(Code.OUT_OF_RANGE, FUTURE_REV);
  }

  public static KvException leaseNotFound() {
    return new KvException(Code.NOT_FOUND, LEASE_NOT_FOUND);
  }

  public static KvException noSpace() {
    return new KvException(Code.RESOURCE_EXHAUSTED, NO_SPACE);
  }

  public static KvException keyNotProvided() {
    return invalid(KEY_NOT_PROVIDED);
  }

  public static KvException keyNotFound() {
    return invalid(KEY_NOT_FOUND);
  }

  public static KvException valueProvided() {
    return invalid(VALUE_PROVIDED);
  }

  public static KvException leaseProvided() {
    return invalid(LEASE_PROVIDED);
  }

  public static KvException tooManyOps() {
    return invalid(TOO_MANY_OPS);
  }

  public static KvException duplicateKey() {
    return invalid(DUPLICATE_KEY);
  }

  public static KvException requestTooLarge() {
    return invalid(REQUEST_TOO_LARGE);
  }

  public static KvException leaseExists() {
    return new KvException(Code.FAILED_PRECONDITION, LEASE_EXISTS);
  }

  public static KvException leaseTtlTooLarge() {
    return new KvException(Code.OUT_OF_RANGE, LEASE_TTL_TOO_LARGE);
  }

  /** A log entry that does not decode as a request (a bug of the proposer). */
  public static KvException malformed() {
    return new KvException(Code.INTERNAL, MALFORMED_REQUEST);
  }

  @Override
  public String toString() {
    return "KvException{" + code + ": " + getMessage() + "}";
  }
}
