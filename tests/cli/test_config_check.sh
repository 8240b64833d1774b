#!/usr/bin/env bash
# tkd config check --phase: what each phase checks when it starts, checked
# before a run (slurm/submit.sh calls it before it queues anything): input
# files, prompt files, tool names, endpoint URLs, unknown phases; each a
# clear message and exit 2. Also config show's numbers and --set's errors.
set -euo pipefail
: "${TKD:?}" "${TKD_SOURCE_DIR:?}"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
fix=$TKD_SOURCE_DIR/tests/data/problems
cat > "$t/job.json" <<JSON
{"output_dir": "$t/out", "data": {"sources": [{"path": "$fix/math_small.jsonl"}]},
 "teacher": {"model": "m", "base_urls": ["http://127.0.0.1:9/v1"]},
 "train": {"model_dir": "$t/model", "data": "$t/sft.jsonl"}}
JSON
# expect RC PATTERN ARGS...: exit code and a line of stderr
expect() {
  local want=$1 pat=$2; shift 2
  set +e; "$TKD" config check "$t/job.json" "$@" > "$t/out.txt" 2> "$t/err.txt"; local rc=$?; set -e
  [ $rc -eq "$want" ] || fail "config check $*: exit $rc, want $want: $(cat "$t/err.txt")"
  [ -z "$pat" ] || grep -q -- "$pat" "$t/err.txt" "$t/out.txt" || fail "config check $*: no '$pat' in: $(cat "$t/err.txt" "$t/out.txt")"
}
expect 0 "ready for data, solve" --phase data,solve
expect 0 "ready for data, testwork" --phase data --phase testwork
expect 2 "problems.h5 does not exist: run the data phase first" --phase solve
expect 2 "unknown phase 'slove'; the phases are data, testwork, solve," --phase data,slove
expect 2 "teacher.base_urls\[0\]: 'node1:8000/v1' is not an http:// or https:// URL" --phase data,solve \
  --set 'teacher.base_urls=["node1:8000/v1"]'
expect 2 "solve.tools\[1\]: unknown tool 'factr'" --phase data,solve --set 'solve.tools=["gcd","factr"]'
expect 2 "solve.prompts.user: cannot open '$t/nope.txt'" --phase data,solve --set "solve.prompts.user=$t/nope.txt"
echo "no placeholder" > "$t/user.txt"
expect 2 "solve.prompts.user: the prompt has no {problem} placeholder" --phase data,solve --set "solve.prompts.user=$t/user.txt"
expect 2 "data.sources\[0\]: problem source '$t/nope.jsonl' does not exist" --phase data --set "data.sources.0.path=$t/nope.jsonl"
mkdir "$t/empty"
expect 2 "holds no .jsonl file" --phase data --set "data.sources.0.path=$t/empty"
expect 2 "the solve phase needs teacher.model" --phase data,solve --set teacher.model=
expect 2 "'$t/model' has no config.json" --phase train
mkdir "$t/model" && echo '{}' > "$t/model/config.json"
expect 2 "train.data: '$t/sft.jsonl' does not exist" --phase train
echo '{"input_ids": [1, 2]}' > "$t/sft.jsonl"
expect 2 "train.lora.targets" --phase train --set train.lora.targets=q,nope
expect 0 "ready for train" --phase train
expect 0 "" # no --phase: the job file alone
# once imported, solve alone passes
"$TKD" data import "$t/job.json" > /dev/null 2>&1 || fail "import"
expect 0 "ready for solve" --phase solve
# config show prints numbers as written; --set errors name the option
"$TKD" config show "$t/job.json" --set train.lr=0.0003 > "$t/show.json"
grep -q '"dropout": 0.05,' "$t/show.json" && grep -q '"lr": 0.0003,' "$t/show.json" && grep -q '"temperature": 0.7,' "$t/show.json" ||
  fail "config show numbers: $(grep -E 'dropout|"lr"|temperature' "$t/show.json")"
! grep -q '00000000' "$t/show.json" || fail "config show prints binary noise: $(grep 00000000 "$t/show.json")"
/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$t/show.json" || fail "config show is not JSON"
set +e; "$TKD" config check "$t/job.json" --set dist.lease_max=many 2> "$t/err.txt"; rc=$?; set -e
[ $rc -eq 2 ] && grep -q "error: --set 'dist.lease_max=many': key 'dist.lease_max': expected an integer" "$t/err.txt" ||
  fail "--set error: $rc $(cat "$t/err.txt")"
# the slurm section: per-phase sbatch options, checked with the phases
cat > "$t/slurm.json" <<JSON
{"output_dir": "$t/out", "slurm": {"train": {"partition": "gpu", "ntasks": 4, "gpus_per_task": 1, "time": "02:00:00",
 "extra": "--exclusive"}, "solve": {"nodes": 2}}}
JSON
opts=$("$TKD" config sbatch "$t/slurm.json" train) || fail "config sbatch"
[ "$opts" = "--partition=gpu --ntasks=4 --gpus-per-task=1 --time=02:00:00 --exclusive" ] || fail "sbatch options: '$opts'"
[ -z "$("$TKD" config sbatch "$t/slurm.json" eval)" ] || fail "a phase with no section gets options"
sed -i 's/"nodes": 2/"nodez": 2/' "$t/slurm.json"
set +e
out=$("$TKD" config sbatch "$t/slurm.json" train 2>&1); rc=$?
set -e
[ $rc -eq 2 ] && [[ "$out" == *"slurm.solve.nodez: unknown key"* ]] || fail "a bad slurm key: exit $rc: $out"
sed -i 's/"nodez": 2/"nodes": "2; rm -rf \/"/' "$t/slurm.json"
set +e
out=$("$TKD" config sbatch "$t/slurm.json" solve 2>&1); rc=$?
set -e
[ $rc -eq 2 ] || fail "a string where a number goes: exit $rc: $out"
echo "ok   config sbatch: a phase's options from the slurm section; unknown keys and bad values exit 2"
echo "2 passed, 0 failed"
