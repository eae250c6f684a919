package io.tern.raft.core;

/** The role a member plays in its current term. */
public enum Role {
  FOLLOWER,
  PRE_CANDIDATE,
  CANDIDATE,
  LEADER
}
