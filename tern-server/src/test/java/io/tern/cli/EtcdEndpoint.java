package io.tern.cli;

/** A running cluster speaking the etcd v3 API that the client command tests talk to. */
public interface EtcdEndpoint {
  /** The client endpoints, comma-separated, as given to --endpoints. */
  String endpoints();
}
