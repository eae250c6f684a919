package io.tern.cli;

import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Option;

/** The flags every client command accepts, named like etcdctl's global flags. */
public final class ClientOptions {
  /** How a command prints its result. */
  public enum Format {
    SIMPLE,
    JSON
  }

  @Option(
      names = "--endpoints",
      split = ",",
      paramLabel = "<host:port>",
      defaultValue = "127.0.0.1:2379",
      description = "Comma-separated gRPC endpoints, tried in order (default: ${DEFAULT-VALUE}).")
  List<String> endpoints;

  @Option(
      names = "--dial-timeout",
      defaultValue = "2s",
      converter = GoDuration.Converter.class,
      description = "How long to wait for a connection (default: ${DEFAULT-VALUE}).")
  Duration dialTimeout;

  @Option(
      names = "--command-timeout",
      defaultValue = "5s",
      converter = GoDuration.Converter.class,
      description = "Deadline of each request, excluding the dial (default: ${DEFAULT-VALUE}).")
  Duration commandTimeout;

  @Option(
      names = {"-w", "--write-out"},
      defaultValue = "simple",
      converter = FormatConverter.class,
      description = "Output format: simple or json (default: ${DEFAULT-VALUE}).")
  Format format;

  @Option(names = "--hex", description = "Print keys and values as hex-escaped bytes.")
  boolean hex;

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Show this help message and exit.")
  boolean help;

  public List<String> endpoints() {
    return endpoints;
  }

  public Duration dialTimeout() {
    return dialTimeout;
  }

  public Duration commandTimeout() {
    return commandTimeout;
  }

  public Format format() {
    return format;
  }

  public boolean json() {
    return format == Format.JSON;
  }

  static final class FormatConverter implements picocli.CommandLine.ITypeConverter<Format> {
    @Override
    public Format convert(String value) {
      return switch (value) {
        case "simple" -> Format.SIMPLE;
        case "json" -> Format.JSON;
        default ->
            throw new picocli.CommandLine.TypeConversionException(
                "unsupported output format \"" + value + "\" (simple or json)");
      };
    }
  }
}
