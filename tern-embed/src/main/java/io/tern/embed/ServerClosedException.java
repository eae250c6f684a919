package io.tern.embed;

/** The request reached a {@link RaftServer} after {@link RaftServer#close()}: it had no effect. */
public final class ServerClosedException extends RaftServerException {
  public ServerClosedException(long memberId) {
    super("Raft server of member " + memberId + " is closed");
  }
}
