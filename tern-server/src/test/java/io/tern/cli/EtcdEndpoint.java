package io.tern.cli;

import java.util.List;

/**
 * A running 3-member cluster speaking the etcd v3 API that the client command tests talk to: Tern
 * members in this JVM by default, or etcd processes ({@code -Dtern.cli.target=etcd}), see {@link
 * CliClusterExtension}. One cluster serves every test class of a run, so a test that stops a member
 * starts it again before it ends.
 */
public interface EtcdEndpoint {
  /** The client endpoints ({@code host:port}) of the members, in member order. */
  List<String> endpointList();

  /** The client endpoints, comma-separated, as given to --endpoints. */
  default String endpoints() {
    return String.join(",", endpointList());
  }

  /** "tern" or "etcd", for messages. */
  String description();

  /** Stops member {@code i}; its endpoint refuses connections until {@link #restart}. */
  void stop(int i) throws Exception;

  /** Starts the stopped member {@code i} again on its data; returns once it knows the leader. */
  void restart(int i) throws Exception;

  /** A loopback peer URL ({@code http://127.0.0.1:port}) nothing listens on yet. */
  String newPeerUrl() throws Exception;

  /**
   * Starts a member that joins the running cluster (initial cluster state "existing"), after the
   * caller added it under {@code peerUrl} with {@code member add}, which printed {@code
   * initialCluster}. Returns once the member runs; it may still be catching up.
   */
  Joined join(String name, String peerUrl, String initialCluster) throws Exception;

  /** A member started by {@link #join}; closing stops it. */
  interface Joined extends AutoCloseable {
    /** Its client endpoint ({@code host:port}). */
    String endpoint();

    @Override
    void close();
  }
}
