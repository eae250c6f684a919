package io.tern.bench.compare;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code --name value} command-line arguments; repeated names accumulate (see {@link #all}). */
public final class Args {
  private final Map<String, List<String>> values = new HashMap<>();

  public Args(String[] argv) {
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      if (!a.startsWith("--") || i + 1 >= argv.length) {
        throw new IllegalArgumentException("expected --name value, got: " + a);
      }
      values.computeIfAbsent(a.substring(2), k -> new ArrayList<>()).add(argv[++i]);
    }
  }

  public String get(String name) {
    List<String> v = values.get(name);
    if (v == null) {
      throw new IllegalArgumentException("missing --" + name);
    }
    return v.get(v.size() - 1);
  }

  public String get(String name, String dflt) {
    List<String> v = values.get(name);
    return v == null ? dflt : v.get(v.size() - 1);
  }

  public int getInt(String name, int dflt) {
    return Integer.parseInt(get(name, Integer.toString(dflt)));
  }

  public long getLong(String name) {
    return Long.parseLong(get(name));
  }

  public List<String> all(String name) {
    return values.getOrDefault(name, List.of());
  }

  /** Parses {@code 1=127.0.0.1:7001,2=127.0.0.1:7002}, in the order given. */
  public static Map<Long, InetSocketAddress> members(String spec) {
    Map<Long, InetSocketAddress> out = new LinkedHashMap<>();
    for (String part : spec.split(",")) {
      String[] kv = part.trim().split("=", 2);
      out.put(Long.parseLong(kv[0]), address(kv[1]));
    }
    return out;
  }

  /** Parses {@code host:port}. */
  public static InetSocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    return new InetSocketAddress(
        hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
  }
}
