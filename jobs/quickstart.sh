#!/usr/bin/env bash
# Quick start 1: install what is missing, build, and run the main job
# (jobs/demo.json) through every phase that exists. Run from anywhere; paths in
# the job file are taken from the repository root.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash tests/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
tkd=build/bin/tkd
job=${1:-jobs/demo.json}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

echo "== config check"
$tkd config check "$job"
echo "== data import"
$tkd data import "$job"
echo "== testwork: 2 MPI ranks share the problems through leases, each writes its own shard"
mpirun -n 2 $tkd testwork "$job" --set testwork.max_ms=20
echo "== store: merge the shards, check and summarise the result"
out=$($tkd config show "$job" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["output_dir"])')
$tkd store merge "$out/shards/test" "$out/test.h5"
$tkd store verify "$out/test.h5"
$tkd store info "$out/test.h5"
