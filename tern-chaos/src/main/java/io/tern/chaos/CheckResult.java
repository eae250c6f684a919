package io.tern.chaos;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One checker's verdict: {@code ok}, a one-line summary, and the problems found (capped, with the
 * total count in the summary).
 */
record CheckResult(String name, boolean ok, String summary, List<String> problems) {
  static final int MAX_PROBLEMS = 50;

  CheckResult {
    problems = List.copyOf(problems.subList(0, Math.min(problems.size(), MAX_PROBLEMS)));
  }

  static CheckResult of(String name, String what, List<String> problems) {
    return new CheckResult(
        name,
        problems.isEmpty(),
        problems.isEmpty() ? what : problems.size() + " problem(s); " + what,
        problems);
  }

  Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("ok", ok);
    m.put("summary", summary);
    m.put("problems", problems);
    return m;
  }
}
