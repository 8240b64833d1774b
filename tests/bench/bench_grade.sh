#!/usr/bin/env bash
# Grading throughput on one core (taskset -c 0) over the MATH test golds;
# run by tests/bench/run.sh. Target: >= 20,000 gradings/s.
set -euo pipefail
bin=${TKD_BUILD_DIR:-build}/bin/bench_grade
shared=${TKD_SHARED:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}
pin=""
command -v taskset >/dev/null && pin="taskset -c 0"
$pin "$bin" "$shared/data/math/test" "${BENCH_SECONDS:-2}"
