#!/usr/bin/env bash
# Raft library comparison: Tern vs SOFAJRaft 1.3.14 vs Apache Ratis 3.1.3 on this machine.
#
# For each system: 3 member JVMs on loopback (fresh data dirs, each library's default durability:
# fsync on every log write / batch), 1 load JVM sending 256-byte proposals closed-loop at each
# in-flight level to the leader, answered after commit + apply on the leader. Prints one table.
# Sources and details: bench/raft-compare/README.md. Results: bench/RESULTS.md.
#
#   bench/compare-raft.sh [--systems tern,jraft,ratis] [--inflight 1,16,64,256] [--duration 15]
#                         [--runs 1] [--warmup 5] [--prime 60] [--connections 16] [--payload 256]
#                         [--ratis-outstanding 1|default] [--heap 1g] [--base-port 17100]
#                         [--jfr DIR] [--keep DIR] [--out FILE] [--no-build] [--tern-args "..."]
#                         [--jvm-args "..."] [--load-jvm-args "..."]
#
#   --prime S            after the members start, 64 in flight for S seconds, not measured, before
#                        the levels (default 60): a member's C2 compiler still took 15-19 % of a
#                        core 30-40 s into the load (2026-12-03); members run for days
#   --ratis-outstanding  raft.grpc.server.leader.outstanding.appends.max for Ratis (default 1, the
#                        workaround for the 3.1.3 replication regression; "default" leaves Ratis'
#                        own default)
#   --jfr DIR            record a JFR profile (settings=profile) of every server into DIR
#   --keep DIR           copy the server and load logs into DIR at the end
#   --out FILE           append the raw RESULT lines to FILE
#   --no-build           use the jars already built under bench/raft-compare/*/target
#   --jvm-args "..."     extra JVM options for every member; {name} becomes <system>-run<r>-m<i>
#                        (e.g. a profiler agent writing one file per member)
#   --load-jvm-args "..." JVM options of the load generator (default: -XX:TieredStopAtLevel=1: a
#                        fresh load JVM per level would otherwise spend a large part of the shared
#                        2 cores compiling with C2 during the short measurement, the same for all)
#   --tern-args "..."    extra arguments for the Tern servers (profiling aids: --diag-writes true,
#                        --experiment-lazy-commit true, --experiment-no-disk true; see
#                        bench/raft-compare/README.md)
#
# Every JVM (members and load) runs with Netty's buffer-leak detector off, for each library's own
# Netty (Tern's grpc-netty-shaded, SOFAJRaft's bolt/netty, Ratis' thirdparty netty): it samples
# buffers and records stack traces, a debugging aid that costs CPU.
#
# Before each system it times 200 synced 4 KiB appends (dd oflag=dsync) in the data directory and
# prints the mean with the load average: the disk and the CPUs are shared, so read results with them.
set -euo pipefail

SYSTEMS=tern,jraft,ratis
INFLIGHT=1,16,64,256
DURATION=15
WARMUP=5
PRIME=60
RUNS=1
CONNECTIONS=16
PAYLOAD=256
RATIS_OUTSTANDING=1
HEAP=1g
BASE_PORT=17100
JFR_DIR=
KEEP_DIR=
OUT_FILE=
BUILD=1
TERN_ARGS=
JVM_ARGS=
LOAD_JVM_ARGS="-XX:TieredStopAtLevel=1"
NO_LEAK_DETECTION=(-Dio.netty.leakDetection.level=disabled
  -Dio.grpc.netty.shaded.io.netty.leakDetection.level=disabled
  -Dorg.apache.ratis.thirdparty.io.netty.leakDetection.level=disabled)

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --systems) SYSTEMS=$2; shift 2 ;;
    --inflight) INFLIGHT=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --prime) PRIME=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --payload) PAYLOAD=$2; shift 2 ;;
    --ratis-outstanding) RATIS_OUTSTANDING=$2; shift 2 ;;
    --heap) HEAP=$2; shift 2 ;;
    --base-port) BASE_PORT=$2; shift 2 ;;
    --jfr) JFR_DIR=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
    --keep) KEEP_DIR=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
    --out) OUT_FILE=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --tern-args) TERN_ARGS=$2; shift 2 ;;
    --jvm-args) JVM_ARGS=$2; shift 2 ;;
    --load-jvm-args) LOAD_JVM_ARGS=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage 2 >&2 ;;
  esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RC=$ROOT/bench/raft-compare
LOAD_JAR=$RC/common/target/raft-compare-common-1.0-SNAPSHOT-load.jar
IFS=, read -r -a SYSTEM_LIST <<<"$SYSTEMS"
IFS=, read -r -a INFLIGHT_LIST <<<"$INFLIGHT"

for s in "${SYSTEM_LIST[@]}"; do
  case "$s" in tern|jraft|ratis) ;; *) echo "unknown system: $s (tern, jraft, ratis)" >&2; exit 2 ;; esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/raft-compare.XXXXXX")
RESULTS=$WORK/results.txt
: >"$RESULTS"
SERVER_PIDS=()
LOAD_PID=

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

stop_servers() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${SERVER_PIDS[@]}"; do
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "server $pid did not stop in 20 s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PIDS=()
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$LOAD_PID" ]]; then
    kill -TERM "$LOAD_PID" 2>/dev/null || true
    wait "$LOAD_PID" 2>/dev/null || true
  fi
  stop_servers
  if [[ -n "$KEEP_DIR" && -d "$WORK/logs" ]]; then
    cp -r "$WORK/logs/." "$KEEP_DIR/" || true
    cp "$RESULTS" "$KEEP_DIR/results.txt" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- build

if [[ $BUILD == 1 ]]; then
  modules=common
  for s in "${SYSTEM_LIST[@]}"; do
    modules="$modules,$s-server"
    if [[ $s == tern ]]; then
      log "installing Tern (tern-raft, tern-storage, tern-transport) into the local Maven repository"
      (cd "$ROOT" && mvn -q -ntp install -DskipTests -Dspotless.check.skip=true \
        -pl tern-raft,tern-storage,tern-transport -am)
    fi
  done
  log "building $modules"
  (cd "$RC" && mvn -q -ntp package -pl "$modules")
fi
[[ -f $LOAD_JAR ]] || { echo "missing $LOAD_JAR (run without --no-build)" >&2; exit 1; }

# ---------------------------------------------------------------- one system

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port pid seconds
  local i
  for i in $(seq 1 $(($3 * 5))); do
    if ! port_free "$1"; then return 0; fi
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

fsync_probe() { # system run: mean time of a synced 4 KiB append here, and the load average
  local f=$WORK/data/$1-run$2/probe secs ms
  secs=$( { LC_ALL=C dd if=/dev/zero of="$f" bs=4k count=200 oflag=dsync 2>&1 >/dev/null || true; } |
    awk '/copied/ { for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) print $(i - 1) }')
  rm -f "$f"
  ms=$(awk -v s="${secs:-0}" 'BEGIN { printf "%.2f", s * 1000 / 200 }')
  echo "PROBE system=$1 run=$2 fsync_ms=$ms load=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$RESULTS" >&2
}

servers_cpu_ticks() { # user + system CPU ticks of the running members
  local pid total=0 stat
  for pid in "${SERVER_PIDS[@]}"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    read -r -a f <<<"$stat"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

SLOT=0
run_system() { # system run
  local sys=$1 run=$2 jar base i peers members extra=()
  jar=$RC/$sys-server/target/$sys-server.jar
  [[ -f $jar ]] || { echo "missing $jar (run without --no-build)" >&2; exit 1; }
  base=$((BASE_PORT + 20 * SLOT))
  SLOT=$((SLOT + 1))
  for i in 1 2 3 11 12 13; do
    port_free $((base + i)) || { echo "port $((base + i)) is busy: use --base-port" >&2; exit 1; }
  done
  peers="1=127.0.0.1:$((base + 1)),2=127.0.0.1:$((base + 2)),3=127.0.0.1:$((base + 3))"
  members="127.0.0.1:$((base + 11)),127.0.0.1:$((base + 12)),127.0.0.1:$((base + 13))"
  if [[ $sys == ratis && $RATIS_OUTSTANDING != default ]]; then
    extra=(--prop "raft.grpc.server.leader.outstanding.appends.max=$RATIS_OUTSTANDING")
  fi
  if [[ $sys == tern && -n "$TERN_ARGS" ]]; then
    read -r -a more <<<"$TERN_ARGS"
    extra+=("${more[@]}")
  fi
  mkdir -p "$WORK/logs" "$WORK/data/$sys-run$run"
  fsync_probe "$sys" "$run"
  for i in 1 2 3; do
    local jvm=(-Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC "${NO_LEAK_DETECTION[@]}")
    if [[ -n "$JFR_DIR" ]]; then
      jvm+=("-XX:StartFlightRecording=filename=$JFR_DIR/$sys-run$run-m$i.jfr,settings=profile,dumponexit=true")
    fi
    if [[ -n "$JVM_ARGS" ]]; then
      read -r -a more <<<"${JVM_ARGS//\{name\}/$sys-run$run-m$i}"
      jvm+=("${more[@]}")
    fi
    java "${jvm[@]}" -jar "$jar" --id "$i" --data "$WORK/data/$sys-run$run/m$i" --peers "$peers" \
      --client-port $((base + 10 + i)) "${extra[@]}" >"$WORK/logs/$sys-run$run-m$i.log" 2>&1 &
    SERVER_PIDS+=($!)
  done
  for i in 1 2 3; do
    if ! wait_port $((base + 10 + i)) "${SERVER_PIDS[$((i - 1))]}" 60; then
      log "$sys member $i did not start; its log:"
      tail -n 30 "$WORK/logs/$sys-run$run-m$i.log" >&2
      stop_servers
      echo "RESULT system=$sys run=$run inflight=- error=start" >>"$RESULTS"
      return
    fi
  done
  log "$sys (run $run): 3 members up, ports $((base + 1))-$((base + 3)) / $((base + 11))-$((base + 13))"
  local n load
  # The load generator, the same for priming and for every level.
  read -r -a load <<<"$LOAD_JVM_ARGS"
  load=(java -Xms256m -Xmx512m "${load[@]}" "${NO_LEAK_DETECTION[@]}" -jar "$LOAD_JAR"
    --system "$sys" --members "$members" --connections "$CONNECTIONS" --payload "$PAYLOAD")
  if ((PRIME > 0)); then
    log "$sys (run $run): priming, 64 in flight for ${PRIME}s (not measured)"
    "${load[@]}" --inflight 64 --warmup 0 --duration "$PRIME" \
      >"$WORK/logs/$sys-run$run-load-prime.log" 2>&1 || log "$sys (run $run): priming failed"
  fi
  for n in "${INFLIGHT_LIST[@]}"; do
    log "$sys (run $run): $n in flight, ${WARMUP}s warm-up + ${DURATION}s"
    local line rc=0 cpu0 cpu1 t0 t1
    cpu0=$(servers_cpu_ticks)
    t0=$(date +%s%N)
    "${load[@]}" --inflight "$n" --warmup "$WARMUP" --duration "$DURATION" \
      >"$WORK/logs/$sys-run$run-load-$n.log" 2>&1 &
    LOAD_PID=$!
    wait "$LOAD_PID" || rc=$?
    LOAD_PID=
    cpu1=$(servers_cpu_ticks)
    t1=$(date +%s%N)
    line=$(grep '^RESULT' "$WORK/logs/$sys-run$run-load-$n.log" || true)
    if [[ -z "$line" ]]; then
      line="RESULT system=$sys inflight=$n error=load-exit-$rc"
      tail -n 5 "$WORK/logs/$sys-run$run-load-$n.log" >&2
    elif [[ $rc != 0 ]]; then
      line="$line error=load-exit-$rc"
    fi
    line="${line/RESULT system=$sys /RESULT system=$sys run=$run }"
    # CPU of the three members over the whole level (warm-up included), in cores.
    line="$line server_cpu_cores=$(awk -v c=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" \
      -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", c / hz / (ns / 1e9) }')"
    echo "$line" | tee -a "$RESULTS" >&2
  done
  stop_servers
  grep -h 'exiting' "$WORK"/logs/"$sys-run$run"-m*.log >&2 || true
  rm -rf "$WORK/data/$sys-run$run"
}

log "work dir $WORK; systems $SYSTEMS; in flight $INFLIGHT; ${WARMUP}s + ${DURATION}s each; $RUNS run(s)"
for run in $(seq 1 "$RUNS"); do
  for sys in "${SYSTEM_LIST[@]}"; do
    run_system "$sys" "$run"
  done
done

[[ -n "$OUT_FILE" ]] && cat "$RESULTS" >>"$OUT_FILE"

# ---------------------------------------------------------------- table

echo
printf 'Raft comparison on %s (%s cores), %s-byte proposals, %ss measured after %ss warm-up, %s run(s)\n' \
  "$(hostname)" "$(nproc)" "$PAYLOAD" "$DURATION" "$WARMUP" "$RUNS"
awk -v systems="$SYSTEMS" -v inflight="$INFLIGHT" -v runs="$RUNS" '
  function field(name,   i, kv) {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
    return ""
  }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  /^RESULT/ {
    k = field("system") SUBSEP field("inflight")
    if (field("error") != "" ) { err[k] = err[k] " " field("error") }
    if (field("notleader") + 0 > 0) { err[k] = err[k] " notleader=" field("notleader") "/leaderchanges=" field("leaderchanges") }
    if (field("failed") + 0 > 0) { err[k] = err[k] " failed=" field("failed") }
    if (field("ops") == "") next
    ops[k] = ops[k] " " field("ops"); p50[k] = p50[k] " " field("p50_us"); p99[k] = p99[k] " " field("p99_us")
    cpu[k] = cpu[k] " " field("server_cpu_cores")
    if (field("ops") + 0 > 0) us[k] = us[k] " " field("server_cpu_cores") * 1e6 / field("ops")
    cnt[k]++
  }
  END {
    ns = split(systems, S, ","); ni = split(inflight, I, ",")
    hdr = runs > 1 ? "(median of runs)" : ""
    printf "%-7s %9s %10s %9s %9s %8s %9s  %s\n", "system", "in-flight", "ops/s", "p50 ms", "p99 ms", "srv CPU", "CPU us/op", "notes " hdr
    for (s = 1; s <= ns; s++) for (i = 1; i <= ni; i++) {
      k = S[s] SUBSEP I[i]
      note = err[k] != "" ? "!" err[k] : ""
      if (cnt[k] > 1) note = note " runs ops/s:" ops[k]
      if (cnt[k] == 0) { printf "%-7s %9s %10s %9s %9s %8s %9s  %s\n", S[s], I[i], "-", "-", "-", "-", "-", note; continue }
      printf "%-7s %9s %10.0f %9.2f %9.2f %8.2f %9.1f  %s\n", S[s], I[i], median(ops[k]), median(p50[k]) / 1000, median(p99[k]) / 1000, median(cpu[k]), median(us[k]), note
    }
  }' "$RESULTS"
echo
echo "Disk and load before each system (200 synced 4 KiB appends with dd; 1-minute load average):"
awk '/^PROBE/ { printf "  %s\n", substr($0, 7) }' "$RESULTS"
echo "srv CPU: cores used by the three members together during the level (of 2; the load JVM shares them)."
echo "CPU us/op: those cores' CPU time per committed proposal (steadier than ops/s on a noisy machine)."
