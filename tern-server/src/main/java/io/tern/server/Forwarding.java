package io.tern.server;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Marks requests one member forwarded to the leader, so a member that lost leadership meanwhile
 * answers instead of forwarding again (no forwarding loops).
 */
final class Forwarding {
  static final Metadata.Key<String> HEADER =
      Metadata.Key.of("tern-forwarded-by", Metadata.ASCII_STRING_MARSHALLER);
  static final Context.Key<Boolean> FORWARDED = Context.key("tern-forwarded");

  static final ServerInterceptor INTERCEPTOR =
      new ServerInterceptor() {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
          if (headers.containsKey(HEADER)) {
            return Contexts.interceptCall(
                Context.current().withValue(FORWARDED, Boolean.TRUE), call, headers, next);
          }
          return next.startCall(call, headers);
        }
      };

  private Forwarding() {}

  /** Whether the current call was forwarded by another member. */
  static boolean forwarded() {
    return Boolean.TRUE.equals(FORWARDED.get());
  }
}
