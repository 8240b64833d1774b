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
echo "== store: the finished phase merged its shards into one store; check and summarise it"
out=$($tkd config show "$job" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["output_dir"])')
$tkd store verify "$out/test.h5"
$tkd store info "$out/test.h5"

echo "== solve: the teacher solves every problem with the toolkit (2 MPI ranks, shards, resumable)"
solve_set=()
if [ -z "$($tkd config show "$job" | /usr/bin/python3 -c 'import json,sys; print(*json.load(sys.stdin)["teacher"]["base_urls"])')" ]; then
  echo "   No teacher.base_urls in $job: starting tkd_testserver, the project's test server, as a LOCAL"
  echo "   STAND-IN teacher (offline). Its replies are canned from the gold answers (jobs/standin_script.py),"
  echo "   not a model's: the correct/wrong counts below measure the pipeline, not a teacher. Point"
  echo "   teacher.base_urls/model at vLLM, SGLang or OpenAI for real traces."
  $tkd store export "$out/problems.h5" --what problems --jsonl - 2>/dev/null |
    /usr/bin/python3 jobs/standin_script.py > "$out/teacher.script.jsonl"
  build/bin/tkd_testserver --port 0 --latency-ms 20 --max-seconds 1800 --script "$out/teacher.script.jsonl" \
    >"$out/teacher.port" 2>"$out/teacher.log" &
  teacher_pid=$!
  trap 'kill $teacher_pid 2>/dev/null || true' EXIT
  for _ in $(seq 100); do [ -s "$out/teacher.port" ] && break; sleep 0.05; done
  solve_set=(--set "teacher.base_urls=[\"http://127.0.0.1:$(awk '{print $2}' "$out/teacher.port")/v1\"]"
             --set teacher.model=stand-in --set teacher.http2=false --set solve.samples_per_problem=2
             --set solve.max_in_flight=256)
fi
mpirun -n 2 $tkd solve "$job" "${solve_set[@]}"
$tkd store verify "$out/solve.h5"
$tkd store info "$out/solve.h5"
