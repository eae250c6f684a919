/**
 * Quorum arithmetic: which log index a set of voters has committed and whether an election is won,
 * for a simple majority (Raft paper sections 5.2 and 5.3) and for joint consensus, where the old
 * and the new configuration must each agree (Raft thesis section 4.3).
 *
 * <p>Everything here is a pure function of its arguments; the types hold no Raft state.
 */
package io.tern.raft.core.quorum;
