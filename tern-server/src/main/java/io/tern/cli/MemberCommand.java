package io.tern.cli;

import io.tern.api.Member;
import io.tern.api.MemberAddRequest;
import io.tern.api.MemberAddResponse;
import io.tern.api.MemberListRequest;
import io.tern.api.MemberListResponse;
import io.tern.api.MemberPromoteRequest;
import io.tern.api.MemberPromoteResponse;
import io.tern.api.MemberRemoveRequest;
import io.tern.api.MemberRemoveResponse;
import io.tern.api.MemberUpdateRequest;
import io.tern.api.MemberUpdateResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code member list|add|remove|promote|update}; member ids are hex, as etcdctl prints them. */
@Command(
    name = "member",
    description = "Membership related commands.",
    subcommands = {
      MemberCommand.Add.class,
      MemberCommand.Remove.class,
      MemberCommand.Update.class,
      MemberCommand.ListMembers.class,
      MemberCommand.Promote.class
    })
final class MemberCommand extends GroupCommand {

  /** Prints a member change's response: its JSON, or etcdctl's "Member <id> <what><cluster>". */
  static int report(
      ClientCommand cmd,
      com.google.protobuf.Message response,
      io.tern.api.ResponseHeader header,
      long member,
      String what) {
    if (cmd.options.json()) {
      cmd.printer().json(response);
    } else {
      cmd.printer()
          .line(
              "Member "
                  + Printer.paddedId(member)
                  + " "
                  + what
                  + Printer.paddedId(header.getClusterId()));
    }
    return 0;
  }

  static long parseId(String hex) {
    try {
      return Long.parseUnsignedLong(hex, 16);
    } catch (NumberFormatException e) {
      throw new CliException("bad member ID arg (" + hex + "), expecting ID in Hex");
    }
  }

  static List<String> urls(String commaSeparated) {
    if (commaSeparated == null || commaSeparated.isEmpty()) {
      throw new CliException("member peer urls not provided");
    }
    return Arrays.asList(commaSeparated.split(","));
  }

  /** etcdctl's member row: id, started|unstarted, name, peer URLs, client URLs, is learner. */
  static String row(Member m) {
    return String.join(
        ", ",
        Printer.memberId(m.getID()),
        m.getName().isEmpty() ? "unstarted" : "started",
        m.getName(),
        String.join(",", m.getPeerURLsList()),
        String.join(",", m.getClientURLsList()),
        Boolean.toString(m.getIsLearner()));
  }

  @Command(name = "list", description = "Lists all members in the cluster.")
  static final class ListMembers extends ClientCommand {
    @Option(
        names = "--consistency",
        defaultValue = "l",
        description = "Linearizable(l) or Serializable(s).")
    String consistency;

    @Override
    int run(Connection c) {
      boolean linearizable =
          switch (consistency) {
            case "l" -> true;
            case "s" -> false;
            default -> throw new CliException("unknown consistency flag \"" + consistency + "\"");
          };
      MemberListResponse r =
          c.cluster()
              .memberList(MemberListRequest.newBuilder().setLinearizable(linearizable).build());
      if (options.json()) {
        printer().json(r);
      } else {
        r.getMembersList().forEach(m -> printer().line(row(m)));
      }
      return 0;
    }
  }

  @Command(name = "add", description = "Adds a member into the cluster.")
  static final class Add extends ClientCommand {
    @Parameters(paramLabel = "<memberName>")
    String name;

    @Option(names = "--peer-urls", description = "Comma separated peer URLs of the new member.")
    String peerUrls;

    @Option(names = "--learner", description = "Add as a learner (non-voting) member.")
    boolean learner;

    @Override
    int run(Connection c) {
      List<String> urls = urls(peerUrls);
      MemberAddResponse r =
          c.cluster()
              .memberAdd(
                  MemberAddRequest.newBuilder().addAllPeerURLs(urls).setIsLearner(learner).build());
      Printer p = printer();
      if (options.json()) {
        p.json(r);
        return 0;
      }
      Member added = r.getMember();
      p.line(
          "Member "
              + Printer.paddedId(added.getID())
              + " added"
              + (added.getIsLearner() ? " as learner " : " ")
              + "to cluster "
              + Printer.paddedId(r.getHeader().getClusterId()));
      List<String> initialCluster = new ArrayList<>();
      for (Member m : r.getMembersList()) {
        String memberName = m.getID() == added.getID() ? name : m.getName();
        if (memberName.isEmpty()) {
          continue;
        }
        for (String u : m.getPeerURLsList()) {
          initialCluster.add(memberName + "=" + u);
        }
      }
      p.line("");
      p.line("ETCD_NAME=\"" + name + "\"");
      p.line("ETCD_INITIAL_CLUSTER=\"" + String.join(",", initialCluster) + "\"");
      p.line("ETCD_INITIAL_ADVERTISE_PEER_URLS=\"" + String.join(",", urls) + "\"");
      p.line("ETCD_INITIAL_CLUSTER_STATE=\"existing\"");
      return 0;
    }
  }

  @Command(name = "remove", description = "Removes a member from the cluster.")
  static final class Remove extends ClientCommand {
    @Parameters(paramLabel = "<memberID>")
    String id;

    @Override
    int run(Connection c) {
      long member = parseId(id);
      MemberRemoveResponse r =
          c.cluster().memberRemove(MemberRemoveRequest.newBuilder().setID(member).build());
      return report(this, r, r.getHeader(), member, "removed from cluster ");
    }
  }

  @Command(name = "update", description = "Updates a member's peer URLs.")
  static final class Update extends ClientCommand {
    @Parameters(paramLabel = "<memberID>")
    String id;

    @Option(names = "--peer-urls", description = "Comma separated peer URLs of the member.")
    String peerUrls;

    @Override
    int run(Connection c) {
      long member = parseId(id);
      MemberUpdateResponse r =
          c.cluster()
              .memberUpdate(
                  MemberUpdateRequest.newBuilder()
                      .setID(member)
                      .addAllPeerURLs(urls(peerUrls))
                      .build());
      return report(this, r, r.getHeader(), member, "updated in cluster ");
    }
  }

  @Command(name = "promote", description = "Promotes a learner to a voting member.")
  static final class Promote extends ClientCommand {
    @Parameters(paramLabel = "<memberID>")
    String id;

    @Override
    int run(Connection c) {
      long member = parseId(id);
      MemberPromoteResponse r =
          c.cluster().memberPromote(MemberPromoteRequest.newBuilder().setID(member).build());
      return report(this, r, r.getHeader(), member, "promoted in cluster ");
    }
  }
}
