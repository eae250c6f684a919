package io.tern.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import io.grpc.MethodDescriptor.MethodType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Pins the facts etcd clients depend on: names, streaming shapes, field numbers, enum values. */
class EtcdWireCompatibilityTest {

  @Test
  void serviceAndMethodNamesMatchEtcd() {
    assertThat(KVGrpc.SERVICE_NAME).isEqualTo("etcdserverpb.KV");
    assertThat(WatchGrpc.SERVICE_NAME).isEqualTo("etcdserverpb.Watch");
    assertThat(LeaseGrpc.SERVICE_NAME).isEqualTo("etcdserverpb.Lease");
    assertThat(ClusterGrpc.SERVICE_NAME).isEqualTo("etcdserverpb.Cluster");
    assertThat(MaintenanceGrpc.SERVICE_NAME).isEqualTo("etcdserverpb.Maintenance");

    assertThat(KVGrpc.getRangeMethod().getFullMethodName()).isEqualTo("etcdserverpb.KV/Range");
    assertThat(KVGrpc.getCompactMethod().getFullMethodName()).isEqualTo("etcdserverpb.KV/Compact");
    assertThat(MaintenanceGrpc.getHashKVMethod().getFullMethodName())
        .isEqualTo("etcdserverpb.Maintenance/HashKV");
    assertThat(ClusterGrpc.getMemberPromoteMethod().getFullMethodName())
        .isEqualTo("etcdserverpb.Cluster/MemberPromote");
  }

  @Test
  void streamingShapesMatchEtcd() {
    assertThat(KVGrpc.getTxnMethod().getType()).isEqualTo(MethodType.UNARY);
    assertThat(WatchGrpc.getWatchMethod().getType()).isEqualTo(MethodType.BIDI_STREAMING);
    assertThat(LeaseGrpc.getLeaseKeepAliveMethod().getType()).isEqualTo(MethodType.BIDI_STREAMING);
    assertThat(MaintenanceGrpc.getSnapshotMethod().getType())
        .isEqualTo(MethodType.SERVER_STREAMING);
  }

  @Test
  void protoPackagesAreEtcdsAndTerns() {
    assertThat(KeyValue.getDescriptor().getFullName()).isEqualTo("mvccpb.KeyValue");
    assertThat(Event.getDescriptor().getFullName()).isEqualTo("mvccpb.Event");
    assertThat(PutRequest.getDescriptor().getFullName()).isEqualTo("etcdserverpb.PutRequest");
    assertThat(InternalRequest.getDescriptor().getFullName()).isEqualTo("ternkv.InternalRequest");
  }

  @Test
  void putRequestEncodesKeyAsField1AndValueAsField2() {
    byte[] bytes =
        PutRequest.newBuilder()
            .setKey(ByteString.copyFromUtf8("k"))
            .setValue(ByteString.copyFromUtf8("v"))
            .build()
            .toByteArray();
    // tag (1 << 3 | LEN) = 0x0a, length 1, 'k'; tag (2 << 3 | LEN) = 0x12, length 1, 'v'
    assertThat(bytes).containsExactly(0x0a, 0x01, 'k', 0x12, 0x01, 'v');
  }

  @Test
  void compareRangeEndIsField64() {
    byte[] bytes =
        Compare.newBuilder().setRangeEnd(ByteString.copyFromUtf8("z")).build().toByteArray();
    // tag 64 << 3 | LEN = 514, varint 0x82 0x04
    assertThat(bytes).containsExactly(0x82, 0x04, 0x01, 'z');
  }

  @Test
  void watchResponseCompactRevisionIsField5() {
    byte[] bytes = WatchResponse.newBuilder().setCompactRevision(7).build().toByteArray();
    assertThat(bytes).containsExactly(0x28, 0x07);
  }

  @Test
  void etcdEncodedLeaseKeepAliveResponseDecodes() throws Exception {
    // header{revision=3}, ID=5, TTL=10, as etcd writes it
    byte[] etcd = {0x0a, 0x02, 0x18, 0x03, 0x10, 0x05, 0x18, 0x0a};
    LeaseKeepAliveResponse r = LeaseKeepAliveResponse.parseFrom(etcd);
    assertThat(r.getHeader().getRevision()).isEqualTo(3);
    assertThat(r.getID()).isEqualTo(5);
    assertThat(r.getTTL()).isEqualTo(10);
  }

  @ParameterizedTest(name = "{0}.{1} = {2}")
  @CsvSource({
    "ResponseHeader, raft_term, 4",
    "RangeRequest, max_create_revision, 13",
    "PutRequest, ignore_lease, 6",
    "RequestOp, request_txn, 4",
    "Compare, lease, 8",
    "WatchCreateRequest, fragment, 8",
    "WatchRequest, progress_request, 3",
    "WatchResponse, cancel_reason, 6",
    "WatchResponse, fragment, 7",
    "WatchResponse, events, 11",
    "LeaseTimeToLiveResponse, keys, 5",
    "Member, isLearner, 5",
    "StatusResponse, raftAppliedIndex, 7",
    "StatusResponse, errors, 8",
    "StatusResponse, dbSizeInUse, 9",
    "StatusResponse, isLearner, 10",
    "HashKVResponse, hash_revision, 4",
    "SnapshotResponse, blob, 3",
    "AlarmMember, alarm, 2",
    "MoveLeaderRequest, targetID, 1",
  })
  void rpcFieldNumbersMatchEtcd(String message, String field, int number) {
    Descriptor d = RpcProto.getDescriptor().findMessageTypeByName(message);
    assertThat(d).as(message).isNotNull();
    FieldDescriptor f = d.findFieldByName(field);
    assertThat(f).as(message + "." + field).isNotNull();
    assertThat(f.getNumber()).isEqualTo(number);
  }

  @Test
  void enumValuesMatchEtcd() {
    assertThat(Event.EventType.DELETE.getNumber()).isEqualTo(1);
    assertThat(AlarmType.NOSPACE.getNumber()).isEqualTo(1);
    assertThat(AlarmType.CORRUPT.getNumber()).isEqualTo(2);
    assertThat(Compare.CompareResult.NOT_EQUAL.getNumber()).isEqualTo(3);
    assertThat(Compare.CompareTarget.LEASE.getNumber()).isEqualTo(4);
    assertThat(RangeRequest.SortTarget.VALUE.getNumber()).isEqualTo(4);
    assertThat(WatchCreateRequest.FilterType.NODELETE.getNumber()).isEqualTo(1);
    assertThat(AlarmRequest.AlarmAction.DEACTIVATE.getNumber()).isEqualTo(2);
  }

  @Test
  void internalRequestCarriesEtcdRequests() throws Exception {
    InternalRequest in =
        InternalRequest.newBuilder()
            .setMemberId(9)
            .setPut(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("a")).setLease(2))
            .build();
    InternalRequest out = InternalRequest.parseFrom(in.toByteArray());
    assertThat(out.getRequestCase()).isEqualTo(InternalRequest.RequestCase.PUT);
    assertThat(out.getPut().getKey().toStringUtf8()).isEqualTo("a");
    assertThat(out.getPut().getLease()).isEqualTo(2);
    assertThat(InternalRequest.getDescriptor().findFieldByName("member_remove").getNumber())
        .isEqualTo(11);
  }
}
