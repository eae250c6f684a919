package io.tern.cli;

import java.net.InetSocketAddress;

/**
 * One client endpoint as given to {@code --endpoints} or found in a member's client URLs:
 * "host:port", "http://host:port" or "[::1]:port".
 *
 * @param text the endpoint as the user wrote it (printed back in endpoint reports)
 */
record Endpoint(String text, String host, int port) {
  static final int DEFAULT_PORT = 2379;

  static Endpoint parse(String text) {
    String s = text.strip();
    if (s.startsWith("https://") || s.startsWith("unixs://")) {
      throw new CliException("TLS endpoints are not supported: " + text);
    }
    if (s.startsWith("unix://") || s.startsWith("unix:")) {
      throw new CliException("unix socket endpoints are not supported: " + text);
    }
    if (s.startsWith("http://")) {
      s = s.substring("http://".length());
    }
    int slash = s.indexOf('/');
    if (slash >= 0) {
      s = s.substring(0, slash);
    }
    String host;
    String port;
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0) {
        throw new CliException("bad endpoint " + text);
      }
      host = s.substring(1, close);
      port = s.length() > close + 1 && s.charAt(close + 1) == ':' ? s.substring(close + 2) : "";
    } else {
      int colon = s.lastIndexOf(':');
      host = colon < 0 ? s : s.substring(0, colon);
      port = colon < 0 ? "" : s.substring(colon + 1);
    }
    if (host.isEmpty()) {
      throw new CliException("bad endpoint " + text);
    }
    try {
      int p = port.isEmpty() ? DEFAULT_PORT : Integer.parseInt(port);
      if (p <= 0 || p > 65535) {
        throw new NumberFormatException();
      }
      return new Endpoint(text.strip(), host, p);
    } catch (NumberFormatException e) {
      throw new CliException("bad endpoint " + text + " (invalid port)");
    }
  }

  InetSocketAddress address() {
    return new InetSocketAddress(host, port);
  }

  /** The "host:port" form used inside the channel target. */
  String authority() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
