package io.tern.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Command line for the simulator.
 *
 * <pre>
 *   soak COUNT [--from SEED] [--threads N]   run COUNT seeds in parallel, report failures
 *   replay SEED [--trace]                    run one seed, print its result (and trace tail)
 * </pre>
 */
public final class Soak {
  private Soak() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      usage();
      return;
    }
    switch (args[0]) {
      case "soak" -> soak(args);
      case "replay" -> replay(args);
      default -> usage();
    }
  }

  private static void usage() {
    System.err.println("usage: sim soak COUNT [--from SEED] [--threads N]");
    System.err.println("       sim replay SEED [--trace]");
    System.exit(2);
  }

  private static void replay(String[] args) {
    long seed = Long.parseLong(args[1]);
    boolean trace = args.length > 2 && args[2].equals("--trace");
    SeedRun.Result r = SeedRun.run(seed, trace);
    if (trace) {
      System.out.println(r.traceTail());
    }
    System.out.println(r);
    System.out.printf(
        "simulated %.1f s, %d events, %d operations, %d acknowledged, trace hash %016x%n",
        r.simNanos() / 1e9, r.events(), r.operations(), r.acknowledged(), r.traceHash());
    System.exit(r.ok() ? 0 : 1);
  }

  private static void soak(String[] args) throws Exception {
    long count = Long.parseLong(args[1]);
    long from = 1;
    int threads = Runtime.getRuntime().availableProcessors();
    for (int i = 2; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--from" -> from = Long.parseLong(args[i + 1]);
        case "--threads" -> threads = Integer.parseInt(args[i + 1]);
        default -> usage();
      }
    }
    long start = System.nanoTime();
    AtomicLong done = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicLong simNanos = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<?>> futures = new ArrayList<>();
    long first = from;
    for (int t = 0; t < threads; t++) {
      int worker = t;
      int workers = threads;
      futures.add(
          pool.submit(
              () -> {
                for (long s = first + worker; s < first + count; s += workers) {
                  SeedRun.Result r = SeedRun.run(s);
                  simNanos.addAndGet(r.simNanos());
                  if (!r.ok()) {
                    failed.incrementAndGet();
                    System.out.println(r);
                  }
                  long n = done.incrementAndGet();
                  if (n % 1000 == 0) {
                    System.out.printf(
                        "%d seeds, %d failed, %.0f s%n",
                        n, failed.get(), (System.nanoTime() - start) / 1e9);
                  }
                }
              }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    pool.shutdown();
    double wall = (System.nanoTime() - start) / 1e9;
    System.out.printf(
        "soak: %d seeds from %d, %d failed, %.1f s wall, %.0f simulated s%n",
        done.get(), from, failed.get(), wall, simNanos.get() / 1e9);
    System.exit(failed.get() == 0 ? 0 : 1);
  }
}
