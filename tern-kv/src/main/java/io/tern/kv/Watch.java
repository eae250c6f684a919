package io.tern.kv;

/** A registered watch, returned by {@link WatchHub#watch}. Both methods are thread-safe. */
public interface Watch {

  /**
   * Stops the watch. Once this returns no listener call starts; a call already under way (on
   * another thread) may still finish. Idempotent; {@link WatchListener#onCanceled} is not called.
   */
  void cancel();

  /**
   * Asks for a {@link WatchListener#onProgress} call, delivered after the events it covers. A watch
   * that is live reports the hub's published revision at the time of the request; a watch still
   * replaying history reports the last revision it has replayed (its position minus one), as soon
   * as the current replay chunk is delivered, rather than waiting for it to catch up. Requests made
   * before an earlier one was answered may be answered together.
   */
  void requestProgress();
}
