package io.tern.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.tern.api.LeaseGrantRequest;
import io.tern.api.LeaseGrantResponse;
import io.tern.api.LeaseKeepAliveRequest;
import io.tern.api.LeaseKeepAliveResponse;
import io.tern.api.LeaseLeasesRequest;
import io.tern.api.LeaseLeasesResponse;
import io.tern.api.LeaseRevokeRequest;
import io.tern.api.LeaseRevokeResponse;
import io.tern.api.LeaseStatus;
import io.tern.api.LeaseTimeToLiveRequest;
import io.tern.api.LeaseTimeToLiveResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code lease grant|revoke|keep-alive|timetolive|list}. Lease ids are hex on the command line and
 * in simple output. The JSON of grant, keep-alive, timetolive and list is etcdctl's: the header's
 * fields inline rather than under "header".
 */
@Command(
    name = "lease",
    description = "Lease related commands.",
    subcommands = {
      LeaseCommand.Grant.class,
      LeaseCommand.Revoke.class,
      LeaseCommand.TimeToLive.class,
      LeaseCommand.KeepAlive.class,
      LeaseCommand.ListLeases.class
    })
final class LeaseCommand extends GroupCommand {

  /** A hex lease id as etcdctl accepts it. */
  static long parseId(String hex) {
    try {
      return Long.parseLong(hex, 16);
    } catch (NumberFormatException e) {
      throw new CliException("bad lease ID arg (" + hex + "), expecting ID in Hex");
    }
  }

  @Command(name = "grant", description = "Creates a lease with a TTL in seconds.")
  static final class Grant extends ClientCommand {
    @Parameters(paramLabel = "<ttl>")
    long ttl;

    @Override
    int run(Connection c) {
      LeaseGrantResponse r;
      try {
        r = c.lease().leaseGrant(LeaseGrantRequest.newBuilder().setTTL(ttl).build());
      } catch (StatusRuntimeException e) {
        throw new CliException("failed to grant lease (" + describe(e.getStatus()) + ")");
      }
      if (options.json()) {
        printer()
            .line(
                Json.object()
                    .embed(r.getHeader())
                    .num("ID", r.getID())
                    .num("TTL", r.getTTL())
                    .str("Error", r.getError())
                    .build());
      } else {
        printer()
            .line("lease " + Printer.leaseId(r.getID()) + " granted with TTL(" + r.getTTL() + "s)");
      }
      return 0;
    }
  }

  @Command(name = "revoke", description = "Revokes a lease, deleting its keys.")
  static final class Revoke extends ClientCommand {
    @Parameters(paramLabel = "<leaseID>")
    String id;

    @Override
    int run(Connection c) {
      long lease = parseId(id);
      LeaseRevokeResponse r;
      try {
        r = c.lease().leaseRevoke(LeaseRevokeRequest.newBuilder().setID(lease).build());
      } catch (StatusRuntimeException e) {
        throw new CliException("failed to revoke lease (" + describe(e.getStatus()) + ")");
      }
      if (options.json()) {
        printer().json(r);
      } else {
        printer().line("lease " + Printer.leaseId(lease) + " revoked");
      }
      return 0;
    }
  }

  @Command(name = "timetolive", description = "Shows a lease's granted and remaining TTL.")
  static final class TimeToLive extends ClientCommand {
    @Parameters(paramLabel = "<leaseID>")
    String id;

    @Option(names = "--keys", description = "Also list the keys attached to the lease.")
    boolean keys;

    @Override
    int run(Connection c) {
      long lease = parseId(id);
      LeaseTimeToLiveResponse r =
          c.lease()
              .leaseTimeToLive(
                  LeaseTimeToLiveRequest.newBuilder().setID(lease).setKeys(keys).build());
      Printer p = printer();
      if (options.json()) {
        List<String> attached = new ArrayList<>();
        for (var k : r.getKeysList()) {
          attached.add(Json.string(java.util.Base64.getEncoder().encodeToString(k.toByteArray())));
        }
        p.line(
            Json.object()
                .embed(r.getHeader())
                .num("id", r.getID())
                .num("ttl", r.getTTL())
                .num("granted-ttl", r.getGrantedTTL())
                .raw("keys", Json.array(attached.isEmpty() ? null : attached))
                .build());
        return 0;
      }
      if (r.getGrantedTTL() == 0 && r.getTTL() == -1) {
        p.line("lease " + Printer.leaseId(r.getID()) + " already expired");
        return 0;
      }
      StringBuilder s =
          new StringBuilder("lease ")
              .append(Printer.leaseId(r.getID()))
              .append(" granted with TTL(")
              .append(r.getGrantedTTL())
              .append("s), remaining(")
              .append(r.getTTL())
              .append("s)");
      if (keys) {
        List<String> names = new ArrayList<>();
        r.getKeysList().forEach(k -> names.add(p.bytes(k)));
        s.append(", attached keys([").append(String.join(" ", names)).append("])");
      }
      p.line(s.toString());
      return 0;
    }
  }

  @Command(name = "list", description = "Lists all active leases.")
  static final class ListLeases extends ClientCommand {
    @Override
    int run(Connection c) {
      LeaseLeasesResponse r = c.lease().leaseLeases(LeaseLeasesRequest.getDefaultInstance());
      Printer p = printer();
      if (options.json()) {
        List<String> leases = new ArrayList<>();
        for (LeaseStatus s : r.getLeasesList()) {
          leases.add(Json.object().num("id", s.getID()).build());
        }
        p.line(Json.object().embed(r.getHeader()).raw("leases", Json.array(leases)).build());
        return 0;
      }
      p.line("found " + r.getLeasesCount() + " leases");
      for (LeaseStatus s : r.getLeasesList()) {
        p.line(Printer.leaseId(s.getID()));
      }
      return 0;
    }
  }

  @Command(
      name = "keep-alive",
      description = "Keeps a lease alive, printing each renewal, until interrupted.")
  static final class KeepAlive extends ClientCommand {
    private static final Object END = new Object();

    @Parameters(paramLabel = "<leaseID>")
    String id;

    @Option(names = "--once", description = "Renew once, then exit.")
    boolean once;

    @Override
    int run(Connection c) {
      long lease = parseId(id);
      BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
      AtomicReference<ClientCallStreamObserver<LeaseKeepAliveRequest>> requests =
          new AtomicReference<>();
      c.leaseStream()
          .leaseKeepAlive(
              new ClientResponseObserver<LeaseKeepAliveRequest, LeaseKeepAliveResponse>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<LeaseKeepAliveRequest> s) {
                  requests.set(s);
                }

                @Override
                public void onNext(LeaseKeepAliveResponse r) {
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
              });
      LeaseKeepAliveRequest ping = LeaseKeepAliveRequest.newBuilder().setID(lease).build();
      try {
        long waitNanos = c.commandTimeout().toNanos();
        while (true) {
          requests.get().onNext(ping);
          Object o = queue.poll(waitNanos, TimeUnit.NANOSECONDS);
          if (o == null) {
            throw new CliException("context deadline exceeded");
          }
          if (o instanceof Throwable t) {
            throw new StatusRuntimeException(Status.fromThrowable(t));
          }
          if (o == END) {
            break;
          }
          LeaseKeepAliveResponse r = (LeaseKeepAliveResponse) o;
          if (r.getTTL() <= 0) {
            if (once) {
              throw new CliException("etcdserver: requested lease not found");
            }
            break;
          }
          print(r);
          if (once) {
            return 0;
          }
          // Renew at a third of the TTL, as etcd's clients do.
          TimeUnit.MILLISECONDS.sleep(Math.max(500, r.getTTL() * 1000 / 3));
        }
      } catch (InterruptedException e) {
        return WatchCommand.EXIT_INTERRUPTED;
      } finally {
        requests.get().cancel("keep-alive finished", null);
      }
      printer().line("lease " + Printer.leaseId(lease) + " expired or revoked.");
      return 0;
    }

    private void print(LeaseKeepAliveResponse r) {
      if (options.json()) {
        printer()
            .line(
                Json.object()
                    .embed(r.getHeader())
                    .num("ID", r.getID())
                    .num("TTL", r.getTTL())
                    .build());
      } else {
        printer()
            .line(
                "lease " + Printer.leaseId(r.getID()) + " keepalived with TTL(" + r.getTTL() + ")");
      }
      out().flush();
    }
  }
}
