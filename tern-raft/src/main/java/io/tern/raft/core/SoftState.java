package io.tern.raft.core;

/** Volatile state worth reporting when it changes: who leads (0 if unknown) and our role. */
public record SoftState(long leader, Role role) {}
