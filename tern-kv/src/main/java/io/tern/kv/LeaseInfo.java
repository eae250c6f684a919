package io.tern.kv;

import com.google.protobuf.ByteString;
import java.util.List;

/**
 * A lease as this member sees it: the granted TTL (replicated), the seconds left per this member's
 * clock (0 once expired; only the leader's clock decides expiry), and the attached keys in key
 * order.
 */
public record LeaseInfo(long id, long grantedTtl, long remainingTtl, List<ByteString> keys) {
  public LeaseInfo {
    keys = List.copyOf(keys);
  }
}
