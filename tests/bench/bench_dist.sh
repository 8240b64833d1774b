#!/usr/bin/env bash
# Work distribution: 25,000 zero-work items over 4 ranks (target: under 2 s).
#  1. dist alone (bench_dist) against blocking self-scheduling, one item per request;
#  2. the whole phase, `tkd testwork` with no work and no filler text: MPI start,
#     done-set, HDF5 shards, dist, close (wall time of mpiexec, and the phase's own);
#  3. fair leases: `tkd solve` with default settings on 300, 700 and 3,000 problems
#     over 2 and 4 ranks against the test server, the problems each rank did
#     (target: every rank 0.5..1.5x its equal share; TKD_BENCH_DIST_FAIR=0 skips it).
set -euo pipefail
: "${TKD_BUILD_DIR:?}" "${TKD:?}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
N=${TKD_BENCH_DIST_ITEMS:-25000}
NP=${TKD_BENCH_DIST_RANKS:-4}
mpiexec -n "$NP" "$TKD_BUILD_DIR/bin/bench_dist" "$N"
work=$(mktemp -d "${TMPDIR:-/tmp}/tkd-bench-dist.XXXXXX")
trap 'rm -rf "$work"' EXIT
cat >"$work/job.json" <<JSON
{"output_dir": "$work/out", "testwork": {"items": $N, "text_bytes": 0, "concurrency": 64}}
JSON
t0=$(date +%s.%N)
mpiexec -n "$NP" "$TKD" testwork "$work/job.json" >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
t1=$(date +%s.%N)
inner=$(sed -nE 's/.*testwork: finished .* in ([0-9.]+) s.*/\1/p' "$work/log")
rows=$(/usr/bin/python3 -c 'import sys,h5py; print(sum(len(h5py.File(p,"r")["records"]) for p in sys.argv[1:]))' "$work"/out/shards/test/*.h5)
echo
printf "%-44s %8s %5s %9s %12s\n" "tkd testwork (text_bytes 0)" items ranks seconds items/s
awk -v n="$N" -v np="$NP" -v s="$inner" 'BEGIN { printf "%-44s %8d %5d %9.3f %12.0f\n", "  distribution + shard writes", n, np, s, n / s }'
awk -v n="$N" -v np="$NP" -v a="$t0" -v b="$t1" 'BEGIN { printf "%-44s %8d %5d %9.3f %12.0f\n", "  whole mpiexec (MPI start, HDF5, finalize)", n, np, b - a, n / (b - a) }'
echo "records in the shards: $rows (expected $N)"
if [ "${TKD_BENCH_DIST_FAIR:-1}" != 0 ]; then
  echo
  echo "fair leases: tkd solve, default settings, test server at 100 +- 20 ms per reply"
  bash "$(dirname "${BASH_SOURCE[0]}")/../solve/fair_split.sh" && echo "every rank within 0.5..1.5x its share (met)"
fi
