/**
 * Membership change as pure functions from one {@link io.tern.raft.core.tracker.Membership} to the
 * next (Raft thesis chapter 4): joint consensus for any batch of changes (section 4.3), the
 * single-voter shortcut (section 4.1), and learners, which receive the log without voting (section
 * 4.2.1).
 *
 * <p>Nothing here holds state or knows about the log; the core decides when a computed
 * configuration is proposed, appended and left.
 */
package io.tern.raft.core.confchange;
