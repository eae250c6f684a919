package io.tern.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command that talks to the cluster. It opens one {@link Connection} for the invocation and turns
 * failures into etcdctl's {@code Error: <message>} on standard error with exit code 1.
 */
abstract class ClientCommand implements Callable<Integer> {
  static final int EXIT_ERROR = 1;

  @Mixin ClientOptions options;

  @Spec CommandSpec spec;

  /** Standard input; replaced in tests through {@link ClientCommands#setInput}. */
  InputStream in = System.in;

  /** Runs the command; returns the exit code (0 on success). */
  abstract int run(Connection connection) throws Exception;

  @Override
  public final Integer call() {
    try (Connection connection = Connection.of(options)) {
      return run(connection);
    } catch (StatusRuntimeException e) {
      return fail(describe(e.getStatus()));
    } catch (CliException e) {
      return fail(e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fail("interrupted");
    } catch (Exception e) {
      return fail(e.toString());
    } finally {
      out().flush();
    }
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  Printer printer() {
    return new Printer(out(), options.hex);
  }

  int fail(String message) {
    out().flush();
    err().print("Error: " + message + "\n");
    err().flush();
    return EXIT_ERROR;
  }

  /**
   * The message etcdctl would print for a failed request: the server's description (e.g.
   * "etcdserver: key is not provided"), "context deadline exceeded" when the command timeout
   * expired, or the transport's reason when no endpoint could be reached.
   */
  static String describe(Status status) {
    String desc = status.getDescription();
    if (status.getCode() == Status.Code.DEADLINE_EXCEEDED
        && (desc == null || !desc.startsWith("etcdserver:"))) {
      return "context deadline exceeded";
    }
    if (status.getCode() == Status.Code.UNAVAILABLE && status.getCause() != null) {
      Throwable cause = status.getCause();
      String reason = cause.getMessage() == null ? cause.toString() : cause.getMessage();
      return (desc == null ? "unavailable" : desc) + ": " + reason;
    }
    if (desc == null || desc.isEmpty()) {
      return "rpc error: code = " + status.getCode();
    }
    return desc;
  }
}
