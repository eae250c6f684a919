package io.tern.kv;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.tern.api.AlarmMember;
import io.tern.api.AlarmType;
import io.tern.api.MemberAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * Keys of the {@code meta} family, and the replicated tables kept there: {@code applied_index},
 * {@code revision}, {@code compact_revision} (8 bytes each); {@code alarm/ ++ member id (8) ++
 * alarm type (4)} → empty; {@code member/ ++ id (8)} → the encoded {@link MemberAttributes}.
 */
final class Meta {
  static final byte[] APPLIED_INDEX = "applied_index".getBytes(UTF_8);
  static final byte[] REVISION = "revision".getBytes(UTF_8);
  static final byte[] COMPACT_REVISION = "compact_revision".getBytes(UTF_8);
  private static final byte[] ALARM = "alarm/".getBytes(UTF_8);
  private static final byte[] MEMBER = "member/".getBytes(UTF_8);

  /** Member id order (unsigned), then alarm type. */
  static final Comparator<AlarmMember> ALARM_ORDER =
      Comparator.comparing(AlarmMember::getMemberID, Long::compareUnsigned)
          .thenComparingInt(AlarmMember::getAlarmValue);

  static final Comparator<MemberAttributes> MEMBER_ORDER =
      Comparator.comparing(MemberAttributes::getId, Long::compareUnsigned);

  private Meta() {}

  static byte[] alarmKey(AlarmMember a) {
    byte[] out = Arrays.copyOf(ALARM, ALARM.length + 12);
    Codec.putLong(out, ALARM.length, a.getMemberID());
    java.nio.ByteBuffer.wrap(out, ALARM.length + 8, 4).putInt(a.getAlarmValue());
    return out;
  }

  static byte[] memberKey(long id) {
    byte[] out = Arrays.copyOf(MEMBER, MEMBER.length + 8);
    Codec.putLong(out, MEMBER.length, id);
    return out;
  }

  /** The state {@link KvStateMachine} keeps in memory besides the lease clocks. */
  record Loaded(
      long appliedIndex,
      long revision,
      long compactRevision,
      List<AlarmMember> alarms,
      List<MemberAttributes> members,
      List<long[]> leases) {}

  static Loaded load(KvDatabase db) {
    try (ReadOptions ro = new ReadOptions()) {
      long applied = getLong(db, ro, APPLIED_INDEX, 0);
      long revision = getLong(db, ro, REVISION, 1);
      long compact = getLong(db, ro, COMPACT_REVISION, 0);
      List<AlarmMember> alarms = new ArrayList<>();
      List<MemberAttributes> members = new ArrayList<>();
      try (RocksIterator it = db.db.newIterator(db.meta, ro)) {
        for (it.seek(ALARM); it.isValid() && startsWith(it.key(), ALARM); it.next()) {
          byte[] k = it.key();
          alarms.add(
              AlarmMember.newBuilder()
                  .setMemberID(Codec.getLong(k, ALARM.length))
                  .setAlarmValue(java.nio.ByteBuffer.wrap(k, ALARM.length + 8, 4).getInt())
                  .build());
        }
        for (it.seek(MEMBER); it.isValid() && startsWith(it.key(), MEMBER); it.next()) {
          members.add(MemberAttributes.parseFrom(it.value()));
        }
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new IllegalStateException("corrupt member record in " + db.path, e);
      }
      alarms.sort(ALARM_ORDER);
      members.sort(MEMBER_ORDER);
      List<long[]> leases = new ArrayList<>();
      try (RocksIterator it = db.db.newIterator(db.leases, ro)) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          byte[] k = it.key();
          if (k.length == 8) {
            leases.add(new long[] {Codec.getLong(k, 0), Codec.getLong(it.value(), 0)});
          }
        }
      }
      return new Loaded(
          applied, revision, compact, List.copyOf(alarms), List.copyOf(members), leases);
    }
  }

  static boolean isNoSpace(List<AlarmMember> alarms) {
    for (AlarmMember a : alarms) {
      if (a.getAlarm() == AlarmType.NOSPACE) {
        return true;
      }
    }
    return false;
  }

  private static long getLong(KvDatabase db, ReadOptions ro, byte[] key, long absent) {
    try {
      byte[] v = db.db.get(db.meta, ro, key);
      return v == null ? absent : Codec.getLong(v, 0);
    } catch (RocksDBException e) {
      throw new IllegalStateException(
          "cannot read " + new String(key, UTF_8) + " of " + db.path, e);
    }
  }

  private static boolean startsWith(byte[] k, byte[] prefix) {
    return k.length >= prefix.length
        && Arrays.equals(k, 0, prefix.length, prefix, 0, prefix.length);
  }
}
