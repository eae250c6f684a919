#!/usr/bin/env bash
# Chaos runs of Tern: 5 `tern server` processes under faults, concurrent clients, history checks.
#
#   chaos/run.sh                          # seed 1, 60 s of faults
#   chaos/run.sh --seeds 20 --duration 300
#   chaos/run.sh --seed 7,9 --mode proxy --clock-skew on --out /tmp/chaos
#   chaos/run.sh --cleanup                # remove leftovers (namespaces, links, member processes)
#
# As root with `ip netns`, every member runs in its own network namespace (real partitions);
# otherwise on loopback behind per-link TCP proxies. Each run writes a directory (default under
# target/chaos) with history.jsonl, faults.jsonl, verdict.json, summary.txt and plot.png.
# The exit status is 0 when every run is valid. `--help` lists the options.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PREFIX=tchaos

cleanup_leftovers() {
  # Namespaces and links of crashed runs carry the harness prefix; their processes die with them.
  if [ "$(id -u)" = 0 ] && command -v ip >/dev/null; then
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${PREFIX}" || true); do
      for pid in $(ip netns pids "$ns" 2>/dev/null || true); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    done
    for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^${PREFIX}" || true); do
      ip link del "$link" 2>/dev/null || true
    done
  fi
}

for arg in "$@"; do
  if [ "$arg" = "--cleanup" ]; then cleanup_leftovers; exit 0; fi
done

JAR="$ROOT/tern-chaos/target/tern-chaos-0.1.0-SNAPSHOT.jar"
if [ ! -f "$JAR" ] || [ ! -d "$ROOT/tern-chaos/target/lib" ] || [ -n "${CHAOS_REBUILD:-}" ]; then
  echo "building tern-chaos (and the modules it needs)..." >&2
  mvn -q -ntp install -DskipTests -pl tern-chaos -am >&2
fi

# Clock skew needs Debian's faketime (libfaketime); install it when we can, else runs record it
# as skipped.
if [ ! -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] && [ "$(id -u)" = 0 ] \
    && command -v apt-get >/dev/null; then
  apt-get install -y -q faketime >/dev/null 2>&1 || echo "faketime not installed: clock skew will be skipped" >&2
fi

cleanup_leftovers
trap cleanup_leftovers EXIT
java -cp "$JAR:$ROOT/tern-chaos/target/lib/*" io.tern.chaos.ChaosMain "$@"
