package io.tern.raft.core;

/**
 * The state that must be durable before any message depending on it leaves the member (Raft paper
 * Figure 2, "persistent state on all servers"); commit is persisted too so a restart applies no
 * further than it knows is committed.
 */
public record HardState(long term, long vote, long commit) {
  public static final HardState EMPTY = new HardState(0, 0, 0);

  public HardState {
    if (term < 0 || vote < 0 || commit < 0) {
      throw new IllegalArgumentException("negative field in " + term + "/" + vote + "/" + commit);
    }
  }
}
