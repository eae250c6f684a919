#!/usr/bin/env bash
# Builds the JMH benchmarks jar and runs it; any arguments go to JMH.
#
#   bench/jmh.sh                                  every benchmark, one fork each (~9 min)
#   bench/jmh.sh CoreThroughput -p batch=1024     one benchmark, one parameter value
#   bench/jmh.sh -l                               list the benchmarks
#   bench/jmh.sh -h                               JMH's options
#
# Warmup and measurement come from each benchmark's annotations: CoreThroughputBenchmark 3 x 2 s
# then 5 x 3 s; SimulatorSpeedBenchmark 5 x 4 s then 5 x 4 s, as the simulator takes ~20 s to
# warm up (with -wi 3 -w 2s its first measured iterations are several times slower);
# KvApplyBenchmark (the KV state machine's put apply and single-key range on RocksDB) 3 x 2 s then
# 5 x 2 s per parameter combination; LogAppendBenchmark (the Raft log's append batch into RocksDB
# without the fsync: one put call per entry against one array per batch) the same.
# They pick their own heap (@Fork jvmArgsAppend): CoreThroughputBenchmark runs with -Xms4g
# -Xmx4g -Xmn3g -XX:G1HeapRegionSize=32m (its never-compacted in-memory log retains ~65 bytes
# per entry; see the class comment), SimulatorSpeedBenchmark with 1 GiB; passing -jvmArgsAppend
# replaces those. Add -prof gc for allocation and GC time, -prof jfr for a flight recording.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -pl tern-bench -am package -DskipTests -Dspotless.check.skip=true
if [[ $# -eq 0 ]]; then
  set -- -f 1
fi
exec java -jar tern-bench/target/tern-benchmarks.jar "$@"
