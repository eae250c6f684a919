#!/usr/bin/env bash
# Installs what the tests need from outside Maven, from Debian's packages:
#   etcdctl  (etcd-client)  io.tern.process.EtcdctlSmokeTest
#   faketime (faketime)     tern-chaos: clock skew on the lease-read seeds
#   gnuplot  (gnuplot-nox)  tern-chaos: the latency/throughput plot of each run
# Idempotent: does nothing when every command is already on the PATH.
set -euo pipefail

declare -A PACKAGE=([etcdctl]=etcd-client [faketime]=faketime [gnuplot]=gnuplot-nox)
missing=()
for cmd in etcdctl faketime gnuplot; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${PACKAGE[$cmd]}")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-test-deps: etcdctl, faketime and gnuplot present"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: missing ${missing[*]} and apt-get is not available; install them by hand" >&2
  exit 1
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-test-deps: not root and sudo is not available; run as root" >&2
    exit 1
  fi
  SUDO=(sudo)
fi

echo "install-test-deps: installing Debian's ${missing[*]}"
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"

for cmd in etcdctl faketime gnuplot; do
  if ! command -v "$cmd" >/dev/null 2>&1; then
    echo "install-test-deps: $cmd is still not on the PATH" >&2
    exit 1
  fi
done
