#!/usr/bin/env bash
# Run every benchmark and print its table. Each bench_*.sh here is run with the
# build folder as TKD_BUILD_DIR; it compares tkd against the peer named in its
# issue in the same run and prints the ratio.
#   bash tests/bench/run.sh [NAME-FILTER]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
bash tests/deps.sh
# a build of its own: Release, without -Werror, apart from the tests' build
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DTKD_CUDA=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" >/dev/null
export TKD_BUILD_DIR=$root/build-bench TKD=$root/build-bench/bin/tkd TKD_SOURCE_DIR=$root TKD_SHARED=$root/../shared
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
for b in tests/bench/bench_*.sh; do
  [ -e "$b" ] || continue
  case "$b" in *"${1:-}"*) ;; *) continue ;; esac
  echo "== $(basename "$b" .sh) =="
  bash "$b"
done
