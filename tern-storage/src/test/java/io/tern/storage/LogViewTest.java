package io.tern.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.tern.raft.core.Entry;
import io.tern.raft.core.EntryType;
import io.tern.raft.core.HardState;
import io.tern.raft.core.SnapshotMeta;
import io.tern.raft.core.tracker.Membership;
import io.tern.raft.node.PersistentState;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The view keeps terms as runs; check it against the naive model under random operations. */
class LogViewTest {
  @Test
  void termRunsAgreeWithTheFullLog() {
    SplittableRandom random = new SplittableRandom(99);
    LogModel model = new LogModel();
    LogView view = new LogView("test", PersistentState.EMPTY);
    long term = 1;
    for (int step = 0; step < 5000; step++) {
      int dice = random.nextInt(10);
      if (dice < 7) {
        long start = random.nextLong(model.firstIndex(), model.lastIndex() + 2);
        if (random.nextInt(3) == 0) {
          term++;
        }
        List<Entry> es = new ArrayList<>();
        int n = random.nextInt(1, 5);
        for (int i = 0; i < n; i++) {
          es.add(new Entry(term, start + i, EntryType.NORMAL, 0, null));
        }
        // no hard state, so no commit rules; the view only needs the shape here
        view.applyWrite(null, es);
        model.write(null, es);
      } else if (dice < 8) {
        SnapshotMeta base =
            new SnapshotMeta(model.lastIndex() + random.nextInt(3), term, Membership.ofVoters(1));
        view.applyReset(null, base);
        model.reset(null, base);
      } else {
        long index = random.nextLong(Math.max(0, model.firstIndex() - 1), model.lastIndex() + 1);
        SnapshotMeta base =
            new SnapshotMeta(index, Math.max(0, model.termAt(index)), Membership.ofVoters(1));
        view.applyCompact(base);
        model.compact(base);
      }
      assertThat(view.firstIndex()).isEqualTo(model.firstIndex());
      assertThat(view.lastIndex()).isEqualTo(model.lastIndex());
      for (long i = Math.max(0, model.firstIndex() - 2); i <= model.lastIndex() + 1; i++) {
        if (view.termAt(i) != model.termAt(i)) {
          assertThat(view.termAt(i)).as("term at %d, step %d", i, step).isEqualTo(model.termAt(i));
        }
      }
    }
    assertThat(view.hardState()).isEqualTo(HardState.EMPTY);
  }
}
