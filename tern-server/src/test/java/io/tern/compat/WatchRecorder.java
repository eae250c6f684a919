package io.tern.compat;

import io.etcd.jetcd.Watch;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/** Records what jetcd's high-level watch delivers, for polling with deadlines. */
final class WatchRecorder implements Watch.Listener {
  private final List<WatchResponse> responses = new ArrayList<>();
  private final List<Throwable> errors = new ArrayList<>();

  @Override
  public synchronized void onNext(WatchResponse response) {
    responses.add(response);
  }

  @Override
  public synchronized void onError(Throwable throwable) {
    errors.add(throwable);
  }

  @Override
  public void onCompleted() {}

  synchronized List<WatchResponse> responses() {
    return List.copyOf(responses);
  }

  synchronized List<WatchEvent> events() {
    List<WatchEvent> events = new ArrayList<>();
    responses.forEach(r -> events.addAll(r.getEvents()));
    return events;
  }

  synchronized List<Throwable> errors() {
    return List.copyOf(errors);
  }

  /** Waits for the "created" notification (the watch needs {@code withCreateNotify(true)}). */
  WatchRecorder awaitCreated() {
    awaitResponse("watch created", WatchResponse::isCreatedNotify);
    return this;
  }

  WatchResponse awaitResponse(String what, Predicate<WatchResponse> match) {
    return Await.poll(
            what,
            Duration.ofSeconds(10),
            () -> responses().stream().filter(match).findFirst(),
            Optional::isPresent)
        .orElseThrow();
  }

  /** Waits until at least {@code n} events arrived and returns all events received by then. */
  List<WatchEvent> awaitEvents(int n) {
    return Await.poll(
        n + " watch events", Duration.ofSeconds(10), this::events, e -> e.size() >= n);
  }

  Throwable awaitError() {
    return Await.poll("a watch error", Duration.ofSeconds(10), this::errors, e -> !e.isEmpty())
        .get(0);
  }
}
