package io.tern.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.tern.api.Event;
import io.tern.api.WatchCreateRequest;
import io.tern.api.WatchRequest;
import io.tern.api.WatchResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "watch",
    description = {
      "Prints the events on a key, a range [key, range_end) or a prefix until interrupted.",
      "If the connection is lost the watch resumes, on any endpoint, after the last revision seen."
    })
final class WatchCommand extends ClientCommand {
  /** Exit code after an interrupt, as a shell reports a process ended by SIGINT. */
  static final int EXIT_INTERRUPTED = 130;

  private static final Object END = new Object();

  private static final String NO_LEADER = "etcdserver: no leader";

  @Parameters(arity = "1..2", paramLabel = "<key> [range_end]")
  List<String> args;

  /** Whether any stream of this invocation got a response. */
  private boolean connected;

  @Option(names = "--prefix", description = "Watch every key with this prefix.")
  boolean prefix;

  @Option(names = "--rev", description = "Revision to start watching from (default: now).")
  long rev;

  @Option(names = "--prev-kv", description = "Also print each key's previous value.")
  boolean prevKv;

  @Option(names = "--progress-notify", description = "Ask for periodic progress notifications.")
  boolean progressNotify;

  @Override
  int run(Connection c) {
    if (args.size() > 1 && prefix) {
      throw new CliException("`range_end` and `--prefix` are mutually exclusive");
    }
    Keys.Range range = Keys.range(args.get(0), args.size() > 1 ? args.get(1) : null, prefix, false);
    long next = rev;
    long backoffMillis = 100;
    try {
      while (true) {
        Stream stream = new Stream();
        WatchCreateRequest create =
            WatchCreateRequest.newBuilder()
                .setKey(range.key())
                .setRangeEnd(range.end())
                .setStartRevision(next)
                .setPrevKv(prevKv)
                .setProgressNotify(progressNotify)
                .build();
        c.watch().watch(stream);
        stream.requests.onNext(WatchRequest.newBuilder().setCreateRequest(create).build());
        try {
          next = stream.print(next);
          // print() returns only when the connection was lost: resume after what was seen.
          TimeUnit.MILLISECONDS.sleep(backoffMillis);
          backoffMillis = Math.min(backoffMillis * 2, 2000);
        } finally {
          stream.requests.cancel("watch command finished", null);
        }
      }
    } catch (InterruptedException e) {
      return EXIT_INTERRUPTED;
    }
  }

  /** One watch stream; its responses are handed to the command's thread through a queue. */
  private final class Stream implements ClientResponseObserver<WatchRequest, WatchResponse> {
    private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    ClientCallStreamObserver<WatchRequest> requests;

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchRequest> requestStream) {
      this.requests = requestStream;
    }

    @Override
    public void onNext(WatchResponse r) {
      queue.add(r);
    }

    @Override
    public void onError(Throwable t) {
      queue.add(t);
    }

    @Override
    public void onCompleted() {
      queue.add(END);
    }

    /**
     * Prints responses until the stream breaks; returns the revision to resume from. Throws if the
     * server canceled the watch or refused it.
     */
    long print(long startRevision) throws InterruptedException {
      long next = startRevision;
      while (true) {
        Object o = queue.take();
        if (o == END) {
          throw new CliException("watch is canceled by the server");
        }
        if (o instanceof Throwable t) {
          Status s = Status.fromThrowable(t);
          // Resume only a watch that worked: one that never connected fails like a request.
          if (connected && s.getCode() == Status.Code.UNAVAILABLE && !isServerRefusal(s)) {
            return next;
          }
          throw new StatusRuntimeException(s);
        }
        WatchResponse r = (WatchResponse) o;
        connected = true;
        if (r.getCanceled()) {
          err().print("watch was canceled (" + cancelReason(r) + ")\n");
          throw new CliException("watch is canceled by the server");
        }
        if (r.getCreated()) {
          if (next == 0) {
            next = r.getHeader().getRevision() + 1;
          }
          if (r.getEventsCount() == 0) {
            continue;
          }
        }
        display(r);
        if (r.getEventsCount() > 0) {
          next = r.getEvents(r.getEventsCount() - 1).getKv().getModRevision() + 1;
        } else if (r.getHeader().getRevision() >= next) {
          next = r.getHeader().getRevision() + 1;
        }
      }
    }
  }

  /**
   * "etcdserver: no leader" (the member lost its leader, and the watch asked to be refused then) is
   * final, as in etcdctl. Every other UNAVAILABLE, the transport's or the server's own (e.g.
   * "etcdserver: server stopped" from a member shutting down), means "try another member".
   */
  private static boolean isServerRefusal(Status s) {
    return s.getCause() == null && NO_LEADER.equals(s.getDescription());
  }

  private static String cancelReason(WatchResponse r) {
    if (r.getCompactRevision() != 0) {
      return "etcdserver: mvcc: required revision has been compacted";
    }
    return r.getCancelReason();
  }

  private void display(WatchResponse r) {
    Printer p = printer();
    boolean progress = r.getEventsCount() == 0 && r.getCompactRevision() == 0;
    if (progress) {
      p.line("progress notify: " + r.getHeader().getRevision());
    }
    if (options.json()) {
      List<String> events = new ArrayList<>();
      for (Event e : r.getEventsList()) {
        events.add(Json.of(e));
      }
      p.line(
          Json.object()
              .message("Header", r.getHeader())
              .raw("Events", Json.array(events.isEmpty() ? null : events))
              .num("CompactRevision", r.getCompactRevision())
              .bool("Canceled", r.getCanceled())
              .bool("Created", r.getCreated())
              .build());
    } else {
      for (Event e : r.getEventsList()) {
        p.line(e.getType() == Event.EventType.UNRECOGNIZED ? "UNKNOWN" : e.getType().name());
        if (e.hasPrevKv()) {
          p.kv(e.getPrevKv(), false);
        }
        p.kv(e.getKv(), false);
      }
    }
    out().flush();
  }
}
