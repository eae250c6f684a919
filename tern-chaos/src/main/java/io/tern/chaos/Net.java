package io.tern.chaos;

import java.util.List;
import java.util.Map;

/**
 * The network the members run on, and the faults it can inject on the links between them. Members
 * are numbered 0..n-1. Clients (the harness) always reach every member: faults only cut member to
 * member traffic, as in a partition between data centres that clients straddle.
 */
interface Net extends AutoCloseable {
  /** "netns" or "proxy". */
  String kind();

  /** Host and port clients use to reach member {@code i}. */
  String clientHost(int i);

  int clientPort(int i);

  /** etcd's --listen-client-urls / --advertise-client-urls of member {@code i}. */
  String clientUrl(int i);

  /** The URL member {@code i} listens on for peers, in its incarnation {@code incarnation}. */
  String listenPeerUrl(int i, int incarnation);

  /** The URL the other members use to reach member {@code i} in incarnation {@code incarnation}. */
  String advertisePeerUrl(int i, int incarnation);

  /** Command words to put before {@code java ...} to start member {@code i} (may be empty). */
  List<String> commandPrefix(int i);

  /** Extra JVM options for member {@code i}. */
  List<String> jvmOptions(int i);

  /** Environment additions for member {@code i}'s process. */
  Map<String, String> environment(int i);

  /** Drops every packet member {@code from} sends to member {@code to} (one direction). */
  void cut(int from, int to);

  /** Restores every link. */
  void healAll();

  /** Removes everything this network created. Idempotent; never throws. */
  @Override
  void close();
}
