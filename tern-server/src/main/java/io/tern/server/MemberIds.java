package io.tern.server;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.List;

/**
 * Member and cluster ids, derived like etcd's: a hash of what identifies the member (its peer URLs,
 * sorted) and the cluster token, so every member computes the same ids from the same {@code
 * --initial-cluster} and {@code --initial-cluster-token}. Ids are positive 63-bit numbers, never 0.
 */
public final class MemberIds {
  private MemberIds() {}

  /** The id of the member with these peer URLs in the cluster named {@code token}. */
  public static long memberId(Collection<PeerUrl> peerUrls, String token) {
    List<String> sorted = peerUrls.stream().map(PeerUrl::toString).sorted().toList();
    return hash("member\n" + String.join("\n", sorted) + "\n" + token);
  }

  /** The cluster's id, from its token and the ids of the members it started with. */
  public static long clusterId(Collection<Long> initialMemberIds, String token) {
    List<String> sorted = initialMemberIds.stream().sorted().map(Long::toUnsignedString).toList();
    return hash("cluster\n" + String.join("\n", sorted) + "\n" + token);
  }

  private static long hash(String s) {
    byte[] digest;
    try {
      digest = MessageDigest.getInstance("SHA-256").digest(s.getBytes(UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
    long id = ByteBuffer.wrap(digest).getLong() & Long.MAX_VALUE;
    return id == 0 ? 1 : id;
  }
}
