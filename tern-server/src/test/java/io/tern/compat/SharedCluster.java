package io.tern.compat;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit extension giving test classes one cluster started with default options, shared by every
 * class of the run (starting three processes per class would dominate the suite's time) and stopped
 * when the run ends. Tests keep to their own keys ({@link CompatSession#unique}) and leave
 * membership and leadership valid for the next class.
 *
 * <pre>
 * &#64;RegisterExtension static final SharedCluster CLUSTER = new SharedCluster();
 * </pre>
 */
final class SharedCluster implements BeforeAllCallback {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(SharedCluster.class);

  private volatile CompatSession session;

  @Override
  public void beforeAll(ExtensionContext context) {
    session =
        context
            .getRoot()
            .getStore(NAMESPACE)
            .getOrComputeIfAbsent(CompatSession.class, key -> start(), CompatSession.class);
  }

  CompatSession get() {
    if (session == null) {
      throw new IllegalStateException("SharedCluster must be registered as a static extension");
    }
    return session;
  }

  private static CompatSession start() {
    try {
      return CompatSession.start(ClusterFixture.Options.defaults());
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("could not start the cluster", e);
    }
  }
}
