package io.tern.cli;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives a test class an {@link EtcdEndpoint} (as a constructor or method parameter): the cluster
 * {@link CliClusterExtension} chose.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(CliClusterExtension.class)
public @interface WithEtcdEndpoint {}
