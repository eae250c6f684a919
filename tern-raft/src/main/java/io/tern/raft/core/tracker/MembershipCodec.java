package io.tern.raft.core.tracker;

import io.tern.raft.core.quorum.JointConfig;
import io.tern.raft.core.quorum.MajorityConfig;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The payload of a configuration entry: the whole {@link Membership} it installs (not a delta), so
 * a member adopts it without depending on the configuration before it.
 *
 * <pre>
 *   version:1  incoming:count,ids  outgoing:count,ids  learners:count,ids   (counts int32, ids int64)
 * </pre>
 */
public final class MembershipCodec {
  private static final byte VERSION = 1;

  private MembershipCodec() {}

  public static byte[] encode(Membership m) {
    long[] in = m.voters().incoming().voterArray();
    long[] out = m.voters().outgoing().voterArray();
    Set<Long> learners = m.learners();
    ByteBuffer b = ByteBuffer.allocate(1 + 12 + 8 * (in.length + out.length + learners.size()));
    b.put(VERSION);
    putIds(b, in);
    putIds(b, out);
    b.putInt(learners.size());
    for (long l : learners) {
      b.putLong(l);
    }
    return b.array();
  }

  /**
   * @throws IllegalArgumentException if {@code data} is not an encoded membership
   */
  public static Membership decode(byte[] data) {
    try {
      ByteBuffer b = ByteBuffer.wrap(data);
      if (b.get() != VERSION) {
        throw new IllegalArgumentException("unknown membership encoding version");
      }
      List<Long> in = getIds(b);
      List<Long> out = getIds(b);
      List<Long> learners = getIds(b);
      if (b.hasRemaining()) {
        throw new IllegalArgumentException(b.remaining() + " trailing bytes after membership");
      }
      return new Membership(
          new JointConfig(new MajorityConfig(in), new MajorityConfig(out)), Set.copyOf(learners));
    } catch (java.nio.BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated membership entry", e);
    }
  }

  private static void putIds(ByteBuffer b, long[] ids) {
    b.putInt(ids.length);
    for (long id : ids) {
      b.putLong(id);
    }
  }

  private static List<Long> getIds(ByteBuffer b) {
    int n = b.getInt();
    if (n < 0 || n > b.remaining() / 8) {
      throw new IllegalArgumentException("bad member count " + n);
    }
    List<Long> ids = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ids.add(b.getLong());
    }
    return ids;
  }
}
