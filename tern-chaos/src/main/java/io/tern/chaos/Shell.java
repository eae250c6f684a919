package io.tern.chaos;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs short system commands ({@code ip}, {@code kill}) and reports their exit status. */
final class Shell {
  private static final Logger LOG = LoggerFactory.getLogger(Shell.class);

  private Shell() {}

  /** The outcome of one command. */
  record Result(int exit, String output) {
    boolean ok() {
      return exit == 0;
    }
  }

  /** Runs {@code cmd}, waiting at most 30 s; never throws for a non-zero exit. */
  static Result run(String... cmd) {
    return run(List.of(cmd));
  }

  static Result run(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(-1, "timed out: " + cmd);
      }
      return new Result(p.exitValue(), new String(out, UTF_8).strip());
    } catch (IOException e) {
      return new Result(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, "interrupted: " + cmd);
    }
  }

  /** Runs {@code cmd} and throws {@link ChaosException} if it fails. */
  static String check(String... cmd) {
    Result r = run(cmd);
    if (!r.ok()) {
      throw new ChaosException(
          "command failed (exit " + r.exit() + "): " + String.join(" ", cmd) + ": " + r.output());
    }
    return r.output();
  }

  /** Runs {@code cmd}, logging (not throwing) a failure: for cleanup paths. */
  static void quiet(String... cmd) {
    Result r = run(cmd);
    if (!r.ok()) {
      LOG.debug("ignored failure of {}: {}", String.join(" ", cmd), r.output());
    }
  }

  /** Whether {@code cmd} exists and exits 0. */
  static boolean works(String... cmd) {
    return run(new ArrayList<>(List.of(cmd))).ok();
  }
}
