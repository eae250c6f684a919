package io.tern.bench;

/** One member's client address, given as "host:port" or "http://host:port". */
public record BenchEndpoint(String host, int port) {
  public BenchEndpoint {
    if (host.isEmpty()) {
      throw new IllegalArgumentException("empty endpoint host");
    }
    if (port <= 0 || port > 65535) {
      throw new IllegalArgumentException("endpoint port out of range: " + port);
    }
  }

  public static BenchEndpoint parse(String text) {
    String s = text.strip();
    if (s.startsWith("https://")) {
      throw new IllegalArgumentException("TLS endpoints are not supported: " + text);
    }
    if (s.startsWith("http://")) {
      s = s.substring("http://".length());
    }
    if (s.endsWith("/")) {
      s = s.substring(0, s.length() - 1);
    }
    String host;
    String port;
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0 || s.length() < close + 3 || s.charAt(close + 1) != ':') {
        throw new IllegalArgumentException("bad endpoint \"" + text + "\" (want host:port)");
      }
      host = s.substring(1, close);
      port = s.substring(close + 2);
    } else {
      int colon = s.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("bad endpoint \"" + text + "\" (want host:port)");
      }
      host = s.substring(0, colon);
      port = s.substring(colon + 1);
    }
    try {
      return new BenchEndpoint(host, Integer.parseInt(port));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad endpoint \"" + text + "\" (invalid port)");
    }
  }

  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
