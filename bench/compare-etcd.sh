#!/usr/bin/env bash
# etcd vs Tern on this machine, same client (tern bench), same workloads, same durability.
#
# For each run and each system, one system at a time: a fresh 3-member cluster on loopback (each
# member its own data directory under a temp dir, fsync on: etcd's defaults, Tern's defaults),
# then `tern bench` for every workload at every client count (8-byte keys, 256-byte values by
# default), sampling each member's resident memory (VmRSS), CPU time and bytes written to storage
# meanwhile. At the end: one Markdown table with both systems and the Tern/etcd ratios (medians
# over the runs), a second with what one request cost the members (CPU µs and KB written, over each
# level's measured window; steadier than throughput on a noisy machine), and in the results
# directory the raw results (raw.jsonl, raw.csv), the medians (summary.csv) and chart.png
# (throughput and p99 against the client count). Results: bench/RESULTS.md.
#
#   bench/compare-etcd.sh [--clients 1,16,64,256] [--workloads put,range-l,range-s]
#                         [--duration 15] [--warmup 5] [--prime 20] [--runs 1] [--systems etcd,tern]
#                         [--conns 16] [--target leader|all] [--key-size 8] [--val-size 256]
#                         [--key-space 10000] [--base-port 24300] [--results DIR]
#                         [--tern-java-opts "..."] [--bench-java-opts "..."] [--no-build]
#                         [--tern-jar FILE] [--report-only]
#
#   --workloads      any of tern bench's: put, range-l, range-s, txn-put, mixed, watch
#   The largest member RSS of a workload (priming included) is reported for each of its levels.
#   --duration/--warmup  seconds measured / loaded before measuring, per workload and client count
#   --prime S        before the first client count of each workload, S seconds at 64 clients, not
#                    measured (both systems). One `tern bench` process runs the priming and then
#                    every client count of a workload in turn, so its own code is compiled and warm
#                    at every level, 1 client included; and a JVM member compiles its hot paths in
#                    its first ~30 s under load, while a long-running member is what users get
#   --runs N         fresh clusters N times (systems alternating); the table shows medians
#   --conns N        connections of the load generator: min(clients, N)
#   --target         leader (default): every request goes to the leader; all: connections spread
#                    over the three members (followers forward writes, ReadIndex via the leader)
#   --results DIR    default target/compare-etcd/<UTC time> under the repository
#   --tern-java-opts JVM options of the Tern members (default: the ./tern launcher's for a member,
#                    a bounded heap)
#   --bench-java-opts JVM options of the load generator (default: none, the JVM's tiered C1+C2).
#                    Until 2026-12-03 every point ran a fresh generator JVM, C1-only at 1 client
#                    because a warm-up there sent too few requests for C2 to finish; a primed,
#                    C2-compiled generator answers a 1-client put ~0.15 ms sooner (RESULTS.md,
#                    ninth session)
#   --no-build       use tern-server/target/tern.jar as it is (otherwise ./tern rebuilds it when
#                    a source is newer)
#   --tern-jar FILE  run this tern.jar (members and load generator) instead, e.g. an older build
#                    for a before/after comparison; implies --no-build
#   --report-only    run nothing: rebuild table.md, the CSVs and chart.png from --results DIR's
#                    raw.jsonl (pass the same --clients, --workloads, --systems, --runs)
#
# Installs what is missing from Debian (etcd-server, gnuplot-nox, jq; sudo only when not root).
# Every process it starts is stopped on every exit path.
set -euo pipefail

CLIENTS=1,16,64,256
WORKLOADS=put,range-l,range-s
DURATION=15
WARMUP=5
PRIME=20
RUNS=1
SYSTEMS=etcd,tern
CONNS=16
TARGET=leader
KEY_SIZE=8
VAL_SIZE=256
KEY_SPACE=10000
BASE_PORT=24300
RESULTS=
TERN_JAVA_OPTS=
TERN_JAVA_OPTS_SET=0
BENCH_JAVA_OPTS=
BUILD=1
TERN_JAR=
REPORT_ONLY=0
QUOTA=$((8 * 1024 * 1024 * 1024))

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --clients) CLIENTS=$2; shift 2 ;;
    --workloads) WORKLOADS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --prime) PRIME=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --systems) SYSTEMS=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --target) TARGET=$2; shift 2 ;;
    --key-size) KEY_SIZE=$2; shift 2 ;;
    --val-size) VAL_SIZE=$2; shift 2 ;;
    --key-space) KEY_SPACE=$2; shift 2 ;;
    --base-port) BASE_PORT=$2; shift 2 ;;
    --results) RESULTS=$2; shift 2 ;;
    --tern-java-opts) TERN_JAVA_OPTS=$2; TERN_JAVA_OPTS_SET=1; shift 2 ;;
    --bench-java-opts) BENCH_JAVA_OPTS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --tern-jar) TERN_JAR=$2; BUILD=0; shift 2 ;;
    --report-only) REPORT_ONLY=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage 2 >&2 ;;
  esac
done

for n in "$DURATION" "$WARMUP" "$PRIME" "$RUNS" "$CONNS" "$BASE_PORT"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "not a whole number: $n" >&2; exit 2; }
done
((RUNS >= 1 && CONNS >= 1 && DURATION >= 1)) || { echo "--runs, --conns, --duration >= 1" >&2; exit 2; }
[[ $TARGET == leader || $TARGET == all ]] || { echo "--target is leader or all" >&2; exit 2; }
IFS=, read -r -a CLIENT_LIST <<<"$CLIENTS"
IFS=, read -r -a WORKLOAD_LIST <<<"$WORKLOADS"
IFS=, read -r -a SYSTEM_LIST <<<"$SYSTEMS"
for s in "${SYSTEM_LIST[@]}"; do
  [[ $s == etcd || $s == tern ]] || { echo "unknown system: $s (etcd, tern)" >&2; exit 2; }
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ -n $RESULTS ]] || RESULTS=$ROOT/target/compare-etcd/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)

# --- what it needs -------------------------------------------------------------------------------
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
APT_UPDATED=0
need() { # command, Debian package
  command -v "$1" >/dev/null 2>&1 && return
  echo "installing $2 ..." >&2
  if ((APT_UPDATED == 0)); then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
((REPORT_ONLY == 0)) && [[ " ${SYSTEM_LIST[*]} " == *" etcd "* ]] && need etcd etcd-server
need jq jq
need gnuplot gnuplot-nox

if ((BUILD && !REPORT_ONLY)); then
  "$ROOT/tern" --version >/dev/null # builds tern-server/target/tern.jar when absent or stale
fi
[[ -n $TERN_JAR ]] || TERN_JAR=$ROOT/tern-server/target/tern.jar
((REPORT_ONLY)) || [[ -f $TERN_JAR ]] || { echo "no $TERN_JAR" >&2; exit 1; }

# --- processes and cleanup -----------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tern-compare-etcd.XXXXXX")
# A copy, so a rebuild of the working tree during the run changes nothing here.
JAR=$WORK/tern.jar
((REPORT_ONLY)) || cp "$TERN_JAR" "$JAR"
MEMBER_PIDS=()
SAMPLER_PID=

stop_pids() { # pids...: TERM, up to 10 s, then KILL
  local p live
  (($# > 0)) || return 0
  kill -TERM "$@" 2>/dev/null || true
  for _ in $(seq 100); do
    live=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && live=1; done
    ((live)) || break
    sleep 0.1
  done
  kill -KILL "$@" 2>/dev/null || true
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n $SAMPLER_PID ]] && stop_pids "$SAMPLER_PID"
  stop_pids "${MEMBER_PIDS[@]}"
  cp -r "$WORK/logs" "$RESULTS/" 2>/dev/null || true
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$WORK/logs"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

client_port() { # system, member index: etcd from BASE_PORT, Tern from BASE_PORT + 100
  local offset=0
  [[ $1 == tern ]] && offset=100
  echo $((BASE_PORT + offset + 10 * $2))
}
peer_port() { echo $(($(client_port "$1" "$2") + 1)); }

start_cluster() { # system, run
  local sys=$1 run=$2 i cp pp initial="" dir
  for i in 0 1 2; do
    cp=$(client_port "$sys" $i); pp=$(peer_port "$sys" $i)
    port_free "$cp" && port_free "$pp" || { echo "port $cp or $pp is in use" >&2; return 1; }
    initial+="${initial:+,}m$i=http://127.0.0.1:$pp"
  done
  ENDPOINTS=""
  for i in 0 1 2; do
    cp=$(client_port "$sys" $i); pp=$(peer_port "$sys" $i)
    dir=$WORK/$sys-run$run/m$i
    mkdir -p "$dir"
    ENDPOINTS+="${ENDPOINTS:+,}127.0.0.1:$cp"
    local flags=(--name "m$i" --data-dir "$dir"
      --listen-client-urls "http://127.0.0.1:$cp" --advertise-client-urls "http://127.0.0.1:$cp"
      --listen-peer-urls "http://127.0.0.1:$pp" --initial-advertise-peer-urls "http://127.0.0.1:$pp"
      --initial-cluster "$initial" --initial-cluster-token "compare-$sys-$run"
      --initial-cluster-state new --quota-backend-bytes "$QUOTA")
    if [[ $sys == etcd ]]; then
      etcd "${flags[@]}" >"$WORK/logs/$sys-run$run-m$i.log" 2>&1 &
    else
      # Through the launcher, as users start a member (its JVM options unless --tern-java-opts).
      local env=(TERN_JAR="$JAR")
      ((TERN_JAVA_OPTS_SET)) && env+=(TERN_JAVA_OPTS="$TERN_JAVA_OPTS")
      env -u TERN_JAVA_OPTS "${env[@]}" "$ROOT/tern" server "${flags[@]}" \
        >"$WORK/logs/$sys-run$run-m$i.log" 2>&1 &
    fi
    MEMBER_PIDS+=($!)
  done
  local deadline=$((SECONDS + 60))
  until java -jar "$JAR" endpoint health --endpoints "$ENDPOINTS" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      echo "$sys did not become healthy in 60 s; logs in $RESULTS/logs" >&2
      return 1
    fi
    for p in "${MEMBER_PIDS[@]}"; do
      kill -0 "$p" 2>/dev/null || { echo "a $sys member exited; logs in $RESULTS/logs" >&2; return 1; }
    done
    sleep 0.5
  done
}

stop_cluster() {
  stop_pids "${MEMBER_PIDS[@]}"
  MEMBER_PIDS=()
}

# Largest VmRSS (KiB) of any member, written to $1 after every sample; and to $2 one line per
# sample: wall-clock milliseconds, the members' CPU time so far (clock ticks, user + system) and
# the bytes they have had written to storage (write_bytes of /proc/<pid>/io).
# One awk reads every member's files per sample, so the sampler costs the measured machine little.
sample_members() {
  local out=$1 usage=$2 max=0 kb p ticks bytes t files
  shift 2
  while :; do
    files=()
    for p in "$@"; do
      [[ -d /proc/$p ]] && files+=("/proc/$p/status" "/proc/$p/stat" "/proc/$p/io")
    done
    t=$(date +%s%3N)
    if ((${#files[@]} > 0)) && read -r kb ticks bytes < <(awk '
        FILENAME ~ /status$/ && /^VmRSS:/ { if ($2 > rss) rss = $2 }
        FILENAME ~ /stat$/ { ticks += $14 + $15 }
        FILENAME ~ /io$/ && /^write_bytes:/ { bytes += $2 }
        END { printf "%.0f %.0f %.0f\n", rss, ticks, bytes }' "${files[@]}" 2>/dev/null); then
      ((kb > max)) && max=$kb
      echo "$max" >"$out.tmp" && mv "$out.tmp" "$out"
      echo "$t $ticks $bytes" >>"$usage"
    fi # else a member exited between the check and the read: skip this sample
    sleep 0.5
  done
}

# The members' cores, CPU µs and KB written per request over one level's measured window, from
# the samples in $1 and that level's tern bench JSON line in $2: a JSON object (nulls when fewer
# than two samples fall in the window).
usage_per_op() {
  local from to ops
  from=$(jq -r '.measuredFromEpochMs' <<<"$2")
  to=$(jq -r '.measuredFromEpochMs + .elapsedSeconds * 1000 | floor' <<<"$2")
  ops=$(jq -r '.opsPerSecond' <<<"$2")
  awk -v from="$from" -v to="$to" -v ops="$ops" -v hz="$(getconf CLK_TCK)" '
    $1 >= from && $1 <= to { if (!n++) { t0 = $1; c0 = $2; b0 = $3 } t1 = $1; c1 = $2; b1 = $3 }
    END {
      if (n < 2 || t1 <= t0 || ops <= 0) { print "{\"memberCores\":null,\"cpuUsPerOp\":null,\"writeKbPerOp\":null}"; exit }
      s = (t1 - t0) / 1000; cores = (c1 - c0) / hz / s
      printf "{\"memberCores\":%.3f,\"cpuUsPerOp\":%.1f,\"writeKbPerOp\":%.2f}\n", cores, cores * 1e6 / ops, (b1 - b0) / 1024 / s / ops
    }' "$1"
}

# --- the runs ------------------------------------------------------------------------------------
tern_bench() { # workload clients-list seconds warmup-seconds prime-seconds: JSON lines on stdout
  # shellcheck disable=SC2086
  java $BENCH_JAVA_OPTS -jar "$JAR" bench "$1" --endpoints "$ENDPOINTS" --target "$TARGET" \
    --clients "$2" --conns "$CONNS" --key-size "$KEY_SIZE" --val-size "$VAL_SIZE" \
    --key-space "$KEY_SPACE" --duration "${3}s" --warmup "${4}s" \
    --prime "${5}s" --prime-clients 64 --json
}

disk_ms() { # mean ms of a synced 4 KiB append in the work directory
  local t0 t1
  t0=$(date +%s%N)
  dd if=/dev/zero of="$WORK/dd" bs=4k count=200 oflag=dsync 2>/dev/null
  t1=$(date +%s%N)
  rm -f "$WORK/dd"
  awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", ns / 200 / 1e6 }'
}

RAW=$RESULTS/raw.jsonl
if ((REPORT_ONLY == 0)); then # the runs, up to the report
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "tern: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown) (working tree)"
  echo "etcd: $(etcd --version 2>/dev/null | head -1 || echo absent)"
  echo "java: $(java -version 2>&1 | head -1)"
  echo "synced 4 KiB append: $(disk_ms) ms; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "command: bench/compare-etcd.sh --clients $CLIENTS --workloads $WORKLOADS --duration $DURATION --warmup $WARMUP --prime $PRIME --runs $RUNS --systems $SYSTEMS --conns $CONNS --target $TARGET --bench-java-opts \"$BENCH_JAVA_OPTS\""
} | tee "$RESULTS/machine.txt" >&2

: >"$RAW"
for ((run = 1; run <= RUNS; run++)); do
  for sys in "${SYSTEM_LIST[@]}"; do
    echo "== run $run: $sys (3 members, ports from $(client_port "$sys" 0))" >&2
    start_cluster "$sys" "$run"
    for w in "${WORKLOAD_LIST[@]}"; do
      tag=$sys-run$run-$w
      rss=$WORK/$tag.rss
      echo 0 >"$rss"
      : >"$WORK/$tag.usage"
      sample_members "$rss" "$WORK/$tag.usage" "${MEMBER_PIDS[@]}" &
      SAMPLER_PID=$!
      echo "  $w: priming ${PRIME} s at 64 clients, then clients $CLIENTS" >&2
      status=0
      tern_bench "$w" "$CLIENTS" "$DURATION" "$WARMUP" "$PRIME" >"$WORK/$tag.json" \
        2>"$WORK/logs/$tag.bench.log" || status=$?
      stop_pids "$SAMPLER_PID"
      SAMPLER_PID=
      rss_mb=$(awk '{printf "%.0f", $1 / 1024}' "$rss")
      if ((status != 0)) || ! jq -e . "$WORK/$tag.json" >/dev/null 2>&1; then
        echo "  $w: tern bench failed (exit $status): $(tail -1 "$WORK/logs/$tag.bench.log")" >&2
        continue
      fi
      while IFS= read -r line; do
        jq -c --arg system "$sys" --argjson run "$run" --argjson rss "$rss_mb" \
          --argjson usage "$(usage_per_op "$WORK/$tag.usage" "$line")" \
          '{system: $system, run: $run, workload, clients, conns, ops, opsPerSecond,
            p50: .latencyMs.p50, p90: .latencyMs.p90, p99: .latencyMs.p99,
            p999: .latencyMs["p99.9"], max: .latencyMs.max, errorCount, errors,
            maxRssMb: $rss} + $usage' <<<"$line" | tee -a "$RAW" |
          jq -r '"  \(.workload) x \(.clients): \(.opsPerSecond | round) ops/s, p50 \(.p50) ms, p99 \(.p99) ms, \(.errorCount) errors, max member RSS \(.maxRssMb) MB, members \(.memberCores) cores, \(.cpuUsPerOp) µs CPU and \(.writeKbPerOp) KB written per request"' >&2
      done < <(jq -c . "$WORK/$tag.json")
    done
    stop_cluster
  done
done
fi # the runs

# --- report --------------------------------------------------------------------------------------
jq -r '["system","run","workload","clients","conns","ops","ops_per_s","p50_ms","p90_ms","p99_ms",
        "p999_ms","max_ms","errors","max_rss_mb","member_cores","cpu_us_per_op","write_kb_per_op"],
       (.[] | [.system,.run,.workload,.clients,.conns,.ops,.opsPerSecond,.p50,.p90,.p99,.p999,.max,
               .errorCount,.maxRssMb,.memberCores,.cpuUsPerOp,.writeKbPerOp]) | @csv' \
  --slurp "$RAW" >"$RESULTS/raw.csv"

# Medians over the runs per system, workload and client count (RSS: the largest of the runs).
jq --slurp '
  def median: sort | if length == 0 then null
    elif length % 2 == 1 then .[length / 2 | floor]
    else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  group_by([.system, .workload, .clients]) | map({
    system: .[0].system, workload: .[0].workload, clients: .[0].clients, runs: length,
    opsPerSecond: (map(.opsPerSecond) | median), p50: (map(.p50) | median),
    p99: (map(.p99) | median), errors: (map(.errorCount) | add), maxRssMb: (map(.maxRssMb) | max),
    memberCores: (map(.memberCores // empty) | median),
    cpuUsPerOp: (map(.cpuUsPerOp // empty) | median),
    writeKbPerOp: (map(.writeKbPerOp // empty) | median)})
' "$RAW" >"$RESULTS/summary.json"
jq -r '["system","workload","clients","runs","ops_per_s","p50_ms","p99_ms","errors","max_rss_mb",
        "member_cores","cpu_us_per_op","write_kb_per_op"],
       (.[] | [.system,.workload,.clients,.runs,.opsPerSecond,.p50,.p99,.errors,.maxRssMb,
               .memberCores,.cpuUsPerOp,.writeKbPerOp]) | @csv' \
  "$RESULTS/summary.json" >"$RESULTS/summary.csv"

# jq helpers of the tables: the median row of a system at workload $w and client count $c, a
# number rounded to 1/$d ("-" when absent), and a ratio.
TABLE_DEFS='
  def row($s): (map(select(.system == $s and .workload == $w and .clients == $c)) | .[0]);
  def f($d): if . == null then "-" else (. * $d | round / $d | tostring) end;
  def ratio($a; $b): if $a == null or $b == null or $b == 0 then "-"
    else ($a / $b * 100 | round / 100 | tostring) + "x" end;'

# One row per workload and client count, in the order run.
{
  echo "| workload | clients | etcd ops/s | etcd p50 ms | etcd p99 ms | etcd RSS MB | Tern ops/s | Tern p50 ms | Tern p99 ms | Tern RSS MB | ops/s Tern/etcd | p99 Tern/etcd | errors etcd/Tern |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for w in "${WORKLOAD_LIST[@]}"; do
    for c in "${CLIENT_LIST[@]}"; do
      jq -r --arg w "$w" --argjson c "$c" "$TABLE_DEFS"'
        def commas: if length > 3 then (.[0:length-3] | commas) + "," + .[length-3:] else . end;
        def n: if . == null then "-" else (round | tostring | commas) end;
        def ms: f(100);
        row("etcd") as $e | row("tern") as $t
        | if $e == null and $t == null then empty else
          "| \($w) | \($c) | \($e.opsPerSecond | n) | \($e.p50 | ms) | \($e.p99 | ms) | \($e.maxRssMb // "-")"
          + " | \($t.opsPerSecond | n) | \($t.p50 | ms) | \($t.p99 | ms) | \($t.maxRssMb // "-")"
          + " | \(ratio($t.opsPerSecond; $e.opsPerSecond)) | \(ratio($t.p99; $e.p99))"
          + " | \($e.errors // "-")/\($t.errors // "-") |"
          end' "$RESULTS/summary.json"
    done
  done
  # What each request cost the three members together: CPU (the load generator's excluded) and
  # bytes written to storage, over the measured window. Steadier than throughput on a noisy VM.
  echo
  echo "| workload | clients | etcd member cores | etcd CPU µs/op | etcd KB written/op | Tern member cores | Tern CPU µs/op | Tern KB written/op | CPU/op Tern/etcd |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for w in "${WORKLOAD_LIST[@]}"; do
    for c in "${CLIENT_LIST[@]}"; do
      jq -r --arg w "$w" --argjson c "$c" "$TABLE_DEFS"'
        row("etcd") as $e | row("tern") as $t
        | if $e == null and $t == null then empty else
          "| \($w) | \($c) | \($e.memberCores | f(100)) | \($e.cpuUsPerOp | f(1)) | \($e.writeKbPerOp | f(100))"
          + " | \($t.memberCores | f(100)) | \($t.cpuUsPerOp | f(1)) | \($t.writeKbPerOp | f(100))"
          + " | \(ratio($t.cpuUsPerOp; $e.cpuUsPerOp)) |"
          end' "$RESULTS/summary.json"
    done
  done
} | tee "$RESULTS/table.md"

# Chart: throughput and p99 against the client count, one line per system and workload.
{
  for s in "${SYSTEM_LIST[@]}"; do
    for w in "${WORKLOAD_LIST[@]}"; do
      echo "\"$([[ $s == tern ]] && echo Tern || echo etcd) $w\""
      jq -r --arg s "$s" --arg w "$w" \
        'map(select(.system == $s and .workload == $w)) | sort_by(.clients) | .[]
         | "\(.clients) \(.opsPerSecond) \(.p99)"' "$RESULTS/summary.json"
      printf '\n\n'
    done
  done
} >"$WORK/chart.dat"
blocks=$(( ${#SYSTEM_LIST[@]} * ${#WORKLOAD_LIST[@]} ))
terminal="pngcairo size 1400,560 font ',10'"
gnuplot -e "set terminal pngcairo" >/dev/null 2>&1 || terminal="png size 1400,560"
gnuplot <<EOF
set terminal $terminal
set output '$RESULTS/chart.png'
set multiplot layout 1,2 title "etcd vs Tern, 3 members on loopback, ${KEY_SIZE}-byte keys, ${VAL_SIZE}-byte values (medians of $RUNS run(s))"
set logscale x 2
set xrange [$(printf '%s\n' "${CLIENT_LIST[@]}" | sort -n | head -1)/1.5:$(printf '%s\n' "${CLIENT_LIST[@]}" | sort -n | tail -1)*1.5]
set xtics (${CLIENTS})
set xlabel 'clients (one request in flight each)'
set key left top
set grid
set logscale y
set title 'throughput'
set ylabel 'requests/s'
plot for [i=0:$((blocks - 1))] '$WORK/chart.dat' index i using 1:2 with linespoints title columnheader(1)
set title 'p99 latency'
set ylabel 'ms'
plot for [i=0:$((blocks - 1))] '$WORK/chart.dat' index i using 1:3 with linespoints title columnheader(1)
unset multiplot
EOF
echo "results: $RESULTS (table.md, raw.jsonl, raw.csv, summary.csv, chart.png, logs/)" >&2
