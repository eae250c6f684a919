package io.tern.cli;

import io.tern.api.AlarmMember;
import io.tern.api.AlarmRequest;
import io.tern.api.AlarmResponse;
import io.tern.api.AlarmType;
import picocli.CommandLine.Command;

/** {@code alarm list|disarm}. */
@Command(
    name = "alarm",
    description = "Alarm related commands.",
    subcommands = {AlarmCommand.ListAlarms.class, AlarmCommand.Disarm.class})
final class AlarmCommand extends GroupCommand {

  static String alarmName(AlarmMember a) {
    return a.getAlarm() == AlarmType.UNRECOGNIZED ? "UNKNOWN" : a.getAlarm().name();
  }

  /** One alarm as etcdctl prints it (Go's compact text form of the message). */
  static String line(AlarmMember a) {
    return "memberID:" + Long.toUnsignedString(a.getMemberID()) + " alarm:" + alarmName(a) + " ";
  }

  static void print(ClientCommand cmd, AlarmResponse r) {
    if (cmd.options.json()) {
      cmd.printer().json(r);
    } else {
      r.getAlarmsList().forEach(a -> cmd.printer().line(line(a)));
    }
  }

  @Command(name = "list", description = "Lists all alarms.")
  static final class ListAlarms extends ClientCommand {
    @Override
    int run(Connection c) {
      print(
          this,
          c.maintenance()
              .alarm(AlarmRequest.newBuilder().setAction(AlarmRequest.AlarmAction.GET).build()));
      return 0;
    }
  }

  @Command(name = "disarm", description = "Disarms all alarms.")
  static final class Disarm extends ClientCommand {
    @Override
    int run(Connection c) {
      AlarmResponse active =
          c.maintenance()
              .alarm(AlarmRequest.newBuilder().setAction(AlarmRequest.AlarmAction.GET).build());
      AlarmResponse.Builder disarmed = AlarmResponse.newBuilder();
      for (AlarmMember a : active.getAlarmsList()) {
        AlarmResponse r =
            c.maintenance()
                .alarm(
                    AlarmRequest.newBuilder()
                        .setAction(AlarmRequest.AlarmAction.DEACTIVATE)
                        .setMemberID(a.getMemberID())
                        .setAlarm(a.getAlarm())
                        .build());
        disarmed.addAllAlarms(r.getAlarmsList());
      }
      print(this, disarmed.build());
      return 0;
    }
  }
}
