package io.tern.compat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import io.etcd.jetcd.api.Compare;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The two parts of the etcd v3 API the suite needs that jetcd's bundled rpc.proto lacks, encoded by
 * hand from etcd's published field numbers so that the tests stay independent of Tern's own .proto
 * files: the LEASE compare target ({@code Compare.target = 4}, {@code Compare.lease = 8}) and the
 * {@code etcdserverpb.Lease/LeaseLeases} RPC.
 */
final class WireExtras {
  private static final int COMPARE_TARGET_LEASE = 4;
  private static final int COMPARE_LEASE_FIELD = 8;
  private static final int LEASES_FIELD = 2; // LeaseLeasesResponse.leases (repeated LeaseStatus)
  private static final int LEASE_STATUS_ID_FIELD = 1; // LeaseStatus.ID

  private static final MethodDescriptor<byte[], byte[]> LEASE_LEASES =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(
              MethodDescriptor.generateFullMethodName("etcdserverpb.Lease", "LeaseLeases"))
          .setRequestMarshaller(new RawBytes())
          .setResponseMarshaller(new RawBytes())
          .build();

  private WireExtras() {}

  /** A compare of the key's lease id. */
  static Compare leaseCompare(ByteString key, Compare.CompareResult result, long lease) {
    UnknownFieldSet leaseField =
        UnknownFieldSet.newBuilder()
            .addField(
                COMPARE_LEASE_FIELD, UnknownFieldSet.Field.newBuilder().addVarint(lease).build())
            .build();
    return Compare.newBuilder()
        .setKey(key)
        .setResult(result)
        .setTargetValue(COMPARE_TARGET_LEASE)
        .setUnknownFields(leaseField)
        .build();
  }

  /** LeaseLeases: the ids of all live leases. */
  static List<Long> leaseLeases(Channel channel) {
    byte[] response =
        ClientCalls.blockingUnaryCall(
            channel,
            LEASE_LEASES,
            CallOptions.DEFAULT.withDeadlineAfter(
                Await.RPC_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS),
            new byte[0]);
    try {
      List<Long> ids = new ArrayList<>();
      UnknownFieldSet fields = UnknownFieldSet.parseFrom(response);
      if (fields.hasField(LEASES_FIELD)) {
        for (ByteString status : fields.getField(LEASES_FIELD).getLengthDelimitedList()) {
          UnknownFieldSet.Field id =
              UnknownFieldSet.parseFrom(status).getField(LEASE_STATUS_ID_FIELD);
          ids.add(id.getVarintList().isEmpty() ? 0L : id.getVarintList().get(0));
        }
      }
      return ids;
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("malformed LeaseLeasesResponse", e);
    }
  }

  private static final class RawBytes implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
