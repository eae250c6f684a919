package io.tern.cli;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.MessageOrBuilder;
import io.tern.api.ResponseHeader;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * JSON as etcdctl writes it: Go's encoding/json applied to etcd's generated structs. Field names
 * are the proto names ("cluster_id", "peerURLs"), fields holding their zero value are left out,
 * 64-bit integers are plain numbers (unsigned where the proto says so), bytes are base64, enums are
 * numbers, and a oneof is an object named after the oneof holding one object named after the set
 * field, both in Go's CamelCase ({@code "Response":{"ResponseRange":{...}}}).
 */
final class Json {
  private Json() {}

  /** The message as one line of JSON. */
  static String of(MessageOrBuilder message) {
    StringBuilder b = new StringBuilder();
    writeMessage(b, message);
    return b.toString();
  }

  /** A JSON object built field by field, for the shapes that are not a single proto message. */
  static Obj object() {
    return new Obj();
  }

  /** A JSON array of already-encoded elements. */
  static String array(List<String> elements) {
    return elements == null ? "null" : "[" + String.join(",", elements) + "]";
  }

  static String string(String s) {
    StringBuilder b = new StringBuilder();
    writeString(b, s);
    return b.toString();
  }

  /** Builds an object; fields keep the order they are added in. */
  static final class Obj {
    private final StringBuilder b = new StringBuilder("{");

    Obj raw(String name, String json) {
      if (b.length() > 1) {
        b.append(',');
      }
      writeString(b, name);
      b.append(':').append(json);
      return this;
    }

    Obj num(String name, long value) {
      return raw(name, Long.toString(value));
    }

    Obj unsigned(String name, long value) {
      return raw(name, Long.toUnsignedString(value));
    }

    Obj str(String name, String value) {
      return raw(name, string(value));
    }

    Obj bool(String name, boolean value) {
      return raw(name, Boolean.toString(value));
    }

    Obj message(String name, MessageOrBuilder value) {
      return raw(name, of(value));
    }

    /**
     * The header's fields inline, as Go prints a struct that embeds {@code *ResponseHeader}
     * (etcdctl's lease responses).
     */
    Obj embed(ResponseHeader h) {
      if (h.getClusterId() != 0) {
        unsigned("cluster_id", h.getClusterId());
      }
      if (h.getMemberId() != 0) {
        unsigned("member_id", h.getMemberId());
      }
      if (h.getRevision() != 0) {
        num("revision", h.getRevision());
      }
      if (h.getRaftTerm() != 0) {
        unsigned("raft_term", h.getRaftTerm());
      }
      return this;
    }

    String build() {
      return b + "}";
    }
  }

  private static void writeMessage(StringBuilder b, MessageOrBuilder m) {
    b.append('{');
    boolean first = true;
    Set<OneofDescriptor> oneofsDone = new HashSet<>();
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      OneofDescriptor oneof = f.getRealContainingOneof();
      if (oneof != null) {
        if (!oneofsDone.add(oneof)) {
          continue;
        }
        first = comma(b, first);
        writeString(b, goName(oneof.getName()));
        b.append(':');
        FieldDescriptor set = m.getOneofFieldDescriptor(oneof);
        if (set == null) {
          b.append("null");
        } else {
          b.append('{');
          writeString(b, goName(set.getName()));
          b.append(':');
          writeValue(b, set, m.getField(set));
          b.append('}');
        }
        continue;
      }
      if (f.isRepeated() ? m.getRepeatedFieldCount(f) == 0 : !isSet(m, f)) {
        continue;
      }
      first = comma(b, first);
      writeString(b, f.getName());
      b.append(':');
      if (f.isRepeated()) {
        b.append('[');
        for (int i = 0; i < m.getRepeatedFieldCount(f); i++) {
          if (i > 0) {
            b.append(',');
          }
          writeValue(b, f, m.getRepeatedField(f, i));
        }
        b.append(']');
      } else {
        writeValue(b, f, m.getField(f));
      }
    }
    b.append('}');
  }

  private static boolean isSet(MessageOrBuilder m, FieldDescriptor f) {
    if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
      return m.hasField(f);
    }
    Object v = m.getField(f);
    return switch (f.getJavaType()) {
      case INT, LONG, FLOAT, DOUBLE -> ((Number) v).doubleValue() != 0;
      case BOOLEAN -> (Boolean) v;
      case STRING -> !((String) v).isEmpty();
      case BYTE_STRING -> !((ByteString) v).isEmpty();
      case ENUM -> ((com.google.protobuf.Descriptors.EnumValueDescriptor) v).getNumber() != 0;
      case MESSAGE -> true;
    };
  }

  private static void writeValue(StringBuilder b, FieldDescriptor f, Object v) {
    switch (f.getType()) {
      case UINT64, FIXED64 -> b.append(Long.toUnsignedString((Long) v));
      case UINT32, FIXED32 -> b.append(Integer.toUnsignedString((Integer) v));
      case INT64, SINT64, SFIXED64, INT32, SINT32, SFIXED32, BOOL, DOUBLE, FLOAT -> b.append(v);
      case STRING -> writeString(b, (String) v);
      case BYTES ->
          b.append('"')
              .append(Base64.getEncoder().encodeToString(((ByteString) v).toByteArray()))
              .append('"');
      case ENUM -> b.append(((com.google.protobuf.Descriptors.EnumValueDescriptor) v).getNumber());
      case MESSAGE, GROUP -> writeMessage(b, (MessageOrBuilder) v);
    }
  }

  private static boolean comma(StringBuilder b, boolean first) {
    if (!first) {
      b.append(',');
    }
    return false;
  }

  /** Go's exported field name for a proto name: "response_delete_range" → "ResponseDeleteRange". */
  static String goName(String protoName) {
    StringBuilder b = new StringBuilder();
    boolean upper = true;
    for (char c : protoName.toCharArray()) {
      if (c == '_') {
        upper = true;
      } else {
        b.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      }
    }
    return b.toString();
  }

  /** Go's encoding/json string form, including its HTML-safe escapes of &lt; &gt; and &amp;. */
  private static void writeString(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '<', '>', '&', '\u2028', '\u2029' -> b.append(String.format("\\u%04x", (int) c));
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }
}
