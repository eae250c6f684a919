package io.tern.kv;

import io.tern.api.Event;
import java.util.List;

/**
 * Receives one watch's events. For one watch the calls never overlap and come in revision order;
 * they run on the {@link WatchHub}'s executor, so they must not block (hand the data to a network
 * stream's own buffer and return).
 */
public interface WatchListener {

  /**
   * Every matching event of {@code revision} (at least one), in the order the revision applied
   * them. Revisions arrive strictly increasing, each exactly once.
   */
  void onEvents(long revision, List<Event> events);

  /**
   * Answers {@link Watch#requestProgress()}: every matching event with a revision {@code <=
   * revision} has been passed to {@link #onEvents}. Progress revisions never decrease and are never
   * below an event revision already delivered.
   */
  void onProgress(long revision);

  /**
   * The watch ended by the hub; no call follows. {@code reason} is {@link KvException#COMPACTED}
   * (with the store's compact revision) when the revisions the watch still needs were compacted
   * away, {@code "closed"} (with 0) when the hub closed, or a description of an internal failure
   * (with 0). Not called after {@link Watch#cancel()}.
   */
  void onCanceled(long compactRevision, String reason);
}
