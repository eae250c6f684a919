package io.tern.sim.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class KvCommandTest {

  @Test
  void everyOpRoundTrips() {
    String longValue = "v".repeat(300); // needs a two-byte length prefix
    List<KvCommand> commands =
        List.of(
            KvCommand.put("k", "v"),
            KvCommand.put("", ""),
            KvCommand.put("clé ☃ 😀", longValue),
            KvCommand.get("k"),
            KvCommand.append("log", "x,"),
            KvCommand.cas("k", "old", "new"),
            KvCommand.cas("k", null, "created"),
            KvCommand.cas("k", "", "from empty"));
    for (KvCommand c : commands) {
      assertThat(KvCommand.decode(c.encode())).as(c.toString()).isEqualTo(c);
    }
  }

  @Test
  void encodingIsCompact() {
    // op + (len+1) + "key" + (len+1) + "value"
    assertThat(KvCommand.put("key", "value").encode()).hasSize(1 + 1 + 3 + 1 + 5);
    assertThat(KvCommand.get("k").encode()).containsExactly(2, 2, 'k');
    assertThat(KvCommand.cas("k", null, "v").encode()).containsExactly(4, 2, 'k', 0, 2, 'v');
    assertThat(KvCommand.put("k", "v".repeat(200)).encode()).hasSize(1 + 2 + 2 + 200);
  }

  @Test
  void nullExpectedAndEmptyExpectedAreDifferent() {
    assertThat(KvCommand.decode(KvCommand.cas("k", null, "v").encode()).expected()).isNull();
    assertThat(KvCommand.decode(KvCommand.cas("k", "", "v").encode()).expected()).isEmpty();
  }

  @Test
  void rejectsMalformedInput() {
    byte[] put = KvCommand.put("key", "value").encode();
    assertThatThrownBy(() -> KvCommand.decode(new byte[0]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> KvCommand.decode(new byte[] {9, 2, 'k'}))
        .hasMessageContaining("unknown KV op code 9");
    assertThatThrownBy(() -> KvCommand.decode(Arrays.copyOf(put, put.length - 1)))
        .hasMessageContaining("truncated");
    assertThatThrownBy(() -> KvCommand.decode(Arrays.copyOf(put, put.length + 1)))
        .hasMessageContaining("trailing");
    assertThatThrownBy(() -> KvCommand.decode(new byte[] {1, 0, 2, 'v'}))
        .hasMessageContaining("null key");
    assertThatThrownBy(() -> KvCommand.decode(new byte[] {1, 2, 'k', 0}))
        .hasMessageContaining("null value");
    assertThatThrownBy(() -> KvCommand.decode(new byte[] {2, 2, (byte) 0xff}))
        .hasMessageContaining("malformed UTF-8");
    assertThatThrownBy(() -> KvCommand.decode(new byte[] {2, (byte) 0x80, (byte) 0x80}))
        .hasMessageContaining("truncated");
  }

  @Test
  void constructorRejectsInconsistentCommands() {
    assertThatThrownBy(() -> KvCommand.put("k", null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> KvCommand.get(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> new KvCommand(KvCommand.Op.GET, "k", "v", null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new KvCommand(KvCommand.Op.PUT, "k", "v", "x"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void hasReadableToString() {
    assertThat(KvCommand.cas("k", null, "v")).hasToString("CAS(k: null->v)");
    assertThat(KvCommand.append("k", "x")).hasToString("APPEND(k+=x)");
  }
}
