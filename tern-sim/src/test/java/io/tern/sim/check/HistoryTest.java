package io.tern.sim.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HistoryTest {
  @Test
  void recordsOperationsInInvocationOrder() {
    History h = new History();
    long put = h.invoke(0, OpKind.PUT, "k", "a", "ignored", 10);
    long get = h.invoke(1, OpKind.GET, "k", "ignored", null, 11);
    long cas = h.invoke(2, OpKind.CAS, "k", "b", "a", 12);
    long app = h.invoke(3, OpKind.APPEND, "j", "x", null, 13);
    h.ok(get, "a", 20);
    h.ok(put, null, 21);
    h.fail(app, 22);
    h.unknown(cas);

    assertThat(h.size()).isEqualTo(4);
    assertThat(h.operations())
        .extracting(Operation::id)
        .containsExactly(put, get, cas, app)
        .containsExactly(0L, 1L, 2L, 3L);
    Operation p = h.get(put);
    assertThat(p.status()).isEqualTo(OpStatus.OK);
    assertThat(p.expected()).isNull(); // only CAS keeps `expected`
    assertThat(p.completeTime()).isEqualTo(21);
    assertThat(h.get(get).value()).isNull();
    assertThat(h.get(get).output()).isEqualTo("a");
    assertThat(h.get(cas).status()).isEqualTo(OpStatus.UNKNOWN);
    assertThat(h.get(cas).completeTime()).isEqualTo(Operation.NEVER);
    assertThat(h.get(cas).expected()).isEqualTo("a");
    assertThat(h.get(app).status()).isEqualTo(OpStatus.FAIL);
  }

  @Test
  void dumpHasOneReadableLinePerOperation() {
    History h = new History();
    h.ok(h.invoke(0, OpKind.PUT, "k", "a", null, 10), null, 20);
    h.ok(h.invoke(1, OpKind.GET, "k", null, null, 11), null, 21);
    h.ok(h.invoke(2, OpKind.CAS, "k", "b", "a", 12), true, 22);
    h.invoke(3, OpKind.APPEND, "k", "x\"y", null, 13);
    assertThat(h.dump().split("\n"))
        .containsExactly(
            "#0 c0 PUT k \"a\" -> ok [10, 20]",
            "#1 c1 GET k -> nil [11, 21]",
            "#2 c2 CAS k \"a\"=>\"b\" -> true [12, 22]",
            "#3 c3 APPEND k \"x\\\"y\" -> PENDING [13, inf)");
  }

  @Test
  void operationsIsASnapshot() {
    History h = new History();
    long id = h.invoke(0, OpKind.PUT, "k", "a", null, 0);
    var snapshot = h.operations();
    h.ok(id, null, 5);
    assertThat(snapshot.get(0).status()).isEqualTo(OpStatus.PENDING);
    assertThat(h.operations().get(0).status()).isEqualTo(OpStatus.OK);
    assertThatThrownBy(() -> snapshot.add(null)).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void rejectsInvalidTransitions() {
    History h = new History();
    long id = h.invoke(0, OpKind.GET, "k", null, null, 10);
    assertThatThrownBy(() -> h.ok(id, 42, 20)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> h.ok(id, "a", 5)).isInstanceOf(IllegalArgumentException.class);
    h.ok(id, "a", 20);
    assertThatThrownBy(() -> h.ok(id, "a", 30)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> h.fail(id, 30)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> h.unknown(id)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> h.ok(99, null, 1)).isInstanceOf(IllegalArgumentException.class);

    long cas = h.invoke(0, OpKind.CAS, "k", "b", "a", 40);
    assertThatThrownBy(() -> h.ok(cas, null, 50)).isInstanceOf(IllegalArgumentException.class);
    h.unknown(cas);
    h.unknown(cas); // idempotent
    assertThat(h.get(cas).status()).isEqualTo(OpStatus.UNKNOWN);
  }
}
