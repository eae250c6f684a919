package io.tern.kv;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CodecTest {
  private static ByteString randomKey(Random rnd) {
    byte[] b = new byte[rnd.nextInt(5)];
    for (int i = 0; i < b.length; i++) {
      // Mostly the bytes that matter to the escaping: 0x00, 0x01, 0xFF.
      int pick = rnd.nextInt(5);
      b[i] = (byte) (pick == 0 ? 0 : pick == 1 ? 1 : pick == 2 ? 0xFF : rnd.nextInt(256));
    }
    return ByteString.copyFrom(b);
  }

  @Test
  void encodingPreservesKeyOrderAndRevisionsSortNewestFirst() {
    Random rnd = new Random(11);
    for (int i = 0; i < 20_000; i++) {
      ByteString a = randomKey(rnd);
      ByteString b = randomKey(rnd);
      long ra = 1 + rnd.nextInt(1000);
      long rb = 1 + rnd.nextInt(1000);
      byte[] ka = Codec.versionKey(Codec.encodeKey(a), ra);
      byte[] kb = Codec.versionKey(Codec.encodeKey(b), rb);
      int keyOrder = KeyRanges.ORDER.compare(a, b);
      int expected = keyOrder != 0 ? keyOrder : Long.compare(rb, ra);
      assertThat(Integer.signum(Arrays.compareUnsigned(ka, kb)))
          .as("%s@%d vs %s@%d", a, ra, b, rb)
          .isEqualTo(Integer.signum(expected));

      int len = Codec.encodedKeyLength(ka);
      assertThat(Codec.decodeKey(ka, len)).isEqualTo(a);
      assertThat(Codec.versionMain(ka, len)).isEqualTo(ra);
      // The range bound of b: every version of a key below b sorts before it.
      if (keyOrder < 0) {
        assertThat(Arrays.compareUnsigned(ka, Codec.encodeKey(b))).isNegative();
      } else {
        assertThat(Arrays.compareUnsigned(ka, Codec.encodeKey(b))).isNotNegative();
      }
      assertThat(Arrays.compareUnsigned(ka, Codec.afterKey(ka, len))).isNegative();
    }
  }

  @Test
  void recordsRoundTrip() {
    byte[] put = Codec.putRecord(3, 10, 4, 99, ByteString.copyFromUtf8("value"));
    assertThat(Codec.isTombstone(put)).isFalse();
    assertThat(Codec.recordSub(put)).isEqualTo(3);
    var kv = Codec.keyValue(ByteString.copyFromUtf8("k"), 12, put, false);
    assertThat(kv.getCreateRevision()).isEqualTo(10);
    assertThat(kv.getModRevision()).isEqualTo(12);
    assertThat(kv.getVersion()).isEqualTo(4);
    assertThat(kv.getLease()).isEqualTo(99);
    assertThat(kv.getValue().toStringUtf8()).isEqualTo("value");
    byte[] tomb = Codec.tombstoneRecord(7);
    assertThat(Codec.isTombstone(tomb)).isTrue();
    assertThat(Codec.recordSub(tomb)).isEqualTo(7);
    List<byte[]> revs = new ArrayList<>();
    revs.add(Codec.revisionKey(2, 1));
    revs.add(Codec.revisionKey(2, 0));
    revs.add(Codec.revisionKey(1, 5));
    revs.sort(Arrays::compareUnsigned);
    assertThat(revs).extracting(Codec::revisionMain).containsExactly(1L, 2L, 2L);
    assertThat(revs).extracting(Codec::revisionSub).containsExactly(5L, 0L, 1L);
  }
}
