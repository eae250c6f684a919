package io.tern.sim;

import io.tern.sim.check.History;
import io.tern.sim.check.LinearizabilityChecker;
import io.tern.sim.check.OpKind;
import io.tern.sim.check.OpStatus;
import io.tern.sim.check.Operation;
import io.tern.sim.kv.KvCommand;
import io.tern.sim.kv.KvStateMachine;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The checks at the end of a run, once the cluster has healed and converged. */
public final class FinalChecks {
  private FinalChecks() {}

  /**
   * Logs match pairwise; every live member holds the same state and applied the same log; every
   * acknowledged write of {@code history} is in that log (no acknowledged write is lost); the
   * history is linearizable (a search that exceeds its budget counts as a failure too).
   *
   * @return null if all hold, else what broke
   */
  public static String check(Cluster cluster, History history) {
    try {
      cluster.invariants().checkLogMatching();
    } catch (Invariants.InvariantViolation e) {
      return e.getMessage();
    }
    List<Cluster.Member> up = cluster.upConfiguredMembers();
    Cluster.Member first = up.get(0);
    for (Cluster.Member m : up) {
      if (m.stateMachine().digest() != first.stateMachine().digest()
          || !m.stateMachine().appliedLog().equals(first.stateMachine().appliedLog())) {
        return "members " + first.id() + " and " + m.id() + " differ after converging";
      }
    }
    Set<Long> appliedHashes = new HashSet<>();
    for (KvStateMachine.Applied a : first.stateMachine().appliedLog()) {
      appliedHashes.add(a.dataHash());
    }
    for (Operation op : history.operations()) {
      if (op.status() != OpStatus.OK || op.kind() == OpKind.GET) {
        continue;
      }
      KvCommand cmd =
          switch (op.kind()) {
            case PUT -> KvCommand.put(op.key(), op.value());
            case APPEND -> KvCommand.append(op.key(), op.value());
            default -> KvCommand.cas(op.key(), op.expected(), op.value());
          };
      if (!appliedHashes.contains(KvStateMachine.hash(cmd.encode()))) {
        return "acknowledged write " + op + " is not in the applied log";
      }
    }
    LinearizabilityChecker.Result lin = LinearizabilityChecker.check(history);
    if (lin.verdict() != LinearizabilityChecker.Verdict.OK) {
      return "linearizability " + lin.verdict() + " on key " + lin.key() + ": " + lin.explanation();
    }
    return null;
  }
}
