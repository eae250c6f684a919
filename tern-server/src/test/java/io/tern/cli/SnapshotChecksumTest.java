package io.tern.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The check `snapshot save` makes of the stream's trailer, as etcdctl does. */
class SnapshotChecksumTest {
  @TempDir Path dir;

  private static byte[] withTrailer(byte[] padded) throws Exception {
    byte[] sha = MessageDigest.getInstance("SHA-256").digest(padded);
    byte[] all = Arrays.copyOf(padded, padded.length + sha.length);
    System.arraycopy(sha, 0, all, padded.length, sha.length);
    return all;
  }

  private void verify(byte[] content) throws Exception {
    Path f = dir.resolve("s.db");
    Files.write(f, content);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      MaintenanceCommands.SnapshotSave.verifyChecksum(ch);
    }
  }

  @Test
  void aPaddedStreamWithItsShaPasses() throws Exception {
    byte[] data = new byte[3 * 512 + 70 * 1024];
    new Random(7).nextBytes(data);
    byte[] all = withTrailer(data);
    assertThat(all.length % 512).isEqualTo(32);
    assertThatCode(() -> verify(all)).doesNotThrowAnyException();
  }

  @Test
  void aStreamWithoutTrailerIsRefusedWithEtcdctlsMessage() {
    byte[] data = new byte[1000];
    assertThatThrownBy(() -> verify(data))
        .isInstanceOf(CliException.class)
        .hasMessage("sha256 checksum not found [bytes: 1000]");
  }

  @Test
  void aFlippedByteIsDetected() throws Exception {
    byte[] data = new byte[2048];
    new Random(9).nextBytes(data);
    byte[] all = withTrailer(data);
    all[100] ^= 1;
    assertThatThrownBy(() -> verify(all))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("does not match");
  }
}
