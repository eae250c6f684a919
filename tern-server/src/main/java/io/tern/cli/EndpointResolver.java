package io.tern.cli;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.StatusOr;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Resolves a target naming a fixed list of endpoints ({@code tern-endpoints:///h1:p1,h2:p2}) to
 * those addresses in order, so the channel's default pick-first policy connects to the first
 * endpoint that answers, as etcdctl does with {@code --endpoints}.
 */
final class EndpointResolver extends NameResolver {
  static final String SCHEME = "tern-endpoints";

  private final List<Endpoint> endpoints;

  private EndpointResolver(List<Endpoint> endpoints) {
    this.endpoints = endpoints;
  }

  /** The channel target for these endpoints; registers the resolver on first use. */
  static String target(List<Endpoint> endpoints) {
    Provider.registerOnce();
    StringBuilder path = new StringBuilder("/");
    for (Endpoint e : endpoints) {
      if (path.length() > 1) {
        path.append(',');
      }
      path.append(e.authority());
    }
    try {
      return new URI(SCHEME, "", path.toString(), null).toString();
    } catch (URISyntaxException e) {
      throw new CliException("bad endpoints " + endpoints + ": " + e.getMessage());
    }
  }

  @Override
  public String getServiceAuthority() {
    return endpoints.get(0).authority();
  }

  @Override
  public void start(Listener2 listener) {
    List<EquivalentAddressGroup> groups = new ArrayList<>();
    for (Endpoint e : endpoints) {
      groups.add(new EquivalentAddressGroup(e.address()));
    }
    listener.onResult(
        ResolutionResult.newBuilder().setAddressesOrError(StatusOr.fromValue(groups)).build());
  }

  @Override
  public void shutdown() {}

  /** Registered in the default registry with a priority below DNS, so it is never the default. */
  static final class Provider extends NameResolverProvider {
    private static boolean registered;

    static synchronized void registerOnce() {
      if (!registered) {
        NameResolverRegistry.getDefaultRegistry().register(new Provider());
        registered = true;
      }
    }

    @Override
    public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
      if (!SCHEME.equals(targetUri.getScheme())) {
        return null;
      }
      List<Endpoint> endpoints = new ArrayList<>();
      for (String part : targetUri.getPath().substring(1).split(",")) {
        endpoints.add(Endpoint.parse(part));
      }
      return new EndpointResolver(endpoints);
    }

    @Override
    public String getDefaultScheme() {
      return SCHEME;
    }

    @Override
    protected boolean isAvailable() {
      return true;
    }

    @Override
    protected int priority() {
      return 1;
    }

    @Override
    public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
      return List.of(java.net.InetSocketAddress.class);
    }
  }
}
