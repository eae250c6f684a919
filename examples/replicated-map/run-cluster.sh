#!/usr/bin/env bash
# Starts a 3-member replicated map on 127.0.0.1 (data under ./data/map, logs under
# ./data/map/logs) and stops every member on Ctrl-C.
#
# Builds on first use. From the repository root:
#   examples/replicated-map/run-cluster.sh
# and talk to any member, e.g.:
#   nc 127.0.0.1 9001        (then type: PUT greeting hello / GET greeting / STATUS)
#
# Ports: Raft 8001-8003, clients 9001-9003 (override with RAFT_BASE / CLIENT_BASE).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$(ls "$here"/target/tern-example-replicated-map-*.jar 2>/dev/null | head -n 1 || true)"
if [[ -z "$jar" || ! -d "$here/target/lib" ]]; then
  echo "building (first use)..." >&2
  (cd "$here/../.." && mvn -q -B -ntp install -DskipTests -pl examples/replicated-map -am) >&2
  jar="$(ls "$here"/target/tern-example-replicated-map-*.jar | head -n 1)"
fi
cp="$jar:$here/target/lib/*"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"

raft_base="${RAFT_BASE:-8000}"
client_base="${CLIENT_BASE:-9000}"
data="${DATA_DIR:-./data/map}"
mkdir -p "$data/logs"

peers=""
for id in 1 2 3; do
  peers+="${peers:+,}$id=127.0.0.1:$((raft_base + id))"
done

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "stopping members: ${pids[*]}"
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap stop INT TERM EXIT

for id in 1 2 3; do
  "$java" -cp "$cp" io.tern.example.map.MapServer \
    --id "$id" \
    --data-dir "$data/$id" \
    --raft-port "$((raft_base + id))" \
    --client-port "$((client_base + id))" \
    --peers "$peers" \
    >"$data/logs/member-$id.log" 2>&1 &
  pids+=("$!")
  echo "member $id: pid $!, clients on 127.0.0.1:$((client_base + id)), log $data/logs/member-$id.log"
done

echo "cluster running; Ctrl-C stops it"
# Returns when any member exits (or on Ctrl-C): then every member is stopped.
wait -n "${pids[@]}" || true
