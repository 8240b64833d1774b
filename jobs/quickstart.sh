#!/usr/bin/env bash
# Quick start 1: install what is missing, build, and run the main job
# (jobs/demo.json) through the whole pipeline on this machine with `tkd run`:
# import, solve, backtranslate, export, train, eval, report. Run from anywhere;
# paths in the job file are taken from the repository root.
#
# Offline stand-ins (nothing can be downloaded here), each replaced by pointing
# the job file at the real thing:
#  - the teacher: when the job names no teacher.base_urls, the project's test
#    server answers every solve, translator, judge and rephrase request with
#    replies canned from the gold answers (jobs/standin_script.py);
#  - the student: when train.model_dir holds no model, a tiny random Qwen2
#    (jobs/student_tiny.json) is made with `tkd model init`; point
#    train.model_dir and eval.arms[].model_dir at Qwen2.5-Math weights.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
t0=$(date +%s)
bash tests/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
tkd=build/bin/tkd
job=${1:-jobs/demo.json}
ranks=${TKD_RANKS:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
get() { $tkd config show "$job" | /usr/bin/python3 -c "import json,sys; j=json.load(sys.stdin); print(eval('j' + sys.argv[1]))" "$1"; }
out=$(get '["output_dir"]')
student=$(get '["train"]["model_dir"]')

if [ ! -f "$student/config.json" ]; then
  echo "== student: no model in $student: making a tiny random Qwen2 as a STAND-IN (jobs/student_tiny.json);"
  echo "   point train.model_dir and eval.arms[].model_dir at Qwen2.5-Math weights for a real student"
  $tkd model init jobs/student_tiny.json "$student" --seed 1 >/dev/null
fi
echo "== config check, then import"
$tkd config check "$job" --phase data
$tkd run "$job" --to import
set_teacher=()
if [ -z "$(get '["teacher"]["base_urls"]' | tr -d '[]')" ]; then
  echo "== teacher: no teacher.base_urls in $job: starting tkd_testserver, the project's test server, as a LOCAL"
  echo "   STAND-IN teacher (offline). Its replies are canned from the gold answers (jobs/standin_script.py),"
  echo "   not a model's: the solve and back-translation counts measure the pipeline, not a teacher. Point"
  echo "   teacher.base_urls/model at vLLM, SGLang or OpenAI for real traces."
  $tkd store export "$out/problems.h5" --what problems --jsonl - 2>/dev/null |
    /usr/bin/python3 jobs/standin_script.py > "$out/teacher.script.jsonl"
  rm -f "$out/teacher.port"
  build/bin/tkd_testserver --port 0 --latency-ms 20 --max-seconds 1800 --script "$out/teacher.script.jsonl" \
    >"$out/teacher.port" 2>"$out/teacher.log" &
  teacher_pid=$!
  trap 'kill $teacher_pid 2>/dev/null || true' EXIT
  for _ in $(seq 100); do [ -s "$out/teacher.port" ] && break; sleep 0.05; done
  set_teacher=(--set "teacher.base_urls=[\"http://127.0.0.1:$(awk '{print $2}' "$out/teacher.port")/v1\"]"
               --set teacher.model=stand-in --set teacher.http2=false)
fi

echo "== config check: every later phase's inputs, prompts, tools and endpoints before anything runs"
$tkd config check "$job" --phase solve,backtranslate,export,train,eval,report "${set_teacher[@]}"
echo "== the chain: solve, backtranslate ($ranks MPI ranks each), export, train ($ranks ranks), eval ($ranks ranks), report"
$tkd run "$job" --from solve -n "$ranks" "${set_teacher[@]}"

echo "== every store verifies"
for s in problems solve backtranslate eval; do
  $tkd store verify "$out/$s.h5" >/dev/null && echo "   $out/$s.h5: sound"
done
$tkd store info "$out/backtranslate.h5" | sed -n '/acceptance/,$p'
elapsed=$(( $(date +%s) - t0 ))
cat <<MSG

== done: the main job ran in ${elapsed} s (build included)
   report:          $out/report/report.md (plots beside it, every number in report.json)
   eval results:    $out/eval/results.json
   training sets:   $out/sft/{nl,tir,gold}/ (train.jsonl, valid.jsonl, manifest.json)
   adapter:         $out/train/adapter/ (PEFT layout: vLLM --lora-modules, PEFT)
   stores:          $out/{problems,solve,backtranslate,eval}.h5 (tkd store info|export, h5py)
   Run it again: every phase is complete, so nothing is redone.
MSG
