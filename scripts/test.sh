#!/usr/bin/env bash
# The test command (README "Run the tests"; .ci/run calls it): installs what the tests need from
# outside Maven, then builds and runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
mvn -B -ntp verify "$@"
