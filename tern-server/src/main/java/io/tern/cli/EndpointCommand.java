package io.tern.cli;

import io.grpc.StatusRuntimeException;
import io.tern.api.AlarmMember;
import io.tern.api.AlarmRequest;
import io.tern.api.AlarmResponse;
import io.tern.api.HashKVRequest;
import io.tern.api.HashKVResponse;
import io.tern.api.Member;
import io.tern.api.MemberListRequest;
import io.tern.api.RangeRequest;
import io.tern.api.StatusRequest;
import io.tern.api.StatusResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code endpoint status|health|hashkv}: one request to each endpoint of --endpoints, or with
 * --cluster to every client URL of the member list.
 */
@Command(
    name = "endpoint",
    description = "Endpoint related commands.",
    subcommands = {
      EndpointCommand.Health.class,
      EndpointCommand.Status.class,
      EndpointCommand.HashKv.class
    })
final class EndpointCommand extends GroupCommand {

  /** The endpoints to address: --endpoints, or every member's client URLs. */
  static List<Endpoint> targets(Connection c, boolean cluster) {
    if (!cluster) {
      return c.endpoints();
    }
    List<Member> members;
    try {
      members = c.cluster().memberList(MemberListRequest.getDefaultInstance()).getMembersList();
    } catch (StatusRuntimeException e) {
      throw new CliException(
          "failed to fetch endpoints from etcd cluster member list: "
              + ClientCommand.describe(e.getStatus()));
    }
    List<Endpoint> eps = new ArrayList<>();
    for (Member m : members) {
      for (String url : m.getClientURLsList()) {
        eps.add(Endpoint.parse(url));
      }
    }
    return eps;
  }

  /** The status of one endpoint, or why it could not be had. */
  record EndpointStatus(Endpoint endpoint, StatusResponse status, String error) {}

  /** Every endpoint's status, asked concurrently, in endpoint order. */
  static List<EndpointStatus> statuses(Connection c, List<Endpoint> eps) {
    List<CompletableFuture<EndpointStatus>> futures = new ArrayList<>();
    for (Endpoint ep : eps) {
      futures.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return new EndpointStatus(
                      ep, c.maintenance(ep).status(StatusRequest.getDefaultInstance()), null);
                } catch (StatusRuntimeException e) {
                  return new EndpointStatus(ep, null, ClientCommand.describe(e.getStatus()));
                }
              }));
    }
    return futures.stream().map(CompletableFuture::join).toList();
  }

  @Command(
      name = "status",
      description = {
        "Prints the status of each endpoint: endpoint, ID, version, db size, is leader,",
        "is learner, raft term, raft index, raft applied index, errors."
      })
  static final class Status extends ClientCommand {
    @Option(names = "--cluster", description = "Use every endpoint of the cluster member list.")
    boolean cluster;

    @Override
    int run(Connection c) {
      List<String> rows = new ArrayList<>();
      boolean failed = false;
      for (EndpointStatus s : statuses(c, targets(c, cluster))) {
        if (s.status() == null) {
          err()
              .print(
                  "Failed to get the status of endpoint "
                      + s.endpoint().text()
                      + " ("
                      + s.error()
                      + ")\n");
          failed = true;
          continue;
        }
        rows.add(options.json() ? json(s) : row(s));
      }
      if (options.json()) {
        printer().line(Json.array(rows));
      } else {
        rows.forEach(printer()::line);
      }
      err().flush();
      return failed ? EXIT_ERROR : 0;
    }

    private static String json(EndpointStatus s) {
      return Json.object()
          .str("Endpoint", s.endpoint().text())
          .message("Status", s.status())
          .build();
    }

    private static String row(EndpointStatus s) {
      StatusResponse r = s.status();
      return String.join(
          ", ",
          s.endpoint().text(),
          Printer.memberId(r.getHeader().getMemberId()),
          r.getVersion(),
          Printer.humanBytes(r.getDbSize()),
          Boolean.toString(r.getLeader() == r.getHeader().getMemberId()),
          Boolean.toString(r.getIsLearner()),
          Long.toUnsignedString(r.getRaftTerm()),
          Long.toUnsignedString(r.getRaftIndex()),
          Long.toUnsignedString(r.getRaftAppliedIndex()),
          String.join(", ", r.getErrorsList()));
    }
  }

  @Command(
      name = "health",
      description = "Checks that each endpoint serves a linearizable read and has no alarm.")
  static final class Health extends ClientCommand {
    @Option(names = "--cluster", description = "Use every endpoint of the cluster member list.")
    boolean cluster;

    record Result(Endpoint endpoint, Duration took, String error) {}

    @Override
    int run(Connection c) {
      List<CompletableFuture<Result>> futures = new ArrayList<>();
      for (Endpoint ep : targets(c, cluster)) {
        futures.add(CompletableFuture.supplyAsync(() -> check(c, ep)));
      }
      List<Result> results = futures.stream().map(CompletableFuture::join).toList();
      boolean unhealthy = false;
      List<String> json = new ArrayList<>();
      for (Result r : results) {
        unhealthy |= r.error() != null;
        if (options.json()) {
          Json.Obj o =
              Json.object()
                  .str("endpoint", r.endpoint().text())
                  .bool("health", r.error() == null)
                  .str("took", GoDuration.format(r.took()));
          if (r.error() != null) {
            o.str("error", r.error());
          }
          json.add(o.build());
        } else if (r.error() == null) {
          printer()
              .line(
                  r.endpoint().text()
                      + " is healthy: successfully committed proposal: took = "
                      + GoDuration.format(r.took()));
        } else {
          err()
              .print(
                  r.endpoint().text()
                      + " is unhealthy: failed to commit proposal: "
                      + r.error()
                      + "\n");
        }
      }
      if (options.json()) {
        printer().line(Json.array(json));
      }
      if (unhealthy) {
        throw new CliException("unhealthy cluster");
      }
      return 0;
    }

    private static Result check(Connection c, Endpoint ep) {
      c.channel(ep); // connect first: "took" measures the read, as etcdctl's does
      long start = System.nanoTime();
      try {
        c.kv(ep).range(RangeRequest.newBuilder().setKey(Keys.utf8("health")).build());
      } catch (StatusRuntimeException e) {
        return new Result(
            ep, Duration.ofNanos(System.nanoTime() - start), ClientCommand.describe(e.getStatus()));
      }
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      try {
        AlarmResponse alarms =
            c.maintenance(ep)
                .alarm(AlarmRequest.newBuilder().setAction(AlarmRequest.AlarmAction.GET).build());
        if (alarms.getAlarmsCount() > 0) {
          StringBuilder s = new StringBuilder("Active Alarm(s): ");
          for (AlarmMember a : alarms.getAlarmsList()) {
            s.append(AlarmCommand.alarmName(a)).append(' ');
          }
          return new Result(ep, took, s.toString());
        }
      } catch (StatusRuntimeException e) {
        return new Result(ep, took, "Unable to fetch the alarm list");
      }
      return new Result(ep, took, null);
    }
  }

  @Command(name = "hashkv", description = "Prints the KV history hash of each endpoint.")
  static final class HashKv extends ClientCommand {
    @Option(names = "--cluster", description = "Use every endpoint of the cluster member list.")
    boolean cluster;

    @Option(names = "--rev", description = "Maximum revision to hash (default: latest).")
    long rev;

    @Override
    int run(Connection c) {
      List<String> out = new ArrayList<>();
      String lastError = null;
      for (Endpoint ep : targets(c, cluster)) {
        HashKVResponse r;
        try {
          r = c.maintenance(ep).hashKV(HashKVRequest.newBuilder().setRevision(rev).build());
        } catch (StatusRuntimeException e) {
          lastError = describe(e.getStatus());
          err().print("Failed to get the hash of endpoint " + ep.text() + " (" + lastError + ")\n");
          continue;
        }
        out.add(
            options.json()
                ? Json.object().str("Endpoint", ep.text()).message("HashKV", r).build()
                : ep.text() + ", " + Integer.toUnsignedString(r.getHash()));
      }
      if (options.json()) {
        printer().line(Json.array(out));
      } else {
        out.forEach(printer()::line);
      }
      if (lastError != null) {
        throw new CliException(lastError);
      }
      return 0;
    }
  }
}
