package io.tern.cli;

import com.google.protobuf.ByteString;
import io.tern.api.Compare;
import io.tern.api.RequestOp;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * Reads etcdctl's transaction language. A compare is {@code <target>("<key>") <op> "<value>"} with
 * target ver|version, c|create, m|mod, val|value or lease (hex), and op =, !=, &lt; or &gt;. A
 * request is a get, put or del command line, with the same flags as the commands themselves;
 * arguments may be double-quoted (Go escapes) or single-quoted (literal).
 */
final class TxnParser {
  private TxnParser() {}

  static Compare parseCompare(String line) {
    int paren = line.indexOf('(');
    if (paren < 0) {
      throw new CliException("malformed comparison: " + line);
    }
    String target = line.substring(0, paren).strip();
    Cursor c = new Cursor(line, paren + 1);
    ByteString key;
    String op;
    ByteString value;
    try {
      key = c.quoted();
      c.expect(')');
      op = c.word();
      value = c.quoted();
    } catch (IllegalArgumentException e) {
      throw new CliException("malformed comparison: " + line);
    }
    Compare.Builder b = Compare.newBuilder().setKey(key);
    switch (op) {
      case "=" -> b.setResult(Compare.CompareResult.EQUAL);
      case "!=" -> b.setResult(Compare.CompareResult.NOT_EQUAL);
      case "<" -> b.setResult(Compare.CompareResult.LESS);
      case ">" -> b.setResult(Compare.CompareResult.GREATER);
      default ->
          throw new CliException(
              "malformed comparison: " + line + " (unknown operator " + op + ")");
    }
    String v = value.toStringUtf8();
    try {
      switch (target) {
        case "ver", "version" ->
            b.setTarget(Compare.CompareTarget.VERSION).setVersion(Long.parseLong(v));
        case "c", "create" ->
            b.setTarget(Compare.CompareTarget.CREATE).setCreateRevision(Long.parseLong(v));
        case "m", "mod" -> b.setTarget(Compare.CompareTarget.MOD).setModRevision(Long.parseLong(v));
        case "val", "value" -> b.setTarget(Compare.CompareTarget.VALUE).setValue(value);
        case "lease" -> b.setTarget(Compare.CompareTarget.LEASE).setLease(Long.parseLong(v, 16));
        default ->
            throw new CliException(
                "malformed comparison: " + line + " (unknown target " + target + ")");
      }
    } catch (NumberFormatException e) {
      throw new CliException(
          "invalid txn compare request: " + line + " (\"" + v + "\" is not a number)");
    }
    return b.build();
  }

  /** A get, put or del line as the request it stands for. */
  static RequestOp parseOp(String line) {
    List<String> args = argify(line);
    if (args.size() < 2) {
      throw new CliException("invalid txn request: " + line);
    }
    String[] rest = args.subList(1, args.size()).toArray(new String[0]);
    try {
      switch (args.get(0)) {
        case "get" -> {
          GetCommand get = new GetCommand();
          new CommandLine(get).parseArgs(rest);
          return RequestOp.newBuilder().setRequestRange(get.request()).build();
        }
        case "put" -> {
          PutCommand put = new PutCommand();
          new CommandLine(put).parseArgs(rest);
          return RequestOp.newBuilder()
              .setRequestPut(put.request(new ByteArrayInputStream(new byte[0])))
              .build();
        }
        case "del", "delete" -> {
          DelCommand del = new DelCommand();
          new CommandLine(del).parseArgs(rest);
          return RequestOp.newBuilder().setRequestDeleteRange(del.request()).build();
        }
        default -> throw new CliException("invalid txn request: " + line);
      }
    } catch (CommandLine.ParameterException | IOException e) {
      throw new CliException("invalid txn request: " + line);
    }
  }

  /**
   * Splits a line into arguments: runs of non-space characters, "double-quoted" strings with Go
   * escapes, or 'single-quoted' strings taken literally.
   */
  static List<String> argify(String line) {
    List<String> out = new ArrayList<>();
    Cursor c = new Cursor(line, 0);
    while (c.skipSpaces()) {
      char ch = c.peek();
      if (ch == '"' || ch == '\'') {
        out.add(c.quoted().toStringUtf8());
      } else {
        out.add(c.word());
      }
    }
    return out;
  }

  /** Reads tokens from a line. */
  private static final class Cursor {
    private final String s;
    private int at;

    Cursor(String s, int at) {
      this.s = s;
      this.at = at;
    }

    /** Skips blanks; true if something follows. */
    boolean skipSpaces() {
      while (at < s.length() && Character.isWhitespace(s.charAt(at))) {
        at++;
      }
      return at < s.length();
    }

    char peek() {
      return s.charAt(at);
    }

    void expect(char ch) {
      skipSpaces();
      if (at >= s.length() || s.charAt(at) != ch) {
        throw new IllegalArgumentException("expected " + ch);
      }
      at++;
    }

    String word() {
      if (!skipSpaces()) {
        throw new IllegalArgumentException("expected a word");
      }
      int start = at;
      while (at < s.length() && !Character.isWhitespace(s.charAt(at))) {
        at++;
      }
      return s.substring(start, at);
    }

    /** A "Go-escaped", `raw` or 'literal' string. */
    ByteString quoted() {
      if (!skipSpaces()) {
        throw new IllegalArgumentException("expected a quoted string");
      }
      char q = s.charAt(at);
      if (q == '\'' || q == '`') {
        int end = s.indexOf(q, at + 1);
        if (end < 0) {
          throw new IllegalArgumentException("unterminated string");
        }
        String body = s.substring(at + 1, end);
        at = end + 1;
        return ByteString.copyFromUtf8(body);
      }
      if (q != '"') {
        throw new IllegalArgumentException("expected a quoted string");
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      at++;
      while (true) {
        if (at >= s.length()) {
          throw new IllegalArgumentException("unterminated string");
        }
        char ch = s.charAt(at++);
        if (ch == '"') {
          return ByteString.copyFrom(out.toByteArray());
        }
        if (ch != '\\') {
          int cp = Character.codePointAt(s, at - 1);
          at += Character.charCount(cp) - 1;
          out.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
          continue;
        }
        if (at >= s.length()) {
          throw new IllegalArgumentException("unterminated string");
        }
        char e = s.charAt(at++);
        switch (e) {
          case 'a' -> out.write(7);
          case 'b' -> out.write('\b');
          case 'f' -> out.write('\f');
          case 'n' -> out.write('\n');
          case 'r' -> out.write('\r');
          case 't' -> out.write('\t');
          case 'v' -> out.write(11);
          case '\\', '"', '\'' -> out.write(e);
          case 'x' -> out.write(hex(2));
          case 'u' ->
              out.writeBytes(
                  new String(Character.toChars(hex(4))).getBytes(StandardCharsets.UTF_8));
          case 'U' ->
              out.writeBytes(
                  new String(Character.toChars(hex(8))).getBytes(StandardCharsets.UTF_8));
          default -> {
            if (e >= '0' && e <= '7') {
              at--;
              out.write(Integer.parseInt(take(3), 8));
            } else {
              throw new IllegalArgumentException("bad escape \\" + e);
            }
          }
        }
      }
    }

    private int hex(int digits) {
      return Integer.parseInt(take(digits), 16);
    }

    private String take(int n) {
      if (at + n > s.length()) {
        throw new IllegalArgumentException("short escape");
      }
      String t = s.substring(at, at + n);
      at += n;
      return t;
    }
  }
}
