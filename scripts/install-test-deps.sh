#!/usr/bin/env bash
# Installs what the tests need from outside Maven: etcdctl (Debian's etcd-client package), used by
# io.tern.process.EtcdctlSmokeTest. Idempotent: does nothing when etcdctl is already on the PATH.
set -euo pipefail

if command -v etcdctl >/dev/null 2>&1; then
  echo "install-test-deps: etcdctl present: $(etcdctl version 2>/dev/null | head -n 1)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: etcdctl is missing and apt-get is not available;" \
    "install etcdctl (etcd v3.4 or later) by hand" >&2
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

echo "install-test-deps: installing Debian's etcd-client (etcdctl)"
"${SUDO[@]}" apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-client

if ! command -v etcdctl >/dev/null 2>&1; then
  echo "install-test-deps: etcd-client was installed but etcdctl is not on the PATH" >&2
  exit 1
fi
echo "install-test-deps: installed $(etcdctl version 2>/dev/null | head -n 1)"
