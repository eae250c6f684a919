package io.tern.server;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An {@code http://host:port} URL as etcd's flags take them. TLS is not supported, so {@code https}
 * is refused with an error saying so.
 */
public record PeerUrl(String host, int port) {

  public PeerUrl {
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("a URL needs a host");
    }
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
  }

  /**
   * Parses one URL.
   *
   * @param what the flag it came from, for error messages
   * @throws IllegalArgumentException naming the flag if the URL is malformed, not http, or lacks a
   *     port
   */
  public static PeerUrl parse(String what, String text) {
    String s = text.strip();
    URI uri;
    try {
      uri = new URI(s);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(what + ": malformed URL '" + s + "': " + e.getMessage());
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (scheme.equals("https") || scheme.equals("unixs")) {
      throw new IllegalArgumentException(
          what + ": '" + s + "' asks for TLS, which Tern does not support; use an http:// URL");
    }
    if (!scheme.equals("http")) {
      throw new IllegalArgumentException(
          what + ": '" + s + "' must be an http:// URL (host and port)");
    }
    if (uri.getHost() == null || uri.getPort() < 0) {
      throw new IllegalArgumentException(what + ": '" + s + "' must name a host and a port");
    }
    String path = uri.getRawPath();
    if ((path != null && !path.isEmpty() && !path.equals("/"))
        || uri.getRawQuery() != null
        || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(
          what + ": '" + s + "' must be just http://host:port (no path, query or fragment)");
    }
    String host = uri.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new PeerUrl(host, uri.getPort());
  }

  /** Parses a comma-separated list; at least one URL. */
  public static List<PeerUrl> parseList(String what, String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException(what + " must name at least one URL");
    }
    List<PeerUrl> urls = new ArrayList<>();
    for (String part : text.split(",")) {
      if (!part.isBlank()) {
        urls.add(parse(what, part));
      }
    }
    if (urls.isEmpty()) {
      throw new IllegalArgumentException(what + " must name at least one URL");
    }
    return List.copyOf(urls);
  }

  /** The address to bind or connect to (resolved now). */
  public InetSocketAddress address() {
    return new InetSocketAddress(host, port);
  }

  /** Whether the host is a wildcard address, which others cannot connect to. */
  public boolean isWildcard() {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0");
  }

  /** The same URL with a wildcard host replaced by {@code localhost}. */
  public PeerUrl reachable() {
    return isWildcard() ? new PeerUrl("localhost", port) : this;
  }

  /** {@code host:port}, bracketing IPv6 literals, as a gRPC target. */
  public String authority() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  @Override
  public String toString() {
    return "http://" + authority();
  }

  public static String join(List<PeerUrl> urls) {
    return String.join(",", urls.stream().map(PeerUrl::toString).toList());
  }
}
