package io.tern.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

class KeySpaceTest {
  @Test
  void keysHaveTheirSizeAndSortInIndexOrderBelowTheRangeEnd() {
    KeySpace ks = new KeySpace(8, 1000);
    ByteString prev = null;
    for (long i = 0; i < 1000; i++) {
      ByteString k = ks.key(i);
      assertEquals(8, k.size());
      if (prev != null) {
        assertTrue(ByteString.unsignedLexicographicalComparator().compare(prev, k) < 0, "" + i);
      }
      prev = k;
    }
    assertTrue(ByteString.unsignedLexicographicalComparator().compare(prev, ks.rangeEnd()) < 0);
    assertEquals(ByteString.copyFrom(new byte[] {0, 0, 0, 0, 0, 0, 3, (byte) 0xe8}), ks.rangeEnd());
    assertEquals(ByteString.copyFrom(new byte[] {0, 0, 0, 0, 0, 0, 1, 0}), ks.key(256));
  }

  @Test
  void aFullSpaceOfShortKeysEndsWithTheFromKeyMarker() {
    KeySpace ks = new KeySpace(1, 256);
    assertEquals(ByteString.copyFrom(new byte[] {(byte) 0xff}), ks.key(255));
    assertEquals(ByteString.copyFrom(new byte[] {0}), ks.rangeEnd());
    assertEquals(ByteString.copyFrom(new byte[] {(byte) 200}), new KeySpace(1, 200).rangeEnd());
  }

  @Test
  void indexesOutsideTheSpaceAreRefused() {
    KeySpace ks = new KeySpace(8, 10);
    assertThrows(IllegalArgumentException.class, () -> ks.key(10));
    assertThrows(IllegalArgumentException.class, () -> ks.key(-1));
    assertThrows(IllegalArgumentException.class, () -> new KeySpace(1, 257));
  }
}
